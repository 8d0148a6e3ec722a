//! Weekly summary: content on a realistic 10-week history with a plan, FR/EN rendering, JSON, the
//! PNG chart, and the store loader on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use chrono::{Duration, NaiveDate, TimeZone, Utc, Weekday};
use runcoach_core::domain::{Platform, PlatformIdentity, Units};
use runcoach_core::i18n::Lang;
use runcoach_core::plan::{self, Goal, Level, Plan, PlanLength, PlanRequest, WorkoutKind, WorkoutStatus};
use runcoach_core::science::{ActivityInput, ActivityKind};
use runcoach_core::store::{NewActivity, NewPlan};
use runcoach_core::summary::{
    self, CHART_HEIGHT, CHART_WIDTH, Cheer, IsoWeek, LoadReading, WeeklySummary, chart_png, render, to_json,
};
use support::TestStore;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn run(date: NaiveDate, km: f64, min: f64, hr: Option<f64>) -> ActivityInput {
    ActivityInput {
        start: Utc.from_utc_datetime(&date.and_hms_opt(6, 30, 0).unwrap()),
        kind: ActivityKind::Running,
        duration_s: min * 60.0,
        moving_s: Some(min * 60.0 - 30.0),
        distance_m: km * 1000.0,
        avg_hr: hr,
        max_hr: hr.map(|h| h + 18.0),
        device_load: None,
        hr_zone_s: hr.map(|h| {
            let t = min * 60.0;
            if h >= 158.0 {
                [0.1 * t, 0.3 * t, 0.2 * t, 0.3 * t, 0.1 * t]
            } else {
                [0.2 * t, 0.7 * t, 0.1 * t, 0.0, 0.0]
            }
        }),
        fastest_1000_s: None,
        elevation_gain_m: Some(km * 8.0),
    }
}

/// The summarised week: Monday 17 to Sunday 23 March 2025.
fn week() -> IsoWeek {
    "2025-W12".parse().unwrap()
}

/// Ten weeks of a 3-runs-a-week runner (Tuesday easy, Thursday intervals, Sunday long run) and a
/// ride each Wednesday; in the summarised week Thursday is missed, an extra Saturday run is done
/// and the long run is the longest yet.
fn history() -> Vec<ActivityInput> {
    let mut v = Vec::new();
    for w in 1..=9 {
        let monday = week().monday() - Duration::weeks(w);
        v.push(run(monday + Duration::days(1), 8.0, 46.0, Some(142.0)));
        v.push(run(monday + Duration::days(3), 9.0, 48.0, Some(160.0)));
        v.push(run(monday + Duration::days(6), 14.0 + (9 - w) as f64 * 0.3, 82.0, Some(145.0)));
        let mut ride = run(monday + Duration::days(2), 25.0, 60.0, Some(125.0));
        ride.kind = ActivityKind::Cycling;
        v.push(ride);
    }
    let m = week().monday();
    v.push(run(m + Duration::days(1), 8.2, 47.0, Some(141.0)));
    v.push(run(m + Duration::days(5), 6.0, 35.0, Some(138.0)));
    v.push(run(m + Duration::days(6), 18.0, 105.0, Some(147.0)));
    // After the week: must be ignored.
    v.push(run(m + Duration::days(8), 30.0, 180.0, Some(150.0)));
    v
}

/// A 10K plan from 3 March on Tuesday, Thursday and Sunday, with the summarised week's Thursday
/// marked missed and its Sunday moved.
fn plan() -> Plan {
    let req = PlanRequest {
        goal: Goal::TenK,
        level: Some(Level::Intermediate),
        sessions_per_week: 3,
        preferred_days: vec![Weekday::Tue, Weekday::Thu, Weekday::Sun],
        start_date: d(2025, 3, 3),
        length: PlanLength::Weeks(10),
        vdot: Some(45.0),
        target_time_s: None,
        history: None,
    };
    let mut p = plan::generate(&req).expect("plan");
    for w in p.weeks.iter_mut().flat_map(|w| w.workouts.iter_mut()) {
        if w.date == d(2025, 3, 20) {
            w.status = WorkoutStatus::Skipped;
        }
        if w.date == d(2025, 3, 23) {
            w.status = WorkoutStatus::Adjusted;
        }
    }
    p
}

