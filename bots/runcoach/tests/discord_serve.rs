//! `runcoach serve` with only Discord configured, from the environment as an operator sets it,
//! against the local Discord of bots/discord/tests/support: the adapter starts, registers its
//! commands in the configured server and answers a member.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../../discord/tests/support/fake.rs"]
mod fake;
#[path = "../../discord/tests/support/schema.rs"]
mod schema;

use std::process::{Command, Stdio};

use fake::{Fake, Member};
use serde_json::json;

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_the_discord_adapter_configured_by_the_environment() {
    let guild = fake::guild_on_shard(0, 1);
    let discord = Fake::start(guild, 400).await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _serve = Killed(
        Command::new(env!("CARGO_BIN_EXE_runcoach"))
            .arg("--data-dir")
            .arg(dir.path())
            .arg("serve")
            .env_remove("DATABASE_URL")
            .env_remove("TELEGRAM_BOT_TOKEN")
            .env("DISCORD_TOKEN", fake::TOKEN)
            .env("RUNCOACH_DISCORD_API_URL", discord.url())
            .env("RUNCOACH_DISCORD_GUILD_ID", guild.to_string())
            .env("RUNCOACH_DISCORD_SHARDS", "0/1")
            .env("RUNCOACH_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env("RUNCOACH_OPS_ADDR", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    discord.ready(1).await;
    // /readyz reports the adapter once its shard is connected.
    let ready = wait_ready(port).await;
    assert_eq!(ready["adapters"], json!({ "discord": true }), "{ready}");
    discord.wait(30, "the commands in the club's server", |s| s.guild_commands.get(&guild).map(|c| c.len())).await;
    assert!(discord.registered(None).is_empty(), "RUNCOACH_DISCORD_GUILD_ID: per-server registration");
    let zoe = Member::new(700_001, "Zoé", "fr");
    let ix = discord.slash(&zoe, Some(guild), discord.0.channel, "help", json!([]));
    let answer = discord.answer(ix).await;
    assert!(answer[0].content.contains("Ce que je sais faire"), "{}", answer[0].content);
    let violations = discord.violations();
    assert!(violations.is_empty(), "{violations:#?}");
}

/// Waits for `GET /readyz` to say 200 and returns its body.
async fn wait_ready(port: u16) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Ok(resp) = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await
            && resp.status().as_u16() == 200
        {
            return resp.json().await.unwrap();
        }
        assert!(std::time::Instant::now() < deadline, "runcoach serve never became ready");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
