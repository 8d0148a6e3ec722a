//! Discord adapter: serenity's gateway and HTTP client (with its ratelimiter) and poise's slash
//! commands over the core's chat model.
//!
//! Club members use slash commands in their server's channels (personal answers are ephemeral)
//! or write to the bot directly (text and activity files). Buttons, select menus and modals carry
//! the core's buttons, pick-several menus and forms. [`DiscordNotifier`] posts scheduled messages:
//! club digests in their channel, runners' summaries in their direct messages.

mod events;
pub mod render;
pub mod slash;

use std::future::Future;
use std::sync::Arc;

use poise::serenity_prelude as serenity;
use runcoach_core::chat::{BotCore, Reply};
use runcoach_core::chat::{ChatKey, Notifier, NotifyError};
use secrecy::{ExposeSecret, SecretString};
use serenity::{GatewayIntents, Http, HttpBuilder};
use tracing::{info, warn};
use url::Url;

pub use events::private_chat;

/// The error type of the adapter's handlers (poise's `E`).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What the handlers share.
pub struct Data {
    pub core: Arc<BotCore>,
    /// Fetches attachments from Discord's CDN (the URLs come with the messages).
    pub downloads: reqwest::Client,
    /// Which of this process's shards are connected, for `/readyz`.
    pub shards: ShardsUp,
}

/// The shards this process runs that are connected to the gateway. The adapter is ready when
/// all of them are; `report` hears every change.
pub struct ShardsUp {
    expected: usize,
    connected: std::sync::Mutex<std::collections::BTreeSet<u32>>,
    report: Box<dyn Fn(bool) + Send + Sync>,
}

impl ShardsUp {
    #[must_use]
    pub fn new(expected: usize, report: impl Fn(bool) + Send + Sync + 'static) -> Self {
        ShardsUp { expected: expected.max(1), connected: std::sync::Mutex::default(), report: Box::new(report) }
    }

    /// Records that `shard` connected (`true`) or lost its connection (`false`).
    pub fn set(&self, shard: u32, up: bool) {
        let mut connected = self.connected.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if up {
            connected.insert(shard);
        } else {
            connected.remove(&shard);
        }
        (self.report)(connected.len() >= self.expected);
    }
}

/// Shards this process runs: `first..=last` of `total` (`RUNCOACH_DISCORD_SHARDS=0-1/4`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardRange {
    pub first: u32,
    pub last: u32,
    pub total: u32,
}

impl std::str::FromStr for ShardRange {
    type Err = DiscordError;

    /// `2/4` (one shard) or `0-1/4`; shards count from 0.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || DiscordError::Config(format!("RUNCOACH_DISCORD_SHARDS={s:?}: expected FIRST-LAST/TOTAL, e.g. 0-1/4"));
        let (range, total) = s.trim().split_once('/').ok_or_else(bad)?;
        let total: u32 = total.trim().parse().map_err(|_| bad())?;
        let (first, last) = match range.split_once('-') {
            Some((a, b)) => (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?),
            None => {
                let n = range.trim().parse().map_err(|_| bad())?;
                (n, n)
            }
        };
        if total == 0 || first > last || last >= total {
            return Err(bad());
        }
        Ok(ShardRange { first, last, total })
    }
}

#[derive(Debug, Clone)]
pub struct DiscordConfig {
    pub token: SecretString,
    /// Discord's API base (`https://discord.com`) when `None`; a rate-limiting proxy or a test
    /// server otherwise (see [`http`]).
    pub api_url: Option<Url>,
    /// Register the slash commands in this server only (they appear at once) instead of globally.
    pub guild_id: Option<u64>,
    /// Run these shards only; all of them (as Discord recommends) when `None`.
    pub shards: Option<ShardRange>,
}

impl DiscordConfig {
    /// Whether this process registers the slash commands: the one running shard 0 (registration
    /// replaces the whole set, so one process is enough).
    #[must_use]
    pub fn registers_commands(&self) -> bool {
        self.shards.is_none_or(|s| s.first == 0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("Discord configuration: {0}")]
    Config(String),
    #[error("Discord refused the bot token or could not be reached: {0}")]
    Start(#[source] Box<serenity::Error>),
}

/// serenity's HTTP client: aimed at Discord with serenity's ratelimiter (per-route buckets from
/// the `X-RateLimit-*` headers, the global limit, waiting out a 429), or at `api_url`.
///
/// serenity sends to a base URL of our choosing only with its in-process ratelimiter off (its
/// ratelimiter always talks to discord.com): `api_url` is for an HTTP proxy that rate-limits for
/// every process of a sharded deployment (twilight-http-proxy does), and for tests.
#[must_use]
pub fn http(config: &DiscordConfig) -> Http {
    let mut builder = HttpBuilder::new(config.token.expose_secret());
    if let Some(url) = &config.api_url {
        // serenity swaps `https://discord.com` for this base in every route.
        builder = builder.proxy(url.as_str().trim_end_matches('/')).ratelimiter_disabled(true);
    }
    builder.build()
}

/// Delivers scheduled messages: a channel id is a club channel, `dm:<user id>` a runner's direct
/// messages. `Ok` only once Discord accepted every message.
pub struct DiscordNotifier {
    http: Arc<Http>,
}

impl DiscordNotifier {
    #[must_use]
    pub fn new(http: Arc<Http>) -> Self {
        DiscordNotifier { http }
    }
}

/// Discord's JSON error codes that mean "this recipient will not take messages from us".
const GONE: &[isize] = &[
    10003, // Unknown channel
    10013, // Unknown user
    50001, // Missing access
    50007, // Cannot send messages to this user
    50013, // Missing permissions
];

fn notify_error(e: &serenity::Error) -> NotifyError {
    if let serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)) = e {
        if GONE.contains(&r.error.code) || r.status_code.as_u16() == 404 {
            return NotifyError::Blocked;
        }
        if r.status_code.as_u16() == 429 {
            return NotifyError::RateLimited { retry_after: std::time::Duration::from_secs(5) };
        }
    }
    NotifyError::Transient(e.to_string())
}

