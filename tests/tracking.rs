//! Plan tracking on both stores: runs tick sessions off whatever brought them, days end with the
//! sessions nobody ran marked missed (a missed key session re-plans), the end of a runner's day
//! comes at midnight on their clock (DST included) as one job per runner and day, however many
//! instances, and the runner is told in their language.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Paris;
use chrono_tz::Tz;
use runcoach_core::chat::{BotCore, Reply};
use runcoach_core::domain::{Platform, PlatformIdentity, UserId};
use runcoach_core::i18n::Lang;
use runcoach_core::message::{ChatKey, Notifier, NotifyError};
use runcoach_core::plan::{self, Goal, Level, Plan, PlanLength, PlanRequest, WorkoutKind, WorkoutStatus};
use runcoach_core::scheduler::{self, Clock, TestClock, enqueue_due, run_once};
use runcoach_core::science::ActivityKind;
use runcoach_core::store::{NewActivity, ScheduleKind, Store};
use runcoach_core::{plans, tracking};
use support::{Runner, TestStore, joined};
use tokio::sync::Mutex;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn local(tz: Tz, y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, m, day, h, min, 0).earliest().unwrap().with_timezone(&Utc)
}

/// A 10K plan from Monday 23 March 2026 on Tuesday, Thursday and Sunday.
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

fn run_on(day: NaiveDate, minutes: f64, source: &str) -> NewActivity {
    NewActivity {
        source: source.into(),
        external_id: Some(format!("{source}-{day}")),
        sport: ActivityKind::Running,
        start_time: day.and_hms_opt(6, 30, 0).unwrap().and_utc(),
        duration_s: minutes * 60.0,
        distance_m: Some(minutes * 1000.0 / 5.5),
        avg_hr: Some(142.0),
        ..NewActivity::default()
    }
}

async fn status_on(store: &dyn Store, user: UserId, day: NaiveDate) -> WorkoutStatus {
    let p = plans::active(store, user).await.unwrap().expect("an active plan").plan;
    p.workouts().find(|w| w.date == day && w.kind.is_running()).expect("a session that day").status
}

// ---------------------------------------------------------------- tests on both stores

/// A run stored by any source (here straight into the store, as a Garmin sync or `runcoach
/// import` does) ticks off its session once; a second look finds nothing new; a ride does not.
async fn a_stored_run_ticks_its_session_off_once(t: TestStore) {
    let store = t.store.as_ref();
    let ana = runner(store, "ana", Lang::En).await;
    plans::save_new(store, ana, &ten_k()).await.unwrap();
    assert!(tracking::tick_off(store, ana).await.unwrap().is_empty(), "nothing stored yet");

    let mut ride = run_on(d(2026, 3, 24), 60.0, "garmin");
    ride.sport = ActivityKind::Cycling;
    store.insert_activity(ana, &ride).await.unwrap();
    assert!(tracking::tick_off(store, ana).await.unwrap().is_empty(), "a ride ticks nothing off");

    // Wednesday's run is a day late for Tuesday's session: within the rule's one day.
    store.insert_activity(ana, &run_on(d(2026, 3, 25), 42.0, "garmin")).await.unwrap();
    let ticked = tracking::tick_off(store, ana).await.unwrap();
    assert_eq!(ticked.len(), 1, "{ticked:?}");
    assert_eq!(ticked[0].date, d(2026, 3, 24));
    assert_eq!(status_on(store, ana, d(2026, 3, 24)).await, WorkoutStatus::Done);
    assert!(tracking::tick_off(store, ana).await.unwrap().is_empty(), "the same run never ticks twice");
    assert_eq!(
        tracking::ticked_lines(&ticked, Lang::Fr),
        ["✅ Séance validée, mar. 24/03 : ".to_owned() + &ticked[0].kind.label().fr.to_lowercase()]
    );
}

