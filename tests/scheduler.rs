//! Weekly summary delivery: cron in the runner's time zone (daylight-saving changes), due schedules
//! becoming jobs once per week, the worker's retries, pauses and exactly-once delivery with two
//! instances on one PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::America::New_York;
use chrono_tz::Europe::Paris;
use chrono_tz::Tz;
use runcoach_core::chat::Reply;
use runcoach_core::domain::{Platform, PlatformIdentity, UserId};
use runcoach_core::i18n::Lang;
use runcoach_core::message::{ChatKey, Notifier, NotifyError};
use runcoach_core::scheduler::{
    self, Clock, TestClock, WorkerConfig, enqueue_due, parse_cron, run_once, run_once_with,
};
use runcoach_core::store::{NewActivity, PausedReason, ScheduleKind, Store};
use runcoach_core::summary::IsoWeek;
use support::TestStore;
use tokio::sync::Mutex;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn local(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, m, d, h, min, 0).earliest().unwrap().with_timezone(&Utc)
}

fn next(expr: &str, tz: Tz, after: DateTime<Utc>) -> DateTime<Utc> {
    parse_cron(expr).unwrap().next_after(tz, after).unwrap()
}

// ---------------------------------------------------------------- daylight saving time

#[test]
fn monday_8am_paris_follows_the_clock_change() {
    // Clocks go forward on Sunday 30 March 2025 and back on Sunday 26 October 2025.
    let d = scheduler::DEFAULT_CRON;
    assert_eq!(next(d, Paris, utc(2025, 3, 22, 12, 0)), utc(2025, 3, 24, 7, 0), "CET: 08:00 = 07:00 UTC");
    assert_eq!(next(d, Paris, utc(2025, 3, 29, 12, 0)), utc(2025, 3, 31, 6, 0), "CEST: 08:00 = 06:00 UTC");
    assert_eq!(next(d, Paris, utc(2025, 10, 25, 12, 0)), utc(2025, 10, 27, 7, 0), "back to CET");
    // Just after a run, the next is a week later on the wall clock: 167 hours across the change.
    let before = utc(2025, 3, 24, 7, 0);
    let after = next(d, Paris, before);
    assert_eq!(after - before, Duration::hours(167));
    assert_eq!(next(d, Paris, utc(2025, 10, 20, 6, 0)) - utc(2025, 10, 20, 6, 0), Duration::hours(169));
}

#[test]
fn paris_skipped_and_repeated_hours() {
    // 02:30 does not exist on 30 March: it fires when the clocks jump (03:00 CEST = 01:00 UTC).
    let at_0230 = "30 2 * * *";
    assert_eq!(next(at_0230, Paris, utc(2025, 3, 29, 12, 0)), utc(2025, 3, 30, 1, 0));
    assert_eq!(next(at_0230, Paris, utc(2025, 3, 30, 1, 0)), utc(2025, 3, 31, 0, 30));
    // 02:30 happens twice on 26 October: it fires once, the first time (CEST, 00:30 UTC).
    let first = next(at_0230, Paris, utc(2025, 10, 25, 12, 0));
    assert_eq!(first, utc(2025, 10, 26, 0, 30));
    assert_eq!(next(at_0230, Paris, first), utc(2025, 10, 27, 1, 30), "not again at 01:30 UTC");
    // A weekly Sunday 02:30 summary is neither lost nor doubled across either change.
    let sunday = "30 2 * * 0";
    assert_eq!(next(sunday, Paris, utc(2025, 3, 24, 0, 0)), utc(2025, 3, 30, 1, 0));
    let oct = next(sunday, Paris, utc(2025, 10, 20, 0, 0));
    assert_eq!(oct, utc(2025, 10, 26, 0, 30));
    assert_eq!(next(sunday, Paris, oct), utc(2025, 11, 2, 1, 30));
}

