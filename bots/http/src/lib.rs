//! runcoach's HTTP surface (axum): `/healthz`, `/readyz` (database and adapters), `/metrics`
//! (Prometheus), `/openapi.json`, and a small JSON API behind API keys (`POST /v1/chat`,
//! `POST /v1/plans`, `GET /v1/users/{user}/stats`). The binary merges the Telegram webhook's
//! router in when webhooks are on. The API is one more adapter over the core: `/v1/chat` is a
//! chat on `Platform::Api`.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use chrono::{NaiveDate, Utc};
use runcoach_core::api_keys::{self, Caller, ConfiguredKey};
use runcoach_core::chat::{BotCore, ChatRef, Content, Incoming, Sender};
use runcoach_core::domain::Platform;
use runcoach_core::error::ErrorCode;
use runcoach_core::i18n::Lang;
use runcoach_core::limits::{self, Verdict};
use runcoach_core::metrics::METRICS;
use runcoach_core::plan::{self, Goal, Level, PlanLength, PlanRequest};
use serde::Deserialize;
use serde_json::{Value, json};

/// The OpenAPI description of everything served here.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Which adapters are up, for `/readyz`.
#[derive(Debug, Default)]
pub struct Readiness {
    adapters: RwLock<BTreeMap<String, bool>>,
}

impl Readiness {
    pub fn set(&self, adapter: &str, up: bool) {
        if let Ok(mut a) = self.adapters.write() {
            a.insert(adapter.to_owned(), up);
        }
    }

    fn snapshot(&self) -> BTreeMap<String, bool> {
        self.adapters.read().map(|a| a.clone()).unwrap_or_default()
    }
}

#[derive(Clone)]
pub struct AppState {
    pub core: Arc<BotCore>,
    /// `RUNCOACH_API_KEYS` (keys made with `runcoach api-key create` are in the store).
    pub api_keys: Arc<Vec<ConfiguredKey>>,
    pub readiness: Arc<Readiness>,
}

impl AppState {
    #[must_use]
    pub fn new(core: Arc<BotCore>, api_keys: Vec<ConfiguredKey>) -> Self {
        AppState { core, api_keys: Arc::new(api_keys), readiness: Arc::new(Readiness::default()) }
    }
}

/// API keys from a comma-separated list of `name:secret` (`RUNCOACH_API_KEYS`).
#[must_use]
pub fn parse_api_keys(raw: &str) -> Vec<ConfiguredKey> {
    api_keys::parse_configured(raw)
}

/// Everything on one listener (development, tests): [`public_router`] and the operations routes.
pub fn router(state: AppState) -> Router {
    public_router(state.clone()).merge(operations_only(state))
}

/// What the world may reach: `/healthz`, `/openapi.json` and the JSON API (and the Telegram
/// webhook, merged in by the binary).
pub fn public_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/openapi.json", get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }))
        .route("/v1/chat", post(chat))
        .route("/v1/plans", post(plans))
        .route("/v1/users/{user}/stats", get(stats))
        .with_state(state)
}

/// The operations listener (`RUNCOACH_OPS_ADDR`): `/metrics` and `/readyz` both query the
/// database, so they stay off the public address; `/healthz` too, for probes.
pub fn operations_router(state: AppState) -> Router {
    operations_only(state).route("/healthz", get(|| async { "ok" }))
}

fn operations_only(state: AppState) -> Router {
    Router::new().route("/readyz", get(readyz)).route("/metrics", get(metrics)).with_state(state)
}

/// Serves until `shutdown` completes; requests in flight are finished first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

async fn readyz(State(state): State<AppState>) -> Response {
    let (backend, database) = state.core.database_health().await;
    let adapters = state.readiness.snapshot();
    let ready = database.is_ok() && adapters.values().all(|up| *up);
    let body = json!({
        "ready": ready,
        "database": { "backend": backend, "ok": database.is_ok() },
        "adapters": adapters,
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(depth) = state.core.queue_depth().await {
        METRICS.queue_depth.set(depth);
    }
    let (_, database) = state.core.database_health().await;
    METRICS.database_up.set(i64::from(database.is_ok()));
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], METRICS.encode())
        .into_response()
}