/// The end of a day marks the sessions nobody ran missed; a key session re-plans with a note;
/// closing the same day again changes nothing; a run synced late still ticks a missed session.
async fn a_day_ends_with_missed_sessions_and_the_plan_adapts(t: TestStore) {
    let store = t.store.as_ref();
    let ben = runner(store, "ben", Lang::En).await;
    let p = ten_k();
    let tuesday = d(2026, 3, 24);
    let thursday = d(2026, 3, 26);
    let kind_on = |day| p.workouts().find(|w| w.date == day && w.kind.is_running()).unwrap().kind;
    plans::save_new(store, ben, &p).await.unwrap();
    store.insert_activity(ben, &run_on(tuesday, 40.0, "file")).await.unwrap();

    // Wednesday ends: Tuesday was run (ticked off on the way), nothing was missed.
    assert_eq!(tracking::close_day(store, ben, d(2026, 3, 25), Utc::now()).await.unwrap(), None);
    assert_eq!(status_on(store, ben, tuesday).await, WorkoutStatus::Done);

    // Thursday ends without a run.
    let closed = tracking::close_day(store, ben, thursday, Utc::now()).await.unwrap().expect("a missed session");
    assert_eq!(closed.missed.len(), 1);
    assert_eq!((closed.missed[0].date, closed.missed[0].kind), (thursday, kind_on(thursday)));
    let key = kind_on(thursday).is_hard() || kind_on(thursday) == WorkoutKind::Long;
    assert_eq!(closed.note.is_some(), key, "only a key session re-plans: {closed:?}");
    assert_eq!(status_on(store, ben, thursday).await, WorkoutStatus::Missed);
    let text = tracking::day_closed_text(&closed, Lang::En);
    assert!(text.starts_with("❌ Missed, Thu 26 Mar: "), "{text}");
    let fr = tracking::day_closed_text(&closed, Lang::Fr);
    assert!(fr.starts_with("❌ Séance manquée, jeu. 26/03 : "), "{fr}");

    // The same day again (a retried job, a second instance): nothing more.
    assert_eq!(tracking::close_day(store, ben, thursday, Utc::now()).await.unwrap(), None);

    // Thursday's run arrives on Friday (a late sync): the session is done after all.
    store.insert_activity(ben, &run_on(thursday, 35.0, "garmin")).await.unwrap();
    let ticked = tracking::tick_off(store, ben).await.unwrap();
    assert_eq!(ticked.iter().map(|t| t.date).collect::<Vec<_>>(), [thursday]);
    assert_eq!(status_on(store, ben, thursday).await, WorkoutStatus::Done);
}

