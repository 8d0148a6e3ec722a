//! The command-line contract. Names here are relied on by scripts and later issues: keep them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use runcoach_core::config::Settings;
use runcoach_core::i18n::Lang;
use secrecy::SecretString;

#[derive(Debug, Parser)]
#[command(name = "runcoach", version, about = "An AI running coach for Telegram, Discord and the console")]
pub struct Cli {
    /// Database URL: postgres://… for a shared store, sqlite:… for a file. Default: SQLite in --data-dir.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Where the SQLite store and generated files live.
    #[arg(long, global = true, env = "RUNCOACH_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Log as JSON lines (for log collectors); RUST_LOG sets the level.
    #[arg(long, global = true, env = "RUNCOACH_LOG_JSON")]
    pub log_json: bool,

    #[arg(long, env = "TELEGRAM_BOT_TOKEN", hide = true, hide_env_values = true)]
    pub telegram_token: Option<String>,

    #[arg(long, env = "DISCORD_TOKEN", hide = true, hide_env_values = true)]
    pub discord_token: Option<String>,

    /// A custom Telegram Bot API server (self-hosted Bot API, tests).
    #[arg(long, global = true, env = "RUNCOACH_TELEGRAM_API_URL")]
    pub telegram_api_url: Option<url::Url>,

    /// Where `serve` listens for HTTP: /healthz, /readyz, /metrics, the JSON API, the webhook.
    #[arg(long, global = true, env = "RUNCOACH_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: std::net::SocketAddr,

    /// API keys for the JSON API (comma-separated).
    #[arg(long, env = "RUNCOACH_API_KEYS", hide = true, hide_env_values = true)]
    pub api_keys: Option<String>,

    /// Public URL of the Telegram webhook (turns long polling off); it must reach RUNCOACH_HTTP_ADDR.
    #[arg(long, global = true, env = "RUNCOACH_TELEGRAM_WEBHOOK_URL")]
    pub telegram_webhook_url: Option<url::Url>,

    /// Secret Telegram sends back with every webhook request (random when unset).
    #[arg(long, env = "RUNCOACH_TELEGRAM_WEBHOOK_SECRET", hide = true, hide_env_values = true)]
    pub telegram_webhook_secret: Option<String>,

    #[command(subcommand)]
    pub command: Option<Commands>,
}

