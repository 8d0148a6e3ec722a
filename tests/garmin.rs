//! The Garmin client at the wire: a local axum server replays the recorded Garmin bodies from
//! ../shared/fixtures/garmin-api (with real JWTs whose `exp` each test chooses) and fails on demand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use base64::Engine;
use runcoach_core::domain::{Platform, PlatformIdentity, UserId};
use runcoach_core::garmin::{self, GarminError, GarminSession, LoginStep, SyncProgress, TokenSealer};
use runcoach_core::i18n::Lang;
use runcoach_core::import::garmin_json;
use runcoach_core::message::{ChatKey, Notifier, NotifyError, Reply};
use runcoach_core::scheduler::{self, Clock, TestClock, WorkerConfig};
use runcoach_core::store::{PausedReason, ScheduleKind};
use runcoach_core::{plan, plans};
use secrecy::SecretString;
use serde_json::json;
use support::TestStore;
use support::garmin_fake::*;

#[tokio::test]
async fn login_without_mfa_gets_tokens_that_work() {
    let (client, fake) = serve(Fake { reject_first_client: true, ..Fake::default() }).await;
    let tokens = logged_in(&client).await;
    // The 2025Q2 client id was refused: the next one in turn got the tokens.
    assert_eq!(tokens.client_id, "GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4");
    assert_eq!(fake.lock().unwrap().client_ids.len(), 2);
    // Expiry comes from the JWT's exp.
    let in_26h = chrono::Utc::now() + chrono::Duration::hours(26);
    assert!((tokens.expires_at - in_26h).num_seconds().abs() < 5, "{:?}", tokens.expires_at);
    assert!(tokens.refresh_expires_at.is_some());
    let mut session = GarminSession::new(&client, tokens);
    let profile = session.social_profile().await.unwrap();
    assert_eq!(profile["displayName"], "mtamizi");
    assert!(!session.was_refreshed());
    assert_eq!(hits(&fake, "login"), 1);
}

#[tokio::test]
async fn login_with_mfa_asks_for_the_code() {
    let (client, fake) = serve(Fake { mfa: true, ..Fake::default() }).await;
    let LoginStep::NeedMfa(challenge) = client.login(EMAIL, &password()).await.unwrap() else {
        panic!("expected an MFA challenge");
    };
    assert_eq!(challenge.method, "email");
    assert!(!format!("{challenge:?}").contains("sso-session-42"));
    let wrong = client.verify_mfa(&challenge, "000000").await.unwrap_err();
    assert_eq!(wrong.code(), "garmin_mfa_invalid");
    // Sealed for the dialogue state, it opens for its runner only, and never as tokens.
    let sealer = TokenSealer::from_key(&[3; 32]);
    let sealed = sealer.seal_mfa(UserId(1), &challenge).unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("sso-session-42"));
    assert!(sealer.open_mfa(UserId(2), &sealed).is_err(), "another runner's challenge");
    assert!(sealer.open(UserId(1), &sealed).is_err(), "a challenge is not tokens");
    let challenge = sealer.open_mfa(UserId(1), &sealed).unwrap();
    let tokens = client.verify_mfa(&challenge, MFA_CODE).await.unwrap();
    assert_eq!(tokens.client_id, "GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2");
    assert_eq!(hits(&fake, "verify"), 2);
    let mut session = GarminSession::new(&client, tokens);
    assert_eq!(session.social_profile().await.unwrap()["userName"], "mtamizi");
}

#[tokio::test]
async fn wrong_password_is_refused() {
    let (client, _fake) = serve(Fake::default()).await;
    let err = client.login(EMAIL, &SecretString::from("nope".to_owned())).await.unwrap_err();
    assert_eq!(err.code(), "garmin_bad_credentials");
}

#[tokio::test]
async fn login_429_is_surfaced_once_not_retried() {
    let (client, fake) = serve(Fake { login_status: Some(StatusCode::TOO_MANY_REQUESTS), ..Fake::default() }).await;
    let err = client.login(EMAIL, &password()).await.unwrap_err();
    assert!(matches!(err, GarminError::RateLimited { retry_after_s: Some(3600) }), "{err:?}");
    assert_eq!(hits(&fake, "login"), 1);
    assert!(err.message(Lang::En).contains("Wait"));
    assert!(err.message(Lang::Fr).contains("Attends"));
}