fn summary() -> WeeklySummary {
    WeeklySummary::compute(&history(), Some(&plan()), week(), d(2025, 3, 24))
}

#[test]
fn content_on_a_realistic_week() {
    let s = summary();
    assert_eq!(s.week_start, d(2025, 3, 17));
    assert_eq!(s.week_end, d(2025, 3, 23));
    assert!(!s.partial);
    assert_eq!(s.run_count, 3);
    assert_eq!(s.other_activities, 0);
    assert!((s.distance_km - 32.2).abs() < 0.05, "{}", s.distance_km);
    assert!((s.duration_min - 185.5).abs() < 0.05, "{}", s.duration_min);
    let long = s.long_run.as_ref().expect("long run");
    assert_eq!((long.date, long.distance_km), (d(2025, 3, 23), 18.0));
    // Time in zones: mostly easy this week (no intervals).
    let i = s.intensity.expect("intensity");
    assert!(i.easy > 0.8 && i.hard < 0.01, "{i:?}");
    // Steady training: ACWR near 1.
    let acwr = s.load.acwr.expect("acwr");
    assert!((0.8..=1.3).contains(&acwr), "{acwr}");
    assert_eq!(s.load.reading, LoadReading::Steady);
    assert!(s.load.week_load > 0.0 && s.load.chronic_28d > s.load.acute_7d);
    // Plan: Tuesday done (matched), Thursday skipped, Sunday moved and done.
    let a = s.adherence.as_ref().expect("adherence");
    assert_eq!((a.planned, a.done, a.skipped, a.moved, a.not_logged, a.upcoming), (3, 2, 1, 1, 0, 0), "{a:?}");
    assert!(a.planned_km > 10.0);
    // Next week's key sessions are next week's, and only hard sessions or long runs.
    assert!(!s.next_week.is_empty());
    for k in &s.next_week {
        assert!(IsoWeek::of(k.date) == week().offset(1), "{k:?}");
        assert!(k.kind.is_hard() || k.kind == WorkoutKind::Long, "{k:?}");
    }
    // Eight chart weeks ending with this one, with the plan's target from its first week.
    assert_eq!(s.chart.len(), 8);
    assert_eq!(s.chart.last().unwrap().week, week());
    assert!((s.chart.last().unwrap().km - 32.2).abs() < 0.05);
    assert!(s.chart.iter().take(5).all(|b| b.target_km.is_none()), "plan starts in W10");
    assert!(s.chart.iter().skip(5).all(|b| b.target_km.is_some()));
    assert_eq!(s.cheer, Cheer::LongestRun);
}

#[test]
fn renders_in_english_and_french() {
    let s = summary();
    let en = render(&s, Lang::En);
    let fr = render(&s, Lang::Fr);
    for (text, needles) in [
        (
            &en,
            &[
                "**📊 Weekly summary: week 12 (Mon 17 Mar – Sun 23 Mar)**",
                "**3 runs**",
                "32.2 km",
                "Long run: 18.0 km in 1 h 45",
                "Intensity:",
                "ACWR",
                "load steady: train as planned",
                "Plan: 2 done / 3 · 1 skipped · 1 moved",
                "**Your runs**",
                "**Next week**",
                "longest run in 8 weeks",
            ][..],
        ),
        (
            &fr,
            &[
                "**📊 Bilan de la semaine 12 (lun. 17 mars – dim. 23 mars)**",
                "**3 sorties**",
                "32,2 km",
                "Sortie longue : 18,0 km en 1 h 45",
                "Intensité :",
                "charge stable",
                "Plan : 2 faites / 3 · 1 sautée · 1 déplacée",
                "**Tes sorties**",
                "**La semaine prochaine**",
                "plus longue sortie",
            ][..],
        ),
    ] {
        for n in needles {
            assert!(text.contains(n), "missing {n:?} in:\n{text}");
        }
        assert!(!text.contains('|'), "no tables:\n{text}");
        assert!(text.lines().filter(|l| l.starts_with("• ")).count() >= 6, "{text}");
        assert!(text.chars().count() < 2000, "fits a Discord message: {}", text.chars().count());
    }
    if std::env::var("RUNCOACH_SHOW").is_ok() {
        eprintln!("{en}\n-----\n{fr}");
    }
    // The run after the week is not listed.
    assert!(!en.contains("30.0 km"));
}

