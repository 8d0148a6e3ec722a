//! Plan sessions pushed to the runner's Garmin Connect calendar, at the wire against the local
//! Garmin (its workout service checks what the open-source clients report Garmin checks), on both
//! stores: the next days' sessions created and scheduled on their dates, a second push creating
//! nothing, a plan change updating and removing workouts, a refused workout reported by session
//! and reason with nothing recorded, a 429 stopping the push and every instance's Garmin calls,
//! and `/watch auto on` keeping the calendar in step through the scheduler.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeZone, Utc, Weekday};
use runcoach_core::chat::{BotCore, GarminService, Reply};
use runcoach_core::domain::{Platform, PlatformIdentity, UserId};
use runcoach_core::garmin::{self, GarminAccess, TokenSealer};
use runcoach_core::i18n::Lang;
use runcoach_core::message::{ChatKey, Notifier, NotifyError};
use runcoach_core::plan::{self, Goal, Level, Plan, PlanLength, PlanRequest, WorkoutKind};
use runcoach_core::plans;
use runcoach_core::scheduler::{Clock, TestClock, WorkerConfig, enqueue_due, run_once_with};
use runcoach_core::store::ScheduleKind;
use support::garmin_fake::{Fake, Shared, calendar, hits, logged_in, serve};
use support::{Runner, TestStore, joined};

const KEY: [u8; 32] = [7; 32];

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn at(day: NaiveDate, h: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(h, 0, 0).unwrap())
}

/// A 10K plan from Monday 2 March 2026 on Tuesday, Thursday and Sunday, with paces.
fn ten_k() -> Plan {
    plan::generate(&PlanRequest {
        goal: Goal::TenK,
        level: Some(Level::Intermediate),
        sessions_per_week: 3,
        preferred_days: vec![Weekday::Tue, Weekday::Thu, Weekday::Sun],
        start_date: d(2026, 3, 2),
        length: PlanLength::Weeks(10),
        vdot: Some(48.0),
        target_time_s: None,
        history: None,
    })
    .unwrap()
}

/// A runner with the plan and Garmin connected (tokens sealed as the chat's login stores them).
async fn connected_runner(t: &TestStore, id: &str, lang: Lang, fake: Fake) -> (UserId, GarminAccess, Shared) {
    let identity = PlatformIdentity { platform: Platform::Telegram, platform_user_id: id.to_owned() };
    let user = t.store.resolve_identity(&identity, Some(id), lang).await.unwrap().user.id;
    plans::save_new(t.store.as_ref(), user, &ten_k()).await.unwrap();
    let (client, shared) = serve(fake).await;
    let sealer = TokenSealer::from_key(&KEY);
    let tokens = logged_in(&client).await;
    garmin::save_tokens(t.store.as_ref(), &sealer, user, &tokens).await.unwrap();
    (user, GarminAccess { client, sealer }, shared)
}

fn core(t: &TestStore, access: &GarminAccess, now: DateTime<Utc>) -> BotCore {
    let service = GarminService::new(access.client.clone(), TokenSealer::from_key(&KEY));
    BotCore::new(t.store.clone()).with_garmin(Some(Arc::new(service))).with_clock(Arc::new(TestClock::at(now)))
}

fn sessions(p: &Plan, from: NaiveDate, days: i64) -> Vec<(String, WorkoutKind)> {
    p.workouts()
        .filter(|w| w.date >= from && w.date < from + chrono::Duration::days(days) && w.kind.is_running())
        // Sessions the runner skipped or missed are not on the calendar.
        .filter(|w| !w.status.is_dropped())
        .map(|w| (w.date.to_string(), w.kind))
        .collect()
}

// ---------------------------------------------------------------- tests on both stores