/// A key session missed re-plans through the engine (the plan still validates), and the
/// runner's `/week` in the chat tells them first.
async fn a_missed_long_run_replans_and_the_chat_says_so(t: TestStore) {
    let store = t.store.as_ref();
    let core = BotCore::new(t.store.clone()).with_clock(Arc::new(TestClock::at(local(Paris, 2026, 4, 6, 9, 0))));
    let cam = Runner::new(&core, Platform::Telegram, "cam", Some("fr"));
    cam.send("/start").await;
    let id = runner(store, "cam", Lang::Fr).await;
    plans::save_new(store, id, &ten_k()).await.unwrap();
    // Two weeks with every session run but the Sundays' long runs.
    let p = ten_k();
    for w in p.workouts().filter(|w| w.kind.is_running() && w.date < d(2026, 4, 6) && w.kind != WorkoutKind::Long) {
        store.insert_activity(id, &run_on(w.date, f64::from(w.duration_min), "file")).await.unwrap();
    }
    let replies = cam.send("/week").await;
    assert!(replies.len() >= 2, "the missed sessions come first: {replies:?}");
    let first = &replies[0].text;
    assert!(first.contains("❌ Séance manquée, dim. 29/03 : sortie longue"), "{first}");
    assert!(first.contains("❌ Séance manquée, dim. 05/04 : sortie longue"), "{first}");
    assert!(first.contains("🔧"), "a missed long run re-plans: {first}");
    let plan = plans::active(store, id).await.unwrap().unwrap().plan;
    let long_runs: Vec<WorkoutStatus> =
        plan.workouts().filter(|w| w.kind == WorkoutKind::Long && w.date < d(2026, 4, 6)).map(|w| w.status).collect();
    assert_eq!(long_runs, [WorkoutStatus::Missed, WorkoutStatus::Missed]);
    assert!(plan::validate(&plan, &plan.request).is_ok(), "the adapted plan still validates");
    // Asked again the same day: no second notice.
    let again = cam.send("/week").await;
    assert_eq!(again.len(), 1, "{}", joined(&again));

    // The runner keeps the plan as it was: the original sessions, the long runs still missed.
    let keep = support::button(&replies, "↩️ Garder le plan tel quel");
    assert_eq!(keep, tracking::KEEP_BUTTON);
    let kept = cam.press(&keep).await;
    assert!(kept[0].text.starts_with("↩️ C'est noté : on garde le plan tel qu'il était"), "{}", kept[0].text);
    let restored = plans::active(store, id).await.unwrap().unwrap().plan;
    let original = ten_k();
    let after: Vec<_> =
        restored.workouts().filter(|w| w.date >= d(2026, 4, 6)).map(|w| (w.date, w.kind, w.duration_min)).collect();
    let planned: Vec<_> =
        original.workouts().filter(|w| w.date >= d(2026, 4, 6)).map(|w| (w.date, w.kind, w.duration_min)).collect();
    assert_eq!(after, planned, "the sessions to come are the original ones");
    let long_runs: Vec<WorkoutStatus> = restored
        .workouts()
        .filter(|w| w.kind == WorkoutKind::Long && w.date < d(2026, 4, 6))
        .map(|w| w.status)
        .collect();
    assert_eq!(long_runs, [WorkoutStatus::Missed, WorkoutStatus::Missed]);
    let done = restored.workouts().filter(|w| w.status == WorkoutStatus::Done).count();
    assert_eq!(done, plan.workouts().filter(|w| w.status == WorkoutStatus::Done).count(), "the runs stay ticked off");
    // Once only.
    assert!(joined(&cam.press(&keep).await).starts_with("Il n'y a plus d'ajustement à annuler"));
}

/// `/unwell` and `/skip` offer to keep the plan as it was, for a week; another runner's press
/// changes nothing of theirs.
async fn an_adaptation_can_be_undone_for_a_week(t: TestStore) {
    let store = t.store.as_ref();
    let clock = Arc::new(TestClock::at(local(Paris, 2026, 3, 24, 9, 0)));
    let core = BotCore::new(t.store.clone()).with_clock(clock.clone());
    let eve = Runner::new(&core, Platform::Telegram, "eve", Some("en"));
    eve.send("/start").await;
    let id = runner(store, "eve", Lang::En).await;
    plans::save_new(store, id, &ten_k()).await.unwrap();
    let before = plans::active(store, id).await.unwrap().unwrap().plan;

    let eased = eve.send("/unwell 3").await;
    let keep = support::button(&eased, "↩️ Keep the plan as it was");
    assert_ne!(plans::active(store, id).await.unwrap().unwrap().plan, before, "/unwell eased the next days");
    // Someone else pressing it has nothing to undo and touches nothing.
    let zoe = Runner::new(&core, Platform::Telegram, "zoe", Some("en"));
    zoe.send("/start").await;
    assert!(joined(&zoe.press(&keep).await).starts_with("There is no adjustment left to undo"));
    assert!(joined(&eve.press(&keep).await).starts_with("↩️ Done: the plan stays as it was"));
    assert_eq!(plans::active(store, id).await.unwrap().unwrap().plan, before);

    // Too late after a week.
    let skipped = eve.send("/skip").await;
    let keep = support::button(&skipped, "↩️ Keep the plan as it was");
    clock.advance(chrono::Duration::days(8));
    assert!(joined(&eve.press(&keep).await).starts_with("That adjustment is more than a week old"));
}