#[tokio::test]
async fn login_5xx_is_retried_with_bounded_backoff() {
    let (client, fake) = serve(Fake { login_status: Some(StatusCode::SERVICE_UNAVAILABLE), ..Fake::default() }).await;
    let err = client.login(EMAIL, &password()).await.unwrap_err();
    assert_eq!(err.code(), "garmin_unavailable");
    assert_eq!(hits(&fake, "login"), 3);
}

#[tokio::test]
async fn near_expiry_tokens_are_refreshed_before_the_call() {
    let (client, fake) = serve(Fake::default()).await;
    fake.lock().unwrap().access_ttl_s = 600; // under the 900 s margin
    let tokens = logged_in(&client).await;
    fake.lock().unwrap().access_ttl_s = 26 * 3600;
    let mut session = GarminSession::new(&client, tokens.clone());
    session.social_profile().await.unwrap();
    assert_eq!(hits(&fake, "refresh"), 1);
    assert_eq!(hits(&fake, "profile"), 1);
    assert!(session.was_refreshed());
    assert!(session.tokens().expires_at > tokens.expires_at);
    assert_eq!(session.tokens().client_id, tokens.client_id);
}

/// One instance's Garmin requests are spaced by the configured pace, clones of the client included.
#[tokio::test]
async fn requests_are_paced_across_clones_of_the_client() {
    let (client, fake) = serve(Fake { activities: activities(1, 3, chrono::Utc::now()), ..Fake::default() }).await;
    let tokens = logged_in(&client).await;
    let paced = client.with_pace(10.0);
    let other = paced.clone();
    let mut a = GarminSession::new(&paced, tokens.clone());
    let mut b = GarminSession::new(&other, tokens);
    for _ in 0..3 {
        a.activities(0, 1).await.unwrap();
        b.activities(0, 1).await.unwrap();
    }
    let times = fake.lock().unwrap().list_times.clone();
    assert_eq!(times.len(), 6);
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= std::time::Duration::from_millis(95), "requests {gap:?} apart at 10 a second");
    }
}

#[tokio::test]
async fn a_401_refreshes_once_then_gives_up() {
    let (client, fake) = serve(Fake { profile_401s: 1, ..Fake::default() }).await;
    let mut session = GarminSession::new(&client, logged_in(&client).await);
    session.social_profile().await.unwrap();
    assert_eq!((hits(&fake, "refresh"), hits(&fake, "profile")), (1, 2));
    assert!(session.was_refreshed());

    fake.lock().unwrap().profile_401s = 5;
    let err = session.social_profile().await.unwrap_err();
    assert_eq!(err.code(), "garmin_session_expired");
    assert_eq!(hits(&fake, "refresh"), 2);
}

#[tokio::test]
async fn token_sealing_round_trips_and_fails_cleanly() {
    let (client, _fake) = serve(Fake::default()).await;
    let tokens = logged_in(&client).await;
    let sealer = TokenSealer::from_key(&[7; 32]);
    let sealed = sealer.seal(UserId(1), &tokens).unwrap();
    assert_eq!(sealer.open(UserId(1), &sealed).unwrap(), tokens);
    // Two seals of the same tokens differ (fresh nonce), and hold no token text.
    assert_ne!(sealer.seal(UserId(1), &tokens).unwrap(), sealed);
    assert!(!String::from_utf8_lossy(&sealed).contains("refresh-"));
    let wrong_key = TokenSealer::from_key(&[8; 32]);
    assert!(matches!(wrong_key.open(UserId(1), &sealed), Err(GarminError::TokensUnreadable)));
    assert!(matches!(sealer.open(UserId(2), &sealed), Err(GarminError::TokensUnreadable)));
    assert!(matches!(sealer.open(UserId(1), &sealed[..20]), Err(GarminError::TokensUnreadable)));
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    assert_eq!(TokenSealer::from_base64(&key).unwrap().open(UserId(1), &sealed).unwrap(), tokens);
    assert!(matches!(TokenSealer::from_base64("c2hvcnQ="), Err(GarminError::SecretKeyInvalid)));
    assert!(!format!("{tokens:?}").contains(".sig"));
    assert!(!format!("{sealer:?}").contains('7'));
}

