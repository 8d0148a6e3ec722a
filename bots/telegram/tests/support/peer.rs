//! The Telegram Bot API peer for end-to-end tests: starts tests/telegram-peer (telegram-test-api
//! behind our route layer) and drives it from the user's side. Shared by the adapter's e2e tests
//! and the binary's `serve` tests (included with `#[path]`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const TOKEN: &str = "123456:TEST-TOKEN";

pub struct Peer {
    child: Child,
    pub url: String,
    pub http: reqwest::Client,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl Peer {
    pub fn start() -> Peer {
        let peer_dir = repo().join("tests/telegram-peer");
        assert!(
            peer_dir.join("node_modules/telegram-test-api").exists(),
            "run `npm ci` in tests/telegram-peer (scripts/test does it)"
        );
        let spec = repo().join("../shared/specs/telegram-bot-api.json");
        let mut child = Command::new("node")
            .arg(peer_dir.join("peer.mjs"))
            .arg(spec)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node must be installed");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url =
            serde_json::from_str::<Value>(&line).expect("peer prints its URL")["url"].as_str().unwrap().to_owned();
        Peer { child, url, http: reqwest::Client::new() }
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let resp = self.http.post(format!("{}{path}", self.url)).json(&body).send().await.unwrap();
        resp.json().await.unwrap_or(Value::Null)
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http.get(format!("{}{path}", self.url)).send().await.unwrap().json().await.unwrap()
    }

    pub async fn sent(&self, chat: i64) -> Vec<Value> {
        self.get(&format!("/_peer/sent?chat_id={chat}")).await.as_array().unwrap().clone()
    }

    /// Waits until the bot has sent more than `already` messages to `chat` and the last matches.
    pub async fn wait_for(&self, chat: i64, already: usize, what: &str, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let sent = self.sent(chat).await;
            let new: Vec<Value> = sent.iter().skip(already).cloned().collect();
            if new.iter().any(&pred) {
                // Let the rest of this answer arrive.
                tokio::time::sleep(Duration::from_millis(300)).await;
                return self.sent(chat).await.into_iter().skip(already).collect();
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; got {new:#?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[derive(Clone)]
pub struct TgUser {
    pub id: i64,
    pub name: &'static str,
    pub lang: &'static str,
}

impl TgUser {
    pub fn json(&self) -> Value {
        json!({ "id": self.id, "is_bot": false, "first_name": self.name, "language_code": self.lang })
    }
}

pub fn private_chat(user: &TgUser) -> Value {
    json!({ "id": user.id, "type": "private", "first_name": user.name })
}

pub fn group_chat(id: i64) -> Value {
    json!({ "id": id, "type": "supergroup", "title": "Running club" })
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub async fn say(peer: &Peer, user: &TgUser, chat: Value, text: &str) {
    let mut message = json!({ "botToken": TOKEN, "from": user.json(), "chat": chat, "date": now(), "text": text });
    if text.starts_with('/') {
        let len = text.split_whitespace().next().unwrap().encode_utf16().count();
        message["entities"] = json!([{ "type": "bot_command", "offset": 0, "length": len }]);
    }
    peer.post("/sendMessage", message).await;
}

pub async fn press(peer: &Peer, user: &TgUser, message: &Value, data: &str) {
    peer.post("/sendCallback", json!({ "botToken": TOKEN, "from": user.json(), "message": message, "data": data }))
        .await;
}

pub fn text(m: &Value) -> String {
    m["message"]["text"].as_str().unwrap_or_default().to_owned()
}

pub fn all_text(ms: &[Value]) -> String {
    ms.iter().map(text).collect::<Vec<_>>().join("\n")
}

pub fn button_data(m: &Value, label: &str) -> String {
    m["message"]["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().unwrap().clone())
        .find(|b| b["text"].as_str().unwrap().contains(label))
        .unwrap_or_else(|| panic!("no button {label} in {m}"))["callback_data"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A child process (`runcoach serve`) killed and reaped when the test ends, pass or fail.
pub struct Serve(pub Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nothing listens on (right now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits for `GET /readyz` on the port to say 200, and returns its body.
pub async fn wait_ready(port: u16) -> Value {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(resp) = http.get(format!("http://127.0.0.1:{port}/readyz")).send().await
            && resp.status().as_u16() == 200
        {
            return resp.json().await.unwrap();
        }
        assert!(Instant::now() < deadline, "runcoach serve on {port} never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
