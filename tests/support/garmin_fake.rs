//! A local Garmin Connect: an axum server that replays the recorded Garmin bodies from
//! ../shared/fixtures/garmin-api (with real JWTs whose `exp` each test chooses) and fails on demand.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use runcoach_core::garmin::{GarminClient, GarminEndpoints, LoginStep, RetryPolicy, Tokens};
use secrecy::SecretString;
use serde_json::{Value, json};

/// `shared/fixtures/garmin-api` beside the checkout, found from whichever crate includes this file.
pub fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared/fixtures/garmin-api"))
        .find(|dir| dir.is_dir())
        .expect("shared/fixtures/garmin-api beside the checkout")
}
pub const EMAIL: &str = "runner@example.com";
pub const PASSWORD: &str = "S3cret-P4ss!w0rd";
pub const MFA_CODE: &str = "123456";
pub const SESSION_COOKIE: &str = "SESSION=sso-session-42";

pub fn body(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["body"].clone()
}

#[derive(Default)]
pub struct Fake {
    pub mfa: bool,
    pub login_status: Option<StatusCode>,
    pub reject_first_client: bool,
    pub access_ttl_s: i64,
    pub profile_401s: usize,
    pub list_500s: usize,
    /// The next list calls answer 429 with `Retry-After: list_retry_after_s`.
    pub list_429s: usize,
    pub list_retry_after_s: u64,
    /// When each list call arrived.
    pub list_times: Vec<std::time::Instant>,
    pub activities: Vec<Value>,
    /// Answers of the splits endpoint by activity id, instead of the laps (a 429 carries Retry-After).
    pub splits_status: HashMap<u64, StatusCode>,
    /// Activity ids whose splits were asked for, in order.
    pub splits_asked: Vec<u64>,
    /// How long each splits answer takes (a slow Garmin, to interrupt a sync midway).
    pub splits_delay: Duration,
    /// Where the server listens (set by [`serve`]).
    pub base: String,
    pub issued: usize,
    pub access: String,
    pub refresh: String,
    pub hits: HashMap<&'static str, usize>,
    pub client_ids: Vec<String>,
    /// The workout service: workouts by id, calendar entries (schedule id, workout id, date).
    pub workouts: HashMap<u64, Value>,
    pub calendar: Vec<(u64, u64, String)>,
    pub next_id: u64,
    /// A workout whose name contains this is refused (400 with a message).
    pub refuse_named: Option<String>,
    /// The next workout calls answer 429.
    pub workout_429s: usize,
    /// Scheduling answers 400 (a workout created but not scheduled).
    pub refuse_schedule: bool,
}

pub type Shared = Arc<Mutex<Fake>>;

pub fn hit(s: &Shared, what: &'static str) {
    *s.lock().unwrap().hits.entry(what).or_default() += 1;
}

pub fn hits(s: &Shared, what: &str) -> usize {
    s.lock().unwrap().hits.get(what).copied().unwrap_or(0)
}

pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