#[test]
fn new_york_clock_changes() {
    // 9 March 2025: 02:00 EST → 03:00 EDT; 2 November 2025: 02:00 EDT → 01:00 EST.
    let d = scheduler::DEFAULT_CRON;
    assert_eq!(next(d, New_York, utc(2025, 3, 1, 0, 0)), utc(2025, 3, 3, 13, 0), "EST: 08:00 = 13:00 UTC");
    assert_eq!(next(d, New_York, utc(2025, 3, 8, 0, 0)), utc(2025, 3, 10, 12, 0), "EDT: 08:00 = 12:00 UTC");
    assert_eq!(next(d, New_York, utc(2025, 11, 1, 0, 0)), utc(2025, 11, 3, 13, 0));
    // Sunday 02:30 on 9 March is skipped by the clocks: fires at 03:00 EDT.
    assert_eq!(next("30 2 * * 0", New_York, utc(2025, 3, 8, 0, 0)), utc(2025, 3, 9, 7, 0));
    // Sunday 01:30 on 2 November happens twice: once, in EDT.
    let once = next("30 1 * * 0", New_York, utc(2025, 11, 1, 0, 0));
    assert_eq!(once, utc(2025, 11, 2, 5, 30));
    assert_eq!(next("30 1 * * 0", New_York, once), utc(2025, 11, 9, 6, 30));
    // The runner's local Monday 08:00 is the same wall-clock time all year.
    for (after, want) in [(utc(2025, 1, 4, 0, 0), (2025, 1, 6)), (utc(2025, 7, 5, 0, 0), (2025, 7, 7))] {
        assert_eq!(next(d, New_York, after), local(New_York, want.0, want.1, want.2, 8, 0));
    }
}

// ---------------------------------------------------------------- helpers

/// Records every message; can be told to fail.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<(ChatKey, Vec<Reply>)>>,
    /// Errors to return, in order, before succeeding.
    failures: Mutex<Vec<NotifyError>>,
    /// Fail every send with this error.
    always: Option<NotifyError>,
    calls: AtomicUsize,
}

impl Recorder {
    fn failing(errors: Vec<NotifyError>) -> Self {
        Recorder { failures: Mutex::new(errors), ..Recorder::default() }
    }

    fn always(error: NotifyError) -> Self {
        Recorder { always: Some(error), ..Recorder::default() }
    }

    async fn count(&self) -> usize {
        self.sent.lock().await.len()
    }
}

#[async_trait]
impl Notifier for Recorder {
    async fn send(&self, chat: &ChatKey, replies: &[Reply]) -> Result<(), NotifyError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(e) = &self.always {
            return Err(e.clone());
        }
        {
            let mut f = self.failures.lock().await;
            if !f.is_empty() {
                return Err(f.remove(0));
            }
        }
        self.sent.lock().await.push((chat.clone(), replies.to_vec()));
        Ok(())
    }
}

fn chat(id: &str) -> ChatKey {
    ChatKey { platform: Platform::Telegram, chat_id: id.to_owned() }
}

async fn runner(store: &dyn Store, id: &str, lang: Lang) -> UserId {
    let identity = PlatformIdentity { platform: Platform::Telegram, platform_user_id: id.to_owned() };
    store.resolve_identity(&identity, Some(id), lang).await.unwrap().user.id
}

async fn add_runs(store: &dyn Store, user: UserId, week: IsoWeek) {
    for (i, (day, km)) in [(1, 8.0), (3, 10.0), (6, 15.0)].into_iter().enumerate() {
        let start = (week.monday() + Duration::days(day)).and_hms_opt(7, 0, 0).unwrap().and_utc();
        let activity = NewActivity {
            source: "test".into(),
            external_id: Some(format!("{week}-{i}")),
            sport: runcoach_core::science::ActivityKind::Running,
            start_time: start,
            duration_s: km * 330.0,
            distance_m: Some(km * 1000.0),
            avg_hr: Some(145.0),
            ..NewActivity::default()
        };
        store.insert_activity(user, &activity).await.unwrap();
    }
}

/// Sunday 23 March 2025, 20:00 in Paris.
fn sunday_evening() -> DateTime<Utc> {
    local(Paris, 2025, 3, 23, 20, 0)
}

/// Monday 24 March 2025, 08:05 in Paris.
fn monday_morning() -> DateTime<Utc> {
    local(Paris, 2025, 3, 24, 8, 5)
}

fn w12() -> IsoWeek {
    "2025-W12".parse().unwrap()
}