#[test]
fn a_missing_key_is_a_typed_error() {
    // Only checked when the variable is unset here (tests never set it).
    if std::env::var(garmin::SECRET_KEY_ENV).is_err() {
        assert!(matches!(TokenSealer::from_setting(None), Err(GarminError::SecretKeyMissing)));
    }
    for e in [GarminError::SecretKeyMissing, GarminError::NotConnected, GarminError::SessionExpired] {
        assert_ne!(e.message(Lang::Fr), e.message(Lang::En));
    }
}

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> LogBuffer {
        self.clone()
    }
}

#[tokio::test]
async fn the_password_never_reaches_the_logs() {
    let logs = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (client, _fake) = serve(Fake { mfa: true, ..Fake::default() }).await;
    let step = client.login(EMAIL, &password()).await.unwrap();
    tracing::info!(?step, "login step");
    let LoginStep::NeedMfa(challenge) = step else { panic!("expected MFA") };
    let tokens = client.verify_mfa(&challenge, MFA_CODE).await.unwrap();
    tracing::info!(?tokens, "tokens");
    let _ = client.login(EMAIL, &SecretString::from(format!("{PASSWORD}-bad"))).await;
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("MFA"), "the capture works: {text}");
    assert!(!text.contains(PASSWORD), "password in logs:\n{text}");
    assert!(!text.contains(".sig"), "a token in logs");
    assert!(tokens.client_id.contains("DI"));
    assert!(!text.contains("sso-session-42"));
}

async fn runner(t: &TestStore) -> UserId {
    let id = PlatformIdentity { platform: Platform::Console, platform_user_id: "garmin-sync".into() };
    t.store.resolve_identity(&id, None, Lang::En).await.unwrap().user.id
}

async fn credentials_are_sealed_in_the_store(t: TestStore) {
    let user = runner(&t).await;
    let (client, _fake) = serve(Fake::default()).await;
    let sealer = TokenSealer::from_key(&[3; 32]);
    let store = t.store.as_ref();
    assert!(matches!(garmin::load_tokens(store, &sealer, user).await, Err(GarminError::NotConnected)));
    let tokens = logged_in(&client).await;
    let name = garmin::connect_account(&client, store, &sealer, user, tokens.clone()).await.unwrap();
    assert_eq!(name.as_deref(), Some("mtamizi"));
    assert_eq!(garmin::load_tokens(store, &sealer, user).await.unwrap(), tokens);
    let raw = t.store.get_credential(user, garmin::PROVIDER).await.unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains("refresh-"));
    let other = TokenSealer::from_key(&[4; 32]);
    assert!(matches!(garmin::load_tokens(store, &other, user).await, Err(GarminError::TokensUnreadable)));
    assert!(t.store.delete_credential(user, garmin::PROVIDER).await.unwrap());
    assert!(!t.store.delete_credential(user, garmin::PROVIDER).await.unwrap());
    assert!(t.store.get_credential(user, garmin::PROVIDER).await.unwrap().is_none());
}

