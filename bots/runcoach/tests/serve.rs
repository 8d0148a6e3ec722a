//! `runcoach serve` as an operator runs it: the real binary against the Telegram peer, in webhook
//! mode behind its own HTTP server (secret header checked), with /healthz, /readyz and /metrics,
//! and a graceful stop on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../../telegram/tests/support/peer.rs"]
mod peer;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use peer::{Peer, Serve, TOKEN, TgUser, free_port, private_chat, say, text, wait_ready};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_in_webhook_mode_behind_its_http_server() {
    let peer = Peer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let secret = "s3cret-hook_token";
    let child = Command::new(env!("CARGO_BIN_EXE_runcoach"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("DISCORD_TOKEN")
        .env_remove("RUNCOACH_LLM_BASE_URL")
        .env_remove("RUNCOACH_LLM_API_KEY")
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("RUNCOACH_TELEGRAM_API_URL", &peer.url)
        .env("RUNCOACH_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("RUNCOACH_OPS_ADDR", format!("127.0.0.1:{port}"))
        .env("RUNCOACH_TELEGRAM_WEBHOOK_URL", format!("{base}/telegram/webhook"))
        .env("RUNCOACH_TELEGRAM_WEBHOOK_SECRET", secret)
        .env("RUNCOACH_KB_DIR", peer::repo().join("knowledge_base"))
        .env("RUNCOACH_MODEL_DIR", dir.path().join("no-model"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut serve = Serve(child);
    let http = reqwest::Client::new();
    let ready = wait_ready(port).await;
    assert_eq!(ready["adapters"], json!({ "telegram": true }), "{ready}");
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
    let info = peer.get(&format!("/bot{TOKEN}/getWebhookInfo")).await;
    assert_eq!(info["result"]["url"], json!(format!("{base}/telegram/webhook")), "{info}");

    // Telegram (the peer) pushes the runner's message to the webhook with the secret.
    let zoe = TgUser { id: 7007, name: "Zoé", lang: "fr" };
    say(&peer, &zoe, private_chat(&zoe), "/start").await;
    let got = peer.wait_for(7007, 0, "welcome over the webhook", |m| text(m).contains("Bienvenue Zoé")).await;
    assert!(!got.is_empty());
    let deliveries = peer.get("/_peer/hook_deliveries").await;
    assert!(deliveries.as_array().unwrap().iter().all(|d| d["status"] == json!(200)), "{deliveries}");

    // Anyone else posting to the webhook without (or with a wrong) secret is refused.
    let forged = json!({ "update_id": 99, "message": { "message_id": 1, "date": 0,
        "chat": { "id": 7007, "type": "private" }, "from": { "id": 7007, "is_bot": false, "first_name": "x" },
        "text": "/forget" } });
    for header in [None, Some("wrong")] {
        let mut req = http.post(format!("{base}/telegram/webhook")).json(&forged);
        if let Some(h) = header {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", h);
        }
        assert_eq!(req.send().await.unwrap().status().as_u16(), 401);
    }
    let n = peer.sent(7007).await.len();

    let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("runcoach_messages_in_total{platform=\"telegram\"} 1"), "{metrics}");

    // SIGTERM: a graceful stop (exit 0). The webhook stays for the other instances behind the
    // same URL; the operator removes it with `runcoach telegram webhook delete`.
    stop_with_sigterm(&mut serve).await;
    let info = peer.get(&format!("/bot{TOKEN}/getWebhookInfo")).await;
    assert_eq!(info["result"]["url"], json!(format!("{base}/telegram/webhook")), "kept on shutdown: {info}");
    let deleted = Command::new(env!("CARGO_BIN_EXE_runcoach"))
        .args(["telegram", "webhook", "delete"])
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("RUNCOACH_TELEGRAM_API_URL", &peer.url)
        .output()
        .unwrap();
    assert!(deleted.status.success(), "{deleted:?}");
    let info = peer.get(&format!("/bot{TOKEN}/getWebhookInfo")).await;
    assert_eq!(info["result"]["url"], json!(""), "deleted by the operator: {info}");
    assert_eq!(peer.sent(7007).await.len(), n, "the forged /forget did nothing");
    let violations = peer.get("/_peer/violations").await;
    assert_eq!(violations, json!([]), "Bot API violations: {violations:#}");
}

/// `serve` with no chat platform but an API key: the JSON API and the scheduler run; `/metrics`
/// and `/readyz` answer only on the operations address; SIGTERM stops it cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_the_api_alone_with_operations_on_their_own_address() {
    let dir = tempfile::tempdir().unwrap();
    let (port, ops) = (free_port(), free_port());
    let keys_file = dir.path().join("api-keys");
    std::fs::write(&keys_file, "club:club-s3cret\n").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_runcoach"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env_remove("DISCORD_TOKEN")
        .env_remove("RUNCOACH_LLM_BASE_URL")
        .env_remove("RUNCOACH_LLM_API_KEY")
        // A mounted secret file, as a container orchestrator provides it.
        .env("RUNCOACH_API_KEYS_FILE", &keys_file)
        .env("RUNCOACH_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("RUNCOACH_OPS_ADDR", format!("127.0.0.1:{ops}"))
        .env("RUNCOACH_KB_DIR", peer::repo().join("knowledge_base"))
        .env("RUNCOACH_MODEL_DIR", dir.path().join("no-model"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut serve = Serve(child);
    let ready = wait_ready(ops).await;
    assert_eq!(ready["adapters"], json!({}), "{ready}");
    let http = reqwest::Client::new();
    let (public, internal) = (format!("http://127.0.0.1:{port}"), format!("http://127.0.0.1:{ops}"));
    let chat = http
        .post(format!("{public}/v1/chat"))
        .bearer_auth("club-s3cret")
        .json(&json!({ "user": "alice", "text": "/start" }))
        .send()
        .await
        .unwrap();
    assert_eq!(chat.status().as_u16(), 200);
    let body: serde_json::Value = chat.json().await.unwrap();
    assert!(body["replies"][0]["text"].as_str().unwrap().contains("alice"), "{body}");
    let status = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(format!("{public}/healthz")).await, 200);
    assert_eq!(status(format!("{public}/metrics")).await, 404, "metrics stay off the public address");
    assert_eq!(status(format!("{public}/readyz")).await, 404);
    assert_eq!(status(format!("{internal}/metrics")).await, 200);
    assert_eq!(status(format!("{internal}/healthz")).await, 200);
    assert_eq!(
        status(format!("{internal}/v1/users/alice/stats")).await,
        404,
        "the API is not on the operations address"
    );
    // The container's HEALTHCHECK: the binary asks its own operations listener.
    let check = |addr: String| {
        Command::new(env!("CARGO_BIN_EXE_runcoach")).arg("healthcheck").env("RUNCOACH_OPS_ADDR", addr).output().unwrap()
    };
    let healthy = check(format!("0.0.0.0:{ops}"));
    assert!(healthy.status.success(), "{healthy:?}");
    let nobody = check(format!("127.0.0.1:{}", peer::free_port()));
    assert_eq!(nobody.status.code(), Some(1), "{nobody:?}");

    stop_with_sigterm(&mut serve).await;
}

/// Sends SIGTERM and waits (30 s at most) for a graceful exit with status 0.
async fn stop_with_sigterm(serve: &mut Serve) {
    let pid = serve.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = serve.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status:?}");
}
