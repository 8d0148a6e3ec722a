//! Scale-out, proven with the real binary: two `runcoach serve` processes on one PostgreSQL
//! database behind one webhook URL (a round-robin proxy in front of both, as a load balancer),
//! with one shared secret. The webhook is registered once; updates alternate between the
//! instances and each is answered once; a dialogue started on one continues on the other; a due
//! weekly summary is sent once while both run; after one stops with SIGTERM the webhook stays and
//! the other answers everything.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../../telegram/tests/support/peer.rs"]
mod peer;
#[path = "support/serve.rs"]
mod serve;

use std::time::Duration;

use peer::{Peer, TgUser, button_data, free_port, press, private_chat, say, text, wait_ready};
use runcoach_core::chat::ChatKey;
use runcoach_core::domain::Platform;
use runcoach_core::store;

/// A load balancer: every request to the next backend in turn, skipping a backend that refuses
/// the connection (stopped), 502 when none answers.
async fn round_robin(backends: Vec<u16>) -> u16 {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode, Uri};
    use axum::response::IntoResponse;

    #[derive(Clone)]
    struct Lb {
        backends: Arc<Vec<u16>>,
        next: Arc<AtomicUsize>,
        http: reqwest::Client,
    }
    async fn forward(State(lb): State<Lb>, uri: Uri, headers: HeaderMap, body: Bytes) -> axum::response::Response {
        let first = lb.next.fetch_add(1, Ordering::Relaxed);
        for k in 0..lb.backends.len() {
            let port = lb.backends[(first + k) % lb.backends.len()];
            let mut req = lb.http.post(format!("http://127.0.0.1:{port}{}", uri.path())).body(body.clone());
            for name in ["content-type", "x-telegram-bot-api-secret-token"] {
                if let Some(v) = headers.get(name) {
                    req = req.header(name, v.as_bytes());
                }
            }
            if let Ok(resp) = req.send().await {
                let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
                return (status, resp.bytes().await.unwrap_or_default()).into_response();
            }
        }
        StatusCode::BAD_GATEWAY.into_response()
    }
    let lb = Lb { backends: Arc::new(backends), next: Arc::new(AtomicUsize::new(0)), http: reqwest::Client::new() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().fallback(forward).with_state(lb);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_one_webhook_share_sessions_send_once_and_survive_a_stop() {
    let peer = Peer::start();
    let admin = std::env::var("RUNCOACH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("rc_scale_{}", std::process::id());
    let url =
        store::create_database(&admin, &name).await.expect("PostgreSQL on 127.0.0.1:5432 (scripts/test starts it)");
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (port_a, port_b) = (free_port(), free_port());
    let lb = round_robin(vec![port_a, port_b]).await;
    let hook = format!("http://127.0.0.1:{lb}/telegram/webhook");

    // Without the shared secret, webhook mode on PostgreSQL refuses to start, saying why.
    let refused = serve::runcoach(dir_a.path())
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("TELEGRAM_BOT_TOKEN", peer::TOKEN)
        .env("RUNCOACH_TELEGRAM_API_URL", &peer.url)
        .env("RUNCOACH_TELEGRAM_WEBHOOK_URL", &hook)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("RUNCOACH_TELEGRAM_WEBHOOK_SECRET"), "{refused:?}");

    let mut a = serve::serve_behind(&peer, &url, dir_a.path(), port_a, &hook);
    wait_ready(port_a).await;
    let _b = serve::serve_behind(&peer, &url, dir_b.path(), port_b, &hook);
    wait_ready(port_b).await;
    assert_eq!(peer.get("/_peer/webhook_sets").await, serde_json::json!([hook]), "registered once");

    let lina = TgUser { id: 8008, name: "Lina", lang: "fr" };
    let chat = private_chat(&lina);
    say(&peer, &lina, chat.clone(), "/summary on").await;
    peer.wait_for(8008, 0, "summary on", |m| text(m).contains("Résumé hebdomadaire activé")).await;
    // Each of a run of updates is answered exactly once, by whichever instance got it.
    let n = peer.sent(8008).await.len();
    for _ in 0..4 {
        say(&peer, &lina, chat.clone(), "/aide").await;
    }
    peer.wait_for(8008, n + 3, "four answers", |m| text(m).contains("Ce que je sais faire")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(peer.sent(8008).await.len(), n + 4, "one answer per update");
    // A dialogue goes from one instance to the other with every update.
    let n = peer.sent(8008).await.len();
    say(&peer, &lina, chat.clone(), "/plan").await;
    let got = peer.wait_for(8008, n, "wizard", |m| text(m).contains("objectif")).await;
    let ask = got.iter().find(|m| text(m).contains("objectif")).unwrap().clone();
    let n = peer.sent(8008).await.len();
    press(&peer, &lina, &ask["message"], &button_data(&ask, "10 km")).await;
    peer.wait_for(8008, n, "race date question", |m| text(m).contains("date de ta course")).await;

    let db = store::connect(Some(&url), dir_a.path()).await.unwrap();
    let key = ChatKey { platform: Platform::Telegram, chat_id: "8008".into() };
    let schedule = db.schedule(store::ScheduleKind::WeeklySummary, &key).await.unwrap().unwrap();
    // Make it due now: both instances see it within a second.
    let now = chrono::Utc::now();
    db.mark_schedule_run(schedule.id, None, Some(now - chrono::Duration::minutes(1))).await.unwrap();
    let n = peer.sent(8008).await.len();
    peer.wait_for(8008, n, "the weekly summary", |m| text(m).contains("Bilan de la semaine")).await;
    // Several polls of both schedulers later, still one summary.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let summaries = peer.sent(8008).await.iter().filter(|m| text(m).contains("Bilan de la semaine")).count();
    assert_eq!(summaries, 1, "each summary is sent once");

    // A stops gracefully: the webhook stays, and B answers every update from now on.
    let pid = a.0.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(a.0.wait().unwrap().success());
    let info = peer.get(&format!("/bot{}/getWebhookInfo", peer::TOKEN)).await;
    assert_eq!(info["result"]["url"], serde_json::json!(hook), "{info}");
    let n = peer.sent(8008).await.len();
    say(&peer, &lina, chat.clone(), "12 semaines").await;
    peer.wait_for(8008, n, "the wizard continues on B", |m| text(m).contains("Tu vises un temps")).await;
    let n = peer.sent(8008).await.len();
    for _ in 0..3 {
        say(&peer, &lina, chat.clone(), "/aide").await;
    }
    peer.wait_for(8008, n + 2, "three answers", |m| text(m).contains("Ce que je sais faire")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(peer.sent(8008).await.len(), n + 3, "one answer per update after the stop");
    let ready = reqwest::get(format!("http://127.0.0.1:{port_b}/readyz")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let deliveries = peer.get("/_peer/hook_deliveries").await;
    assert!(deliveries.as_array().unwrap().iter().all(|d| d["status"] == serde_json::json!(200)), "{deliveries}");
    let violations = peer.get("/_peer/violations").await;
    assert_eq!(violations, serde_json::json!([]), "Bot API violations: {violations:#}");
}