async fn sync_is_full_then_incremental(t: TestStore) {
    let user = runner(&t).await;
    let newest = chrono::Utc::now() - chrono::Duration::days(2);
    // Seven activities and two 502s on the first list call (retried).
    let (client, fake) = serve(Fake { activities: activities(500, 7, newest), list_500s: 2, ..Fake::default() }).await;
    let sealer = TokenSealer::from_key(&[9; 32]);
    let store = t.store.as_ref();
    let tokens = logged_in(&client).await;
    // As `/sync` does: the tokens are stored before the first sync.
    garmin::save_tokens(store, &sealer, user, &tokens).await.unwrap();
    let mut session = GarminSession::new(&client, tokens.clone());
    let mut seen = Vec::new();
    let first = garmin::sync_activities(&mut session, store, user, 3, |p| seen.push(p)).await.unwrap();
    assert_eq!((first.new, first.duplicates, first.total, first.full), (7, 0, 7, true));
    assert_eq!(
        seen,
        [
            SyncProgress { fetched: 3, new: 3, duplicates: 0, total: Some(7) },
            SyncProgress { fetched: 6, new: 6, duplicates: 0, total: Some(7) },
            SyncProgress { fetched: 7, new: 7, duplicates: 0, total: Some(7) },
        ]
    );
    assert_eq!(hits(&fake, "list"), 5); // 2 failures + 3 pages
    let stored = t.store.activities(user, None).await.unwrap();
    assert_eq!(stored.len(), 7);
    assert!(stored.iter().all(|a| a.source == "garmin" && a.sport == runcoach_core::science::ActivityKind::Trail));

    // Two new activities on Garmin: the incremental sync reads one page and stops at the first known.
    {
        let mut f = fake.lock().unwrap();
        let mut fresh = activities(600, 2, chrono::Utc::now() - chrono::Duration::hours(3));
        fresh.append(&mut f.activities);
        f.activities = fresh;
    }
    // Stored tokens close to expiry: sync_user refreshes them and stores the new ones.
    fake.lock().unwrap().access_ttl_s = 60;
    let expiring = client.refresh(&tokens).await.unwrap();
    fake.lock().unwrap().access_ttl_s = 26 * 3600;
    garmin::save_tokens(store, &sealer, user, &expiring).await.unwrap();
    let refreshes = hits(&fake, "refresh");
    let mut progress = Vec::new();
    let before = hits(&fake, "list");
    let second = garmin::sync_user(&client, store, &sealer, user, |p| progress.push(p)).await.unwrap();
    assert_eq!((second.new, second.duplicates, second.total, second.full), (2, 0, 2, false));
    assert_eq!(hits(&fake, "list") - before, 1);
    assert_eq!(progress.last().map(|p| (p.fetched, p.new)), Some((2, 2)));
    assert_eq!(t.store.activities(user, None).await.unwrap().len(), 9);
    assert_eq!(hits(&fake, "refresh"), refreshes + 1);
    let stored_tokens = garmin::load_tokens(store, &sealer, user).await.unwrap();
    assert!(stored_tokens.expires_at > expiring.expires_at + chrono::Duration::hours(1));

    // Nothing new: one page, nothing inserted.
    let third = garmin::sync_user(&client, store, &sealer, user, |_| {}).await.unwrap();
    assert_eq!((third.new, third.total), (0, 0));
}

/// The laps rows stored for the activity Garmin knows as `garmin_id`, in lap order.
async fn stored_laps(t: &TestStore, user: UserId, garmin_id: u64) -> Vec<serde_json::Value> {
    let stored = t.store.activities(user, None).await.unwrap();
    let id = stored.iter().find(|a| a.external_id == Some(garmin_id.to_string())).expect("stored").id;
    let export = t.store.export_user(user).await.unwrap();
    let mut laps: Vec<_> =
        export["laps"].as_array().unwrap().iter().filter(|l| l["activity_id"] == id).cloned().collect();
    laps.sort_by_key(|l| l["lap_index"].as_i64());
    laps
}