#[async_trait::async_trait]
impl Notifier for DiscordNotifier {
    async fn send(&self, chat: &ChatKey, replies: &[Reply]) -> Result<(), NotifyError> {
        let channel = match chat.chat_id.parse::<events::DiscordChat>().map_err(NotifyError::Transient)? {
            events::DiscordChat::Dm(user) => {
                events::retrying(|| user.create_dm_channel(&*self.http)).await.map_err(|e| notify_error(&e))?.id
            }
            events::DiscordChat::Channel(channel) => channel,
        };
        events::send(&self.http, channel, replies).await.map_err(|e| notify_error(&e))
    }
}

fn on_error(error: poise::FrameworkError<'_, Data, Error>) -> poise::BoxFuture<'_, ()> {
    Box::pin(async move {
        match error {
            poise::FrameworkError::Command { error, ctx, .. } => {
                warn!(command = %ctx.command().qualified_name, error = %error, "discord command failed");
            }
            poise::FrameworkError::EventHandler { error, .. } => warn!(error = %error, "discord event failed"),
            other => {
                if let Err(e) = poise::builtins::on_error(other).await {
                    warn!(error = %e, "discord error handling failed");
                }
            }
        }
    })
}

/// Runs the bot (gateway, one process for the configured shards) until `shutdown` completes.
pub async fn run(
    core: Arc<BotCore>,
    config: DiscordConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DiscordError> {
    run_with(core, config, shutdown, |_| {}).await
}

/// [`run`], telling `ready` whether every shard of this process is connected (for `/readyz`):
/// `true` once all are, `false` when one loses its connection and when the adapter stops.
pub async fn run_with(
    core: Arc<BotCore>,
    config: DiscordConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl Fn(bool) + Send + Sync + 'static,
) -> Result<(), DiscordError> {
    let ready = Arc::new(ready);
    let report = ready.clone();
    let expected = config.shards.map_or(1, |s| (s.last - s.first + 1) as usize);
    let http = http(&config);
    // A bad token or an unreachable API stops the service now, rather than retrying forever.
    let me = http.get_current_user().await.map_err(|e| DiscordError::Start(Box::new(e)))?;
    info!(bot = %me.name, "discord token accepted");
    let registers = config.registers_commands();
    let guild = config.guild_id.map(serenity::GuildId::new);
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: slash::commands(),
            event_handler: |framework, event| Box::pin(events::on_event(framework, event)),
            on_error,
            ..Default::default()
        })
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                if registers {
                    let commands = &framework.options().commands;
                    let registered = match guild {
                        Some(g) => poise::builtins::register_in_guild(&ctx.http, commands, g).await,
                        None => poise::builtins::register_globally(&ctx.http, commands).await,
                    };
                    match registered {
                        Ok(()) => {
                            info!(commands = commands.len(), per_guild = guild.is_some(), "slash commands registered")
                        }
                        Err(e) => warn!(error = %e, "could not register the slash commands"),
                    }
                }
                Ok(Data {
                    core,
                    // A stalled attachment download never holds a handler for long.
                    downloads: reqwest::Client::builder()
                        .connect_timeout(std::time::Duration::from_secs(10))
                        .timeout(std::time::Duration::from_secs(60))
                        .build()
                        .unwrap_or_default(),
                    shards: ShardsUp::new(expected, move |up| report(up)),
                })
            })
        })
        .build();
    // Direct messages arrive with their content without the privileged message-content intent.
    let intents = GatewayIntents::GUILDS | GatewayIntents::DIRECT_MESSAGES;
    let mut client = serenity::ClientBuilder::new_with_http(http, intents)
        .framework(framework)
        .await
        .map_err(|e| DiscordError::Start(Box::new(e)))?;
    let shards = client.shard_manager.clone();
    tokio::spawn(async move {
        shutdown.await;
        shards.shutdown_all().await;
    });
    let result = match config.shards {
        // serenity's range is inclusive of its end: `4..7` runs shards 4 to 7.
        Some(s) => client.start_shard_range(s.first..s.last, s.total).await,
        None => client.start().await,
    };
    ready(false);
    info!("discord adapter stopped");
    result.map_err(|e| DiscordError::Start(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ranges_parse() {
        assert_eq!("0-1/4".parse::<ShardRange>().ok(), Some(ShardRange { first: 0, last: 1, total: 4 }));
        assert_eq!("3/4".parse::<ShardRange>().ok(), Some(ShardRange { first: 3, last: 3, total: 4 }));
        for bad in ["", "4/4", "2-1/4", "0-1", "a-b/c", "0/0"] {
            assert!(bad.parse::<ShardRange>().is_err(), "{bad}");
        }
        let config = |shards| DiscordConfig { token: SecretString::from("t"), api_url: None, guild_id: None, shards };
        assert!(config(None).registers_commands());
        assert!(config(Some(ShardRange { first: 0, last: 1, total: 4 })).registers_commands());
        assert!(!config(Some(ShardRange { first: 2, last: 3, total: 4 })).registers_commands());
    }
}
