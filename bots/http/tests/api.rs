//! The HTTP surface over real HTTP: the app spawned on a random port with a fresh SQLite store
//! (zero2prod's spawn_app), every JSON answer checked against our own OpenAPI document.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::Arc;

use runcoach_core::chat::BotCore;
use runcoach_core::store::SqliteStore;
use runcoach_http::{AppState, OPENAPI, parse_api_keys, router};
use serde_json::{Value, json};

const KEY: &str = "test-key-4f9c";

struct App {
    url: String,
    http: reqwest::Client,
    state: AppState,
    _dir: tempfile::TempDir,
}

async fn spawn_app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap());
    let core = Arc::new(BotCore::new(store));
    let state = AppState::new(core, parse_api_keys(&format!(" {KEY} , other-key ")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = router(state.clone());
    tokio::spawn(runcoach_http::serve(listener, app, std::future::pending()));
    App { url, http: reqwest::Client::new(), state, _dir: dir }
}

impl App {
    async fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(format!("{}{path}", self.url));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn post(&self, path: &str, key: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self.http.post(format!("{}{path}", self.url)).json(&body);
        if let Some(k) = key {
            req = req.header("x-api-key", k);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    }
}

fn spec() -> Value {
    serde_json::from_str(OPENAPI).unwrap()
}

/// Resolves `$ref`s within the document.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => schema,
    }
}

/// What is wrong with `body` as the document's answer to `method path` with `status`: the
/// response must be documented, and its JSON must validate (JSON Schema 2020-12, the dialect of
/// OpenAPI 3.1) against the documented schema, `$ref`s into the document's components resolved.
fn violations(path: &str, method: &str, status: u16, body: &Value) -> Vec<String> {
    let doc = spec();
    let op = &doc["paths"][path][method];
    if !op.is_object() {
        return vec![format!("{method} {path} is not documented")];
    }
    let response = resolve(&doc, &op["responses"][status.to_string()]);
    if !response.is_object() {
        return vec![format!("{method} {path} {status} is not documented")];
    }
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        return Vec::new();
    };
    let mut root =
        json!({ "$schema": "https://json-schema.org/draft/2020-12/schema", "components": doc["components"] });
    for (k, v) in schema.as_object().unwrap() {
        root[k] = v.clone();
    }
    let validator = jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{method} {path} {status}: {e}"));
    validator.iter_errors(body).map(|e| format!("{method} {path} {status} at {}: {e}", e.instance_path())).collect()
}

/// Checks a response against the document's schema for that path, method and status.
fn conforms(path: &str, method: &str, status: u16, body: &Value) {
    let found = violations(path, method, status, body);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_schema_check_finds_what_the_document_forbids() {
    let ok = json!({ "error": { "code": "plan_refused", "message": "…" } });
    assert!(violations("/v1/plans", "post", 422, &ok).is_empty());
    // A code the document does not list, a missing message, a wrong type, an undocumented status.
    let unknown_code = json!({ "error": { "code": "bad_goal", "message": "…" } });
    assert_eq!(violations("/v1/plans", "post", 422, &unknown_code).len(), 1);
    assert_eq!(violations("/v1/plans", "post", 422, &json!({ "error": { "code": "plan_refused" } })).len(), 1);
    assert!(!violations("/readyz", "get", 200, &json!({ "ready": "yes", "database": {}, "adapters": {} })).is_empty());
    assert_eq!(violations("/v1/plans", "post", 418, &ok), vec!["post /v1/plans 418 is not documented".to_owned()]);
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    let (status, body) = app.get("/healthz", None).await;
    assert_eq!((status, body), (200, json!("ok")));

    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["database"], json!({ "backend": "sqlite", "ok": true }));
    conforms("/readyz", "get", status, &body);
    // An adapter that lost its platform makes the instance not ready.
    app.state.readiness.set("telegram", false);
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(status, 503);
    assert_eq!(body["adapters"]["telegram"], json!(false));
    conforms("/readyz", "get", status, &body);
    app.state.readiness.set("telegram", true);
    assert_eq!(app.get("/readyz", None).await.0, 200);

    app.post("/v1/chat", Some(KEY), json!({ "user": "metrics-probe", "text": "/help" })).await;
    let resp = app.http.get(format!("{}/metrics", app.url)).send().await.unwrap();
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = resp.text().await.unwrap();
    assert!(text.contains("runcoach_messages_in_total{platform=\"api\"}"), "{text}");
    assert!(text.contains("runcoach_reply_seconds_count{platform=\"api\",command=\"help\"}"), "{text}");
    assert!(text.contains("runcoach_database_up 1"), "{text}");
    assert!(text.contains("runcoach_queue_depth 0"), "{text}");
    assert!(!text.contains("metrics-probe"), "no user data in metrics");
}