pub fn issue(f: &mut Fake) -> Value {
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

pub fn authorized(f: &Fake, headers: &HeaderMap) -> bool {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {}", f.access))
}

pub async fn login(State(s): State<Shared>, Json(req): Json<Value>) -> Response {
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

pub async fn verify(State(s): State<Shared>, headers: HeaderMap, Json(req): Json<Value>) -> Response {
    hit(&s, "verify");
    let cookie_ok = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()) == Some(SESSION_COOKIE);
    if !cookie_ok || req["mfaVerificationCode"] != MFA_CODE || req["mfaMethod"] != "email" {
        return Json(json!({ "responseStatus": { "type": "INVALID_MFA_CODE" } })).into_response();
    }
    Json(body("test_login_success_mfa__2.json")).into_response()
}

pub async fn token(State(s): State<Shared>, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
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

pub async fn profile(State(s): State<Shared>, headers: HeaderMap) -> Response {
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

pub async fn list(State(s): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, usize>>) -> Response {
    let mut f = s.lock().unwrap();
    *f.hits.entry("list").or_default() += 1;
    f.list_times.push(std::time::Instant::now());
    if f.list_429s > 0 {
        f.list_429s -= 1;
        let wait = f.list_retry_after_s.to_string();
        return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, wait)], "").into_response();
    }
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

pub async fn count(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let f = s.lock().unwrap();
    if !authorized(&f, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(json!({ "totalCount": f.activities.len() })).into_response()
}

/// `GET /activity-service/activity/{id}/splits`. No recording of this endpoint exists: the body
/// follows the documented `lapDTOs` shape (shared/docs/garmin-connect.md), `lapCount` equal laps
/// cut from the listed activity's totals.
pub async fn splits(State(s): State<Shared>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let delay = s.lock().unwrap().splits_delay;
    tokio::time::sleep(delay).await;
    let mut f = s.lock().unwrap();
    *f.hits.entry("splits").or_default() += 1;
    if !authorized(&f, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    f.splits_asked.push(id);
    if let Some(status) = f.splits_status.get(&id) {
        return (*status, [(header::RETRY_AFTER, "3600")], "").into_response();
    }
    match f.activities.iter().find(|a| a["activityId"] == json!(id)) {
        Some(a) => Json(laps_of(a)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The splits body for a listed activity.
pub fn laps_of(a: &Value) -> Value {
    let n = a["lapCount"].as_u64().unwrap_or(1).max(1);
    let start =
        chrono::NaiveDateTime::parse_from_str(a["startTimeGMT"].as_str().unwrap(), "%Y-%m-%d %H:%M:%S").unwrap();
    let duration = a["duration"].as_f64().unwrap() / n as f64;
    let distance = a["distance"].as_f64().unwrap() / n as f64;
    let laps: Vec<Value> = (0..n)
        .map(|i| {
            let lap_start = start + chrono::Duration::milliseconds((duration * 1000.0 * i as f64) as i64);
            json!({
                "lapIndex": i + 1,
                "startTimeGMT": lap_start.format("%Y-%m-%dT%H:%M:%S.0").to_string(),
                "distance": distance,
                "duration": duration,
                "movingDuration": duration,
                "averageSpeed": distance / duration,
                "averageHR": a["averageHR"].as_f64().unwrap() + i as f64,
                "maxHR": a["maxHR"],
                "averageRunCadence": a["averageRunningCadenceInStepsPerMinute"],
                "intensityType": "ACTIVE",
            })
        })
        .collect();
    json!({ "activityId": a["activityId"], "lapDTOs": laps })
}

/// What Garmin's workout service checks, as the clients report it (docs/garmin-workouts.md):
/// a running workout, steps numbered, repeat groups whose iterations agree.
fn malformed(w: &Value) -> Option<String> {
    if w["sportType"]["sportTypeKey"] != "running" || w["workoutName"].as_str().is_none_or(str::is_empty) {
        return Some("not a named running workout".into());
    }
    fn steps(v: &Value) -> Option<String> {
        for s in v.as_array()? {
            s["stepOrder"].as_u64()?;
            match s["type"].as_str() {
                Some("ExecutableStepDTO") => {
                    s["endCondition"]["conditionTypeId"].as_u64()?;
                    s["targetType"]["workoutTargetTypeId"].as_u64()?;
                }
                Some("RepeatGroupDTO") => {
                    if s["endCondition"]["conditionTypeId"] != 7
                        || s["numberOfIterations"].as_f64() != s["endConditionValue"].as_f64()
                    {
                        return Some("repeat group without its iterations".into());
                    }
                    if let Some(e) = steps(&s["workoutSteps"]) {
                        return Some(e);
                    }
                }
                _ => return Some("unknown step type".into()),
            }
        }
        None
    }
    steps(&w["workoutSegments"][0]["workoutSteps"])
        .or_else(|| w["workoutSegments"][0]["workoutSteps"].as_array().is_none().then(|| "no steps".to_owned()))
}

fn workout_gate(f: &mut Fake, headers: &HeaderMap) -> Option<Response> {
    if !authorized(f, headers) {
        return Some(StatusCode::UNAUTHORIZED.into_response());
    }
    if f.workout_429s > 0 {
        f.workout_429s -= 1;
        return Some((StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "120")], "").into_response());
    }
    None
}

pub async fn create_workout(State(s): State<Shared>, headers: HeaderMap, Json(w): Json<Value>) -> Response {
    hit(&s, "workout_create");
    let mut f = s.lock().unwrap();
    if let Some(r) = workout_gate(&mut f, &headers) {
        return r;
    }
    if let Some(why) = malformed(&w) {
        return (StatusCode::BAD_REQUEST, Json(json!({ "message": why }))).into_response();
    }
    let name = w["workoutName"].as_str().unwrap_or_default().to_owned();
    if f.refuse_named.as_deref().is_some_and(|n| name.contains(n)) {
        return (StatusCode::BAD_REQUEST, Json(json!({ "message": "Invalid workout step target" }))).into_response();
    }
    f.next_id += 1;
    let id = 900_000_000 + f.next_id;
    let mut stored = w.clone();
    stored["workoutId"] = json!(id);
    stored["ownerId"] = json!(4242);
    stored["createdDate"] = json!("2026-12-05T08:00:00.0");
    f.workouts.insert(id, stored.clone());
    Json(stored).into_response()
}

pub async fn update_workout(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Json(w): Json<Value>,
) -> Response {
    hit(&s, "workout_update");
    let mut f = s.lock().unwrap();
    if let Some(r) = workout_gate(&mut f, &headers) {
        return r;
    }
    if !f.workouts.contains_key(&id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    if w["workoutId"].as_u64() != Some(id) {
        return (StatusCode::BAD_REQUEST, Json(json!({ "message": "workoutId does not match" }))).into_response();
    }
    if let Some(why) = malformed(&w) {
        return (StatusCode::BAD_REQUEST, Json(json!({ "message": why }))).into_response();
    }
    f.workouts.insert(id, w);
    StatusCode::NO_CONTENT.into_response()
}

pub async fn delete_workout(State(s): State<Shared>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    hit(&s, "workout_delete");
    let mut f = s.lock().unwrap();
    if let Some(r) = workout_gate(&mut f, &headers) {
        return r;
    }
    if f.workouts.remove(&id).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    f.calendar.retain(|(_, w, _)| *w != id);
    StatusCode::NO_CONTENT.into_response()
}

pub async fn schedule_workout(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Json(req): Json<Value>,
) -> Response {
    hit(&s, "workout_schedule");
    let mut f = s.lock().unwrap();
    if let Some(r) = workout_gate(&mut f, &headers) {
        return r;
    }
    if f.refuse_schedule {
        return (StatusCode::BAD_REQUEST, Json(json!({ "message": "Invalid date" }))).into_response();
    }
    let Some(workout) = f.workouts.get(&id).cloned() else { return StatusCode::NOT_FOUND.into_response() };
    let Some(date) = req["date"].as_str().filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()) else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "message": "date required" }))).into_response();
    };
    f.next_id += 1;
    let schedule_id = 1_790_000_000 + f.next_id;
    f.calendar.push((schedule_id, id, date.to_owned()));
    Json(json!({ "workoutScheduleId": schedule_id, "workout": workout })).into_response()
}