/// A JSON error: the core's stable code, its message in `lang` (with what went wrong, when
/// there is more to say), and the request field at fault.
fn error(status: StatusCode, code: ErrorCode, lang: Lang, field: Option<&str>, detail: Option<&str>) -> Response {
    let message = match detail {
        Some(d) => format!("{} {d}", code.message(lang)),
        None => code.message(lang).to_owned(),
    };
    let mut body = json!({ "code": code, "message": message });
    if let (Some(field), Some(obj)) = (field, body.as_object_mut()) {
        obj.insert("field".into(), json!(field));
    }
    (status, Json(json!({ "error": body }))).into_response()
}

/// The language of a request's errors: `Accept-Language`'s first tag, else English.
fn request_lang(headers: &HeaderMap) -> Lang {
    let tag =
        headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(|v| v.split([',', ';']).next());
    Lang::from_platform_code(tag.map(str::trim))
}

/// A request body that is missing or not the expected JSON.
fn bad_body(lang: Lang, expected: &str) -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidArgument, lang, Some("body"), Some(expected))
}

/// Checks `Authorization: Bearer KEY` or `X-Api-Key: KEY` against the configured and stored keys,
/// then the key's calls per minute (shared by every instance): the key, or the answer to give.
async fn authorised(state: &AppState, headers: &HeaderMap) -> Result<Caller, Box<Response>> {
    let lang = request_lang(headers);
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|g| !g.is_empty());
    let caller = match given {
        Some(g) => match state.core.api_caller(&state.api_keys, g).await {
            Ok(c) => c,
            Err(e) => return Err(Box::new(error(StatusCode::SERVICE_UNAVAILABLE, e.code(), lang, None, None))),
        },
        None => None,
    };
    let Some(caller) = caller else {
        return Err(Box::new(error(StatusCode::UNAUTHORIZED, ErrorCode::ApiKeyRequired, lang, None, None)));
    };
    let now = Utc::now();
    match state.core.admit_api_call(&caller, now).await {
        Ok(Verdict::Allowed) => Ok(caller),
        Ok(Verdict::Denied { retry_at }) => {
            let wait = (retry_at - now).num_seconds().max(1);
            let mut denied = error(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                lang,
                None,
                Some(&limits::retry_in(lang, retry_at, now)),
            );
            if let Ok(v) = header::HeaderValue::from_str(&wait.to_string()) {
                denied.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Err(Box::new(denied))
        }
        Err(e) => Err(Box::new(error(StatusCode::SERVICE_UNAVAILABLE, e.code(), lang, None, None))),
    }
}

#[derive(Debug, Deserialize)]
struct ChatRequest {
    /// The API's own name for the runner (`Platform::Api`).
    user: String,
    text: String,
    #[serde(default)]
    lang: Option<String>,
}

async fn chat(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Response {
    let caller = match authorised(&state, &headers).await {
        Ok(c) => c,
        Err(denied) => return *denied,
    };
    let Ok(Json(req)) = body else {
        return bad_body(request_lang(&headers), "{\"user\": \"…\", \"text\": \"…\"}");
    };
    let lang = req.lang.as_deref().and_then(|l| l.parse::<Lang>().ok()).unwrap_or_else(|| request_lang(&headers));
    let user = req.user.trim();
    let Some(identity) = caller.runner(user) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidArgument,
            lang,
            Some("user"),
            Some(
                lang.pick("(1 à 128 caractères imprimables, sans « : »)", "(1 to 128 printable characters, no \":\")"),
            ),
        );
    };
    let msg = Incoming {
        sender: Sender {
            platform: Platform::Api,
            user_id: identity.platform_user_id.clone(),
            username: Some(user.to_owned()),
            language_code: req.lang.clone(),
        },
        chat: ChatRef::new(format!("api:{}", identity.platform_user_id), true),
        content: Content::Text(req.text),
    };
    let replies = state.core.handle(msg).await;
    let replies: Vec<Value> = replies
        .iter()
        .map(|r| {
            json!({
                "text": r.text,
                "buttons": r.buttons.iter().map(|row| row.iter().map(|b| json!({ "label": b.label, "data": b.data })).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "attachment": r.attachment.as_ref().map(|a| json!({
                    "name": a.name,
                    "mime": a.mime,
                    "data_base64": base64::engine::general_purpose::STANDARD.encode(&a.data),
                })),
            })
        })
        .collect();
    Json(json!({ "replies": replies })).into_response()
}

