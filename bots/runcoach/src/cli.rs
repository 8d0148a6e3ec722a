//! The command-line contract. Names here are relied on by scripts and later issues: keep them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use runcoach_core::agent::LlmConfig;
use runcoach_core::config::Settings;
use runcoach_core::garmin::{GarminEndpoints, SyncPolicy, parse_sync_every};
use runcoach_core::i18n::Lang;
use runcoach_core::knowledge::{KbConfig, ModelPaths};
use runcoach_core::limits::{Limits, Rule};
use runcoach_core::retention::RetentionPolicy;
use runcoach_core::weather::WeatherConfig;
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

    /// `TELEGRAM_BOT_TOKEN` (or `TELEGRAM_BOT_TOKEN_FILE`): never a flag, which other local
    /// users could read in the process list. Read by [`Cli::read_secrets`].
    #[arg(skip)]
    pub telegram_token: Option<String>,

    /// `DISCORD_TOKEN` (or `_FILE`).
    #[arg(skip)]
    pub discord_token: Option<String>,

    /// A custom Telegram Bot API server (self-hosted Bot API, tests).
    #[arg(long, global = true, env = "RUNCOACH_TELEGRAM_API_URL")]
    pub telegram_api_url: Option<url::Url>,

    /// Where `serve` listens for the public HTTP: /healthz, the JSON API, the Telegram webhook
    /// (/metrics and /readyz are on the operations address).
    #[arg(long, global = true, env = "RUNCOACH_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: std::net::SocketAddr,

    /// Where `serve` answers /metrics and /readyz (and /healthz): keep it internal. Set it to the
    /// HTTP address to serve everything on one listener (development).
    #[arg(long, global = true, env = "RUNCOACH_OPS_ADDR", default_value = "127.0.0.1:9090")]
    pub ops_addr: std::net::SocketAddr,

    /// API keys for the JSON API: comma-separated `name:secret` (runners are `api:name:…`).
    #[arg(skip)]
    pub api_keys: Option<String>,

    /// Public URL of the Telegram webhook (turns long polling off); it must reach RUNCOACH_HTTP_ADDR.
    #[arg(long, global = true, env = "RUNCOACH_TELEGRAM_WEBHOOK_URL")]
    pub telegram_webhook_url: Option<url::Url>,

    /// Secret Telegram sends back with every webhook request (random when unset).
    #[arg(skip)]
    pub telegram_webhook_secret: Option<String>,

    // The settings below come from the environment as deployments template it: a variable set
    // but empty (`RUNCOACH_LLM_MODEL=` in compose) means "use the default", and a value that does
    // not parse stops the start with its name. Hence strings, read by `Cli::settings`.
    /// Discord's API base URL (a rate-limiting proxy, a test server); Discord's own when unset.
    #[arg(long, global = true, env = "RUNCOACH_DISCORD_API_URL", hide = true)]
    pub discord_api_url: Option<String>,

    /// Register the slash commands in this Discord server only (they show at once).
    #[arg(long, global = true, env = "RUNCOACH_DISCORD_GUILD_ID", hide = true)]
    pub discord_guild_id: Option<String>,

    /// The Discord shards this process runs, `FIRST-LAST/TOTAL` (all of them when unset).
    #[arg(long, global = true, env = "RUNCOACH_DISCORD_SHARDS", hide = true)]
    pub discord_shards: Option<String>,

    /// Base URL of an OpenAI-compatible LLM server; it or an API key turns the LLM coach on.
    #[arg(long, global = true, env = "RUNCOACH_LLM_BASE_URL", hide = true)]
    pub llm_base_url: Option<String>,

    #[arg(skip)]
    pub llm_api_key: Option<String>,

    /// The LLM's model name [default: gpt-4o-mini].
    #[arg(long, global = true, env = "RUNCOACH_LLM_MODEL", hide = true)]
    pub llm_model: Option<String>,

    /// Deadline for a whole LLM turn, in ms [default: 4500].
    #[arg(long, global = true, env = "RUNCOACH_LLM_TIMEOUT_MS", hide = true)]
    pub llm_timeout_ms: Option<String>,

    /// Tool-loop steps per LLM turn, 1 to 8 [default: 4].
    #[arg(long, global = true, env = "RUNCOACH_LLM_MAX_STEPS", hide = true)]
    pub llm_max_steps: Option<String>,

    /// LLM turns per runner per minute [default: 6].
    #[arg(long, global = true, env = "RUNCOACH_LLM_RATE_PER_MINUTE", hide = true)]
    pub llm_rate_per_minute: Option<String>,

    /// LLM tokens per runner per day, counted in the store [default: 60000].
    #[arg(long, global = true, env = "RUNCOACH_LLM_DAILY_TOKENS", hide = true)]
    pub llm_daily_tokens: Option<String>,

    /// LLM tokens for the whole service per day, every runner together; 0: no cap [default: 2000000].
    #[arg(long, global = true, env = "RUNCOACH_LLM_SERVICE_DAILY_TOKENS", hide = true)]
    pub llm_service_daily_tokens: Option<String>,

    /// Messages per runner per minute, every instance together; 0: off [default: 60].
    #[arg(long, global = true, env = "RUNCOACH_LIMIT_MESSAGES_PER_MINUTE", hide = true)]
    pub limit_messages: Option<String>,

    /// Files imported per runner per hour; 0: off [default: 30].
    #[arg(long, global = true, env = "RUNCOACH_LIMIT_IMPORTS_PER_HOUR", hide = true)]
    pub limit_imports: Option<String>,

    /// Garmin login attempts per runner per hour [default: 5].
    #[arg(long, global = true, env = "RUNCOACH_LIMIT_GARMIN_LOGINS_PER_HOUR", hide = true)]
    pub limit_garmin_logins: Option<String>,

    /// Garmin login attempts for everyone per hour [default: 60].
    #[arg(long, global = true, env = "RUNCOACH_LIMIT_GARMIN_LOGINS_ALL_PER_HOUR", hide = true)]
    pub limit_garmin_logins_all: Option<String>,

    /// HTTP API calls per key per minute [default: 120].
    #[arg(long, global = true, env = "RUNCOACH_LIMIT_API_PER_MINUTE", hide = true)]
    pub limit_api: Option<String>,

    /// Base64 32-byte key sealing stored Garmin tokens; without it Garmin sync is off.
    #[arg(skip)]
    pub secret_key: Option<String>,

    /// Garmin Connect's endpoints (proxies, tests).
    #[arg(long, global = true, env = "RUNCOACH_GARMIN_SSO_URL", hide = true)]
    pub garmin_sso_url: Option<String>,
    #[arg(long, global = true, env = "RUNCOACH_GARMIN_DIAUTH_URL", hide = true)]
    pub garmin_diauth_url: Option<String>,
    #[arg(long, global = true, env = "RUNCOACH_GARMIN_API_URL", hide = true)]
    pub garmin_api_url: Option<String>,
    /// How often connected runners are synced with Garmin in the background, in hours [default: 3h].
    #[arg(long, global = true, env = "RUNCOACH_GARMIN_SYNC_EVERY", hide = true)]
    pub garmin_sync_every: Option<String>,
    /// Garmin requests per second from one instance at most [default: 1].
    #[arg(long, global = true, env = "RUNCOACH_GARMIN_RATE", hide = true)]
    pub garmin_rate: Option<String>,

    /// Open-Meteo's forecast API (or a mirror) [default: https://api.open-meteo.com/v1/forecast].
    #[arg(long, global = true, env = "RUNCOACH_WEATHER_API_URL", hide = true)]
    pub weather_api_url: Option<String>,
    /// Open-Meteo's geocoding API [default: https://geocoding-api.open-meteo.com/v1/search].
    #[arg(long, global = true, env = "RUNCOACH_GEOCODING_API_URL", hide = true)]
    pub geocoding_api_url: Option<String>,
    /// Days conversations are kept [default: 365].
    #[arg(long, global = true, env = "RUNCOACH_RETAIN_CONVERSATIONS_DAYS", hide = true)]
    pub retain_conversations: Option<String>,
    /// Days finished jobs are kept [default: 30].
    #[arg(long, global = true, env = "RUNCOACH_RETAIN_JOBS_DAYS", hide = true)]
    pub retain_jobs: Option<String>,
    /// Days the audit log is kept [default: 400].
    #[arg(long, global = true, env = "RUNCOACH_RETAIN_AUDIT_DAYS", hide = true)]
    pub retain_audit: Option<String>,
    /// Days LLM usage rows are kept [default: 90].
    #[arg(long, global = true, env = "RUNCOACH_RETAIN_LLM_USAGE_DAYS", hide = true)]
    pub retain_llm_usage: Option<String>,
    /// Months of silence after which a runner is warned, then erased 30 days later [default: off].
    #[arg(long, global = true, env = "RUNCOACH_RETAIN_INACTIVE_MONTHS", hide = true)]
    pub retain_inactive: Option<String>,
    /// `off`: no weather at all (no place search, no forecast).
    #[arg(long, global = true, env = "RUNCOACH_WEATHER", hide = true)]
    pub weather: Option<String>,

    /// A folder of the knowledge base's markdown, en/ and fr/, instead of the one built in.
    #[arg(long, global = true, env = "RUNCOACH_KB_DIR", hide = true)]
    pub kb_dir: Option<String>,

    /// The embedding model's directory [default: models/multilingual-e5-small].
    #[arg(long, global = true, env = "RUNCOACH_MODEL_DIR", hide = true)]
    pub model_dir: Option<String>,

    /// ONNX Runtime's shared library [default: models/onnxruntime/libonnxruntime.so].
    #[arg(long, global = true, env = "ORT_DYLIB_PATH", hide = true)]
    pub ort_dylib_path: Option<String>,

    /// How often `serve`'s scheduler looks for due summaries and digests, in seconds [default: 30].
    #[arg(long, global = true, env = "RUNCOACH_SCHEDULER_POLL_SECS", hide = true)]
    pub scheduler_poll_secs: Option<String>,

    #[command(subcommand)]
    pub command: Option<Commands>,
}