async fn sync_stores_the_laps_of_new_runs(t: TestStore) {
    let user = runner(&t).await;
    let newest = chrono::Utc::now() - chrono::Duration::days(1);
    // Trail runs 704 (newest) to 701, and the recorded hike (id 800) between them.
    let mut listed = activities(700, 4, newest);
    let mut hike = body("test_activity_list__0.json")[1].clone();
    hike["activityId"] = json!(800);
    listed.insert(1, hike);
    // 701 is already stored from a file: a duplicate, so its laps are not asked for.
    let mut from_file = garmin_json::activity_from_garmin(&listed[4]).unwrap();
    from_file.source = "file".into();
    from_file.external_id = Some("fit-0123".into());
    t.store.insert_activity(user, &from_file).await.unwrap();
    let mut fake = Fake { activities: listed.clone(), ..Fake::default() };
    // 702's splits keep failing: it is stored without laps and the sync goes on.
    fake.splits_status.insert(702, StatusCode::BAD_GATEWAY);
    let (client, fake) = serve(fake).await;
    let mut session = GarminSession::new(&client, logged_in(&client).await);
    let summary = garmin::sync_activities(&mut session, t.store.as_ref(), user, 10, |_| {}).await.unwrap();
    assert_eq!((summary.new, summary.duplicates, summary.total, summary.without_laps), (4, 1, 5, 1));
    // Runs only, new ones only; the 502 was retried (3 attempts).
    assert_eq!(fake.lock().unwrap().splits_asked, [704, 703, 702, 702, 702]);

    for garmin_id in [704, 703] {
        let item = listed.iter().find(|a| a["activityId"] == json!(garmin_id)).unwrap();
        let laps = stored_laps(&t, user, garmin_id).await;
        assert_eq!(laps.len(), 2, "{garmin_id}: {laps:?}");
        let distance: f64 = laps.iter().map(|l| l["distance_m"].as_f64().unwrap()).sum();
        assert!((distance - item["distance"].as_f64().unwrap()).abs() < 0.01, "{distance}");
        let duration: f64 = laps.iter().map(|l| l["duration_s"].as_f64().unwrap()).sum();
        assert!((duration - item["duration"].as_f64().unwrap()).abs() < 0.01, "{duration}");
        assert_eq!(laps[0]["avg_hr"].as_f64(), Some(142.0));
        assert_eq!(laps[1]["avg_hr"].as_f64(), Some(143.0));
        assert_eq!(laps[0]["max_hr"].as_f64(), Some(162.0));
        assert!((laps[0]["avg_cadence"].as_f64().unwrap() - 111.73).abs() < 0.01);
        assert!(laps.iter().all(|l| l["intensity"] == "active"));
    }
    assert!(stored_laps(&t, user, 702).await.is_empty());
    assert!(stored_laps(&t, user, 800).await.is_empty());
    assert_eq!(t.store.activities(user, None).await.unwrap().len(), 5);
}

async fn a_429_on_laps_stops_the_sync_and_the_next_finishes_the_history(t: TestStore) {
    let user = runner(&t).await;
    let mut fake = Fake { activities: activities(900, 3, chrono::Utc::now()), ..Fake::default() };
    fake.splits_status.insert(902, StatusCode::TOO_MANY_REQUESTS);
    let (client, fake) = serve(fake).await;
    let sealer = TokenSealer::from_key(&[7; 32]);
    let tokens = logged_in(&client).await;
    garmin::save_tokens(t.store.as_ref(), &sealer, user, &tokens).await.unwrap();
    let mut session = GarminSession::new(&client, tokens);
    let err = garmin::sync_activities(&mut session, t.store.as_ref(), user, 10, |_| {}).await.unwrap_err();
    assert!(matches!(err, GarminError::RateLimited { retry_after_s: Some(3600) }), "{err:?}");
    // Not retried, nothing asked after it; what was stored before stays, with its laps.
    assert_eq!(fake.lock().unwrap().splits_asked, [903, 902]);
    let stored = t.store.activities(user, None).await.unwrap();
    assert_eq!(stored.iter().map(|a| a.external_id.clone().unwrap()).collect::<Vec<_>>(), ["903"]);
    assert_eq!(stored_laps(&t, user, 903).await.len(), 2);

    // The first sync never reached the end of the history: the next one walks all of it again
    // (not stopping at 903, already stored), asks laps only for the runs it lacks, and stores
    // each activity once.
    fake.lock().unwrap().splits_status.clear();
    let resumed = garmin::sync_user(&client, t.store.as_ref(), &sealer, user, |_| {}).await.unwrap();
    assert_eq!((resumed.new, resumed.duplicates, resumed.full), (2, 1, true));
    assert_eq!(fake.lock().unwrap().splits_asked, [903, 902, 902, 901]);
    let mut ids: Vec<String> =
        t.store.activities(user, None).await.unwrap().into_iter().filter_map(|a| a.external_id).collect();
    ids.sort();
    assert_eq!(ids, ["901", "902", "903"]);
    // Now the history is complete: the next sync is incremental and stops at the newest.
    let next = garmin::sync_user(&client, t.store.as_ref(), &sealer, user, |_| {}).await.unwrap();
    assert_eq!((next.new, next.total, next.full), (0, 0, false));
}

// ---------------------------------------------------------------- background sync (scheduler)

#[derive(Default)]
struct Inbox {
    sent: tokio::sync::Mutex<Vec<(ChatKey, String)>>,
}

