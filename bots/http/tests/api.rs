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

/// A small JSON-schema check: types, required properties, items and properties, recursively.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "null" => value.is_null(),
            _ => false,
        });
        assert!(ok, "{at}: {value} is not {types:?}");
    }
    for key in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
        let key = key.as_str().unwrap();
        assert!(value.get(key).is_some(), "{at}: missing required {key} in {value}");
    }
    if let (Some(props), Some(obj)) = (schema.get("properties").and_then(Value::as_object), value.as_object()) {
        for (k, s) in props {
            if let Some(v) = obj.get(k) {
                check(doc, s, v, &format!("{at}.{k}"));
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, v) in list.iter().enumerate() {
            check(doc, items, v, &format!("{at}[{i}]"));
        }
    }
}

/// Checks a response against the document's schema for that path, method and status.
fn conforms(path: &str, method: &str, status: u16, body: &Value) {
    let doc = spec();
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    let response = resolve(&doc, &op["responses"][status.to_string()]);
    assert!(response.is_object(), "{method} {path} {status} is not documented");
    if let Some(json) = response.get("content").and_then(|c| c.get("application/json")) {
        check(&doc, &json["schema"], body, &format!("{method} {path} {status}"));
    }
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
    assert!(text.contains("runcoach_command_seconds_count{command=\"help\"}"), "{text}");
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