#[tokio::test]
async fn the_api_needs_a_key() {
    let app = spawn_app().await;
    for key in [None, Some("wrong"), Some("test-key-4f9")] {
        let (status, body) = app.post("/v1/chat", key, json!({ "user": "a", "text": "hi" })).await;
        assert_eq!(status, 401, "{key:?}");
        assert_eq!(body["error"]["code"], json!("api_key_required"));
        conforms("/v1/chat", "post", status, &body);
    }
    let (status, _) = app.get("/v1/users/a/stats", Some("nope")).await;
    assert_eq!(status, 401);
    // Both configured keys work, trimmed.
    assert_eq!(app.post("/v1/chat", Some("other-key"), json!({ "user": "a", "text": "hi" })).await.0, 200);
}

#[tokio::test]
async fn chat_plans_and_stats() {
    let app = spawn_app().await;
    let (status, body) =
        app.post("/v1/chat", Some(KEY), json!({ "user": "alice", "text": "/start", "lang": "fr" })).await;
    assert_eq!(status, 200, "{body}");
    conforms("/v1/chat", "post", status, &body);
    let first = body["replies"][0]["text"].as_str().unwrap();
    assert!(first.contains("Bienvenue alice"), "{first}");
    assert!(!body["replies"][0]["buttons"].as_array().unwrap().is_empty());
    // The conversation is the API runner's own, kept in the store like any chat.
    let (_, body) = app.post("/v1/chat", Some(KEY), json!({ "user": "alice", "text": "/profile poids 61" })).await;
    assert!(body["replies"][0]["text"].as_str().unwrap().contains("61"), "{body}");
    let (status, body) = app.post("/v1/chat", Some(KEY), json!({ "user": "", "text": "x", "lang": "fr" })).await;
    assert_eq!(
        (status, body["error"]["code"].clone(), body["error"]["field"].clone()),
        (422, json!("invalid_argument"), json!("user"))
    );
    // The message is in the request's language.
    assert!(body["error"]["message"].as_str().unwrap().starts_with("Je n'ai pas compris"), "{body}");
    let (status, _) = app.post("/v1/chat", Some(KEY), json!({ "text": "no user" })).await;
    assert_eq!(status, 422);

    let (status, plan) = app
        .post(
            "/v1/plans",
            Some(KEY),
            json!({ "goal": "10k", "sessions_per_week": 4, "weeks": 10, "start_date": "2026-12-07", "level": "intermediate" }),
        )
        .await;
    assert_eq!(status, 201, "{plan}");
    conforms("/v1/plans", "post", status, &plan);
    assert_eq!(plan["weeks"].as_array().unwrap().len(), 10);
    assert_eq!(plan["target"], Value::Null);
    // A target time: checked against the VDOT and explained.
    let (status, plan) = app
        .post(
            "/v1/plans",
            Some(KEY),
            json!({ "goal": "10k", "sessions_per_week": 4, "weeks": 10, "vdot": 45, "target_time_s": 2400, "lang": "en" }),
        )
        .await;
    assert_eq!(status, 201, "{plan}");
    assert_eq!(
        (plan["target"]["verdict"].clone(), plan["target"]["target_vdot"].clone()),
        (json!("ambitious"), json!(51.9))
    );
    let (status, body) = app
        .post(
            "/v1/plans",
            Some(KEY),
            json!({ "goal": "10k", "sessions_per_week": 4, "weeks": 10, "target_time_s": 60 }),
        )
        .await;
    assert_eq!((status, body["error"]["code"].clone()), (422, json!("plan_refused")), "{body}");
    let (status, body) =
        app.post("/v1/plans", Some(KEY), json!({ "goal": "ultra", "sessions_per_week": 4, "weeks": 10 })).await;
    assert_eq!(
        (status, body["error"]["code"].clone(), body["error"]["field"].clone()),
        (422, json!("invalid_argument"), json!("goal"))
    );
    conforms("/v1/plans", "post", status, &body);
    let (status, body) = app.post("/v1/plans", Some(KEY), json!({ "goal": "10k", "sessions_per_week": 4 })).await;
    assert_eq!(
        (status, body["error"]["code"].clone(), body["error"]["field"].clone()),
        (422, json!("missing_argument"), json!("weeks"))
    );
    // The engine refuses an unsafe plan with its own explanation.
    let (status, body) = app
        .post(
            "/v1/plans",
            Some(KEY),
            json!({ "goal": "marathon", "sessions_per_week": 2, "weeks": 4, "level": "beginner" }),
        )
        .await;
    assert_eq!((status, body["error"]["code"].clone()), (422, json!("plan_refused")), "{body}");
    conforms("/v1/plans", "post", status, &body);

    let (status, stats) = app.get("/v1/users/alice/stats", Some(KEY)).await;
    assert_eq!(status, 200, "{stats}");
    conforms("/v1/users/{user}/stats", "get", status, &stats);
    assert_eq!(stats["runs"], json!(0));
    let (status, body) = app.get("/v1/users/nobody/stats", Some(KEY)).await;
    assert_eq!((status, body["error"]["code"].clone()), (404, json!("user_not_found")));
    conforms("/v1/users/{user}/stats", "get", status, &body);
}

