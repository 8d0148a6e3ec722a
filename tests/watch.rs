//! Sessions to the watch, on both stores: `/today` and `/week` carry a watch button that sends
//! the session as a FIT workout file (names in the runner's language, every step as planned),
//! refused in groups; a rest day says so. Each file is read back by fitparser and by Garmin's own
//! SDK (`scripts/check-fit`, garmin-fit-sdk from PyPI, installed by scripts/test).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc, Weekday};
use runcoach_core::chat::{BotCore, Reply};
use runcoach_core::domain::{Platform, PlatformIdentity, UserId};
use runcoach_core::error::ErrorCode;
use runcoach_core::i18n::Lang;
use runcoach_core::plan::{self, Goal, Level, Plan, PlanLength, PlanRequest, Step, StepName, Target, WorkoutKind};
use runcoach_core::plans;
use runcoach_core::scheduler::TestClock;
use runcoach_core::store::Store;
use serde_json::Value;
use support::{Runner, TestStore, button, joined};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A 10K plan from Monday 23 March 2026 on Tuesday, Thursday and Sunday, with paces.
fn ten_k() -> Plan {
    let req = PlanRequest {
        goal: Goal::TenK,
        level: Some(Level::Intermediate),
        sessions_per_week: 3,
        preferred_days: vec![Weekday::Tue, Weekday::Thu, Weekday::Sun],
        start_date: d(2026, 3, 23),
        length: PlanLength::Weeks(10),
        vdot: Some(45.0),
        target_time_s: None,
        history: None,
    };
    plan::generate(&req).expect("plan")
}

async fn runner(store: &dyn Store, id: &str, lang: Lang) -> UserId {
    let identity = PlatformIdentity { platform: Platform::Telegram, platform_user_id: id.to_owned() };
    store.resolve_identity(&identity, Some(id), lang).await.unwrap().user.id
}

/// The core on `day` at 09:00 UTC.
fn core_on(t: &TestStore, day: NaiveDate) -> BotCore {
    let now = Utc.from_utc_datetime(&day.and_hms_opt(9, 0, 0).unwrap());
    BotCore::new(t.store.clone()).with_clock(Arc::new(TestClock::at(now)))
}

fn fit_files(replies: &[Reply]) -> Vec<(String, Vec<u8>)> {
    replies.iter().filter_map(|r| r.attachment.as_ref()).map(|a| (a.name.clone(), a.data.clone())).collect()
}