async fn jobs_of(store: &dyn Store, user: UserId) -> Vec<serde_json::Value> {
    let doc = store.export_user(user).await.unwrap();
    doc["jobs"].as_array().cloned().unwrap_or_default()
}

// ---------------------------------------------------------------- tests on both stores

async fn due_schedule_becomes_one_job_per_week(t: TestStore) {
    let store = t.store.as_ref();
    let lea = runner(store, "lea", Lang::Fr).await;
    let s = scheduler::enable_weekly_summary(store, lea, &chat("c-lea"), None, Paris, sunday_evening()).await.unwrap();
    assert_eq!((s.cron.as_str(), s.timezone.as_str(), s.enabled), ("0 0 8 * * MON", "Europe/Paris", true));
    assert_eq!(s.next_run_at, Some(utc(2025, 3, 24, 7, 0)));
    assert_eq!(scheduler::next_local(&s).unwrap().format("%a %H:%M").to_string(), "Mon 08:00");

    // Not due on Sunday evening.
    assert_eq!(enqueue_due(store, sunday_evening()).await.unwrap().enqueued, 0);
    // Due on Monday: one job for last week.
    let r = enqueue_due(store, monday_morning()).await.unwrap();
    assert_eq!((r.due, r.enqueued), (1, 1));
    let jobs = jobs_of(store, lea).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["dedupe_key"], format!("summary:{}:2025-W12", lea.0));
    assert_eq!(jobs[0]["kind"], ScheduleKind::WeeklySummary.as_str());
    let s = store.schedule(ScheduleKind::WeeklySummary, &chat("c-lea")).await.unwrap().unwrap();
    assert_eq!(s.last_run_at, Some(utc(2025, 3, 24, 7, 0)));
    assert_eq!(s.next_run_at, Some(utc(2025, 3, 31, 6, 0)), "next Monday 08:00 CEST");

    // A second pass is a no-op, even when the schedule is made due again for the same week
    // (another instance, a crash before the next run was stored).
    assert_eq!(enqueue_due(store, monday_morning()).await.unwrap().due, 0);
    store.mark_schedule_run(s.id, None, Some(utc(2025, 3, 24, 7, 0))).await.unwrap();
    let again = enqueue_due(store, monday_morning() + Duration::minutes(1)).await.unwrap();
    assert_eq!((again.due, again.enqueued, again.duplicates), (1, 0, 1));
    assert_eq!(jobs_of(store, lea).await.len(), 1);

    // A scheduler down for three weeks catches up with one summary, of the latest week.
    let late = local(Paris, 2025, 4, 16, 12, 0);
    let r = enqueue_due(store, late).await.unwrap();
    assert_eq!(r.enqueued, 1);
    let keys: Vec<String> =
        jobs_of(store, lea).await.iter().map(|j| j["dedupe_key"].as_str().unwrap().to_owned()).collect();
    assert_eq!(keys, vec![format!("summary:{}:2025-W12", lea.0), format!("summary:{}:2025-W15", lea.0)]);

    // A schedule stored without a next run (by other code) gets one computed, and fires nothing yet.
    store
        .upsert_schedule(&runcoach_core::store::NewSchedule {
            user_id: Some(lea),
            kind: ScheduleKind::WeeklySummary,
            chat: chat("c-lea-2"),
            guild_id: None,
            cron: "0 0 18 * * SUN".into(),
            timezone: "America/New_York".into(),
            lang: None,
        })
        .await
        .unwrap();
    let r = enqueue_due(store, late).await.unwrap();
    assert_eq!((r.initialised, r.enqueued), (1, 0));
    let s2 = store.schedule(ScheduleKind::WeeklySummary, &chat("c-lea-2")).await.unwrap().unwrap();
    assert_eq!(s2.next_run_at, Some(local(New_York, 2025, 4, 20, 18, 0)));

    // A custom time: /summary time "30 19 * * 0" (Sunday evening summarises the week ending).
    let s = scheduler::enable_weekly_summary(store, lea, &chat("c-lea"), Some("\"30 19 * * 0\""), Paris, late)
        .await
        .unwrap();
    assert_eq!(s.next_run_at, Some(local(Paris, 2025, 4, 20, 19, 30)));
    let r = enqueue_due(store, local(Paris, 2025, 4, 20, 19, 31)).await.unwrap();
    assert_eq!(r.enqueued, 1);
    assert!(jobs_of(store, lea).await.iter().any(|j| j["dedupe_key"] == format!("summary:{}:2025-W16", lea.0)));
    // An invalid expression is refused with a reason.
    let bad = scheduler::enable_weekly_summary(store, lea, &chat("c-lea"), Some("tuesdays"), Paris, late).await;
    assert!(bad.unwrap_err().to_string().contains("invalid cron expression"));
}