#[tokio::test]
async fn the_document_lists_every_route() {
    let app = spawn_app().await;
    let (status, doc) = app.get("/openapi.json", None).await;
    assert_eq!(status, 200);
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    for route in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/chat", "/v1/plans", "/v1/users/{user}/stats"]
    {
        assert!(paths.iter().any(|p| p.as_str() == route), "{route} undocumented");
    }
    assert_eq!(app.get("/nope", None).await.0, 404);
}

#[test]
fn the_document_lists_every_error_code() {
    let doc = spec();
    let listed: Vec<&str> = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let codes: Vec<&str> = runcoach_core::error::ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, codes, "openapi.json's error codes and ErrorCode::ALL differ");
}

/// Named keys act only for their own runners: another key's runner, a Telegram runner and an
/// unknown name get the same 404; keys made by the operator work until revoked; each key has its
/// calls per minute (429 with Retry-After).
#[tokio::test]
async fn a_key_reaches_only_its_own_runners() {
    use runcoach_core::chat::{ChatRef, Content, Incoming, Sender};
    use runcoach_core::domain::Platform;
    use runcoach_core::limits::Limits;

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap());
    let limits = Limits { api_calls: Limits::default().api_calls.with_max(12), ..Limits::default() };
    let core = Arc::new(BotCore::new(store.clone()).with_limits(limits));
    let state = AppState::new(core.clone(), parse_api_keys("club:club-secret, partner:partner-secret"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(runcoach_http::serve(listener, router(state.clone()), std::future::pending()));
    let app = App { url, http: reqwest::Client::new(), state, _dir: dir };

    // A Telegram runner with a history of sorts.
    core.handle(Incoming {
        sender: Sender { platform: Platform::Telegram, user_id: "4242".into(), username: None, language_code: None },
        chat: ChatRef::new("4242", true),
        content: Content::Text("/start".into()),
    })
    .await;
    assert_eq!(app.post("/v1/chat", Some("club-secret"), json!({ "user": "alice", "text": "/start" })).await.0, 200);
    let (status, _) = app.get("/v1/users/alice/stats", Some("club-secret")).await;
    assert_eq!(status, 200);
    assert_eq!(app.get("/v1/users/api:club:alice/stats", Some("club-secret")).await.0, 200);
    let (_, nobody) = app.get("/v1/users/nobody/stats", Some("club-secret")).await;
    for stranger in ["alice", "api:club:alice", "telegram:4242", "api:alice"] {
        let (status, body) = app.get(&format!("/v1/users/{stranger}/stats"), Some("partner-secret")).await;
        assert_eq!((status, &body), (404, &nobody), "{stranger}");
    }
    let (status, body) = app.get("/v1/users/telegram:4242/stats", Some("club-secret")).await;
    assert_eq!((status, &body), (404, &nobody));
    // A name that would step outside the key's runners is refused.
    let (status, body) =
        app.post("/v1/chat", Some("club-secret"), json!({ "user": "partner:bob", "text": "hi" })).await;
    assert_eq!((status, body["error"]["field"].clone()), (422, json!("user")));

    // A key the operator makes: shown once, stored hashed, revoked at once.
    let secret = runcoach_core::api_keys::create(store.as_ref(), "ops", chrono::Utc::now()).await.unwrap();
    let secret = secrecy::ExposeSecret::expose_secret(&secret).to_owned();
    assert!(secret.starts_with("rc_") && secret.len() == 67, "{secret}");
    use runcoach_core::store::GuardStore;
    let digest = runcoach_core::api_keys::digest(&secret);
    assert_eq!(store.api_key_named(&digest).await.unwrap().as_deref(), Some("ops"), "stored as its SHA-256");
    assert_eq!(store.api_key_named(&secret).await.unwrap(), None, "never as itself");
    assert_eq!(app.post("/v1/chat", Some(&secret), json!({ "user": "alice", "text": "/start" })).await.0, 200);
    assert_eq!(app.get("/v1/users/alice/stats", Some(&secret)).await.0, 200, "ops's own alice");
    assert!(runcoach_core::api_keys::revoke(store.as_ref(), "ops", chrono::Utc::now()).await.unwrap());
    assert_eq!(app.get("/v1/users/alice/stats", Some(&secret)).await.0, 401);

    // 12 calls a minute per key: calling on, the club key is soon refused with Retry-After (a
    // window may end meanwhile, so allow for one reset).
    let mut last = (0, Value::Null);
    let mut retry_after = None;
    for _ in 0..30 {
        let resp =
            app.http.get(format!("{}/v1/users/alice/stats", app.url)).bearer_auth("club-secret").send().await.unwrap();
        let status = resp.status().as_u16();
        retry_after = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<i64>().unwrap());
        last = (status, resp.json().await.unwrap());
        if status == 429 {
            break;
        }
    }
    assert_eq!(last.0, 429, "{last:?}");
    assert_eq!(last.1["error"]["code"], json!("rate_limited"));
    conforms("/v1/users/{user}/stats", "get", 429, &last.1);
    assert!(retry_after.is_some_and(|s| (1..=60).contains(&s)), "{retry_after:?}");
    // The partner key has its own budget.
    assert_eq!(app.get("/v1/users/alice/stats", Some("partner-secret")).await.0, 404);
}
