//! Scale-out, proven with the real binary: two `runcoach serve` processes on one PostgreSQL
//! database behind the Telegram peer (webhook mode). A dialogue started on one continues on the
//! other, a due weekly summary is sent once while both run, and the survivor carries on after the
//! other is killed with SIGKILL.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_sessions_send_once_and_survive_a_kill() {
    let peer = Peer::start();
    let admin = std::env::var("RUNCOACH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("rc_scale_{}", std::process::id());
    let url =
        store::create_database(&admin, &name).await.expect("PostgreSQL on 127.0.0.1:5432 (scripts/test starts it)");
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (port_a, port_b) = (free_port(), free_port());

    let mut a = serve::serve(&peer, &url, dir_a.path(), port_a);
    wait_ready(port_a).await;
    let lina = TgUser { id: 8008, name: "Lina", lang: "fr" };
    let chat = private_chat(&lina);
    say(&peer, &lina, chat.clone(), "/summary on").await;
    peer.wait_for(8008, 0, "summary on", |m| text(m).contains("Résumé hebdomadaire activé")).await;
    // A dialogue starts on instance A.
    let n = peer.sent(8008).await.len();
    say(&peer, &lina, chat.clone(), "/plan").await;
    let got = peer.wait_for(8008, n, "wizard", |m| text(m).contains("objectif")).await;
    let ask = got.iter().find(|m| text(m).contains("objectif")).unwrap().clone();
    let n = peer.sent(8008).await.len();
    press(&peer, &lina, &ask["message"], &button_data(&ask, "10 km")).await;
    peer.wait_for(8008, n, "race date question", |m| text(m).contains("date de ta course")).await;

    // Instance B starts; the webhook (and so every new update) now goes to B. Both schedulers run.
    let _b = serve::serve(&peer, &url, dir_b.path(), port_b);
    wait_ready(port_b).await;
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

    // A dies without warning; the dialogue it started goes on, on B, from the shared store.
    a.0.kill().unwrap();
    a.0.wait().unwrap();
    let n = peer.sent(8008).await.len();
    say(&peer, &lina, chat.clone(), "12 semaines").await;
    peer.wait_for(8008, n, "the wizard continues on B", |m| text(m).contains("Combien de séances")).await;
    let ready = reqwest::get(format!("http://127.0.0.1:{port_b}/readyz")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let violations = peer.get("/_peer/violations").await;
    assert_eq!(violations, serde_json::json!([]), "Bot API violations: {violations:#}");
}