/// What Garmin's SDK reads in the file (the test fails, saying why, when the SDK is missing).
fn garmin_sdk_reads(data: &[u8]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.fit");
    std::fs::write(&path, data).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-fit");
    let out = std::process::Command::new("python3").arg(script).arg(&path).output().expect("python3");
    assert!(
        out.status.success(),
        "Garmin's FIT SDK refused the file (scripts/test installs garmin-fit-sdk): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The steps as the watch will run them (repeats flattened as FIT writes them), for comparison.
fn names_in_file(doc: &Value) -> Vec<String> {
    doc["workout_step_mesgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["wkt_step_name"].as_str().map_or_else(|| format!("repeat×{}", s["repeat_steps"]), str::to_owned))
        .collect()
}

fn names_planned(steps: &[plan::Block], lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    for b in steps {
        match b {
            plan::Block::Step(s) => out.push(s.name.get(lang).to_owned()),
            plan::Block::Repeat { times, steps } => {
                out.extend(steps.iter().map(|s: &Step| s.name.get(lang).to_owned()));
                out.push(format!("repeat×{times}"));
            }
        }
    }
    out
}

// ---------------------------------------------------------------- tests on both stores

/// `/today` on a quality day: the watch button sends that session as a FIT workout whose
/// steps, lengths and pace targets are the plan's, in French for a French runner.
async fn today_sends_the_session_to_the_watch_in_the_runners_language(t: TestStore) {
    let store = t.store.as_ref();
    let léa = runner(store, "lea", Lang::Fr).await;
    let p = ten_k();
    plans::save_new(store, léa, &p).await.unwrap();
    // The first hard session of the plan, on its day.
    let w = p.workouts().find(|w| w.kind.is_hard()).unwrap().clone();
    let core = core_on(&t, w.date);
    let lea = Runner::new(&core, Platform::Telegram, "lea", Some("fr"));
    let today = lea.send("/today").await;
    let data = button(&today, "montre");
    assert_eq!(data, format!("plan:watch:{}", w.date));

    let sent = lea.press(&data).await;
    let files = fit_files(&sent);
    assert_eq!(files.len(), 1, "{}", joined(&sent));
    assert_eq!(files[0].0, format!("runcoach-{}-{}.fit", w.date, w.kind.as_str()));
    assert!(joined(&sent).contains("NewFiles"), "{}", joined(&sent));
    let doc = garmin_sdk_reads(&files[0].1);
    assert_eq!(doc["file_id_mesgs"][0]["type"], "workout");
    assert_eq!(doc["workout_mesgs"][0]["sport"], "running");
    assert_eq!(names_in_file(&doc), names_planned(&w.steps, Lang::Fr));
    assert_eq!(names_in_file(&doc).first().map(String::as_str), Some("Échauffement"));
    // Every paced step carries the plan's band as a speed range (mm/s), slow end low.
    let paced: Vec<_> = w
        .steps
        .iter()
        .flat_map(|b| match b {
            plan::Block::Step(s) => vec![*s],
            plan::Block::Repeat { steps, .. } => steps.clone(),
        })
        .collect();
    let in_file: Vec<&Value> =
        doc["workout_step_mesgs"].as_array().unwrap().iter().filter(|s| s["wkt_step_name"].is_string()).collect();
    assert_eq!(paced.len(), in_file.len());
    for (s, f) in paced.iter().zip(&in_file) {
        if let Target::Pace(band) = s.target {
            assert_eq!(f["target_type"], "speed");
            assert_eq!(f["custom_target_value_low"], (1_000_000.0 / band.max.s_per_km()).round() as u64);
            assert_eq!(f["custom_target_value_high"], (1_000_000.0 / band.min.s_per_km()).round() as u64);
        }
    }
    assert!(paced.iter().any(|s| matches!(s.target, Target::Pace(_)) && s.name != StepName::WarmUp));

    // The same session for an English runner has English names.
    let sam = runner(store, "sam", Lang::En).await;
    plans::save_new(store, sam, &p).await.unwrap();
    let sam = Runner::new(&core, Platform::Telegram, "sam", Some("en"));
    let data = button(&sam.send("/today").await, "watch");
    let doc = garmin_sdk_reads(&fit_files(&sam.press(&data).await)[0].1);
    assert_eq!(names_in_file(&doc), names_planned(&w.steps, Lang::En));
}

/// `/week`'s button sends every session left this week, one file each; on a rest day `/today`'s
/// button sends the next session; a day without a session says it is a rest day; a group never
/// gets a runner's session.
async fn the_week_goes_to_the_watch_and_rest_days_say_so(t: TestStore) {
    let store = t.store.as_ref();
    let ana_id = runner(store, "ana", Lang::En).await;
    plans::save_new(store, ana_id, &ten_k()).await.unwrap();
    // Monday of week 2: Tuesday, Thursday and Sunday are still to run.
    let monday = d(2026, 3, 30);
    let core = core_on(&t, monday);
    let ana = Runner::new(&core, Platform::Telegram, "ana", Some("en"));
    let week = ana.send("/week").await;
    let sent = ana.press(&button(&week, "This week to my watch")).await;
    let files = fit_files(&sent);
    // The days of week 1 nobody ran were closed (and the plan adapted) when /week was asked:
    // the files follow the plan as it is now.
    let p = plans::active(store, ana_id).await.unwrap().unwrap().plan;
    let planned: Vec<_> = p
        .workouts()
        .filter(|w| w.date >= monday && w.date <= d(2026, 4, 5) && w.kind.is_running())
        .map(|w| format!("runcoach-{}-{}.fit", w.date, w.kind.as_str()))
        .collect();
    assert_eq!(planned.len(), 3);
    assert_eq!(files.iter().map(|f| f.0.clone()).collect::<Vec<_>>(), planned);
    for (_, data) in &files {
        assert!(garmin_sdk_reads(data)["integrity"].as_bool().unwrap());
    }

    // Monday is a rest day: /today's button is the next session's (Tuesday).
    let today = ana.send("/today").await;
    assert_eq!(button(&today, "To my watch"), "plan:watch:2026-03-31");
    // A rest day asked for by date (an old button, or a hand-typed one) says so.
    let rest = ana.press("plan:watch:2026-03-30").await;
    assert!(fit_files(&rest).is_empty());
    assert!(joined(&rest).contains("rest day"), "{}", joined(&rest));
    let outside = ana.press("plan:watch:2027-01-01").await;
    assert!(joined(&outside).contains("runs from 2026-03-23"), "{}", joined(&outside));
    let garbled = ana.press("plan:watch:soon").await;
    assert!(fit_files(&garbled).is_empty() && joined(&garbled).contains("/today"), "{}", joined(&garbled));

    // In a group, the button answers nothing personal.
    let in_group = Runner::new(&core, Platform::Telegram, "ana", Some("en")).in_group("club-chat");
    let refused = in_group.press("plan:watch:2026-03-31").await;
    assert!(fit_files(&refused).is_empty());
    assert_eq!(joined(&refused), ErrorCode::PrivateChatOnly.message(Lang::En));
}

/// A plan stored before sessions had steps still reaches the watch: one step per session at
/// its own target (here the stored document is written without them).
async fn a_plan_stored_before_steps_still_reaches_the_watch(t: TestStore) {
    let store = t.store.as_ref();
    let zoe = runner(store, "zoe", Lang::En).await;
    let mut p = ten_k();
    for w in p.weeks.iter_mut().flat_map(|wk| wk.workouts.iter_mut()) {
        w.steps.clear();
    }
    plans::save_new(store, zoe, &p).await.unwrap();
    let long = p.workouts().find(|w| w.kind == WorkoutKind::Long).unwrap().clone();
    let core = core_on(&t, long.date);
    let zoe = Runner::new(&core, Platform::Telegram, "zoe", Some("en"));
    let sent = zoe.press(&format!("plan:watch:{}", long.date)).await;
    let doc = garmin_sdk_reads(&fit_files(&sent)[0].1);
    let steps = doc["workout_step_mesgs"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["wkt_step_name"], "Long run");
    assert_eq!(steps[0]["duration_value"], u64::from(long.duration_min) * 60_000);
    assert_eq!(steps[0]["target_type"], "speed");
}

on_both_stores!(
    today_sends_the_session_to_the_watch_in_the_runners_language,
    the_week_goes_to_the_watch_and_rest_days_say_so,
    a_plan_stored_before_steps_still_reaches_the_watch,
);
