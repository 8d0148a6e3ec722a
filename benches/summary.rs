//! Weekly summaries at scale: computing 10,000 summaries (target < 10 s on 2 cores), drawing their
//! charts, and how long delivering them takes at Telegram's 30 messages a second.
//!
//! `cargo bench -j1 --bench summary -- --warm-up-time 1 --measurement-time 3`. The batch figures
//! are printed first (one timed pass each); criterion then measures one summary. Results:
//! docs/benchmarks.md.

use std::hint::black_box;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use criterion::Criterion;
use runcoach_core::domain::Units;
use runcoach_core::i18n::Lang;
use runcoach_core::plan::{Goal, Level, Plan, PlanLength, PlanRequest, generate};
use runcoach_core::scheduler::{Rate, delivery_time};
use runcoach_core::science::{ActivityInput, ActivityKind};
use runcoach_core::summary::{IsoWeek, WeeklySummary, chart_png, render, to_json};

const RUNNERS: usize = 10_000;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn week() -> IsoWeek {
    IsoWeek::new(2025, 12).unwrap_or_else(|| IsoWeek::of(date(2025, 3, 17)))
}

/// 12 weeks of 3–5 runs and a ride a week, varied by `seed`: about 55 activities, HR on most,
/// time in zones on half, device load on a third.
fn history(seed: usize) -> Vec<ActivityInput> {
    let monday = week().monday();
    let runs_per_week = 3 + seed % 3;
    let mut v = Vec::new();
    for w in 0..12i64 {
        let start = monday - Duration::weeks(11 - w);
        for r in 0..runs_per_week {
            let i = seed + (w as usize) * 7 + r;
            let day = start + Duration::days((r * 2 % 7) as i64);
            let minutes = 30.0 + ((i * 13) % 60) as f64;
            let speed = 2.5 + ((i * 7) % 12) as f64 * 0.08;
            let hr = 130.0 + ((i * 11) % 35) as f64;
            v.push(ActivityInput {
                start: Utc.from_utc_datetime(&day.and_hms_opt(6, 30, 0).unwrap_or_default()),
                kind: if r == 1 && i.is_multiple_of(4) { ActivityKind::Trail } else { ActivityKind::Running },
                duration_s: minutes * 60.0,
                moving_s: Some(minutes * 58.0),
                distance_m: minutes * 60.0 * speed,
                avg_hr: (!i.is_multiple_of(5)).then_some(hr),
                max_hr: (!i.is_multiple_of(5)).then_some(hr + 20.0),
                device_load: i.is_multiple_of(3).then_some(40.0 + (i % 60) as f64),
                hr_zone_s: i.is_multiple_of(2).then_some([300.0, minutes * 30.0, 400.0, 120.0, 30.0]),
                fastest_1000_s: None,
                elevation_gain_m: Some(((i * 17) % 200) as f64),
            });
        }
        v.push(ActivityInput {
            start: Utc.from_utc_datetime(&(start + Duration::days(5)).and_hms_opt(9, 0, 0).unwrap_or_default()),
            kind: ActivityKind::Cycling,
            duration_s: 3600.0,
            moving_s: None,
            distance_m: 25_000.0,
            avg_hr: Some(125.0),
            max_hr: Some(150.0),
            device_load: None,
            hr_zone_s: None,
            fastest_1000_s: None,
            elevation_gain_m: None,
        });
    }
    v
}

/// Four plans (3–6 sessions a week) shared by the runners, as in a store where most runners
/// follow a generated plan.
fn plans() -> Vec<Plan> {
    (3u8..=6)
        .filter_map(|sessions| {
            generate(&PlanRequest {
                goal: Goal::Half,
                level: Some(Level::Intermediate),
                sessions_per_week: sessions,
                preferred_days: vec![],
                start_date: date(2025, 3, 3),
                length: PlanLength::Weeks(12),
                vdot: Some(44.0),
                target_time_s: None,
                history: None,
            })
            .ok()
        })
        .collect()
}

