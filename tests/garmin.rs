//! The Garmin client at the wire: a local axum server replays the recorded Garmin bodies from
//! ../shared/fixtures/garmin-api (with real JWTs whose `exp` each test chooses) and fails on demand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use runcoach_core::domain::{Platform, PlatformIdentity, UserId};
use runcoach_core::garmin::{
    self, GarminClient, GarminEndpoints, GarminError, GarminSession, LoginStep, RetryPolicy, SyncProgress, TokenSealer,
    Tokens,
};
use runcoach_core::i18n::Lang;
use secrecy::SecretString;
use serde_json::{Value, json};
use support::TestStore;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/garmin-api");
const EMAIL: &str = "runner@example.com";
const PASSWORD: &str = "S3cret-P4ss!w0rd";
const MFA_CODE: &str = "123456";
const SESSION_COOKIE: &str = "SESSION=sso-session-42";

fn body(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["body"].clone()
}

#[derive(Default)]
struct Fake {
    mfa: bool,
    login_status: Option<StatusCode>,
    reject_first_client: bool,
    access_ttl_s: i64,
    profile_401s: usize,
    list_500s: usize,
    activities: Vec<Value>,
    issued: usize,
    access: String,
    refresh: String,
    hits: HashMap<&'static str, usize>,
    client_ids: Vec<String>,
}

type Shared = Arc<Mutex<Fake>>;

fn hit(s: &Shared, what: &'static str) {
    *s.lock().unwrap().hits.entry(what).or_default() += 1;
}

fn hits(s: &Shared, what: &str) -> usize {
    s.lock().unwrap().hits.get(what).copied().unwrap_or(0)
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn issue(f: &mut Fake) -> Value {
    f.issued += 1;
    let exp = chrono::Utc::now().timestamp() + f.access_ttl_s;
    f.access = format!("{}.{}.sig{}", b64(r#"{"alg":"RS256"}"#), b64(&format!(r#"{{"exp":{exp}}}"#)), f.issued);
    f.refresh = format!("refresh-{}", f.issued);
    let mut token = body("test_login_success__5.json");
    token["access_token"] = json!(f.access);
    token["refresh_token"] = json!(f.refresh);
    token["expires_in"] = json!(f.access_ttl_s);
    token
}

fn authorized(f: &Fake, headers: &HeaderMap) -> bool {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {}", f.access))
}

async fn login(State(s): State<Shared>, Json(req): Json<Value>) -> Response {
    hit(&s, "login");
    let f = s.lock().unwrap();
    if let Some(status) = f.login_status {
        return (status, [(header::RETRY_AFTER, "3600")], "").into_response();
    }
    if req["username"] != EMAIL || req["password"] != PASSWORD {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if f.mfa {
        let cookie = format!("{SESSION_COOKIE}; Path=/; Secure; HttpOnly");
        return ([(header::SET_COOKIE, cookie)], Json(body("test_login_success_mfa__1.json"))).into_response();
    }
    Json(body("test_login_success__1.json")).into_response()
}

async fn verify(State(s): State<Shared>, headers: HeaderMap, Json(req): Json<Value>) -> Response {
    hit(&s, "verify");
    let cookie_ok = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()) == Some(SESSION_COOKIE);
    if !cookie_ok || req["mfaVerificationCode"] != MFA_CODE || req["mfaMethod"] != "email" {
        return Json(json!({ "responseStatus": { "type": "INVALID_MFA_CODE" } })).into_response();
    }
    Json(body("test_login_success_mfa__2.json")).into_response()
}

async fn token(State(s): State<Shared>, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    let mut f = s.lock().unwrap();
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:"));
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(&format!("Basic {basic}")) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    f.client_ids.push(client_id.clone());
    match form.get("grant_type").map(String::as_str) {
        Some("refresh_token") => {
            *f.hits.entry("refresh").or_default() += 1;
            if form.get("refresh_token") != Some(&f.refresh) {
                return StatusCode::UNAUTHORIZED.into_response();
            }
        }
        Some(grant) if grant.ends_with("/service_ticket") => {
            *f.hits.entry("exchange").or_default() += 1;
            if f.reject_first_client && client_id.ends_with("_2025Q2") {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            if !form.get("service_ticket").is_some_and(|t| t.starts_with("ST-")) {
                return StatusCode::BAD_REQUEST.into_response();
            }
        }
        _ => return StatusCode::BAD_REQUEST.into_response(),
    }
    Json(issue(&mut f)).into_response()
}

async fn profile(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let mut f = s.lock().unwrap();
    *f.hits.entry("profile").or_default() += 1;
    if f.profile_401s > 0 {
        f.profile_401s -= 1;
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if !authorized(&f, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(body("test_user_profile__0.json")).into_response()
}

async fn list(State(s): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, usize>>) -> Response {
    let mut f = s.lock().unwrap();
    *f.hits.entry("list").or_default() += 1;
    if f.list_500s > 0 {
        f.list_500s -= 1;
        return StatusCode::BAD_GATEWAY.into_response();
    }
    if !authorized(&f, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let start = q.get("start").copied().unwrap_or(0);
    let limit = q.get("limit").copied().unwrap_or(20);
    let page: Vec<Value> = f.activities.iter().skip(start).take(limit).cloned().collect();
    Json(page).into_response()
}

async fn count(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let f = s.lock().unwrap();
    if !authorized(&f, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(json!({ "totalCount": f.activities.len() })).into_response()
}

async fn serve(fake: Fake) -> (GarminClient, Shared) {
    let shared: Shared = Arc::new(Mutex::new(Fake { access_ttl_s: 26 * 3600, ..fake }));
    let app = Router::new()
        .route("/mobile/api/login", post(login))
        .route("/mobile/api/mfa/verifyCode", post(verify))
        .route("/di-oauth2-service/oauth/token", post(token))
        .route("/userprofile-service/socialProfile", get(profile))
        .route("/activitylist-service/activities/search/activities", get(list))
        .route("/activitylist-service/activities/count", get(count))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let retry = RetryPolicy { attempts: 3, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(20) };
    (GarminClient::with_retry(GarminEndpoints::all_at(&base), retry).unwrap(), shared)
}

fn password() -> SecretString {
    SecretString::from(PASSWORD.to_owned())
}

async fn logged_in(client: &GarminClient) -> Tokens {
    match client.login(EMAIL, &password()).await.unwrap() {
        LoginStep::Done(tokens) => tokens,
        other => panic!("expected tokens, got {other:?}"),
    }
}

/// `n` activities, newest first, shaped like the recorded list's first item.
fn activities(first_id: u64, n: usize, newest: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    let template = body("test_activity_list__0.json")[0].clone();
    (0..n)
        .map(|i| {
            let mut a = template.clone();
            let start = newest - chrono::Duration::days(i as i64);
            a["activityId"] = json!(first_id + (n - i) as u64);
            a["startTimeGMT"] = json!(start.format("%Y-%m-%d %H:%M:%S").to_string());
            a["startTimeLocal"] = json!((start - chrono::Duration::hours(6)).format("%Y-%m-%d %H:%M:%S").to_string());
            a["beginTimestamp"] = json!(start.timestamp_millis());
            a
        })
        .collect()
}

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
        assert!(matches!(TokenSealer::from_env(), Err(GarminError::SecretKeyMissing)));
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
    assert!(stored.iter().all(|a| a.source == "garmin" && a.sport == "trail"));

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

on_both_stores!(credentials_are_sealed_in_the_store, sync_is_full_then_incremental);
