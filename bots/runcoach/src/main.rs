//! The `runcoach` binary: parses the command line, opens the store and runs the chosen front end.

mod activity_cmd;
mod admin_cmd;
mod api_key_cmd;
mod cli;
mod eval_cmd;
mod goal_cmd;
mod import_cmd;
mod kb_cmd;
mod science_cmd;
mod summary_cmd;
mod sync_cmd;
mod week_cmd;
mod workout_cmd;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use runcoach_console::ConsoleSession;
use runcoach_core::chat::{BotCore, Sender};
use runcoach_core::config::Settings;
use runcoach_core::domain::{Platform, UserRef};
use runcoach_core::i18n::Lang;
use runcoach_core::store::{self, Store};
use tokio::io::BufReader;
use tracing_subscriber::EnvFilter;

use cli::{Cli, Commands};

fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,runcoach=info"));
    // Logs go to stderr: stdout belongs to the console chat and to JSON output.
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.compact().init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut cli = Cli::parse();
    init_tracing(cli.log_json);
    if let Err(e) = cli.read_secrets() {
        eprintln!("runcoach: {e:#}");
        return ExitCode::from(2);
    }
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            // A database that is full, busy or away: first what it means, in plain words.
            if let Some(
                store_error @ (store::StoreError::Full(_)
                | store::StoreError::Busy(_)
                | store::StoreError::Unavailable(_)),
            ) = e.chain().find_map(|c| c.downcast_ref::<store::StoreError>())
            {
                eprintln!("runcoach: {}", store_error.code().message(Lang::En));
            }
            eprintln!("runcoach: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `GET /healthz` on the operations listener, in plain HTTP/1.0 over a socket (no client or
/// TLS needed for a loopback check): 0 on a 200 within 3 s.
fn healthcheck(mut addr: std::net::SocketAddr) -> ExitCode {
    use std::io::{Read, Write};
    use std::time::Duration;
    // An instance listening on every interface is asked on loopback.
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let check = || -> std::io::Result<bool> {
        let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
        stream.set_read_timeout(Some(Duration::from_secs(3)))?;
        stream.write_all(format!("GET /healthz HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.") && head.get(9..12) == Some(b"200".as_slice()))
    };
    match check() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("runcoach healthcheck: {addr}/healthz did not answer 200");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("runcoach healthcheck: {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>> {
    store::connect(settings.database_url(), &settings.data_dir).await.with_context(|| match settings.database_url() {
        Some(_) => "cannot open the database given by DATABASE_URL".to_owned(),
        None => format!("cannot open the SQLite store in {}", settings.data_dir.display()),
    })
}

async fn run(mut cli: Cli) -> Result<ExitCode> {
    if matches!(cli.command, Some(Commands::Healthcheck)) {
        return Ok(healthcheck(cli.serve_options()?.ops_addr));
    }
    let settings = cli.settings()?;
    let command = cli.command.take().unwrap_or(Commands::Default);
    match command {
        Commands::Healthcheck => Ok(healthcheck(cli.serve_options()?.ops_addr)),
        Commands::Migrate => {
            let store = open_store(&settings).await?;
            println!("migrations applied ({} store)", store.backend());
            Ok(ExitCode::SUCCESS)
        }
        Commands::Chat { user, lang } => chat(&settings, &user, lang).await,
        Commands::Default if !settings.has_platform() => {
            if !std::io::stdin().is_terminal() {
                eprintln!("runcoach: no TELEGRAM_BOT_TOKEN or DISCORD_TOKEN: reading a console chat from stdin");
            }
            let user = std::env::var("USER").ok().filter(|u| UserRef::parse(u).is_ok()).unwrap_or_else(|| "me".into());
            chat(&settings, &user, None).await
        }
        Commands::Default | Commands::Serve => serve(&settings, cli.serve_options()?).await,
        Commands::Import { user, files } => {
            let store = open_store(&settings).await?;
            let id = runner_of(store.as_ref(), &user).await?;
            import_cmd::run(store.as_ref(), id, &files).await
        }
        Commands::Sync { provider: cli::SyncProvider::Garmin { user } } => {
            let store = open_store(&settings).await?;
            let user_ref = UserRef::parse(&user).with_context(|| format!("invalid user {user:?}"))?;
            let id = store.resolve_identity(&user_ref.0, Some(&user_ref.0.platform_user_id), Lang::En).await?.user.id;
            sync_cmd::garmin(&settings, store.as_ref(), id).await
        }
        Commands::Push { provider: cli::PushProvider::Garmin { user, days } } => {
            let store = open_store(&settings).await?;
            let id = find_user(store.as_ref(), &user).await?;
            sync_cmd::push_garmin(&settings, store.as_ref(), id, days).await
        }
        Commands::Kb { command } => {
            let store = open_store(&settings).await?;
            let config = settings.knowledge.clone();
            match command {
                cli::KbCommand::Index => kb_cmd::index(store.as_ref(), &config).await,
                cli::KbCommand::Status { json } => kb_cmd::status(store.as_ref(), &config, json).await,
                cli::KbCommand::Search { query, top, lang, json } => {
                    kb_cmd::search(store.as_ref(), &config, &query, top, lang, json).await
                }
            }
        }
        Commands::Summary { user, week, json, chart, lang } => {
            let store = open_store(&settings).await?;
            let id = find_user(store.as_ref(), &user).await?;
            summary_cmd::summary(store.as_ref(), id, summary_cmd::SummaryArgs { week, json, chart, lang }).await
        }
        Commands::Stats { user, days, json, lang } => {
            let store = open_store(&settings).await?;
            let id = find_user(store.as_ref(), &user).await?;
            if json {
                let today = chrono::Utc::now().date_naive();
                let (_, analysis) = runcoach_core::history::analyze_user_since(store.as_ref(), id, today, days).await?;
                let doc = runcoach_core::history::stats_json(&analysis);
                science_cmd::emit(&format!("{doc}\n"));
            } else {
                // The same text as the chat's /stats.
                let user_ref = UserRef::parse(&user).with_context(|| format!("invalid user {user:?}"))?;
                let text = BotCore::new(store.clone()).stats_text(&user_ref.0, lang).await?.unwrap_or_default();
                science_cmd::emit(&format!("{text}\n"));
            }
            Ok(ExitCode::SUCCESS)
        }
        Commands::Vdot { distance, time, json } => Ok(science_cmd::vdot(&distance, &time, json)),
        Commands::Plan {
            goal,
            weeks,
            race_date,
            sessions,
            level,
            start,
            vdot,
            target_time,
            user,
            save,
            days,
            format,
            lang,
        } => {
            let runner = match user {
                Some(user) => {
                    let store = open_store(&settings).await?;
                    // Saving makes the runner, as `import` does; reading a history needs one.
                    let id = if save {
                        runner_of(store.as_ref(), &user).await?
                    } else {
                        find_user(store.as_ref(), &user).await?
                    };
                    let today = chrono::Utc::now().date_naive();
                    let history = runcoach_core::history::analyze_user(store.as_ref(), id, today).await?.1;
                    Some((store, id, history))
                }
                None => None,
            };
            let args = science_cmd::PlanArgs {
                goal,
                weeks,
                race_date,
                sessions,
                level,
                start,
                vdot,
                target_time,
                days,
                format,
                lang,
            };
            let plan = match science_cmd::plan(args, runner.as_ref().map(|(_, _, h)| h)) {
                Ok(p) => p,
                Err(code) => return Ok(code),
            };
            if let (true, Some((store, id, _))) = (save, runner) {
                runcoach_core::goals::save_plan(store.as_ref(), id, &plan).await.context("saving the plan")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Commands::Activities { user, limit, json } => {
            let store = open_store(&settings).await?;
            let id = find_user(store.as_ref(), &user).await?;
            activity_cmd::list(store.as_ref(), id, limit, json).await
        }
        Commands::Activity { user, id, json } => {
            let store = open_store(&settings).await?;
            let runner = find_user(store.as_ref(), &user).await?;
            activity_cmd::show(store.as_ref(), runner, id, json).await
        }
        Commands::Goal { command: cli::GoalCommand::Add { user, by, target } } => {
            let store = open_store(&settings).await?;
            let id = runner_of(store.as_ref(), &user).await?;
            goal_cmd::add(store.as_ref(), id, &target, by).await
        }
        Commands::Telegram { command: cli::TelegramCommand::Webhook { command: cli::WebhookCommand::Delete } } => {
            let Some(token) = settings.telegram_token.clone() else {
                eprintln!("runcoach telegram: set TELEGRAM_BOT_TOKEN");
                return Ok(ExitCode::from(2));
            };
            let config = runcoach_telegram::TelegramConfig { token, api_url: settings.telegram_api_url.clone() };
            runcoach_telegram::delete_webhook(&config).await.context("deleting the webhook")?;
            eprintln!("runcoach telegram: webhook deleted");
            Ok(ExitCode::SUCCESS)
        }
        Commands::Eval { command: cli::EvalCommand::Coach { json, min_passed } } => {
            let report = eval_cmd::run(settings.llm.clone(), &settings.knowledge).await?;
            if json {
                science_cmd::emit(&format!("{}\n", serde_json::to_string_pretty(&report)?));
            } else {
                science_cmd::emit(&report.render());
            }
            let passed = report.total().passed;
            Ok(match min_passed {
                Some(min) if passed < min => {
                    eprintln!("runcoach eval coach: {passed} checks passed, fewer than the floor of {min}");
                    ExitCode::from(1)
                }
                _ => ExitCode::SUCCESS,
            })
        }
        Commands::Admin { command } => {
            let store = open_store(&settings).await?;
            admin_cmd::run(store.as_ref(), &settings.retention, command, async |s: &dyn Store, u: &str| {
                find_user(s, u).await
            })
            .await
        }
        Commands::ApiKey { command } => {
            let store = open_store(&settings).await?;
            api_key_cmd::run(store.as_ref(), command).await
        }
        Commands::Goals { user, json, lang } => {
            let store = open_store(&settings).await?;
            let id = find_user(store.as_ref(), &user).await?;
            goal_cmd::list(store.as_ref(), id, json, lang).await
        }
        Commands::Week { user, date, json } => {
            let store = open_store(&settings).await?;
            let id = find_user(store.as_ref(), &user).await?;
            week_cmd::run(store.as_ref(), id, date, json).await
        }
        Commands::Workout { user, date, out } => {
            let store = open_store(&settings).await?;
            let id = find_user(store.as_ref(), &user).await?;
            workout_cmd::run(store.as_ref(), id, date, out).await
        }
        Commands::Export { user } => {
            let store = open_store(&settings).await?;
            let id = find_user(store.as_ref(), &user).await?;
            let doc = store.export_user(id).await?;
            science_cmd::emit(&format!("{}\n", serde_json::to_string_pretty(&doc)?));
            Ok(ExitCode::SUCCESS)
        }
        Commands::Ask { user, question } => ask(&settings, &user, &question.join(" ")).await,
        Commands::Forget { user, yes } => {
            if !yes {
                eprintln!("runcoach: this deletes every record of {user}; add --yes to confirm");
                return Ok(ExitCode::from(2));
            }
            let store = open_store(&settings).await?;
            let id = find_user(store.as_ref(), &user).await?;
            store.erase_user(id).await?;
            println!("erased {user}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Gives the coach the knowledge base: lexical search at once, then (in the background) the
/// embedded index once the passages the store's cache lacks are embedded. A missing knowledge
/// base is logged and the coach answers without it.
fn attach_knowledge(core: &Arc<BotCore>, store: Arc<dyn Store>, config: runcoach_core::knowledge::KbConfig) {
    match runcoach_core::knowledge::KnowledgeBase::from_config(&config, None) {
        Ok(lexical) => core.set_knowledge(Some(Arc::new(lexical))),
        Err(e) => {
            tracing::warn!(error = %e, source = %config.source(), "knowledge base not loaded");
            return;
        }
    }
    let core = core.clone();
    tokio::spawn(async move {
        // Loading the model reads and initialises the ONNX file: keep it off the async workers.
        let loaded = tokio::task::spawn_blocking(move || runcoach_core::knowledge::KnowledgeBase::load(&config)).await;
        let mut kb = match loaded {
            Ok(Ok(kb)) => kb,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "knowledge base model not loaded: lexical search only");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "knowledge base loading stopped: lexical search only");
                return;
            }
        };
        match kb.index(store.as_ref()).await {
            Ok(_) => core.set_knowledge(Some(Arc::new(kb))),
            Err(e) => tracing::warn!(error = %e, "knowledge base indexing failed: lexical search only"),
        }
    });
}

/// The key sealing Garmin tokens: `RUNCOACH_SECRET_KEY`, or on the embedded default (SQLite, one
/// machine) a key made on first use in the data dir (`secret.key`, mode 0600). Instances sharing
/// a PostgreSQL database must seal with one key, so there it comes from the settings only.
pub fn sealing_key(settings: &Settings) -> Result<Option<secrecy::SecretString>> {
    use base64::Engine;
    if let Some(key) = &settings.secret_key {
        return Ok(Some(key.clone()));
    }
    if settings.database_url.is_some() {
        tracing::info!(
            "RUNCOACH_SECRET_KEY is not set: with a shared PostgreSQL database every instance needs the same key, so Garmin sync is off"
        );
        return Ok(None);
    }
    let path = settings.data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => return Ok(Some(secrecy::SecretString::from(text.trim().to_owned()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading the sealing key {}", path.display())),
    }
    let mut key = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut key[..]);
    let text = base64::engine::general_purpose::STANDARD.encode(key);
    std::fs::create_dir_all(&settings.data_dir).with_context(|| format!("creating {}", settings.data_dir.display()))?;
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        // create_new: two processes starting at once never overwrite each other's key.
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(mut f) => {
                f.write_all(text.as_bytes())
                    .and_then(|()| f.sync_all())
                    .with_context(|| format!("writing {}", path.display()))?;
                tracing::info!(path = %path.display(), "made the key sealing Garmin tokens (keep it with the data: without it runners reconnect)");
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                return Ok(Some(secrecy::SecretString::from(text.trim().to_owned())));
            }
            Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }
    Ok(Some(secrecy::SecretString::from(text)))
}

/// Garmin sync, with its tokens sealed by [`sealing_key`].
fn garmin_service(settings: &Settings) -> Result<Option<Arc<runcoach_core::chat::GarminService>>> {
    let key = sealing_key(settings)?;
    let service =
        runcoach_core::chat::GarminService::configured(key.as_ref(), settings.garmin.clone(), settings.garmin_sync)
            .context("Garmin configuration")?;
    Ok(service.map(Arc::new))
}

/// The LLM agent when `RUNCOACH_LLM_BASE_URL` or `RUNCOACH_LLM_API_KEY` is set.
fn llm_agent(settings: &Settings) -> Option<Arc<runcoach_core::agent::Agent>> {
    match settings.llm.clone() {
        Some(config) => {
            tracing::info!(model = %config.model, "LLM coach on (the deterministic coach answers when it fails)");
            Some(Arc::new(runcoach_core::agent::Agent::new(config)))
        }
        None => {
            tracing::info!("no RUNCOACH_LLM_BASE_URL or RUNCOACH_LLM_API_KEY: the deterministic coach answers");
            None
        }
    }
}

/// Open-Meteo for the weather, unless RUNCOACH_WEATHER=off.
fn weather_service(settings: &Settings) -> Option<Arc<runcoach_core::weather::WeatherService>> {
    let config = settings.weather.clone()?;
    match runcoach_core::weather::WeatherService::new(config) {
        Ok(w) => Some(Arc::new(w)),
        Err(e) => {
            tracing::warn!(error = %e, "no weather: the HTTP client could not be built");
            None
        }
    }
}

/// The core with everything the environment turns on, without its knowledge base.
fn bare_core(settings: &Settings, store: Arc<dyn Store>) -> Result<Arc<BotCore>> {
    Ok(Arc::new(
        BotCore::new(store)
            .with_garmin(garmin_service(settings)?)
            .with_agent(llm_agent(settings))
            .with_limits(settings.limits)
            .with_weather(weather_service(settings)),
    ))
}

/// The core of a long-running process (the service, the interactive console), its knowledge
/// base indexing in the background.
fn build_core(settings: &Settings, store: Arc<dyn Store>) -> Result<Arc<BotCore>> {
    let core = bare_core(settings, store.clone())?;
    attach_knowledge(&core, store, settings.knowledge.clone());
    Ok(core)
}

/// The core of a one-shot command (`ask`, a piped `chat`): it answers at once from lexical
/// search plus the vectors already cached, and never waits for an index or a model it would
/// not use (`KnowledgeBase::load_cached_only`).
async fn one_shot_core(settings: &Settings, store: Arc<dyn Store>) -> Result<Arc<BotCore>> {
    // The knowledge base first: loading the model peaks (its file is read whole) and then frees,
    // and the core's clients then reuse that memory instead of adding to the peak.
    let kb = runcoach_core::knowledge::KnowledgeBase::load_cached_only(&settings.knowledge, store.as_ref()).await;
    let core = bare_core(settings, store)?;
    match kb {
        Ok(kb) => core.set_knowledge(Some(Arc::new(kb))),
        Err(e) => tracing::warn!(error = %e, "knowledge base not loaded"),
    }
    Ok(core)
}

/// `runcoach ask --user NAME "question"`: one question to the coach, the answer on stdout.
async fn ask(settings: &Settings, user: &str, question: &str) -> Result<ExitCode> {
    let user_ref = UserRef::parse(user).with_context(|| format!("invalid user {user:?}"))?;
    let store = open_store(settings).await?;
    let core = one_shot_core(settings, store).await?;
    let msg = runcoach_core::chat::Incoming {
        sender: Sender {
            platform: user_ref.0.platform,
            user_id: user_ref.0.platform_user_id.clone(),
            username: Some(user_ref.0.platform_user_id.clone()),
            language_code: locale_language(),
        },
        chat: runcoach_core::chat::ChatRef::new(format!("cli-{}", user_ref.0.platform_user_id), true),
        content: runcoach_core::chat::Content::Command { name: "ask".into(), args: question.to_owned() },
    };
    for reply in core.handle(msg).await {
        science_cmd::emit(&format!("{}\n", reply.text));
    }
    Ok(ExitCode::SUCCESS)
}

/// The runner behind `user`, created on first use.
async fn runner_of(store: &dyn Store, user: &str) -> Result<runcoach_core::domain::UserId> {
    let user_ref = UserRef::parse(user).with_context(|| format!("invalid user {user:?}"))?;
    Ok(store.resolve_identity(&user_ref.0, Some(&user_ref.0.platform_user_id), Lang::En).await?.user.id)
}

async fn find_user(store: &dyn Store, user: &str) -> Result<runcoach_core::domain::UserId> {
    let user_ref = UserRef::parse(user).with_context(|| format!("invalid user {user:?}"))?;
    let found = store.find_user(&user_ref.0).await?;
    found.map(|u| u.id).with_context(|| format!("no runner {user:?} in this store"))
}

/// The language of the terminal's locale (`LC_ALL`, `LC_MESSAGES`, then `LANG`: `fr_FR.UTF-8` is
/// French), as a chat platform gives its client's: a new console runner is greeted in it.
fn locale_language() -> Option<String> {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .map(|v| v.split(['_', '.', '@']).next().unwrap_or_default().to_lowercase())
        .filter(|code| code.len() == 2)
}

async fn chat(settings: &Settings, user: &str, lang: Option<Lang>) -> Result<ExitCode> {
    let user_ref = UserRef::parse(user).with_context(|| format!("invalid user {user:?}"))?;
    if user_ref.0.platform != Platform::Console {
        anyhow::bail!("the console chat takes a plain name, not {user:?}");
    }
    let store = open_store(settings).await?;
    let interactive = std::io::stdin().is_terminal();
    // A piped chat is a one-shot command: it never starts an index it would wait for at exit.
    let core = if interactive { build_core(settings, store)? } else { one_shot_core(settings, store).await? };
    let session = ConsoleSession {
        core: &core,
        user: user_ref.0.platform_user_id.clone(),
        language_code: lang.map(|l| l.code().to_owned()).or_else(locale_language),
        interactive,
        outbox: settings.data_dir.join("outbox"),
    };
    if let Some(lang) = lang {
        let sender = Sender {
            platform: Platform::Console,
            user_id: session.user.clone(),
            username: Some(session.user.clone()),
            language_code: Some(lang.code().to_owned()),
        };
        core.set_language(&sender, lang).await?;
    }
    session.run(BufReader::new(tokio::io::stdin()), tokio::io::stdout()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(settings: &Settings, options: cli::ServeOptions) -> Result<ExitCode> {
    let store = open_store(settings).await?;
    // Without a chat platform, the HTTP API and the scheduler can still run, given a key.
    let api = !options.api_keys.is_empty() || store.api_keys().await?.iter().any(|k| k.revoked_at.is_none());
    if !settings.has_platform() && !api {
        eprintln!(
            "runcoach serve: nothing to serve. Set TELEGRAM_BOT_TOKEN or DISCORD_TOKEN for the chats, \
             or RUNCOACH_API_KEYS (or `runcoach api-key create NAME`) for the HTTP API alone; \
             or talk to the coach here with `runcoach chat --user NAME`."
        );
        return Ok(ExitCode::from(2));
    }
    if !settings.has_platform() {
        tracing::info!("no chat platform configured: serving the HTTP API and the scheduler");
    }
    let core = build_core(settings, store)?;
    let state = runcoach_http::AppState::new(core.clone(), options.api_keys.clone());
    let listener = tokio::net::TcpListener::bind(options.http_addr)
        .await
        .with_context(|| format!("cannot listen on {} (RUNCOACH_HTTP_ADDR)", options.http_addr))?;
    // The operations routes on their own address, unless it is the HTTP one (development).
    let ops_listener = if options.ops_addr == options.http_addr {
        None
    } else {
        Some(
            tokio::net::TcpListener::bind(options.ops_addr)
                .await
                .with_context(|| format!("cannot listen on {} (RUNCOACH_OPS_ADDR)", options.ops_addr))?,
        )
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let mut app = match ops_listener {
        Some(_) => runcoach_http::public_router(state.clone()),
        None => runcoach_http::router(state.clone()),
    };
    let mut tasks = tokio::task::JoinSet::new();
    let mut notifier = PlatformNotifier::default();
    if let Some(token) = settings.telegram_token.clone() {
        let config = runcoach_telegram::TelegramConfig { token, api_url: settings.telegram_api_url.clone() };
        notifier.telegram = Some(runcoach_telegram::TelegramNotifier::new(runcoach_telegram::bot(&config)));
        let readiness = state.readiness.clone();
        readiness.set("telegram", false);
        let ready = move |up: bool| readiness.set("telegram", up);
        match options.webhook.clone() {
            Some((url, secret)) => {
                let hook = runcoach_telegram::Webhook { url, secret };
                let (router, task) =
                    runcoach_telegram::start_webhook(core.clone(), config, hook, stopped(stop_rx.clone()), ready)
                        .await?;
                app = app.merge(router);
                tasks.spawn(async move { task.await.map_err(anyhow::Error::from) });
            }
            None => {
                let shutdown = stopped(stop_rx.clone());
                let core = core.clone();
                tasks.spawn(async move {
                    runcoach_telegram::run_with(core, config, shutdown, ready).await.map_err(anyhow::Error::from)
                });
            }
        }
    }
    if let Some(token) = settings.discord_token.clone() {
        let config = runcoach_discord::DiscordConfig {
            token,
            api_url: options.discord_api_url.clone(),
            guild_id: options.discord_guild_id,
            shards: options.discord_shards,
        };
        notifier.discord = Some(runcoach_discord::DiscordNotifier::new(Arc::new(runcoach_discord::http(&config))));
        let shutdown = stopped(stop_rx.clone());
        let core = core.clone();
        let readiness = state.readiness.clone();
        readiness.set("discord", false);
        let ready = move |up: bool| readiness.set("discord", up);
        tasks.spawn(async move {
            runcoach_discord::run_with(core, config, shutdown, ready).await.map_err(anyhow::Error::from)
        });
    }
    // Weekly summaries: every instance runs a worker; jobs are claimed with SKIP LOCKED on
    // PostgreSQL (one worker on SQLite), so each summary goes out once.
    {
        let store = core.store().clone();
        let stop = stop_rx.clone();
        let worker = format!("{}-{}", hostname(), std::process::id());
        let notifier = runcoach_core::scheduler::RateLimited::new(notifier);
        // Background Garmin syncs share the chat's client, so its pace holds for the instance.
        let config = runcoach_core::scheduler::WorkerConfig {
            garmin: core.garmin_access(),
            weather: core.weather(),
            retention: settings.retention,
            ..runcoach_core::scheduler::WorkerConfig::default()
        };
        tasks.spawn(async move {
            runcoach_core::scheduler::run(
                store.as_ref(),
                &worker,
                &notifier,
                &runcoach_core::scheduler::SystemClock,
                &config,
                options.scheduler_poll,
                stop,
            )
            .await;
            tracing::info!("scheduler stopped");
            Ok(())
        });
    }
    if let Some(ops) = ops_listener {
        tracing::info!(addr = %options.ops_addr, "operations listening (/metrics, /readyz, /healthz)");
        let ops_app = runcoach_http::operations_router(state.clone());
        let ops_stop = stopped(stop_rx.clone());
        tasks.spawn(async move { runcoach_http::serve(ops, ops_app, ops_stop).await.map_err(anyhow::Error::from) });
        tracing::info!(addr = %options.http_addr, "HTTP server listening (/healthz, /v1, the webhook)");
    } else {
        tracing::info!(addr = %options.http_addr, "HTTP server listening (/healthz, /readyz, /metrics, /v1)");
    }
    let http_stop = stopped(stop_rx.clone());
    tasks.spawn(async move {
        let served = runcoach_http::serve(listener, app, http_stop).await;
        tracing::info!("HTTP server stopped");
        served.map_err(anyhow::Error::from)
    });
    let mut failure = None;
    tokio::select! {
        _ = shutdown_signal() => tracing::info!("shutting down: finishing in-flight work"),
        Some(done) = tasks.join_next() => {
            // A part that stops on its own (bad token, unreachable API) stops the service.
            if let Err(e) = done.map_err(anyhow::Error::from).and_then(|r| r) {
                failure = Some(e);
            }
        }
    }
    // Graceful: adapters stop taking updates and finish the ones in hand, the scheduler ends its
    // pass, the HTTP server finishes open requests.
    let _ = stop_tx.send(true);
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done.map_err(anyhow::Error::from).and_then(|r| r) {
            failure.get_or_insert(e);
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "runcoach".to_owned())
}

/// Sends scheduled messages through whichever adapter serves the chat's platform.
#[derive(Default)]
struct PlatformNotifier {
    telegram: Option<runcoach_telegram::TelegramNotifier>,
    discord: Option<runcoach_discord::DiscordNotifier>,
}

#[async_trait::async_trait]
impl runcoach_core::chat::Notifier for PlatformNotifier {
    async fn send(
        &self,
        chat: &runcoach_core::chat::ChatKey,
        replies: &[runcoach_core::chat::Reply],
    ) -> Result<(), runcoach_core::chat::NotifyError> {
        match (chat.platform, &self.telegram, &self.discord) {
            (Platform::Telegram, Some(t), _) => t.send(chat, replies).await,
            (Platform::Discord, _, Some(d)) => d.send(chat, replies).await,
            // Kept in the queue (retried with back-off) until an instance serving that platform runs.
            (platform, _, _) => {
                Err(runcoach_core::chat::NotifyError::Transient(format!("no {platform:?} adapter on this instance")))
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