/// What `serve` needs beyond [`Settings`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub http_addr: std::net::SocketAddr,
    pub api_keys: Vec<SecretString>,
    pub webhook: Option<(url::Url, SecretString)>,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Run the configured chat platforms (Telegram, Discord).
    Serve,
    /// Chat with the coach in this terminal (or from piped stdin, one message per line).
    Chat {
        /// Your name on the console.
        #[arg(long)]
        user: String,
        /// Reply language.
        #[arg(long, value_parser = parse_lang)]
        lang: Option<Lang>,
    },
    /// Ask the coach one question (the LLM agent when configured, else the deterministic coach).
    Ask {
        /// A console name (created if new), or platform:id.
        #[arg(long)]
        user: String,
        /// The question.
        #[arg(required = true)]
        question: Vec<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print everything stored about a runner as JSON.
    Export {
        /// A console name, or platform:id (telegram:12345).
        #[arg(long)]
        user: String,
    },
    /// Delete every record of a runner.
    Forget {
        #[arg(long)]
        user: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
    /// Import activity files (FIT, GPX, TCX, Garmin ZIP or activity-list JSON) for a runner.
    Import {
        /// A console name (created if new), or platform:id.
        #[arg(long)]
        user: String,
        /// Files to import.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Sync activities from a provider (Garmin Connect).
    Sync {
        #[command(subcommand)]
        provider: SyncProvider,
    },
    /// The running knowledge base: index, status, search.
    Kb {
        #[command(subcommand)]
        command: KbCommand,
    },
    /// A runner's weekly summary.
    Summary {
        #[arg(long)]
        user: String,
        /// ISO week, YYYY-Www (default: last complete week).
        #[arg(long)]
        week: Option<String>,
        #[arg(long)]
        json: bool,
        /// Write the chart (PNG) to FILE.
        #[arg(long, value_name = "FILE")]
        chart: Option<std::path::PathBuf>,
        #[arg(long, value_parser = parse_lang)]
        lang: Option<Lang>,
    },
    /// A runner's history in numbers (JSON with --json).
    Stats {
        #[arg(long)]
        user: String,
        /// Only the last N days (default: the whole history).
        #[arg(long)]
        days: Option<u32>,
        #[arg(long)]
        json: bool,
        #[arg(long, value_parser = parse_lang, default_value = "en")]
        lang: Lang,
    },
    /// VDOT, race equivalents and Daniels training paces from one performance.
    Vdot {
        /// 5k, 10k, half, marathon, or a distance in metres (or km with a k suffix).
        #[arg(long)]
        distance: String,
        /// Finishing time, [H:]MM:SS.
        #[arg(long)]
        time: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Generate a training plan (validated before it is printed).
    #[command(group(clap::ArgGroup::new("length").required(true).args(["weeks", "race_date"])))]
    Plan {
        /// 5k, 10k, half, marathon, fitness, endurance or speed.
        #[arg(long)]
        goal: String,
        /// Plan length in weeks.
        #[arg(long)]
        weeks: Option<u16>,
        /// Race day (the plan ends with the race), YYYY-MM-DD.
        #[arg(long)]
        race_date: Option<chrono::NaiveDate>,
        /// Running sessions per week (2-6).
        #[arg(long)]
        sessions: u8,
        /// Declared level: beginner, intermediate or advanced (history may adjust it).
        #[arg(long)]
        level: Option<String>,
        /// First day of the plan, YYYY-MM-DD (default: today).
        #[arg(long)]
        start: Option<chrono::NaiveDate>,
        /// VDOT from a recent race.
        #[arg(long)]
        vdot: Option<f64>,
        /// Shape the plan from this runner's stored history (console name or platform:id).
        #[arg(long)]
        user: Option<String>,
        /// Preferred days, e.g. tue,thu,sat,sun.
        #[arg(long, value_delimiter = ',')]
        days: Vec<chrono::Weekday>,
        #[arg(long, value_enum, default_value = "json")]
        format: PlanFormat,
        /// Language of descriptions in md/ics/json output.
        #[arg(long, value_parser = parse_lang, default_value = "en")]
        lang: Lang,
    },
    #[command(skip)]
    Default,
}

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Embed the passages the cache lacks.
    Index,
    /// Documents, passages, search mode (hybrid or lexical-only, and why).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Best passages for a question (FR or EN).
    Search {
        query: String,
        #[arg(long, default_value_t = 5)]
        top: usize,
        #[arg(long, value_parser = parse_lang)]
        lang: Option<Lang>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SyncProvider {
    /// Garmin Connect: logs in once (RUNCOACH_GARMIN_EMAIL / RUNCOACH_GARMIN_PASSWORD or a prompt;
    /// the MFA code is prompted), then syncs incrementally with the stored tokens.
    Garmin {
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PlanFormat {
    Md,
    Json,
    Ics,
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    s.parse::<Lang>().map_err(|e| e.to_string())
}

impl Cli {
    pub fn serve_options(&self) -> ServeOptions {
        let secret = self.telegram_webhook_secret.clone().filter(|s| !s.is_empty()).unwrap_or_else(random_secret);
        ServeOptions {
            http_addr: self.http_addr,
            api_keys: runcoach_http::parse_api_keys(self.api_keys.as_deref().unwrap_or_default()),
            webhook: self.telegram_webhook_url.clone().map(|u| (u, SecretString::from(secret))),
        }
    }

    pub fn settings(&self) -> Settings {
        let secret = |v: &Option<String>| v.as_ref().filter(|s| !s.is_empty()).map(|s| SecretString::from(s.clone()));
        Settings {
            database_url: secret(&self.database_url),
            data_dir: self.data_dir.clone(),
            telegram_token: secret(&self.telegram_token),
            discord_token: secret(&self.discord_token),
            telegram_api_url: self.telegram_api_url.clone(),
        }
    }
}

/// Telegram allows 1–256 characters of A–Z, a–z, 0–9, `_` and `-`.
fn random_secret() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut rng = rand::rng();
    (0..48).map(|_| CHARS.get(rng.random_range(0..CHARS.len())).map_or('x', |c| char::from(*c))).collect()
}