async fn worker_sends_the_summary_and_completes_the_job(t: TestStore) {
    let store = t.store.as_ref();
    let lea = runner(store, "lea", Lang::Fr).await;
    add_runs(store, lea, w12()).await;
    scheduler::enable_weekly_summary(store, lea, &chat("c-lea"), None, Paris, sunday_evening()).await.unwrap();
    let clock = TestClock::at(monday_morning());
    enqueue_due(store, clock.now()).await.unwrap();
    let notifier = Recorder::default();
    let r = run_once(store, "w1", &notifier, &clock).await.unwrap();
    assert_eq!((r.claimed, r.sent), (1, 1));
    let sent = notifier.sent.lock().await;
    let (to, replies) = &sent[0];
    assert_eq!(to, &chat("c-lea"));
    assert!(replies[0].text.contains("Bilan de la semaine 12"), "{}", replies[0].text);
    assert!(replies[0].text.contains("**3 sorties** · **33,0 km**"), "{}", replies[0].text);
    let png = &replies[0].attachment.as_ref().expect("chart").data;
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    drop(sent);
    assert_eq!(jobs_of(store, lea).await[0]["status"], "done");
    // Nothing left, now or later.
    clock.advance(Duration::days(1));
    assert_eq!(run_once(store, "w1", &notifier, &clock).await.unwrap().claimed, 0);
    assert_eq!(notifier.count().await, 1);
}

async fn an_inactive_runner_is_warned_in_their_language(t: TestStore) {
    let store = t.store.as_ref();
    let lea = runner(store, "lea", Lang::Fr).await;
    let clock = TestClock::at(monday_morning());
    let erase_on = clock.now().date_naive() + Duration::days(30);
    assert!(scheduler::notify_inactive(store, lea, erase_on, clock.now()).await.unwrap());
    let notifier = Recorder::default();
    let r = run_once(store, "w1", &notifier, &clock).await.unwrap();
    assert_eq!((r.claimed, r.sent), (1, 1));
    let sent = notifier.sent.lock().await;
    let (to, replies) = &sent[0];
    assert_eq!(to, &chat("lea"), "the runner's private chat");
    let day = runcoach_core::i18n::date_short(Lang::Fr, erase_on);
    assert!(replies[0].text.contains("seront supprimés le") && replies[0].text.contains(&day), "{}", replies[0].text);
    // A console runner has no chat to be told in.
    let console = store
        .resolve_identity(
            &PlatformIdentity { platform: Platform::Console, platform_user_id: "me".into() },
            None,
            Lang::En,
        )
        .await
        .unwrap()
        .user
        .id;
    assert!(!scheduler::notify_inactive(store, console, erase_on, clock.now()).await.unwrap());
}