on_both_stores!(
    a_stored_run_ticks_its_session_off_once,
    a_day_ends_with_missed_sessions_and_the_plan_adapts,
    a_missed_long_run_replans_and_the_chat_says_so,
    the_end_of_a_day_comes_at_midnight_on_the_runners_clock,
    an_adaptation_can_be_undone_for_a_week,
);

#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<(ChatKey, Vec<Reply>)>>,
}

#[async_trait]
impl Notifier for Recorder {
    async fn send(&self, chat: &ChatKey, replies: &[Reply]) -> Result<(), NotifyError> {
        self.sent.lock().await.push((chat.clone(), replies.to_vec()));
        Ok(())
    }
}

/// The plan-day schedule fires a few minutes after midnight in Paris (on the night the clocks go
/// forward too), closes the day before once, and tells the runner in their chat; a day with
/// nothing missed sends nothing.
async fn the_end_of_a_day_comes_at_midnight_on_the_runners_clock(t: TestStore) {
    let store = t.store.as_ref();
    let dan = runner(store, "dan", Lang::En).await;
    plans::save_new(store, dan, &ten_k()).await.unwrap();
    let chat = ChatKey { platform: Platform::Telegram, chat_id: "dan".into() };
    let s = scheduler::enable_plan_days(store, dan, &chat, Paris, local(Paris, 2026, 3, 23, 12, 0)).await.unwrap();
    assert_eq!(s.kind, ScheduleKind::PlanDay);
    // Tuesday 24 March 00:05 in Paris is 23:05 UTC on Monday.
    assert_eq!(s.next_run_at, Some(Utc.with_ymd_and_hms(2026, 3, 23, 23, 5, 0).unwrap()));

    let notifier = Recorder::default();
    let mut sent = 0;
    // Each night from Tuesday to the Monday after the clocks change (29 March).
    for day in 24..=31 {
        let clock = TestClock::at(local(Paris, 2026, 3, day, 0, 6));
        let r = enqueue_due(store, clock.now()).await.unwrap();
        assert_eq!(r.enqueued, 1, "one job on the night to {day} March");
        let r = run_once(store, "w", &notifier, &clock).await.unwrap();
        assert_eq!(r.claimed, 1);
        assert_eq!(r.sent + r.quiet, 1, "{r:?}");
        sent += r.sent;
        // The same night again (another instance): nothing enqueued twice.
        assert_eq!(enqueue_due(store, clock.now()).await.unwrap().enqueued, 0);
    }
    // No run at all: Tuesday, Thursday and Sunday were each told once, the night after.
    let messages = notifier.sent.lock().await;
    assert_eq!(sent, 3);
    let days: Vec<&str> = messages.iter().map(|(_, r)| r[0].text.lines().next().unwrap()).collect();
    assert!(days[0].starts_with("❌ Missed, Tue 24 Mar"), "{days:?}");
    assert!(days[1].starts_with("❌ Missed, Thu 26 Mar"), "{days:?}");
    assert!(days[2].starts_with("❌ Missed, Sun 29 Mar"), "{days:?}");
    assert!(messages.iter().all(|(c, _)| *c == chat));
    // A message that says the plan changed offers to keep it as it was; the others do not.
    for (_, r) in messages.iter() {
        let keep = r[0].buttons.iter().flatten().any(|b| b.data == tracking::KEEP_BUTTON);
        assert_eq!(keep, r[0].text.contains("🔧"), "{:?}", r[0]);
    }
    assert!(messages.iter().any(|(_, r)| r[0].text.contains("🔧")), "the missed long run re-planned");
    // After the change to summer time the schedule still fires at 00:05 Paris (22:05 UTC).
    let s = store.schedule(ScheduleKind::PlanDay, &chat).await.unwrap().unwrap();
    assert_eq!(s.next_run_at, Some(Utc.with_ymd_and_hms(2026, 3, 31, 22, 5, 0).unwrap()));
}
