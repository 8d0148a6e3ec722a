//! Benchmarks for the pure training-science module and the plan engine.
//! Targets: 16-week marathon plan generation + validation < 1 ms;
//! analysis of 1,000 activities < 5 ms. Results: docs/benchmarks.md.

use chrono::{Duration, NaiveDate, TimeZone, Utc, Weekday};
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use runcoach_core::plan::{Goal, HistorySummary, Level, PlanLength, PlanRequest, generate, validate};
use runcoach_core::science::{ActivityInput, ActivityKind, RunnerProfile, Sex, analyze};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn marathon_request() -> PlanRequest {
    PlanRequest {
        goal: Goal::Marathon,
        level: Some(Level::Intermediate),
        sessions_per_week: 5,
        preferred_days: vec![Weekday::Tue, Weekday::Thu, Weekday::Sun],
        start_date: date(2025, 3, 3),
        // Exactly 16 weeks ending on race day.
        length: PlanLength::RaceDate(date(2025, 6, 22)),
        vdot: Some(45.0),
        target_time_s: None,
        history: Some(HistorySummary {
            level: Level::Intermediate,
            level_reason: Default::default(),
            recent_weekly_minutes: 220.0,
            recent_weekly_km: 38.0,
            runs_per_week: 4.0,
            longest_run_km: 18.0,
            vdot: Some(45.0),
        }),
    }
}

/// 1,000 activities over ~2.7 years, a deterministic mix of runs (with HR,
/// time in zones, fastest km, device load on some) and other sports.
fn history(today: NaiveDate) -> Vec<ActivityInput> {
    (0..1000u32)
        .map(|i| {
            let day = today - Duration::days(i64::from(i)) + Duration::hours(i64::from(i % 5));
            let kind = match i % 10 {
                0 => ActivityKind::Cycling,
                1 => ActivityKind::Trail,
                2 => ActivityKind::Treadmill,
                3 => ActivityKind::Walking,
                _ => ActivityKind::Running,
            };
            let minutes = 30.0 + f64::from(i % 7) * 12.0;
            let speed = 2.6 + f64::from(i % 11) * 0.08; // m/s
            ActivityInput {
                start: Utc.from_utc_datetime(&day.and_hms_opt(7, 30, 0).unwrap_or_default()),
                kind,
                duration_s: minutes * 60.0,
                moving_s: Some(minutes * 58.0),
                distance_m: minutes * 60.0 * speed,
                avg_hr: Some(130.0 + f64::from(i % 30)),
                max_hr: Some(160.0 + f64::from(i % 25)),
                device_load: (i % 3 == 0).then_some(40.0 + f64::from(i % 60)),
                hr_zone_s: (i % 2 == 0).then_some([300.0, minutes * 30.0, 400.0, 120.0, 30.0]),
                fastest_1000_s: Some(330.0 - f64::from(i % 40)),
                elevation_gain_m: Some(f64::from(i % 200)),
            }
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let req = marathon_request();
    c.bench_function("marathon_16w_generate_and_validate", |b| {
        b.iter(|| {
            let plan = generate(black_box(&req));
            debug_assert!(plan.is_ok());
            plan
        })
    });
    if let Ok(plan) = generate(&req) {
        c.bench_function("marathon_16w_validate_only", |b| b.iter(|| validate(black_box(&plan), black_box(&req))));
    }

    let today = date(2025, 6, 1);
    let acts = history(today);
    let profile = RunnerProfile {
        age: Some(38),
        sex: Some(Sex::Male),
        max_hr: None,
        resting_hr: Some(52.0),
        six_minute_test_m: None,
    };
    c.bench_function("analyze_1000_activities", |b| b.iter(|| analyze(black_box(&acts), black_box(&profile), today)));
}

criterion_group!(plan_benches, benches);
criterion_main!(plan_benches);