#[test]
fn load_rising_fast_reads_keep_this_week_easy() {
    // Three weeks of 20 km, then 32 km at the same pace: ACWR ≈ 1.39.
    let m = week().monday();
    let mut h = Vec::new();
    for w in 1..=3 {
        for k in [1, 3, 5, 6] {
            h.push(run(m - Duration::weeks(w) + Duration::days(k), 5.0, 30.0, None));
        }
    }
    for k in [0, 1, 2, 3, 5, 6] {
        h.push(run(m + Duration::days(k), 32.0 / 6.0, 32.0, None));
    }
    let s = WeeklySummary::compute(&h, None, week(), d(2025, 3, 24));
    assert_eq!(s.load.reading, LoadReading::RisingFast, "{:?}", s.load);
    assert!(render(&s, Lang::En).contains("load rising fast: keep this week easy"));
    assert!(render(&s, Lang::Fr).contains("charge en hausse rapide : garde cette semaine facile"));
    assert_eq!(s.cheer, Cheer::EasyWeekWise);
    assert!(s.adherence.is_none() && s.next_week.is_empty());
    assert!(render(&s, Lang::En).contains("No active plan: type /plan"));
}

#[test]
fn empty_week_and_week_in_progress() {
    let s = WeeklySummary::compute(&[], None, week(), d(2025, 3, 24));
    assert_eq!(s.run_count, 0);
    assert_eq!(s.load.reading, LoadReading::NotEnoughData);
    assert_eq!(s.cheer, Cheer::QuietWeek);
    assert!(render(&s, Lang::En).contains("No runs recorded this week."));
    assert!(render(&s, Lang::Fr).contains("Aucune sortie enregistrée"));

    // Wednesday of the week: only Monday–Wednesday counts, Sunday's session is still to come.
    let mut fresh = plan();
    for w in fresh.weeks.iter_mut().flat_map(|w| w.workouts.iter_mut()) {
        w.status = WorkoutStatus::Planned;
    }
    let s = WeeklySummary::compute(&history(), Some(&fresh), week(), d(2025, 3, 19));
    assert!(s.partial);
    assert_eq!(s.run_count, 1);
    let a = s.adherence.clone().unwrap();
    assert_eq!((a.done, a.upcoming), (1, 2), "{a:?}");
    assert!(render(&s, Lang::En).contains("week in progress"));
}