#[async_trait::async_trait]
impl Notifier for Inbox {
    async fn send(&self, chat: &ChatKey, replies: &[Reply]) -> Result<(), NotifyError> {
        let text = replies.iter().map(|r| r.text.clone()).collect::<Vec<_>>().join("\n");
        self.sent.lock().await.push((chat.clone(), text));
        Ok(())
    }
}

fn telegram_chat(id: &str) -> ChatKey {
    ChatKey { platform: Platform::Telegram, chat_id: id.to_owned() }
}

async fn telegram_runner(t: &TestStore, id: &str) -> UserId {
    let ident = PlatformIdentity { platform: Platform::Telegram, platform_user_id: id.into() };
    t.store.resolve_identity(&ident, Some(id), Lang::En).await.unwrap().user.id
}

/// A runner connected to Garmin with `tokens` (the local Garmin honours the last ones it issued),
/// with an active plan from the Monday ten days back.
async fn connected_runner_with_plan(t: &TestStore, id: &str, tokens: &garmin::Tokens, sealer: &TokenSealer) -> UserId {
    use chrono::Datelike;
    let user = telegram_runner(t, id).await;
    garmin::save_tokens(t.store.as_ref(), sealer, user, tokens).await.unwrap();
    let today = chrono::Utc::now().date_naive();
    let start = today - chrono::Duration::days(10);
    let start = start - chrono::Duration::days(i64::from(start.weekday().num_days_from_monday()));
    let request = plan::PlanRequest {
        goal: plan::Goal::TenK,
        level: Some(plan::Level::Intermediate),
        sessions_per_week: 3,
        preferred_days: vec![chrono::Weekday::Tue, chrono::Weekday::Thu, chrono::Weekday::Sun],
        start_date: start,
        length: plan::PlanLength::Weeks(8),
        vdot: Some(45.0),
        target_time_s: None,
        history: None,
    };
    plans::save_new(t.store.as_ref(), user, &plan::generate(&request).unwrap()).await.unwrap();
    user
}

fn worker_config(client: &garmin::GarminClient, sealer: &TokenSealer) -> WorkerConfig {
    WorkerConfig {
        garmin: Some(garmin::GarminAccess { client: client.clone(), sealer: sealer.clone() }),
        ..WorkerConfig::default()
    }
}

/// The scheduler syncs a connected runner every few hours: new runs are stored, tick the plan's
/// sessions off, and come in one message in the runner's chat; a sync with nothing new is quiet.
async fn a_background_sync_ticks_the_plan_off_and_says_so_once(t: TestStore) {
    let now = chrono::Utc::now();
    let (client, fake) =
        serve(Fake { activities: activities(700, 7, now - chrono::Duration::hours(20)), ..Fake::default() }).await;
    let sealer = TokenSealer::from_key(&[5; 32]);
    let store = t.store.as_ref();
    let user = connected_runner_with_plan(&t, "501", &logged_in(&client).await, &sealer).await;
    let chat = telegram_chat("501");
    let s = scheduler::enable_garmin_sync(store, user, &chat, 3, now - chrono::Duration::hours(4)).await.unwrap();
    assert_eq!(s.kind, ScheduleKind::GarminSync);
    let next = s.next_run_at.unwrap();
    assert!(next <= now && next > now - chrono::Duration::hours(4), "due within 3 hours: {next}");

    let inbox = Inbox::default();
    let config = worker_config(&client, &sealer);
    let clock = TestClock::at(now);
    assert_eq!(scheduler::enqueue_due(store, clock.now()).await.unwrap().enqueued, 1);
    assert_eq!(scheduler::enqueue_due(store, clock.now()).await.unwrap().enqueued, 0, "once per firing");
    let r = scheduler::run_once_with(store, "w1", &inbox, &clock, &config).await.unwrap();
    assert_eq!((r.claimed, r.sent), (1, 1), "{r:?}");
    assert_eq!(store.activities(user, None).await.unwrap().len(), 7);
    let plan = plans::active(store, user).await.unwrap().unwrap().plan;
    let done = plan.workouts().filter(|w| w.status == plan::WorkoutStatus::Done).count();
    assert!(done >= 2, "a week of daily runs ticks its sessions off: {done}");
    {
        let sent = inbox.sent.lock().await;
        assert_eq!(sent.len(), 1);
        let (to, text) = &sent[0];
        assert_eq!(to, &chat);
        assert!(text.starts_with("🔄 Garmin: 7 new activities"), "{text}");
        assert_eq!(text.matches("✅ Done, ").count(), done, "{text}");
    }

    // Three hours later nothing is new: the job runs and says nothing.
    let later = TestClock::at(now + chrono::Duration::hours(3));
    assert_eq!(scheduler::enqueue_due(store, later.now()).await.unwrap().enqueued, 1);
    let lists = hits(&fake, "list");
    let r = scheduler::run_once_with(store, "w1", &inbox, &later, &config).await.unwrap();
    assert_eq!((r.claimed, r.sent, r.quiet), (1, 0, 1), "{r:?}");
    assert_eq!(hits(&fake, "list"), lists + 1);
    assert_eq!(inbox.sent.lock().await.len(), 1);
}