async fn blocked_recipient_pauses_the_schedule(t: TestStore) {
    let store = t.store.as_ref();
    let lea = runner(store, "lea", Lang::En).await;
    scheduler::enable_weekly_summary(store, lea, &chat("c-lea"), None, Paris, sunday_evening()).await.unwrap();
    let clock = TestClock::at(monday_morning());
    enqueue_due(store, clock.now()).await.unwrap();
    let blocked = Recorder::always(NotifyError::Blocked);
    let r = run_once(store, "w1", &blocked, &clock).await.unwrap();
    assert_eq!((r.claimed, r.paused, r.sent), (1, 1, 0));
    let s = store.schedule(ScheduleKind::WeeklySummary, &chat("c-lea")).await.unwrap().unwrap();
    assert!(!s.enabled);
    assert_eq!(s.paused_reason, Some(PausedReason::Blocked));
    assert_eq!(jobs_of(store, lea).await[0]["status"], "failed");
    // Never retried, and no new week is enqueued while paused.
    for days in [1, 7, 30] {
        clock.set(monday_morning() + Duration::days(days));
        assert_eq!(enqueue_due(store, clock.now()).await.unwrap().enqueued, 0);
        assert_eq!(run_once(store, "w1", &blocked, &clock).await.unwrap().claimed, 0);
    }
    assert_eq!(blocked.calls.load(Ordering::SeqCst), 1);
    // `/summary on` brings it back.
    let s = scheduler::enable_weekly_summary(store, lea, &chat("c-lea"), None, Paris, clock.now()).await.unwrap();
    assert!(s.enabled && s.paused_reason.is_none());
    // `/summary off` turns it off again.
    assert!(scheduler::disable_weekly_summary(store, &chat("c-lea")).await.unwrap());
    assert!(!scheduler::disable_weekly_summary(store, &chat("c-lea")).await.unwrap());
    let s = store.schedule(ScheduleKind::WeeklySummary, &chat("c-lea")).await.unwrap().unwrap();
    assert_eq!((s.enabled, s.paused_reason), (false, Some(runcoach_core::store::PausedReason::Off)));
}

async fn turned_off_after_enqueue_is_not_sent(t: TestStore) {
    let store = t.store.as_ref();
    let lea = runner(store, "lea", Lang::En).await;
    scheduler::enable_weekly_summary(store, lea, &chat("c-lea"), None, Paris, sunday_evening()).await.unwrap();
    let clock = TestClock::at(monday_morning());
    assert_eq!(enqueue_due(store, clock.now()).await.unwrap().enqueued, 1);
    assert!(scheduler::disable_weekly_summary(store, &chat("c-lea")).await.unwrap());
    let notifier = Recorder::default();
    let r = run_once(store, "w1", &notifier, &clock).await.unwrap();
    assert_eq!((r.claimed, r.sent, r.failed), (1, 0, 1));
    assert_eq!(notifier.calls.load(Ordering::SeqCst), 0);
    assert_eq!(jobs_of(store, lea).await[0]["last_error"], "schedule turned off");
}

async fn transient_failures_back_off_then_succeed(t: TestStore) {
    let store = t.store.as_ref();
    let lea = runner(store, "lea", Lang::En).await;
    scheduler::enable_weekly_summary(store, lea, &chat("c-lea"), None, Paris, sunday_evening()).await.unwrap();
    let clock = TestClock::at(monday_morning());
    enqueue_due(store, clock.now()).await.unwrap();
    let notifier = Recorder::failing(vec![
        NotifyError::Transient("502 Bad Gateway".into()),
        NotifyError::Transient("timeout".into()),
        NotifyError::RateLimited { retry_after: std::time::Duration::from_secs(10) },
    ]);
    let config = WorkerConfig::default();
    assert_eq!(config.backoff(1), Duration::seconds(30));
    assert_eq!(config.backoff(2), Duration::seconds(60));
    assert_eq!(config.backoff(12), Duration::hours(2), "capped");

    let pass = |label: &'static str| {
        let (clock, notifier) = (&clock, &notifier);
        async move {
            let r = run_once_with(store, "w1", notifier, clock, &WorkerConfig::default()).await.unwrap();
            (label, r.claimed, r.sent, r.retried)
        }
    };
    assert_eq!(pass("first try").await, ("first try", 1, 0, 1));
    assert_eq!(pass("too soon").await, ("too soon", 0, 0, 0));
    clock.advance(Duration::seconds(29));
    assert_eq!(pass("29 s").await, ("29 s", 0, 0, 0));
    clock.advance(Duration::seconds(1));
    assert_eq!(pass("after 30 s").await, ("after 30 s", 1, 0, 1));
    clock.advance(Duration::seconds(59));
    assert_eq!(pass("59 s").await, ("59 s", 0, 0, 0));
    clock.advance(Duration::seconds(1));
    assert_eq!(pass("after 60 s: rate limited").await, ("after 60 s: rate limited", 1, 0, 1));
    clock.advance(Duration::seconds(9));
    assert_eq!(pass("9 s").await, ("9 s", 0, 0, 0));
    clock.advance(Duration::seconds(1));
    assert_eq!(pass("after retry-after").await, ("after retry-after", 1, 1, 0));
    assert_eq!(notifier.count().await, 1);
    assert_eq!(notifier.calls.load(Ordering::SeqCst), 4);
    let job = &jobs_of(store, lea).await[0];
    assert_eq!((job["status"].as_str(), job["attempts"].as_i64()), (Some("done"), Some(4)));
}