fn per_thread<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let half = items.len().div_ceil(2);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(half.max(1))
            .enumerate()
            .map(|(k, chunk)| {
                let f = &f;
                s.spawn(move || chunk.iter().enumerate().map(|(i, x)| f(k * half + i, x)).collect::<Vec<R>>())
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

fn fmt_secs(d: StdDuration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 { format!("{s:.1} s ({} min {:02.0} s)", (s / 60.0).floor(), s % 60.0) } else { format!("{s:.2} s") }
}

fn batch_report() {
    let today = date(2025, 3, 24);
    let plans = plans();
    let histories: Vec<Vec<ActivityInput>> = (0..RUNNERS).map(history).collect();
    let activities: usize = histories.iter().map(Vec::len).sum();
    let plan_for = |i: usize| if i % 5 == 4 { None } else { plans.get(i % plans.len().max(1)) };
    println!("summary batch: {RUNNERS} runners, {activities} activities, 4 in 5 following a plan");

    let t = Instant::now();
    let texts: Vec<usize> = histories
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let s = WeeklySummary::compute(h, plan_for(i), week(), today);
            render(&s, if i.is_multiple_of(2) { Lang::Fr } else { Lang::En }).len()
        })
        .collect();
    let one_core = t.elapsed();
    println!("  compute + render, 1 thread:  {}", fmt_secs(one_core));

    let t = Instant::now();
    let summaries: Vec<WeeklySummary> =
        per_thread(&histories, |i, h| WeeklySummary::compute(h, plan_for(i), week(), today));
    let texts2: Vec<usize> = per_thread(&summaries, |i, s| {
        render(s, if i.is_multiple_of(2) { Lang::Fr } else { Lang::En }).len() + to_json(s).to_string().len()
    });
    let two_cores = t.elapsed();
    println!("  compute + render + JSON, 2 threads: {}", fmt_secs(two_cores));
    black_box((texts, texts2));

    let t = Instant::now();
    let bytes: Vec<usize> = per_thread(&summaries, |i, s| {
        chart_png(s, if i.is_multiple_of(2) { Lang::Fr } else { Lang::En }, Units::Metric).map_or(0, |p| p.len())
    });
    let charts = t.elapsed();
    let avg_kb = bytes.iter().sum::<usize>() as f64 / bytes.len().max(1) as f64 / 1024.0;
    println!("  800×400 PNG charts, 2 threads: {} ({avg_kb:.1} KiB each)", fmt_secs(charts));

    let n = RUNNERS as u64;
    let one = delivery_time(n, Rate::TELEGRAM);
    let two = delivery_time(2 * n, Rate::TELEGRAM);
    println!("  delivery at Telegram's 30 msg/s (burst 30):");
    println!("    1 message per summary (photo + caption):   {}", fmt_secs(one));
    println!("    2 messages per summary (photo, then text): {}", fmt_secs(two));
    println!("    two instances share the bot's 30 msg/s (15 each): same totals");
    println!(
        "  production per summary: {:.2} ms to build and draw vs {:.1} ms between sends",
        (two_cores + charts).as_secs_f64() * 2.0 * 1000.0 / RUNNERS as f64,
        1000.0 / Rate::TELEGRAM.per_second
    );
}

fn bench_one(c: &mut Criterion) {
    let today = date(2025, 3, 24);
    let h = history(7);
    let plans = plans();
    let plan = plans.first();
    let s = WeeklySummary::compute(&h, plan, week(), today);
    c.bench_function("weekly summary: compute (60 activities, plan)", |b| {
        b.iter(|| WeeklySummary::compute(black_box(&h), plan, week(), today))
    });
    c.bench_function("weekly summary: render text (fr)", |b| b.iter(|| render(black_box(&s), Lang::Fr)));
    c.bench_function("weekly summary: chart PNG 800x400", |b| {
        b.iter(|| chart_png(black_box(&s), Lang::En, Units::Metric))
    });
}

fn main() {
    batch_report();
    let mut c = Criterion::default().configure_from_args();
    bench_one(&mut c);
    c.final_summary();
}
