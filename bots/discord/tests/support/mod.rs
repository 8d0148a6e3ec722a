//! Test support: the local Discord ([`fake`]), the OpenAPI checks ([`schema`]), the core's Garmin
//! and LLM fakes, and a bot started against them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod fake;
#[path = "../../../../tests/support/garmin_fake.rs"]
pub mod garmin_fake;
#[path = "../../../../tests/support/llm_fake.rs"]
pub mod llm_fake;
pub mod schema;
pub mod tls_proxy;

use std::sync::Arc;

use runcoach_core::chat::{BotCore, GarminService};
use runcoach_core::store::{SqliteStore, Store};
use runcoach_discord::{DiscordConfig, ShardRange};
use secrecy::SecretString;
use tempfile::TempDir;

pub use fake::{Fake, Member};

pub struct Options {
    /// Register the commands in the club's server (else globally).
    pub per_guild: bool,
    pub shards: Option<ShardRange>,
    pub garmin: Option<GarminService>,
    pub agent: Option<runcoach_core::agent::Agent>,
    /// The club's server id (its shard follows from it).
    pub guild: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { per_guild: true, shards: None, garmin: None, agent: None, guild: fake::guild_on_shard(0, 1) }
    }
}

pub struct Bot {
    pub fake: Fake,
    pub store: Arc<dyn Store>,
    pub config: DiscordConfig,
    pub guild: u64,
    pub channel: u64,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: TempDir,
}

impl Bot {
    /// The real adapter (serenity + poise) against a fresh local Discord, on a fresh SQLite store.
    pub async fn start(options: Options) -> Bot {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn,runcoach=info,runcoach_discord=debug")
            .with_test_writer()
            .try_init();
        let fake = Fake::start(options.guild, 400).await;
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in(dir.path()).await.unwrap());
        let core = Arc::new(
            BotCore::new(store.clone())
                .with_garmin(options.garmin.map(Arc::new))
                .with_agent(options.agent.map(Arc::new)),
        );
        let config = DiscordConfig {
            token: SecretString::from(fake::TOKEN),
            api_url: Some(fake.url().parse().unwrap()),
            guild_id: options.per_guild.then_some(options.guild),
            shards: options.shards,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let run = runcoach_discord::run(core, config.clone(), async move {
            let _ = stopped.await;
        });
        tokio::spawn(async move {
            if let Err(e) = run.await {
                eprintln!("discord adapter stopped: {e}");
            }
        });
        let shards = options.shards.map_or(1, |s| (s.last - s.first + 1) as usize);
        fake.ready(shards).await;
        let guild = options.per_guild.then_some(options.guild);
        fake.wait(20, "the commands to be registered", |s| {
            let list = match guild {
                Some(g) => s.guild_commands.get(&g).cloned().unwrap_or_default(),
                None => s.global_commands.clone(),
            };
            (!list.is_empty()).then_some(())
        })
        .await;
        let channel = fake.0.channel;
        Bot { fake, store, config, guild: options.guild, channel, stop: Some(stop), _dir: dir }
    }

    /// Asserts that every request and response so far matched Discord's API description and rules.
    pub fn assert_no_violations(&self) {
        let v = self.fake.violations();
        assert!(v.is_empty(), "{} violations:\n{}", v.len(), v.join("\n"));
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A file from `shared/fixtures` beside the checkout.
pub fn fixture(path: &str) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|d| d.join("shared/fixtures"))
        .find(|d| d.is_dir())
        .expect("shared/fixtures beside the checkout");
    std::fs::read(dir.join(path)).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}