/// A 429 pauses every Garmin job (in the store, so every instance) until Retry-After; then the
/// sync goes through.
async fn a_429_pauses_every_garmin_job_until_retry_after(t: TestStore) {
    let now = chrono::Utc::now();
    let fake = Fake {
        activities: activities(800, 2, now - chrono::Duration::hours(5)),
        list_429s: 1,
        list_retry_after_s: 600,
        ..Fake::default()
    };
    let (client, fake) = serve(fake).await;
    let sealer = TokenSealer::from_key(&[6; 32]);
    let store = t.store.as_ref();
    let tokens = logged_in(&client).await;
    let a = connected_runner_with_plan(&t, "601", &tokens, &sealer).await;
    let b = connected_runner_with_plan(&t, "602", &tokens, &sealer).await;
    for (user, chat) in [(a, "601"), (b, "602")] {
        scheduler::enable_garmin_sync(store, user, &telegram_chat(chat), 24, now - chrono::Duration::hours(25))
            .await
            .unwrap();
    }
    let inbox = Inbox::default();
    let config = WorkerConfig { batch: 1, ..worker_config(&client, &sealer) };
    let clock = TestClock::at(now);
    assert_eq!(scheduler::enqueue_due(store, clock.now()).await.unwrap().enqueued, 2);
    // The first job meets the 429; the second does not even ask Garmin.
    let first = scheduler::run_once_with(store, "w", &inbox, &clock, &config).await.unwrap();
    assert_eq!((first.claimed, first.retried), (1, 1), "{first:?}");
    let paused = store.provider_paused_until("garmin", now).await.unwrap().expect("Garmin paused in the store");
    // (PostgreSQL keeps microseconds.)
    assert!((599..=600).contains(&(paused - now).num_seconds()), "{paused} {now}");
    let lists = hits(&fake, "list");
    let second = scheduler::run_once_with(store, "w", &inbox, &clock, &config).await.unwrap();
    assert_eq!((second.claimed, second.retried), (1, 1), "{second:?}");
    assert_eq!(hits(&fake, "list"), lists, "no Garmin call while paused");
    assert!(inbox.sent.lock().await.is_empty());
    // After Retry-After both syncs go through, once each.
    let after = TestClock::at(now + chrono::Duration::seconds(601));
    let mut sent = 0;
    for _ in 0..3 {
        sent += scheduler::run_once_with(store, "w", &inbox, &after, &config).await.unwrap().sent;
    }
    assert_eq!(sent, 2);
    assert_eq!(store.activities(a, None).await.unwrap().len(), 2);
    assert_eq!(store.activities(b, None).await.unwrap().len(), 2);
}