/// What `serve` needs beyond [`Settings`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub http_addr: std::net::SocketAddr,
    pub ops_addr: std::net::SocketAddr,
    pub api_keys: Vec<runcoach_core::api_keys::ConfiguredKey>,
    pub webhook: Option<(url::Url, SecretString)>,
    /// Discord beyond its token (in [`Settings`]): API base, guild, shards.
    pub discord_api_url: Option<url::Url>,
    pub discord_guild_id: Option<u64>,
    pub discord_shards: Option<runcoach_discord::ShardRange>,
    /// How often the scheduler looks for due summaries and digests.
    pub scheduler_poll: std::time::Duration,
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
    /// Exit 0 when the running instance's operations listener (RUNCOACH_OPS_ADDR) answers
    /// `/healthz` within 3 s, 1 otherwise: the container's HEALTHCHECK, no curl needed.
    Healthcheck,
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
    /// Push a runner's next sessions to a provider's calendar (Garmin Connect).
    Push {
        #[command(subcommand)]
        provider: PushProvider,
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
        /// With --json: only the last N days (default: the whole history).
        #[arg(long)]
        days: Option<u32>,
        /// The JSON contract; without it, the text the chat's /stats answers.
        #[arg(long)]
        json: bool,
        /// The text's language (default: the runner's).
        #[arg(long, value_parser = parse_lang)]
        lang: Option<Lang>,
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
        /// Race goals: the target time (45:00, 1:45:00); the plan says whether it is realistic.
        #[arg(long)]
        target_time: Option<String>,
        /// Shape the plan from this runner's stored history (console name or platform:id).
        #[arg(long)]
        user: Option<String>,
        /// Save the plan as the runner's active plan (the previous one is archived).
        #[arg(long, requires = "user")]
        save: bool,
        /// Preferred days, e.g. tue,thu,sat,sun.
        #[arg(long, value_delimiter = ',')]
        days: Vec<chrono::Weekday>,
        #[arg(long, value_enum, default_value = "json")]
        format: PlanFormat,
        /// Language of descriptions in md/ics/json output.
        #[arg(long, value_parser = parse_lang, default_value = "en")]
        lang: Lang,
    },
    /// A runner's latest activities, newest first.
    Activities {
        #[arg(long)]
        user: String,
        /// How many (default 20).
        #[arg(long)]
        limit: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// One of a runner's activities with its laps.
    Activity {
        #[arg(long)]
        user: String,
        /// The activity's id (from `runcoach activities`).
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Set a goal: `race 10k 50:00` or `volume 1000` (km), with an optional deadline.
    Goal {
        #[command(subcommand)]
        command: GoalCommand,
    },
    /// A runner's goals and their progress.
    Goals {
        #[arg(long)]
        user: String,
        #[arg(long)]
        json: bool,
        #[arg(long, value_parser = parse_lang)]
        lang: Option<Lang>,
    },
    /// The week of a runner's active plan: each session and what became of it.
    Week {
        #[arg(long)]
        user: String,
        /// A day of the week to show, YYYY-MM-DD (default: today on the runner's clock).
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// One day's planned session as a structured FIT workout for a watch (stdout without
    /// `--out`); exit 2 with the reason when that day has no session.
    Workout {
        #[arg(long)]
        user: String,
        /// YYYY-MM-DD
        #[arg(long)]
        date: chrono::NaiveDate,
        /// Where to write the .fit file (default: stdout).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Telegram administration: `telegram webhook delete` removes the webhook (stopping an
    /// instance leaves it for the others).
    Telegram {
        #[command(subcommand)]
        command: TelegramCommand,
    },
    /// The operator's view: runners, jobs, schedules, usage, a Garmin sync, retention.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Measurements: `eval coach` runs the coach evaluation (docs/coach-eval.md).
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
    /// HTTP API keys: create one (its secret is shown once), list them, revoke one.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    #[command(skip)]
    Default,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// FR/EN scenarios through the coach (the deterministic one, or the model of
    /// RUNCOACH_LLM_BASE_URL), scored per check: numbers, plan, tool, safety, sources, language,
    /// privacy, injection.
    Coach {
        #[arg(long)]
        json: bool,
        /// Exit 1 when fewer checks pass (CI keeps the deterministic coach's score as a floor).
        #[arg(long)]
        min_passed: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TelegramCommand {
    /// The bot's webhook.
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Removes the webhook: Telegram stops posting updates (long polling works again).
    Delete,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Makes a key; prints its secret once (only its SHA-256 is stored).
    Create {
        /// 1 to 32 of a-z, 0-9, _ and - (its runners are `api:NAME:…`).
        name: String,
    },
    /// The keys made here (configured ones are in RUNCOACH_API_KEYS).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revokes a key at once, on every instance.
    Revoke { name: String },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Runners: ids, platform identities, last seen, counts of activities, plans and messages.
    Users {
        /// Only runners whose name or identity contains this.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One runner and their schedules (never their messages).
    User {
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// The job queue, newest first; `jobs retry ID`, `jobs cancel ID`.
    Jobs {
        /// pending, running, done, failed or paused.
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: Option<JobsCommand>,
    },
    /// Every schedule: summaries, digests, plan days, syncs, reminders, pushes.
    Schedules {
        #[arg(long)]
        json: bool,
    },
    /// Queues a runner's Garmin sync now.
    Sync {
        #[arg(long)]
        user: String,
    },
    /// Active runners, messages and LLM tokens per day, activities by source.
    Usage {
        #[arg(long, default_value_t = 14)]
        days: u32,
        #[arg(long)]
        json: bool,
    },
    /// The retention policy, and what it deletes now (or would, with --dry-run).
    Retention {
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// A failed or paused job runs again from its first attempt.
    Retry { id: i64 },
    /// A pending or paused job is given up.
    Cancel { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum GoalCommand {
    /// `race DISTANCE TIME` (race 10k 50:00) or `volume KM` (volume 1000).
    Add {
        #[arg(long)]
        user: String,
        /// Deadline, YYYY-MM-DD.
        #[arg(long)]
        by: Option<chrono::NaiveDate>,
        #[arg(required = true, num_args = 2..=3)]
        target: Vec<String>,
    },
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

#[derive(Debug, Subcommand)]
pub enum PushProvider {
    /// Garmin Connect (connected with `runcoach sync garmin`): the next days' sessions as
    /// workouts on their dates; a second push changes only what the plan changed.
    Garmin {
        #[arg(long)]
        user: String,
        /// Days from today, 1–14.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=14))]
        days: u32,
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

/// A secret from the environment: `NAME`, or the contents of the file `NAME_FILE` (trimmed; a
/// mounted secret). Both set is an error: which one wins would be a guess.
fn secret_from_env(name: &str) -> anyhow::Result<Option<String>> {
    let direct = std::env::var(name).ok().filter(|v| !v.is_empty());
    let file = std::env::var(format!("{name}_FILE")).ok().filter(|v| !v.is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => anyhow::bail!("set {name} or {name}_FILE, not both"),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("{name}_FILE={path}: cannot read it: {e}"))?;
            Ok(Some(text.trim().to_owned()).filter(|v| !v.is_empty()))
        }
        (None, None) => Ok(None),
    }
}

impl Cli {
    /// Reads the secrets from the environment (`NAME` or `NAME_FILE`), never from flags.
    pub fn read_secrets(&mut self) -> anyhow::Result<()> {
        self.telegram_token = secret_from_env("TELEGRAM_BOT_TOKEN")?;
        self.discord_token = secret_from_env("DISCORD_TOKEN")?;
        self.api_keys = secret_from_env("RUNCOACH_API_KEYS")?;
        self.telegram_webhook_secret = secret_from_env("RUNCOACH_TELEGRAM_WEBHOOK_SECRET")?;
        self.llm_api_key = secret_from_env("RUNCOACH_LLM_API_KEY")?;
        self.secret_key = secret_from_env("RUNCOACH_SECRET_KEY")?;
        if self.database_url.is_none() {
            self.database_url = secret_from_env("DATABASE_URL")?;
        }
        Ok(())
    }

    pub fn serve_options(&self) -> anyhow::Result<ServeOptions> {
        let configured = self.telegram_webhook_secret.clone().filter(|s| !s.is_empty());
        if let Some(s) = &configured
            && !runcoach_telegram::valid_webhook_secret(s)
        {
            anyhow::bail!("RUNCOACH_TELEGRAM_WEBHOOK_SECRET must be 1 to 256 of A-Z, a-z, 0-9, _ and -");
        }
        let shared_store = self.database_url.as_deref().is_some_and(|u| u.starts_with("postgres"));
        if self.telegram_webhook_url.is_some() && configured.is_none() && shared_store {
            // A random secret per instance would leave Telegram with only the last one's.
            anyhow::bail!(
                "webhook mode on PostgreSQL (several instances behind one URL) needs the same \
                 RUNCOACH_TELEGRAM_WEBHOOK_SECRET on every instance (1 to 256 of A-Z, a-z, 0-9, _ and -)"
            );
        }
        let secret = configured.unwrap_or_else(random_secret);
        Ok(ServeOptions {
            http_addr: self.http_addr,
            ops_addr: self.ops_addr,
            api_keys: runcoach_http::parse_api_keys(self.api_keys.as_deref().unwrap_or_default()),
            webhook: self.telegram_webhook_url.clone().map(|u| (u, SecretString::from(secret))),
            discord_api_url: parsed("RUNCOACH_DISCORD_API_URL", &self.discord_api_url)?,
            discord_guild_id: parsed("RUNCOACH_DISCORD_GUILD_ID", &self.discord_guild_id)?,
            discord_shards: parsed("RUNCOACH_DISCORD_SHARDS", &self.discord_shards)?,
            scheduler_poll: std::time::Duration::from_secs(
                parsed("RUNCOACH_SCHEDULER_POLL_SECS", &self.scheduler_poll_secs)?.unwrap_or(30u64).clamp(1, 3600),
            ),
        })
    }

    /// Every setting, read once here and passed down (nothing else reads the environment).
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let secret = |v: &Option<String>| present(v).map(|s| SecretString::from(s.to_owned()));
        let llm_key = secret(&self.llm_api_key);
        let llm = if present(&self.llm_base_url).is_some() || llm_key.is_some() {
            let base = present(&self.llm_base_url).unwrap_or("https://api.openai.com/v1");
            let model = present(&self.llm_model).unwrap_or(runcoach_core::agent::DEFAULT_MODEL);
            let mut config = LlmConfig::new(base, model);
            config.api_key = llm_key.unwrap_or_else(|| SecretString::from(String::new()));
            config.deadline = std::time::Duration::from_millis(
                parsed("RUNCOACH_LLM_TIMEOUT_MS", &self.llm_timeout_ms)?.unwrap_or(config.deadline.as_millis() as u64),
            );
            config.max_steps =
                parsed("RUNCOACH_LLM_MAX_STEPS", &self.llm_max_steps)?.unwrap_or(config.max_steps).clamp(1, 8);
            config.per_minute =
                parsed("RUNCOACH_LLM_RATE_PER_MINUTE", &self.llm_rate_per_minute)?.unwrap_or(config.per_minute);
            config.daily_tokens =
                parsed("RUNCOACH_LLM_DAILY_TOKENS", &self.llm_daily_tokens)?.unwrap_or(config.daily_tokens);
            config.service_daily_tokens = parsed("RUNCOACH_LLM_SERVICE_DAILY_TOKENS", &self.llm_service_daily_tokens)?
                .unwrap_or(config.service_daily_tokens);
            Some(config)
        } else {
            None
        };
        let garmin = GarminEndpoints::default();
        let url =
            |v: &Option<String>, default: String| present(v).map_or(default, |u| u.trim_end_matches('/').to_owned());
        Ok(Settings {
            database_url: secret(&self.database_url),
            data_dir: self.data_dir.clone(),
            telegram_token: secret(&self.telegram_token),
            discord_token: secret(&self.discord_token),
            telegram_api_url: self.telegram_api_url.clone(),
            llm,
            garmin: GarminEndpoints {
                sso: url(&self.garmin_sso_url, garmin.sso),
                diauth: url(&self.garmin_diauth_url, garmin.diauth),
                connectapi: url(&self.garmin_api_url, garmin.connectapi),
            },
            garmin_sync: {
                let default = SyncPolicy::default();
                let every = match present(&self.garmin_sync_every) {
                    Some(raw) => {
                        parse_sync_every(raw).map_err(|e| anyhow::anyhow!("RUNCOACH_GARMIN_SYNC_EVERY={e}"))?
                    }
                    None => default.every_hours,
                };
                let rate: f64 = parsed("RUNCOACH_GARMIN_RATE", &self.garmin_rate)?.unwrap_or(default.requests_per_s);
                if !(rate.is_finite() && rate > 0.0) {
                    anyhow::bail!("RUNCOACH_GARMIN_RATE={rate}: give requests per second above 0, e.g. 1 or 0.5");
                }
                SyncPolicy { every_hours: every, requests_per_s: rate }
            },
            secret_key: secret(&self.secret_key),
            retention: {
                let d = RetentionPolicy::default();
                let days = |name: &str, raw: &Option<String>, default: u32| -> anyhow::Result<u32> {
                    match parsed::<u32>(name, raw)? {
                        Some(0) => anyhow::bail!("{name}=0: keep rows at least one day"),
                        Some(n) => Ok(n),
                        None => Ok(default),
                    }
                };
                RetentionPolicy {
                    conversations_days: days(
                        "RUNCOACH_RETAIN_CONVERSATIONS_DAYS",
                        &self.retain_conversations,
                        d.conversations_days,
                    )?,
                    jobs_days: days("RUNCOACH_RETAIN_JOBS_DAYS", &self.retain_jobs, d.jobs_days)?,
                    audit_days: days("RUNCOACH_RETAIN_AUDIT_DAYS", &self.retain_audit, d.audit_days)?,
                    llm_usage_days: days("RUNCOACH_RETAIN_LLM_USAGE_DAYS", &self.retain_llm_usage, d.llm_usage_days)?,
                    inactive_months: match parsed::<u32>("RUNCOACH_RETAIN_INACTIVE_MONTHS", &self.retain_inactive)? {
                        Some(0) | None => None,
                        Some(n) => Some(n),
                    },
                }
            },
            weather: match present(&self.weather).map(str::to_lowercase).as_deref() {
                Some("off" | "false" | "0" | "no") => None,
                Some("on" | "true" | "1" | "yes") | None => {
                    let d = WeatherConfig::default();
                    Some(WeatherConfig {
                        forecast_url: url(&self.weather_api_url, d.forecast_url),
                        geocoding_url: url(&self.geocoding_api_url, d.geocoding_url),
                        ..d
                    })
                }
                Some(other) => anyhow::bail!("RUNCOACH_WEATHER={other}: give on or off"),
            },
            limits: {
                let d = Limits::default();
                let max = |name: &str, raw: &Option<String>, rule: Rule| -> anyhow::Result<Rule> {
                    Ok(rule.with_max(parsed::<i64>(name, raw)?.unwrap_or(rule.max).max(0)))
                };
                Limits {
                    messages: max("RUNCOACH_LIMIT_MESSAGES_PER_MINUTE", &self.limit_messages, d.messages)?,
                    imports: max("RUNCOACH_LIMIT_IMPORTS_PER_HOUR", &self.limit_imports, d.imports)?,
                    garmin_logins: max(
                        "RUNCOACH_LIMIT_GARMIN_LOGINS_PER_HOUR",
                        &self.limit_garmin_logins,
                        d.garmin_logins,
                    )?,
                    garmin_logins_all: max(
                        "RUNCOACH_LIMIT_GARMIN_LOGINS_ALL_PER_HOUR",
                        &self.limit_garmin_logins_all,
                        d.garmin_logins_all,
                    )?,
                    api_calls: max("RUNCOACH_LIMIT_API_PER_MINUTE", &self.limit_api, d.api_calls)?,
                    ..d
                }
            },
            knowledge: KbConfig {
                kb_dir: present(&self.kb_dir).map(PathBuf::from),
                model: {
                    // The model lives in `models/` of the data dir (the container and an install put
                    // it there) or of the working directory (a checkout after scripts/fetch-models),
                    // always as an absolute path.
                    let home = self.data_dir.join("models");
                    let here = std::env::current_dir().unwrap_or_default().join("models");
                    let base = if home.is_dir() || !here.is_dir() { home } else { here };
                    let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
                    ModelPaths {
                        model_dir: absolute(
                            present(&self.model_dir).map_or_else(|| base.join("multilingual-e5-small"), PathBuf::from),
                        ),
                        ort_library: absolute(
                            present(&self.ort_dylib_path)
                                .map_or_else(|| base.join("onnxruntime/libonnxruntime.so"), PathBuf::from),
                        ),
                    }
                },
            },
        })
    }
}

/// A setting's value, unless it is unset or blank (a templated deployment's `NAME=`).
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A setting parsed as `T`; unset or blank is `None`, a value that does not parse an error
/// naming the variable.
fn parsed<T: std::str::FromStr>(name: &str, v: &Option<String>) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    present(v).map(|s| s.parse::<T>().map_err(|e| anyhow::anyhow!("{name}={s:?}: {e}"))).transpose()
}

/// Telegram allows 1–256 characters of A–Z, a–z, 0–9, `_` and `-`.
fn random_secret() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut rng = rand::rng();
    (0..48).map(|_| CHARS.get(rng.random_range(0..CHARS.len())).map_or('x', |c| char::from(*c))).collect()
}