async fn attempts_are_bounded(t: TestStore) {
    let store = t.store.as_ref();
    let lea = runner(store, "lea", Lang::En).await;
    scheduler::enable_weekly_summary(store, lea, &chat("c-lea"), None, Paris, sunday_evening()).await.unwrap();
    let clock = TestClock::at(monday_morning());
    enqueue_due(store, clock.now()).await.unwrap();
    let down = Recorder::always(NotifyError::Transient("connection refused".into()));
    let config = WorkerConfig { max_attempts: 4, ..WorkerConfig::default() };
    let mut failed = 0;
    for _ in 0..20 {
        clock.advance(Duration::hours(3));
        let r = run_once_with(store, "w1", &down, &clock, &config).await.unwrap();
        failed += r.failed;
    }
    assert_eq!(failed, 1);
    assert_eq!(down.calls.load(Ordering::SeqCst), 4, "four attempts, then given up");
    let job = &jobs_of(store, lea).await[0];
    assert_eq!(job["status"], "failed");
    assert!(job["last_error"].as_str().unwrap().contains("gave up after 4 attempts"));
    // The schedule stays on: next week is tried afresh.
    let s = store.schedule(ScheduleKind::WeeklySummary, &chat("c-lea")).await.unwrap().unwrap();
    assert!(s.enabled);
}

async fn club_digest_names_only_opted_in_members(t: TestStore) {
    let store = t.store.as_ref();
    let (ana, bob, cy) = (
        runner(store, "ana", Lang::En).await,
        runner(store, "bob", Lang::En).await,
        runner(store, "cy", Lang::En).await,
    );
    store.join_club(ana, "g1", true).await.unwrap();
    store.join_club(bob, "g1", false).await.unwrap();
    store.join_club(cy, "g1", true).await.unwrap();
    add_runs(store, ana, w12()).await;
    add_runs(store, bob, w12()).await;
    let channel = ChatKey { platform: Platform::Discord, chat_id: "running".into() };
    scheduler::enable_club_digest(store, "g1", &channel, None, Paris, Lang::En, sunday_evening()).await.unwrap();
    let clock = TestClock::at(monday_morning());
    let r = enqueue_due(store, clock.now()).await.unwrap();
    assert_eq!(r.enqueued, 1);
    let notifier = Recorder::default();
    assert_eq!(run_once(store, "w1", &notifier, &clock).await.unwrap().sent, 1);
    let sent = notifier.sent.lock().await;
    let text = &sent[0].1[0].text;
    assert_eq!(sent[0].0, channel);
    // bob ran too, hidden: alone among the hidden, his distance would be the total less ana's,
    // so the totals are the opted-in members' only.
    assert!(text.contains("Active runners: 2 / 3 · 3 runs · **33.0 km** (opted-in members)"), "{text}");
    assert!(text.contains("ana — 33.0 km"), "{text}");
    assert!(!text.contains("bob"), "bob did not opt in: {text}");
    let again = enqueue_due(store, clock.now()).await.unwrap();
    assert_eq!(again.enqueued, 0);
    assert!(store.schedule(ScheduleKind::ClubDigest, &channel).await.unwrap().unwrap().enabled);
}

on_both_stores!(
    due_schedule_becomes_one_job_per_week,
    worker_sends_the_summary_and_completes_the_job,
    an_inactive_runner_is_warned_in_their_language,
    blocked_recipient_pauses_the_schedule,
    turned_off_after_enqueue_is_not_sent,
    transient_failures_back_off_then_succeed,
    attempts_are_bounded,
    club_digest_names_only_opted_in_members,
);

// ---------------------------------------------------------------- exactly once, two instances

/// Counts deliveries per chat, like a platform would see them.
#[derive(Default)]
struct Ledger {
    per_chat: Mutex<HashMap<String, usize>>,
    per_worker: Mutex<HashMap<String, usize>>,
}