/// `/watch push`: the week's sessions become scheduled Garmin workouts (names in the runner's
/// language, steps as planned); a second push sends nothing; `/skip` re-plans and the next push
/// updates what changed and removes what went.
async fn a_push_fills_the_calendar_once_and_follows_the_plan(t: TestStore) {
    let monday = d(2026, 3, 9);
    let (user, access, fake) = connected_runner(&t, "lea", Lang::Fr, Fake::default()).await;
    let core = core(&t, &access, at(monday, 7));
    let lea = Runner::new(&core, Platform::Telegram, "lea", Some("fr"));
    let p = plans::active(t.store.as_ref(), user).await.unwrap().unwrap().plan;
    let week = sessions(&p, monday, 7);
    assert_eq!(week.len(), 3);

    let first = lea.say("/watch push").await;
    assert!(first.contains("3 séances ajoutées"), "{first}");
    let cal = calendar(&fake);
    assert_eq!(
        cal.iter().map(|(date, _)| date.clone()).collect::<Vec<_>>(),
        week.iter().map(|w| w.0.clone()).collect::<Vec<_>>()
    );
    // French names, the plan's steps (warm-up first for a quality session).
    let quality = p.workouts().find(|w| w.date >= monday && w.kind.is_hard()).unwrap();
    let stored = {
        let f = fake.lock().unwrap();
        f.workouts
            .values()
            .find(|w| w["workoutName"] == runcoach_core::watch::workout_name(quality, Lang::Fr))
            .cloned()
            .unwrap()
    };
    assert_eq!(stored["workoutSegments"][0]["workoutSteps"][0]["stepType"]["stepTypeKey"], "warmup");
    assert_eq!(stored["description"], quality.description.fr);
    assert_eq!(t.store.pushed_workouts(user, monday, monday + chrono::Duration::days(6)).await.unwrap().len(), 3);

    // Nothing changed: nothing created twice, no Garmin call beyond reading nothing.
    let creates = hits(&fake, "workout_create");
    let again = lea.say("/watch push").await;
    assert!(again.contains("3 déjà à jour"), "{again}");
    assert_eq!(hits(&fake, "workout_create"), creates);
    assert_eq!(calendar(&fake).len(), 3);

    // The runner skips Tuesday's session: the rest of the plan is re-planned.
    let later = core_at_day(&t, &access, d(2026, 3, 10));
    let lea2 = Runner::new(&later, Platform::Telegram, "lea", Some("fr"));
    lea2.say("/skip").await;
    let adapted = plans::active(t.store.as_ref(), user).await.unwrap().unwrap().plan;
    let report = lea2.say("/watch push 6").await;
    let now_week = sessions(&adapted, d(2026, 3, 10), 6);
    let in_cal: Vec<String> =
        calendar(&fake).into_iter().map(|(date, _)| date).filter(|date| date.as_str() >= "2026-03-10").collect();
    assert_eq!(in_cal, now_week.iter().map(|w| w.0.clone()).collect::<Vec<_>>(), "{report}");
    assert!(
        !calendar(&fake).iter().any(|(date, _)| date == "2026-03-10"),
        "the skipped session left the calendar: {report}"
    );
    assert!(report.contains("retirée") || report.contains("modifiée"), "{report}");
    // Every pushed session matches its stored fingerprint: a push now changes nothing.
    let quiet = lea2.say("/watch push 6").await;
    assert!(!quiet.contains("ajoutée") && !quiet.contains("modifiée") && !quiet.contains("retirée"), "{quiet}");

    // Unwell for three days: Thursday's session is eased, and its Garmin workout is updated in
    // place (same workout, same calendar entry, new steps and text).
    let before = t.store.pushed_workouts(user, d(2026, 3, 12), d(2026, 3, 12)).await.unwrap();
    lea2.say("/unwell 3").await;
    let eased = plans::active(t.store.as_ref(), user).await.unwrap().unwrap().plan;
    let thursday = eased.workouts().find(|w| w.date == d(2026, 3, 12) && w.kind.is_running()).unwrap().clone();
    let report = lea2.say("/watch push 6").await;
    assert!(report.contains("modifiée"), "{report}");
    let after = t.store.pushed_workouts(user, d(2026, 3, 12), d(2026, 3, 12)).await.unwrap();
    assert_eq!(after[0].workout_id, before[0].workout_id, "updated, not recreated");
    assert_ne!(after[0].fingerprint, before[0].fingerprint);
    let id: u64 = after[0].workout_id.parse().unwrap();
    let stored = fake.lock().unwrap().workouts[&id].clone();
    assert_eq!(stored["description"], thursday.description.fr, "the eased session is on Garmin");
    assert_eq!(calendar(&fake).iter().filter(|(date, _)| date == "2026-03-12").count(), 1);
}

fn core_at_day(t: &TestStore, access: &GarminAccess, day: NaiveDate) -> BotCore {
    core(t, access, at(day, 7))
}