#[derive(Debug, Deserialize)]
struct PlanBody {
    goal: String,
    sessions_per_week: u8,
    #[serde(default)]
    weeks: Option<u16>,
    #[serde(default)]
    race_date: Option<NaiveDate>,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    start_date: Option<NaiveDate>,
    #[serde(default)]
    vdot: Option<f64>,
    /// Race goals: the target time in seconds.
    #[serde(default)]
    target_time_s: Option<f64>,
    #[serde(default)]
    lang: Option<String>,
}

async fn plans(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<PlanBody>, JsonRejection>,
) -> Response {
    if let Err(denied) = authorised(&state, &headers).await {
        return *denied;
    }
    let Ok(Json(b)) = body else {
        return bad_body(request_lang(&headers), "{\"goal\", \"sessions_per_week\", …}");
    };
    let lang = b.lang.as_deref().and_then(|l| l.parse::<Lang>().ok()).unwrap_or_else(|| request_lang(&headers));
    let invalid = |field: &str, expected: &str| {
        error(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidArgument, lang, Some(field), Some(expected))
    };
    let Ok(goal) = b.goal.parse::<Goal>() else {
        return invalid("goal", "(5k, 10k, half, marathon, fitness, endurance, speed)");
    };
    let level = match b.level.as_deref().map(str::parse::<Level>) {
        None => None,
        Some(Ok(l)) => Some(l),
        Some(Err(_)) => return invalid("level", "(beginner, intermediate, advanced)"),
    };
    let length = match (b.race_date, b.weeks) {
        (Some(d), _) => PlanLength::RaceDate(d),
        (None, Some(w)) => PlanLength::Weeks(w),
        (None, None) => {
            let detail = lang.pick("(weeks ou race_date)", "(weeks or race_date)");
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::MissingArgument,
                lang,
                Some("weeks"),
                Some(detail),
            );
        }
    };
    let request = PlanRequest {
        goal,
        level,
        sessions_per_week: b.sessions_per_week,
        preferred_days: Vec::new(),
        start_date: b.start_date.unwrap_or_else(|| Utc::now().date_naive()),
        length,
        vdot: b.vdot,
        target_time_s: b.target_time_s,
        history: None,
    };
    match plan::generate(&request) {
        Ok(p) => (StatusCode::CREATED, Json(plan::to_json(&p, lang))).into_response(),
        Err(e) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::PlanRefused, lang, None, Some(e.explain().get(lang)))
        }
    }
}

#[derive(Debug, Deserialize)]
struct StatsQuery {
    #[serde(default)]
    days: Option<u32>,
}

async fn stats(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(user): Path<String>,
    query: Result<Query<StatsQuery>, QueryRejection>,
) -> Response {
    let caller = match authorised(&state, &headers).await {
        Ok(c) => c,
        Err(denied) => return *denied,
    };
    let lang = request_lang(&headers);
    // Our error shape, not the framework's plain-text rejection.
    let Ok(Query(q)) = query else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidArgument,
            lang,
            Some("days"),
            Some("(1 or more)"),
        );
    };
    // `alice`, `api:alice` or `api:<key>:alice`: this key's runners only. Anyone else (another
    // key's, a Telegram or Discord runner) gets the same answer as nobody at all.
    let name = user.strip_prefix("api:").unwrap_or(&user);
    let prefix = format!("{}:", caller.name.as_str());
    let name = if caller.unnamed { name } else { name.strip_prefix(&prefix).unwrap_or(name) };
    let Some(identity) = caller.runner(name) else {
        return error(StatusCode::NOT_FOUND, ErrorCode::UserNotFound, lang, Some("user"), None);
    };
    match state.core.stats_of(&identity, q.days).await {
        Ok(Some(stats)) => Json(stats).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, ErrorCode::UserNotFound, lang, Some("user"), None),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.code(), lang, None, None),
    }
}
