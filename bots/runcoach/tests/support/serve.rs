//! The `runcoach` binary for its own tests: a command with a quiet, key-less environment, and
//! `runcoach serve` with Telegram in webhook mode against the peer, on a given database.
//! Included with `#[path]` beside `peer` (bots/telegram/tests/support/peer.rs).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};

use super::peer::{self, Peer, Serve, TOKEN};

/// Sets the environment every test run of the binary needs on `cmd`: no database URL, chat
/// token or LLM from the caller's environment, the repository's knowledge base, no embedding
/// model (lexical search: fast and the same everywhere).
pub fn quiet<'a>(cmd: &'a mut Command, data_dir: &Path) -> &'a mut Command {
    cmd.env_remove("DATABASE_URL")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env_remove("DISCORD_TOKEN")
        .env_remove("RUNCOACH_LLM_BASE_URL")
        .env_remove("RUNCOACH_LLM_API_KEY")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .env("RUNCOACH_KB_DIR", peer::repo().join("knowledge_base"))
        .env("RUNCOACH_MODEL_DIR", data_dir.join("no-model"))
}

/// `runcoach --data-dir DATA_DIR`, in a [`quiet`] environment.
pub fn runcoach(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_runcoach"));
    cmd.arg("--data-dir").arg(data_dir);
    quiet(&mut cmd, data_dir);
    cmd
}

/// The webhook secret every instance of a test deployment shares.
pub const WEBHOOK_SECRET: &str = "scale-out_s3cret";

/// `runcoach serve` on `database_url`: Telegram through the peer in webhook mode (the webhook on
/// this instance's HTTP port), the scheduler polling every second.
pub fn serve(peer: &Peer, database_url: &str, data_dir: &Path, port: u16) -> Serve {
    serve_behind(peer, database_url, data_dir, port, &format!("http://127.0.0.1:{port}/telegram/webhook"))
}

/// [`serve`] with the webhook at `hook_url` (a load balancer in front of several instances).
pub fn serve_behind(peer: &Peer, database_url: &str, data_dir: &Path, port: u16, hook_url: &str) -> Serve {
    let child = runcoach(data_dir)
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("RUNCOACH_TELEGRAM_API_URL", &peer.url)
        .env("RUNCOACH_HTTP_ADDR", format!("127.0.0.1:{port}"))
        // One listener for everything: the tests read /readyz on the instance's port.
        .env("RUNCOACH_OPS_ADDR", format!("127.0.0.1:{port}"))
        .env("RUNCOACH_TELEGRAM_WEBHOOK_URL", hook_url)
        .env("RUNCOACH_TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("RUNCOACH_SCHEDULER_POLL_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Serve(child)
}