/// Garmin refusing one workout: the runner is told which session and why, the others go in, and
/// nothing is recorded for it (the next push tries it again). A workout that cannot be scheduled
/// is deleted again. A 429 stops the push and pauses every instance's Garmin calls.
async fn refusals_and_429s_leave_nothing_half_pushed(t: TestStore) {
    let monday = d(2026, 3, 9);
    let p = ten_k();
    let quality = p.workouts().find(|w| w.date >= monday && w.kind.is_hard()).unwrap().clone();
    let refused_name = runcoach_core::watch::workout_name(&quality, Lang::En);
    let (user, access, fake) =
        connected_runner(&t, "sam", Lang::En, Fake { refuse_named: Some(refused_name.clone()), ..Fake::default() })
            .await;
    let core = core(&t, &access, at(monday, 7));
    let sam = Runner::new(&core, Platform::Telegram, "sam", Some("en"));
    let text = sam.say("/watch push").await;
    assert!(text.contains("2 sessions added"), "{text}");
    assert!(
        text.contains(&format!("Garmin refused “{refused_name}”")) && text.contains("Invalid workout step target"),
        "{text}"
    );
    let pushed = t.store.pushed_workouts(user, monday, monday + chrono::Duration::days(6)).await.unwrap();
    assert_eq!(pushed.len(), 2);
    assert!(!pushed.iter().any(|w| w.date == quality.date), "nothing recorded for the refused session");

    // Scheduling refused: the created workout is deleted again, nothing recorded.
    {
        let mut f = fake.lock().unwrap();
        f.refuse_named = None;
        f.refuse_schedule = true;
    }
    let text = sam.say("/watch push").await;
    assert!(text.contains("Invalid date"), "{text}");
    assert_eq!(fake.lock().unwrap().workouts.len(), 2, "the unscheduled workout was deleted");
    assert_eq!(t.store.pushed_workouts(user, monday, monday + chrono::Duration::days(6)).await.unwrap().len(), 2);

    // A 429: stopped, nothing recorded, and Garmin paused for every instance.
    {
        let mut f = fake.lock().unwrap();
        f.refuse_schedule = false;
        f.workout_429s = 1;
    }
    let text = sam.say("/watch push").await;
    assert!(text.contains("limiting this server"), "{text}");
    assert!(t.store.provider_paused_until(garmin::PROVIDER, at(monday, 7)).await.unwrap().is_some());
    let other = core_at_day(&t, &access, monday);
    let again = Runner::new(&other, Platform::Telegram, "sam", Some("en")).say("/watch push").await;
    assert!(again.contains("try again"), "{again}");
    assert_eq!(t.store.pushed_workouts(user, monday, monday + chrono::Duration::days(6)).await.unwrap().len(), 2);

    // Not connected, no plan, bad numbers: each says why.
    let ana = Runner::new(&core, Platform::Telegram, "ana", Some("en"));
    assert!(ana.say("/watch push").await.contains("Connect your Garmin account first"));
    assert!(sam.say("/watch push 40").await.contains("1 to 14"));
    assert!(sam.say("/watch").await.contains("/watch push"));
}

#[derive(Default)]
struct Recorder {
    sent: tokio::sync::Mutex<Vec<(ChatKey, Vec<Reply>)>>,
}

#[async_trait]
impl Notifier for Recorder {
    async fn send(&self, chat: &ChatKey, replies: &[Reply]) -> Result<(), NotifyError> {
        self.sent.lock().await.push((chat.clone(), replies.to_vec()));
        Ok(())
    }
}

/// `/watch auto on`: the hourly check pushes what changed (and tells the runner), makes no Garmin
/// call when nothing did, and `/watch auto off` stops it.
async fn auto_push_keeps_the_calendar_in_step(t: TestStore) {
    let monday = d(2026, 3, 9);
    let (user, access, fake) = connected_runner(&t, "zoe", Lang::En, Fake::default()).await;
    let core = core(&t, &access, at(monday, 6));
    let zoe = Runner::new(&core, Platform::Telegram, "zoe", Some("en"));
    assert!(zoe.say("/watch auto on").await.contains("within the hour"));
    assert!(t.store.watch_auto_push(user).await.unwrap());
    let chat = ChatKey { platform: Platform::Telegram, chat_id: "chat-zoe".into() };
    assert!(t.store.schedule(ScheduleKind::GarminPush, &chat).await.unwrap().unwrap().enabled);

    let config = WorkerConfig { garmin: Some(access.clone()), ..WorkerConfig::default() };
    let notifier = Recorder::default();
    let hour = TestClock::at(at(monday, 7));
    assert_eq!(enqueue_due(t.store.as_ref(), hour.now()).await.unwrap().enqueued, 1);
    let r = run_once_with(t.store.as_ref(), "w", &notifier, &hour, &config).await.unwrap();
    assert_eq!(r.sent, 1, "{r:?}");
    assert!(joined(&notifier.sent.lock().await[0].1).contains("3 sessions added"));
    assert_eq!(calendar(&fake).len(), 3);

    // The next hour, nothing changed: no Garmin call, nothing sent.
    let calls = hits(&fake, "workout_create") + hits(&fake, "workout_update") + hits(&fake, "workout_delete");
    let next = TestClock::at(at(monday, 8));
    assert_eq!(enqueue_due(t.store.as_ref(), next.now()).await.unwrap().enqueued, 1);
    let r = run_once_with(t.store.as_ref(), "w", &notifier, &next, &config).await.unwrap();
    assert_eq!((r.sent, r.quiet), (0, 1), "{r:?}");
    assert_eq!(hits(&fake, "workout_create") + hits(&fake, "workout_update") + hits(&fake, "workout_delete"), calls);

    assert!(zoe.say("/watch auto off").await.contains("off"));
    assert!(!t.store.watch_auto_push(user).await.unwrap());
    let later = TestClock::at(at(monday, 10));
    assert_eq!(enqueue_due(t.store.as_ref(), later.now()).await.unwrap().enqueued, 0);
}

on_both_stores!(
    a_push_fills_the_calendar_once_and_follows_the_plan,
    refusals_and_429s_leave_nothing_half_pushed,
    auto_push_keeps_the_calendar_in_step,
);