/// The workouts on the calendar: (date, name), sorted.
pub fn calendar(s: &Shared) -> Vec<(String, String)> {
    let f = s.lock().unwrap();
    let mut out: Vec<(String, String)> = f
        .calendar
        .iter()
        .map(|(_, w, d)| (d.clone(), f.workouts[w]["workoutName"].as_str().unwrap_or_default().to_owned()))
        .collect();
    out.sort();
    out
}

pub async fn serve(fake: Fake) -> (GarminClient, Shared) {
    let shared: Shared = Arc::new(Mutex::new(Fake { access_ttl_s: 26 * 3600, ..fake }));
    let app = Router::new()
        .route("/mobile/api/login", post(login))
        .route("/mobile/api/mfa/verifyCode", post(verify))
        .route("/di-oauth2-service/oauth/token", post(token))
        .route("/userprofile-service/socialProfile", get(profile))
        .route("/activitylist-service/activities/search/activities", get(list))
        .route("/activitylist-service/activities/count", get(count))
        .route("/activity-service/activity/{id}/splits", get(splits))
        .route("/workout-service/workout", post(create_workout))
        .route("/workout-service/workout/{id}", axum::routing::put(update_workout).delete(delete_workout))
        .route("/workout-service/schedule/{id}", post(schedule_workout))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    shared.lock().unwrap().base = base.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let retry = RetryPolicy { attempts: 3, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(20) };
    (GarminClient::with_retry(GarminEndpoints::all_at(&base), retry).unwrap(), shared)
}

pub fn password() -> SecretString {
    SecretString::from(PASSWORD.to_owned())
}

pub async fn logged_in(client: &GarminClient) -> Tokens {
    match client.login(EMAIL, &password()).await.unwrap() {
        LoginStep::Done(tokens) => tokens,
        other => panic!("expected tokens, got {other:?}"),
    }
}

/// `n` activities, newest first, shaped like the recorded list's first item.
pub fn activities(first_id: u64, n: usize, newest: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
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