struct WorkerNotifier {
    ledger: Arc<Ledger>,
    worker: String,
}

#[async_trait]
impl Notifier for WorkerNotifier {
    async fn send(&self, chat: &ChatKey, replies: &[Reply]) -> Result<(), NotifyError> {
        assert!(!replies.is_empty() && replies[0].text.contains("Weekly summary"));
        // A little platform latency, so the two workers interleave.
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        *self.ledger.per_chat.lock().await.entry(chat.chat_id.clone()).or_default() += 1;
        *self.ledger.per_worker.lock().await.entry(self.worker.clone()).or_default() += 1;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_500_summaries_exactly_once() {
    const RUNNERS: usize = 500;
    let t = support::postgres().await;
    let url = t.url.clone().unwrap();
    let setup = t.store.as_ref();
    let week = w12();
    let mut ids = Vec::new();
    for i in 0..RUNNERS {
        let id = runner(setup, &format!("r{i}"), Lang::En).await;
        scheduler::enable_weekly_summary(setup, id, &chat(&format!("c{i}")), None, Paris, sunday_evening())
            .await
            .unwrap();
        ids.push(id);
    }
    for id in ids.iter().step_by(25) {
        add_runs(setup, *id, week).await;
    }
    // Two instances: their own connection pools to the same database, their own clocks.
    let ledger = Arc::new(Ledger::default());
    let mut tasks = tokio::task::JoinSet::new();
    // Both connected before either starts, so neither gets a head start.
    let mut stores = Vec::new();
    for name in ["instance-a", "instance-b"] {
        stores.push((name, runcoach_core::store::connect(Some(&url), std::path::Path::new("unused")).await.unwrap()));
    }
    for (name, store) in stores {
        let notifier = WorkerNotifier { ledger: ledger.clone(), worker: name.to_owned() };
        tasks.spawn(async move {
            let clock = TestClock::at(monday_morning());
            // Charts are covered by the other tests; unoptimised test builds draw them slowly.
            let config = WorkerConfig { batch: 10, charts: false, ..WorkerConfig::default() };
            // Both instances run the scheduler and the worker at the same time.
            let enq = enqueue_due(store.as_ref(), clock.now()).await.unwrap();
            let mut sent = 0;
            loop {
                let r = run_once_with(store.as_ref(), name, &notifier, &clock, &config).await.unwrap();
                sent += r.sent;
                assert_eq!(r.failed + r.retried + r.paused, 0);
                if r.claimed == 0 {
                    // The other instance may still be enqueueing: one more look.
                    let again = enqueue_due(store.as_ref(), clock.now()).await.unwrap();
                    let r = run_once_with(store.as_ref(), name, &notifier, &clock, &config).await.unwrap();
                    sent += r.sent;
                    if r.claimed == 0 && again.enqueued == 0 {
                        break;
                    }
                }
            }
            (enq.enqueued, sent)
        });
    }
    let mut enqueued = 0;
    let mut sent = 0;
    while let Some(done) = tasks.join_next().await {
        let (e, s) = done.unwrap();
        enqueued += e;
        sent += s;
    }
    assert_eq!(enqueued, RUNNERS, "each week's job enqueued once across both instances");
    assert_eq!(sent, RUNNERS);
    let per_chat = ledger.per_chat.lock().await;
    assert_eq!(per_chat.len(), RUNNERS, "every runner got a summary");
    let twice: Vec<_> = per_chat.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    let per_worker = ledger.per_worker.lock().await;
    eprintln!("deliveries per instance: {per_worker:?}");
    // Both instances worked the queue at once: the exactly-once above held under real contention.
    for name in ["instance-a", "instance-b"] {
        assert!(per_worker.get(name).is_some_and(|n| *n > 0), "{name} delivered nothing: {per_worker:?}");
    }
    // Everything is done; a later pass finds nothing.
    let clock = TestClock::at(monday_morning() + Duration::hours(1));
    let r = run_once(setup, "late", &Recorder::default(), &clock).await.unwrap();
    assert_eq!(r.claimed, 0);
    assert_eq!(enqueue_due(setup, clock.now()).await.unwrap().enqueued, 0);
}
