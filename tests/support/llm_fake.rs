//! A local OpenAI-compatible server that replays scripted responses at the wire: chat
//! completions (JSON or server-sent events), tool calls, malformed calls, errors and slow replies.
//! It records every request body so tests can check what the model was shown.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::StreamExt;
use serde_json::{Value, json};

/// One scripted reply to `POST /v1/chat/completions`.
#[derive(Clone, Debug)]
pub enum Scripted {
    /// A final text answer.
    Text(String),
    /// Tool calls: (name, raw `arguments` value as sent on the wire).
    Calls(Vec<(String, Value)>),
    /// Any body, as is.
    Raw(Value),
    /// An HTTP error with an OpenAI-shaped error body.
    Status(u16),
    /// A streamed text answer, in these pieces.
    StreamText(Vec<String>),
    /// A streamed tool call: name and the arguments split in pieces.
    StreamCall(String, Vec<String>),
    /// Waits, then replies.
    Slow(Duration, Box<Scripted>),
    /// A streamed text answer whose pieces come this long apart (a model writing slowly).
    Trickle(Duration, Vec<String>),
}

#[derive(Default)]
pub struct Fake {
    pub script: VecDeque<Scripted>,
    pub requests: Vec<Value>,
    pub summaries: Vec<Value>,
}

pub const SUMMARY: &str = "SUMMARY-7f3: the runner prepares a marathon and had a sore calf.";

pub type Shared = Arc<Mutex<Fake>>;

pub struct LlmServer {
    pub url: String,
    pub state: Shared,
}

impl LlmServer {
    pub async fn start(script: Vec<Scripted>) -> LlmServer {
        let state: Shared = Arc::new(Mutex::new(Fake { script: script.into(), ..Fake::default() }));
        let app = Router::new().route("/v1/chat/completions", post(completions)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        LlmServer { url: format!("http://{addr}/v1"), state }
    }

    pub fn requests(&self) -> Vec<Value> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Everything the model was shown, as one string (for "was X ever sent?" checks).
    pub fn seen(&self) -> String {
        serde_json::to_string(&self.requests()).unwrap()
    }

    pub fn left(&self) -> usize {
        self.state.lock().unwrap().script.len()
    }
}

fn usage() -> Value {
    json!({ "prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120 })
}

fn completion(message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "fake-coach",
        "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
        "usage": usage(),
    })
}

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let body = json!({
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1_764_000_000,
        "model": "fake-coach",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    });
    format!("data: {body}\n\n")
}

fn sse(events: Vec<String>) -> Response {
    let mut body: String = events.concat();
    let tail = json!({ "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1_764_000_000,
        "model": "fake-coach", "choices": [], "usage": usage() });
    body.push_str(&format!("data: {tail}\n\ndata: [DONE]\n\n"));
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

async fn completions(State(state): State<Shared>, Json(body): Json<Value>) -> Response {
    // The running-summary call (no tools) is answered apart, so it never eats a scripted turn.
    if body.get("tools").is_none() {
        state.lock().unwrap().summaries.push(body.clone());
        return Json(completion(json!({ "role": "assistant", "content": SUMMARY }), "stop")).into_response();
    }
    let next = {
        let mut s = state.lock().unwrap();
        s.requests.push(body.clone());
        s.script.pop_front()
    };
    let streamed = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let Some(step) = next else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": { "message": "script exhausted", "type": "server_error" } })),
        )
            .into_response();
    };
    reply(step, streamed).await
}

async fn reply(step: Scripted, streamed: bool) -> Response {
    match step {
        Scripted::Slow(wait, inner) => {
            tokio::time::sleep(wait).await;
            Box::pin(reply(*inner, streamed)).await
        }
        Scripted::Status(code) => (
            StatusCode::from_u16(code).unwrap(),
            Json(json!({ "error": { "message": format!("scripted {code}"), "type": "server_error", "param": null, "code": null } })),
        )
            .into_response(),
        Scripted::Raw(v) => Json(v).into_response(),
        Scripted::Text(text) if streamed => {
            // Tests that stream get the text in three pieces.
            let words: Vec<String> = text.split_inclusive(' ').map(str::to_owned).collect();
            let third = words.len().div_ceil(3).max(1);
            let pieces = words.chunks(third).map(|c| c.concat()).collect();
            Box::pin(reply(Scripted::StreamText(pieces), true)).await
        }
        Scripted::Text(text) => Json(completion(json!({ "role": "assistant", "content": text }), "stop")).into_response(),
        Scripted::Calls(calls) => {
            let list: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(i, (name, args))| json!({ "id": format!("call_{i}"), "type": "function", "function": { "name": name, "arguments": args } }))
                .collect();
            if streamed {
                let mut events = vec![chunk(json!({ "role": "assistant", "content": null }), None)];
                for (i, c) in list.iter().enumerate() {
                    let mut c = c.clone();
                    c["index"] = json!(i);
                    events.push(chunk(json!({ "tool_calls": [c] }), None));
                }
                events.push(chunk(json!({}), Some("tool_calls")));
                return sse(events);
            }
            Json(completion(json!({ "role": "assistant", "content": null, "tool_calls": list }), "tool_calls")).into_response()
        }
        Scripted::Trickle(gap, pieces) => {
            let mut events = vec![chunk(json!({ "role": "assistant", "content": "" }), None)];
            events.extend(pieces.iter().map(|p| chunk(json!({ "content": p }), None)));
            events.push(chunk(json!({}), Some("stop")));
            let tail = json!({ "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1_764_000_000,
                "model": "fake-coach", "choices": [], "usage": usage() });
            events.push(format!("data: {tail}\n\ndata: [DONE]\n\n"));
            let stream = futures_util::stream::iter(events.into_iter().enumerate()).then(move |(i, e)| async move {
                if i > 1 {
                    tokio::time::sleep(gap).await;
                }
                Ok::<_, std::convert::Infallible>(e)
            });
            ([(header::CONTENT_TYPE, "text/event-stream")], axum::body::Body::from_stream(stream)).into_response()
        }
        Scripted::StreamText(pieces) => {
            let mut events = vec![chunk(json!({ "role": "assistant", "content": "" }), None)];
            events.extend(pieces.iter().map(|p| chunk(json!({ "content": p }), None)));
            events.push(chunk(json!({}), Some("stop")));
            sse(events)
        }
        Scripted::StreamCall(name, pieces) => {
            let mut events = vec![chunk(
                json!({ "role": "assistant", "tool_calls": [{ "index": 0, "id": "call_s", "type": "function", "function": { "name": name, "arguments": "" } }] }),
                None,
            )];
            events.extend(
                pieces.iter().map(|p| chunk(json!({ "tool_calls": [{ "index": 0, "function": { "arguments": p } }] }), None)),
            );
            events.push(chunk(json!({}), Some("tool_calls")));
            sse(events)
        }
    }
}

/// A tool call with JSON-string arguments, as OpenAI sends them.
pub fn call(name: &str, args: Value) -> (String, Value) {
    (name.to_owned(), Value::String(args.to_string()))
}