#[test]
fn json_has_every_section() {
    let v = to_json(&summary());
    assert_eq!(v["format"], "runcoach-weekly-summary/1");
    assert_eq!(v["week"], "2025-W12");
    assert_eq!(v["run_count"], 3);
    assert_eq!(v["load"]["reading"], "steady");
    assert_eq!(v["adherence"]["skipped"], 1);
    assert_eq!(v["chart"].as_array().unwrap().len(), 8);
    assert!(v["load_advice"]["fr"].as_str().unwrap().contains("charge stable"));
    assert!(v["cheer_text"]["en"].as_str().is_some());
    assert!(v["next_week"].as_array().is_some_and(|a| !a.is_empty()));
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

#[test]
fn chart_is_an_800_by_400_png() {
    let s = summary();
    for lang in Lang::ALL {
        let png = chart_png(&s, lang, Units::Metric).expect("chart");
        assert_eq!(png_size(&png), (CHART_WIDTH, CHART_HEIGHT));
        assert_eq!((CHART_WIDTH, CHART_HEIGHT), (800, 400));
        // It decodes, and it is not blank: bars and text are drawn.
        let decoder = png::Decoder::new(std::io::Cursor::new(png.as_slice()));
        let mut reader = decoder.read_info().expect("decodes");
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).expect("frame");
        assert_eq!((info.width, info.height), (800, 400));
        let pixels = &buf[..info.buffer_size()];
        let non_white = pixels.chunks(3).filter(|p| p != &[255, 255, 255]).count();
        assert!(non_white > 5_000, "{non_white} drawn pixels");
        // The plan's target line is drawn in orange.
        assert!(pixels.chunks(3).any(|p| p == [230, 120, 20]));
        if std::env::var("RUNCOACH_WRITE_CHART").is_ok() {
            std::fs::write(format!("/tmp/summary-chart-{lang}.png"), &png).unwrap();
        }
    }
    // An empty history still draws.
    let empty = WeeklySummary::compute(&[], None, week(), d(2025, 3, 24));
    assert_eq!(png_size(&chart_png(&empty, Lang::En, Units::Metric).unwrap()), (800, 400));
    // The chat replies carry the chart.
    let replies = summary::replies(&summary(), Lang::Fr, Units::Metric);
    assert_eq!(replies.len(), 1);
    let att = replies[0].attachment.as_ref().expect("chart attached");
    assert_eq!((att.mime.as_str(), att.name.as_str()), ("image/png", "summary-2025-W12.png"));
}

fn new_activity(a: &ActivityInput, i: usize) -> NewActivity {
    NewActivity {
        source: "test".into(),
        external_id: Some(format!("a{i}")),
        sport: a.kind,
        start_time: a.start,
        duration_s: a.duration_s,
        moving_s: a.moving_s,
        distance_m: Some(a.distance_m),
        elevation_gain_m: a.elevation_gain_m,
        avg_hr: a.avg_hr,
        max_hr: a.max_hr,
        hr_zones_s: a.hr_zone_s.map(|z| z.to_vec()),
        ..NewActivity::default()
    }
}

async fn loader_matches_the_pure_summary(t: TestStore) {
    let store = t.store.as_ref();
    let identity = PlatformIdentity { platform: Platform::Console, platform_user_id: "lea".into() };
    let user = store.resolve_identity(&identity, Some("Léa"), Lang::Fr).await.unwrap().user;
    let h = history();
    for (i, a) in h.iter().enumerate() {
        store.insert_activity(user.id, &new_activity(a, i)).await.unwrap();
    }
    let p = plan();
    store
        .save_plan(
            user.id,
            &NewPlan {
                goal: Goal::TenK,
                level: Level::Intermediate,
                start_date: p.start_date,
                end_date: p.end_date(),
                race_date: p.race_date,
                sessions_per_week: 3,
                vdot: p.vdot,
                request: serde_json::to_value(&p.request).unwrap(),
                plan: serde_json::to_value(&p).unwrap(),
                workouts: vec![],
                goal_id: None,
            },
        )
        .await
        .unwrap();
    let today = d(2025, 3, 24);
    let loaded = summary::weekly_summary(store, user.id, week(), today).await.unwrap();
    let pure = summary();
    assert_eq!(loaded.run_count, pure.run_count);
    assert_eq!(loaded.distance_km, pure.distance_km);
    assert_eq!(loaded.long_run, pure.long_run);
    assert_eq!(loaded.adherence, pure.adherence);
    assert_eq!(loaded.next_week, pure.next_week);
    assert_eq!(loaded.chart, pure.chart);
    assert_eq!(loaded.load.acwr, pure.load.acwr);
    assert!(render(&loaded, Lang::Fr).contains("Bilan de la semaine 12"));

    // A runner with nothing stored gets a quiet-week summary, not an error.
    let other = PlatformIdentity { platform: Platform::Console, platform_user_id: "new".into() };
    let nobody = store.resolve_identity(&other, None, Lang::En).await.unwrap().user;
    let s = summary::weekly_summary(store, nobody.id, week(), today).await.unwrap();
    assert_eq!((s.run_count, s.has_plan), (0, false));
}

on_both_stores!(loader_matches_the_pure_summary);