/// Tokens revoked on Garmin's side: the runner is told once how to reconnect, the useless tokens
/// are forgotten and the schedule pauses until they reconnect.
async fn revoked_tokens_tell_the_runner_once_and_pause_the_sync(t: TestStore) {
    let now = chrono::Utc::now();
    let (client, fake) = serve(Fake { activities: activities(900, 1, now), ..Fake::default() }).await;
    let sealer = TokenSealer::from_key(&[8; 32]);
    let store = t.store.as_ref();
    let user = connected_runner_with_plan(&t, "701", &logged_in(&client).await, &sealer).await;
    let chat = telegram_chat("701");
    scheduler::enable_garmin_sync(store, user, &chat, 1, now - chrono::Duration::hours(2)).await.unwrap();
    {
        let mut f = fake.lock().unwrap();
        f.access = "revoked".into();
        f.refresh = "revoked".into();
    }
    let inbox = Inbox::default();
    let config = worker_config(&client, &sealer);
    let clock = TestClock::at(now);
    scheduler::enqueue_due(store, clock.now()).await.unwrap();
    let r = scheduler::run_once_with(store, "w", &inbox, &clock, &config).await.unwrap();
    assert_eq!(r.sent, 1, "{r:?}");
    let text = inbox.sent.lock().await[0].1.clone();
    assert!(text.contains("/garmin") && text.contains("expired or was revoked"), "{text}");
    assert!(store.get_credential(user, garmin::PROVIDER).await.unwrap().is_none());
    let s = store.schedule(ScheduleKind::GarminSync, &chat).await.unwrap().unwrap();
    assert_eq!((s.enabled, s.paused_reason), (false, Some(PausedReason::Reconnect)));
    // Hours later: nothing more is queued or said.
    let later = TestClock::at(now + chrono::Duration::hours(5));
    assert_eq!(scheduler::enqueue_due(store, later.now()).await.unwrap().enqueued, 0);
    assert_eq!(inbox.sent.lock().await.len(), 1);
    // Reconnecting turns it on again.
    let s = scheduler::enable_garmin_sync(store, user, &chat, 1, later.now()).await.unwrap();
    assert!(s.enabled && s.paused_reason.is_none());
}

/// Two instances' workers draining at once (on PostgreSQL, two pools): the due sync runs once,
/// Garmin is listed once, the runner gets one message and every run is stored once.
async fn two_workers_sync_a_runner_once(t: TestStore) {
    let now = chrono::Utc::now();
    let (client, fake) =
        serve(Fake { activities: activities(800, 7, now - chrono::Duration::hours(20)), ..Fake::default() }).await;
    let sealer = TokenSealer::from_key(&[6; 32]);
    let store = t.store.as_ref();
    let user = connected_runner_with_plan(&t, "601", &logged_in(&client).await, &sealer).await;
    let chat = telegram_chat("601");
    scheduler::enable_garmin_sync(store, user, &chat, 3, now - chrono::Duration::hours(4)).await.unwrap();
    // The same runner linked from Discord has a second schedule: still one sync per firing.
    let dm = ChatKey { platform: Platform::Discord, chat_id: "dm:601".into() };
    scheduler::enable_garmin_sync(store, user, &dm, 3, now - chrono::Duration::hours(4)).await.unwrap();
    // The second instance has its own connection pool to the same database.
    let other = t.second_instance().await;
    assert_eq!(scheduler::enqueue_due(store, now).await.unwrap().enqueued, 1);
    assert_eq!(scheduler::enqueue_due(other.as_ref(), now).await.unwrap().enqueued, 0, "one job per firing");

    let inbox = Inbox::default();
    let config = worker_config(&client, &sealer);
    let clock = TestClock::at(now);
    let lists = hits(&fake, "list");
    let (a, b) = tokio::join!(
        scheduler::run_once_with(store, "instance-a", &inbox, &clock, &config),
        scheduler::run_once_with(other.as_ref(), "instance-b", &inbox, &clock, &config),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.claimed + b.claimed, 1, "{a:?} {b:?}");
    assert_eq!(a.sent + b.sent, 1);
    assert_eq!(hits(&fake, "list") - lists, 1, "Garmin listed once");
    assert_eq!(inbox.sent.lock().await.len(), 1);
    assert_eq!(store.activities(user, None).await.unwrap().len(), 7);
}

on_both_stores!(
    two_workers_sync_a_runner_once,
    a_background_sync_ticks_the_plan_off_and_says_so_once,
    a_429_pauses_every_garmin_job_until_retry_after,
    revoked_tokens_tell_the_runner_once_and_pause_the_sync,
    credentials_are_sealed_in_the_store,
    sync_is_full_then_incremental,
    sync_stores_the_laps_of_new_runs,
    a_429_on_laps_stops_the_sync_and_the_next_finishes_the_history,
);
