//! The bot core: turns an [`Incoming`] message into replies. It never fails outward: every error
//! becomes a translated message, and nothing is half written (each change is one store call or
//! one transaction).

use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Utc};
use rand::Rng;
use serde_json::json;
use tracing::{info, warn};

use super::coach::{self, Intent};
use super::commands::{self, Command, CommandError, ParsedText};
use super::flow::{BTN_COMMAND, Failure, FlowCtx, Handled};
use super::garmin_flow::{self, GarminService};
use super::plan_flow::{self, Wizard};
use super::texts;
use super::weather_flow;
use super::{Attachment, AttachmentKind, Button, Content, Incoming, Progress, Reply, Sender, Unsupported};
use super::{ClubRef, activity_flow, activity_view, club_flow, goal_flow, summary_flow};
use crate::agent::{Agent, ToolBox, Turn};
use crate::clock::{Clock, SystemClock};
use crate::domain::{
    BirthYear, HeartRate, HeightCm, Platform, PlatformIdentity, ProfileError, ProfileField, Sex, TimeZoneName, Units,
    User, Vma, Vo2max, WeightKg,
};
use crate::error::ErrorCode;
use crate::i18n::Lang;
use crate::knowledge::KnowledgeBase;
use crate::limits::{self, Limits, Verdict};
use crate::message::ChatKey;
use crate::store::{LinkError, ProfileUpdate, Role, Store, StoreError};

/// Longest message the core reads; longer ones are refused before anything is stored.
pub const MAX_MESSAGE_CHARS: usize = 8_000;
/// Largest file the core accepts from a chat (a long FIT file is a few MB; Garmin's ZIPs less).
pub const MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;
/// How long a `/link` code stays valid.
const LINK_CODE_MINUTES: i64 = 10;
/// Characters in a link code: 10 of 32 is 50 bits, shown as two groups of five.
const LINK_CODE_LEN: usize = 10;
const BTN_LINK_YES: &str = "link:yes";
const BTN_LINK_NO: &str = "link:no";
const STATE_LINK: &str = "confirm_link";
/// No 0/O or 1/I: codes are read aloud and typed on phones.
const LINK_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

const BTN_LANG_FR: &str = "lang:fr";
const BTN_LANG_EN: &str = "lang:en";
const BTN_FORGET_YES: &str = "forget:yes";
const BTN_FORGET_NO: &str = "forget:no";
const STATE_FORGET: &str = "confirm_forget";
const BTN_RATE: &str = "rate:";
/// Turns the LLM sees verbatim; older ones reach it through the running summary.
const MEMORY_TURNS: i64 = 8;
/// Older messages folded into the summary at a time (one summarising call per this many).
const SUMMARY_BATCH: usize = 8;

pub struct BotCore {
    store: Arc<dyn Store>,
    garmin: Option<Arc<GarminService>>,
    /// Swappable: the binary starts with lexical search and swaps in the embedded index once the
    /// background indexing is done, so a first start never waits for the model.
    knowledge: std::sync::RwLock<Option<Arc<KnowledgeBase>>>,
    agent: Option<Arc<Agent>>,
    fallbacks: std::sync::atomic::AtomicU64,
    /// The tools each model answer called, for `runcoach eval coach`.
    tool_trace: Option<Arc<std::sync::Mutex<Vec<String>>>>,
    /// Read once per message: every step of its handling sees the same instant.
    clock: Arc<dyn Clock>,
    limits: Limits,
    /// Forecasts for `/today` and the reminders; `None`: no weather on this server.
    weather: Option<Arc<crate::weather::WeatherService>>,
}

/// How long a message waits for a database that went away (a restart, a failover) before the
/// runner is told to try again.
const STORE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);

struct Ctx<'a> {
    user: User,
    sender: &'a Sender,
    chat: ChatKey,
    private: bool,
    /// The Discord server the message comes from, if any.
    club: Option<ClubRef>,
    /// This message created the runner (first contact).
    created: bool,
    /// When the message is handled, from the core's clock.
    now: DateTime<Utc>,
}

impl Ctx<'_> {
    fn lang(&self) -> Lang {
        self.user.lang
    }
}

impl BotCore {
    #[must_use]
    pub fn new(store: Arc<dyn Store>) -> Self {
        BotCore {
            store,
            garmin: None,
            knowledge: std::sync::RwLock::new(None),
            agent: None,
            fallbacks: std::sync::atomic::AtomicU64::new(0),
            tool_trace: None,
            clock: Arc::new(SystemClock),
            limits: Limits::default(),
            weather: None,
        }
    }

    /// Replaces the default limits (the binary reads them from its settings).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits this core applies.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Which API key `given` is (configured or stored), for the HTTP adapter.
    pub async fn api_caller(
        &self,
        configured: &[crate::api_keys::ConfiguredKey],
        given: &str,
    ) -> Result<Option<crate::api_keys::Caller>, StoreError> {
        crate::api_keys::identify(self.store.as_ref(), configured, given).await
    }

    /// Counts one HTTP API call of `caller` against its per-minute limit.
    pub async fn admit_api_call(
        &self,
        caller: &crate::api_keys::Caller,
        now: DateTime<Utc>,
    ) -> Result<Verdict, StoreError> {
        limits::take(self.store.as_ref(), self.limits.api_calls, caller.name.as_str(), now).await
    }

    /// Reads the time from `clock` instead of the system's (tests move time with a `TestClock`).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Grounds free-text answers in our knowledge base.
    #[must_use]
    pub fn with_knowledge(self, knowledge: Option<Arc<KnowledgeBase>>) -> Self {
        self.set_knowledge(knowledge);
        self
    }

    /// Replaces the knowledge base the coach answers from (e.g. once indexing has finished).
    pub fn set_knowledge(&self, knowledge: Option<Arc<KnowledgeBase>>) {
        if let Ok(mut slot) = self.knowledge.write() {
            *slot = knowledge;
        }
    }

    fn knowledge(&self) -> Option<Arc<KnowledgeBase>> {
        self.knowledge.read().ok().and_then(|kb| kb.clone())
    }

    /// Adds the weather to `/today` and lets runners set where they run.
    #[must_use]
    pub fn with_weather(mut self, weather: Option<Arc<crate::weather::WeatherService>>) -> Self {
        self.weather = weather;
        self
    }

    /// The weather service, for the scheduler's morning reminders.
    #[must_use]
    pub fn weather(&self) -> Option<Arc<crate::weather::WeatherService>> {
        self.weather.clone()
    }

    /// Enables `/sync` with Garmin Connect.
    #[must_use]
    pub fn with_garmin(mut self, garmin: Option<Arc<GarminService>>) -> Self {
        self.garmin = garmin;
        self
    }

    /// Garmin for the scheduler's background syncs: the chat's client (one pace per instance).
    #[must_use]
    pub fn garmin_access(&self) -> Option<crate::garmin::GarminAccess> {
        self.garmin.as_ref().map(|g| g.access())
    }

    /// Records the tools every model answer called (the coach evaluation judges them).
    #[must_use]
    pub fn with_tool_trace(mut self, trace: Option<Arc<std::sync::Mutex<Vec<String>>>>) -> Self {
        self.tool_trace = trace;
        self
    }

    /// Answers free text with an LLM agent; without one (or when it fails) the deterministic
    /// coach answers.
    #[must_use]
    pub fn with_agent(mut self, agent: Option<Arc<Agent>>) -> Self {
        self.agent = agent;
        self
    }

    #[must_use]
    pub fn agent(&self) -> Option<&Arc<Agent>> {
        self.agent.as_ref()
    }

    /// Answers the deterministic coach gave because the LLM failed.
    #[must_use]
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The store, for the binary that wires the scheduler and the adapters to the same one.
    /// Adapters ask the core instead ([`BotCore::database_health`], [`BotCore::stats_of`]).
    #[must_use]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The database as the operations endpoints report it: its backend's name and whether it
    /// answers.
    pub async fn database_health(&self) -> (&'static str, Result<(), StoreError>) {
        (self.store.backend(), self.store.ping().await)
    }

    /// Jobs waiting to be sent (weekly summaries, club digests), for the metrics.
    pub async fn queue_depth(&self) -> Result<i64, StoreError> {
        self.store.queue_depth().await
    }

    /// A runner's history in numbers (the HTTP API's stats): `None` when nobody has `identity`.
    /// `days` limits it to the last days, counted to today in the runner's time zone.
    pub async fn stats_of(
        &self,
        identity: &PlatformIdentity,
        days: Option<u32>,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let Some(user) = self.store.find_user(identity).await? else {
            return Ok(None);
        };
        let today = self.clock.now().with_timezone(&user.timezone.tz()).date_naive();
        let (_, analysis) = crate::history::analyze_user_since(self.store.as_ref(), user.id, today, days).await?;
        Ok(Some(crate::history::stats_json(&analysis)))
    }

    /// What `/stats` answers a runner (for `runcoach stats`): `None` when nobody has `identity`.
    pub async fn stats_text(
        &self,
        identity: &PlatformIdentity,
        lang: Option<Lang>,
    ) -> Result<Option<String>, StoreError> {
        let Some(mut user) = self.store.find_user(identity).await? else {
            return Ok(None);
        };
        if let Some(lang) = lang {
            user.lang = lang;
        }
        let now = self.clock.now();
        let today = now.with_timezone(&user.timezone.tz()).date_naive();
        let chat = ChatKey { platform: identity.platform, chat_id: identity.platform_user_id.clone() };
        let ctx = FlowCtx {
            store: self.store.as_ref(),
            user: &user,
            chat: &chat,
            now,
            today,
            progress: None,
            limits: self.limits,
            weather: self.weather.as_deref(),
        };
        match activity_flow::stats(&ctx).await {
            Ok(replies) => Ok(Some(replies.iter().map(|r| r.text.as_str()).collect::<Vec<_>>().join("\n\n"))),
            Err(Failure::Store(e)) => Err(e),
            Err(Failure::Say(text) | Failure::Internal(text)) => Ok(Some(text)),
        }
    }

    /// Handles one message. Always answers, in the runner's language.
    pub async fn handle(&self, msg: Incoming) -> Vec<Reply> {
        self.handle_with_progress(msg, None).await
    }

    /// [`BotCore::handle`], showing work in progress (a growing answer) through `progress`.
    pub async fn handle_with_progress(&self, msg: Incoming, progress: Option<&dyn Progress>) -> Vec<Reply> {
        use crate::metrics::{CommandLabel, METRICS, Metrics};
        let started = std::time::Instant::now();
        let platform = Metrics::platform(msg.sender.platform);
        // The label is a registry name or a content kind: never what the user typed.
        let command = match &msg.content {
            Content::Command { name, .. } => commands::lookup(name).map_or("other", |c| c.name),
            Content::Text(t) => match commands::parse_text(t) {
                ParsedText::Command { name, .. } => commands::lookup(&name).map_or("other", |c| c.name),
                ParsedText::Text(_) => "text",
            },
            Content::Button(_) => "button",
            Content::File { .. } => "file",
            Content::Form { .. } => "form",
            Content::Unsupported(_) => "other",
        };
        METRICS.messages_in.get_or_create(&platform).inc();
        let replies = self.answer(msg, progress).await;
        METRICS.messages_out.get_or_create(&platform).inc_by(replies.len() as u64);
        METRICS
            .reply_seconds
            .get_or_create(&CommandLabel { platform: platform.platform.clone(), command: command.to_owned() })
            .observe(started.elapsed().as_secs_f64());
        replies
    }

    /// Answers `msg`; while the database is unreachable, waits for it with back-off (up to
    /// [`STORE_PATIENCE`]) and handles the message again, so a database restart loses no message.
    /// Each store call is one transaction: the call that failed left nothing half-written, and
    /// the next try finds what the calls before it committed (imports dedupe and settings are set
    /// again; at worst a conversation line is logged twice).
    async fn answer(&self, msg: Incoming, progress: Option<&dyn Progress>) -> Vec<Reply> {
        use backon::Retryable;
        let deadline = std::time::Instant::now() + STORE_PATIENCE;
        let waits = backon::ExponentialBuilder::default()
            .with_min_delay(std::time::Duration::from_millis(200))
            .with_max_delay(std::time::Duration::from_secs(3))
            .without_max_times();
        let answered = (|| self.attempt(&msg, progress))
            .retry(waits)
            .sleep(tokio::time::sleep)
            .when(|(e, _)| matches!(e, StoreError::Unavailable(_)))
            // Past the deadline (counting the tries' own time), the runner is told to try again.
            .adjust(|_, wait| wait.filter(|w| std::time::Instant::now() + *w < deadline))
            .notify(|(e, _), wait| {
                warn!(error = %e, wait_ms = wait.as_millis(), "database unavailable: handling the message again");
            })
            .await;
        answered.unwrap_or_else(|(e, lang)| {
            crate::metrics::METRICS.store_errors.inc();
            vec![Reply::text(store_failure(&e, lang))]
        })
    }

    /// One try at [`BotCore::answer`]; a store failure comes back with the language to tell it in.
    async fn attempt(&self, msg: &Incoming, progress: Option<&dyn Progress>) -> Result<Vec<Reply>, (StoreError, Lang)> {
        let platform_lang = Lang::from_platform_code(msg.sender.language_code.as_deref());
        if let Some(len) = too_long(&msg.content) {
            info!(len, "refused an oversized message");
            // Answer in the runner's chosen language if we know them, without storing anything.
            let lang = match self.store.find_user(&msg.sender.identity()).await {
                Ok(Some(user)) => user.lang,
                _ => platform_lang,
            };
            return Ok(vec![Reply::text(texts::too_long(lang, MAX_MESSAGE_CHARS))]);
        }
        let resolved = match self
            .store
            .resolve_identity(&msg.sender.identity(), msg.sender.username.as_deref(), platform_lang)
            .await
        {
            Ok(r) => r,
            Err(e) => return Err((e, platform_lang)),
        };
        let lang = resolved.user.lang;
        let now = self.clock.now();
        // Counted in the store, so a flood spread over instances is one flood.
        match limits::take(self.store.as_ref(), self.limits.messages, &resolved.user.id.to_string(), now).await {
            Ok(Verdict::Allowed) => {}
            Ok(Verdict::Denied { retry_at }) => {
                info!(user = %resolved.user.id, "message limit reached");
                return Ok(vec![Reply::text(format!(
                    "⏳ {} {}.",
                    ErrorCode::RateLimited.message(lang),
                    limits::retry_in(lang, retry_at, now)
                ))]);
            }
            Err(e) => return Err((e, lang)),
        }
        // Last seen, to the day: the inactivity rule of the retention policy. The runner row was
        // just read, so the store is written only when the day has turned.
        let seen_today = resolved.user.last_seen_at.is_some_and(|at| now - at < chrono::Duration::days(1));
        if !seen_today && let Err(e) = self.store.touch_user(resolved.user.id, now).await {
            return Err((e, lang));
        }
        // A runner in miles reads miles in private; a group's texts are shared, and help and goal
        // texts show what to type (in km), so they stay metric.
        let units = match resolved.user.units {
            Units::Imperial if msg.chat.private && !keeps_metric(&msg.content) => Units::Imperial,
            _ => Units::Metric,
        };
        let ctx = Ctx {
            user: resolved.user,
            sender: &msg.sender,
            chat: ChatKey { platform: msg.sender.platform, chat_id: msg.chat.id.clone() },
            private: msg.chat.private,
            club: msg.chat.club.clone(),
            created: resolved.created,
            now,
        };
        let localise = |mut replies: Vec<Reply>| {
            for r in &mut replies {
                r.text = units.localise(lang, &r.text);
            }
            replies
        };
        match self.dispatch(ctx, msg.content.clone(), progress).await {
            Ok(replies) => Ok(localise(replies)),
            Err(Failure::Say(text)) => Ok(localise(vec![Reply::text(text)])),
            Err(Failure::Internal(what)) => {
                tracing::error!(%what, "a flow failed on our side");
                Ok(vec![Reply::text(ErrorCode::Internal.message(lang))])
            }
            Err(Failure::Store(e)) => Err((e, lang)),
        }
    }

    /// The language to answer `sender` in: theirs if known, else their platform's.
    pub async fn language_of(&self, sender: &Sender) -> Lang {
        match self.store.find_user(&sender.identity()).await {
            Ok(Some(user)) => user.lang,
            _ => Lang::from_platform_code(sender.language_code.as_deref()),
        }
    }

    /// Sets a known runner's language before a session (the console's `--lang`). A runner not
    /// yet known is created by their first message, in the language of `sender.language_code`.
    pub async fn set_language(&self, sender: &Sender, lang: Lang) -> Result<(), StoreError> {
        match self.store.find_user(&sender.identity()).await? {
            Some(user) if user.lang != lang => self.store.set_language(user.id, lang).await,
            _ => Ok(()),
        }
    }

    async fn dispatch(&self, ctx: Ctx<'_>, content: Content, progress: Option<&dyn Progress>) -> Handled {
        let pending = self.store.dialogue_state(ctx.user.id, &ctx.chat).await?;
        let pending_kind = pending.as_ref().and_then(|s| s.get("kind")).and_then(|k| k.as_str()).map(str::to_owned);
        match content {
            // A plan is personal: its buttons (the calendar, the full plan, the wizard) answer
            // in private only, whoever presses them in a group.
            Content::Button(data) if data.starts_with(plan_flow::BUTTON_PREFIX) && !ctx.private => {
                Ok(vec![Reply::text(ErrorCode::PrivateChatOnly.message(ctx.lang()))])
            }
            Content::Button(data) if data.starts_with(plan_flow::BUTTON_PREFIX) => {
                let wizard = pending.as_ref().and_then(Wizard::from_state);
                plan_flow::button(&self.flow_ctx(&ctx), &data, wizard).await
            }
            Content::Button(data) => self.button(ctx, &data, pending_kind.as_deref()).await,
            Content::Command { name, args } => {
                self.clear_pending(&ctx, pending_kind.as_deref()).await?;
                self.command(ctx, &name, &args, progress).await
            }
            // Whatever is typed at the password step is the password, even if it starts with '/'.
            Content::Text(text)
                if matches!(
                    pending.as_ref().and_then(garmin_flow::from_state),
                    Some(garmin_flow::LoginState::Password { .. })
                ) =>
            {
                let state = pending.as_ref().and_then(garmin_flow::from_state);
                match state {
                    Some(state) => {
                        garmin_flow::text(&self.flow_ctx_with(&ctx, progress), self.garmin.as_deref(), state, &text)
                            .await
                    }
                    None => Ok(Vec::new()),
                }
            }
            Content::Text(text) => match commands::parse_text(&text) {
                ParsedText::Command { name, args } => {
                    self.clear_pending(&ctx, pending_kind.as_deref()).await?;
                    self.command(ctx, &name, &args, progress).await
                }
                ParsedText::Text(text) => {
                    if let Some(state) = pending.as_ref().and_then(garmin_flow::from_state) {
                        return garmin_flow::text(
                            &self.flow_ctx_with(&ctx, progress),
                            self.garmin.as_deref(),
                            state,
                            &text,
                        )
                        .await;
                    }
                    if let Some(wizard) = pending.as_ref().and_then(Wizard::from_state) {
                        return plan_flow::text(&self.flow_ctx(&ctx), &text, wizard).await;
                    }
                    if pending_kind.as_deref() == Some(STATE_FORGET) {
                        let yes = matches!(text.to_lowercase().as_str(), "yes" | "oui" | "y" | "o");
                        return self.forget_answer(ctx, yes).await;
                    }
                    self.free_text(ctx, &text, progress).await
                }
            },
            Content::Unsupported(Unsupported::Media(kind)) => {
                info!(kind = %kind.chars().take(32).collect::<String>(), "unsupported content");
                Ok(vec![Reply::text(texts::unsupported_media(ctx.lang()))])
            }
            Content::Unsupported(Unsupported::FileTooLarge { bytes }) => {
                Ok(vec![Reply::text(texts::file_too_large(ctx.lang(), bytes, MAX_FILE_BYTES))])
            }
            Content::Form { id, values } => {
                if !ctx.private {
                    return Ok(vec![Reply::text(ErrorCode::PrivateChatOnly.message(ctx.lang()))]);
                }
                garmin_flow::form(&self.flow_ctx_with(&ctx, progress), self.garmin.as_deref(), &id, &values).await
            }
            Content::File { name, data, .. } => {
                if !ctx.private {
                    return Ok(vec![Reply::text(ErrorCode::PrivateChatOnly.message(ctx.lang()))]);
                }
                info!(bytes = data.len(), "file received");
                activity_flow::import_file(&self.flow_ctx(&ctx), &name, &data).await
            }
        }
    }

    async fn clear_pending(&self, ctx: &Ctx<'_>, pending: Option<&str>) -> Result<(), Failure> {
        if pending.is_some() {
            self.store.set_dialogue_state(ctx.user.id, &ctx.chat, None).await?;
        }
        Ok(())
    }

    async fn button(&self, ctx: Ctx<'_>, data: &str, pending: Option<&str>) -> Handled {
        match data {
            BTN_LANG_FR => self.language(ctx, Some(Lang::Fr)).await,
            BTN_LANG_EN => self.language(ctx, Some(Lang::En)).await,
            BTN_FORGET_YES | BTN_FORGET_NO if pending == Some(STATE_FORGET) => {
                self.forget_answer(ctx, data == BTN_FORGET_YES).await
            }
            BTN_LINK_YES | BTN_LINK_NO if pending == Some(STATE_LINK) && ctx.private => {
                self.link_answer(ctx, data == BTN_LINK_YES).await
            }
            other if other.starts_with(BTN_RATE) => self.rate(ctx, other).await,
            other => match other.strip_prefix(BTN_COMMAND) {
                Some(command) => match commands::parse_text(command) {
                    ParsedText::Command { name, args } => self.command(ctx, &name, &args, None).await,
                    ParsedText::Text(_) => Ok(vec![Reply::text(texts::expired_button(ctx.lang()))]),
                },
                None => Ok(vec![Reply::text(texts::expired_button(ctx.lang()))]),
            },
        }
    }

    async fn command(&self, ctx: Ctx<'_>, name: &str, args: &str, progress: Option<&dyn Progress>) -> Handled {
        let lang = ctx.lang();
        let command = match Command::parse(name, args) {
            Ok(c) => c,
            Err(CommandError::Unknown { name, suggestion }) => {
                return Ok(vec![Reply::text(texts::unknown_command(lang, &name, suggestion))]);
            }
            Err(CommandError::BadLanguage(v)) => return Err(Failure::Say(texts::bad_language(lang, &v))),
            Err(CommandError::DanglingField(f)) => return Err(Failure::Say(texts::dangling_field(lang, &f))),
        };
        let personal = commands::lookup(name).is_some_and(|spec| spec.personal);
        if personal && !ctx.private {
            return Ok(vec![Reply::text(ErrorCode::PrivateChatOnly.message(lang))]);
        }
        match command {
            Command::Start => Ok(vec![self.start(&ctx, !ctx.created)]),
            Command::Help(None) => Ok(vec![Reply::text(texts::help(lang))]),
            Command::Help(Some(topic))
                if matches!(
                    topic.trim().to_lowercase().as_str(),
                    "privacy" | "confidentialite" | "confidentialité" | "rgpd" | "gdpr"
                ) =>
            {
                Ok(vec![Reply::text(texts::privacy(lang, self.agent.is_some()))])
            }
            Command::Help(Some(topic)) => Ok(vec![Reply::text(match commands::lookup(&topic) {
                Some(spec) => texts::help_for(lang, spec),
                None => texts::unknown_command(lang, &topic, None),
            })]),
            Command::Language(choice) => self.language(ctx, choice).await,
            Command::Profile(pairs) => self.profile(ctx, &pairs).await,
            Command::Export => self.export(ctx).await,
            Command::Forget => self.forget(ctx).await,
            Command::Link(code) => self.link(ctx, code).await,
            Command::Sync => garmin_flow::sync(&self.flow_ctx_with(&ctx, progress), self.garmin.as_deref()).await,
            Command::GarminLogout => garmin_flow::logout(&self.flow_ctx(&ctx)).await,
            Command::Summary(args) => summary_flow::summary(&self.flow_ctx(&ctx), &args).await,
            Command::Import => Ok(vec![Reply::text(texts::import_usage(lang))]),
            Command::Stats => activity_flow::stats(&self.flow_ctx(&ctx)).await,
            Command::Plan(args) => plan_flow::command(&self.flow_ctx(&ctx), &args).await,
            Command::Plans => plan_flow::list(&self.flow_ctx(&ctx)).await,
            Command::Activities(args) => activity_view::list(&self.flow_ctx(&ctx), &args).await,
            Command::Activity(args) => activity_view::show(&self.flow_ctx(&ctx), &args).await,
            Command::Goal(args) => goal_flow::goal(&self.flow_ctx(&ctx), &args).await,
            Command::Goals => goal_flow::list(&self.flow_ctx(&ctx)).await,
            Command::Week => plan_flow::week(&self.flow_ctx(&ctx)).await,
            Command::Today => plan_flow::today(&self.flow_ctx(&ctx)).await,
            Command::Location(args) => weather_flow::location(&self.flow_ctx(&ctx), &args).await,
            Command::Remind(args) => weather_flow::remind(&self.flow_ctx(&ctx), &args).await,
            Command::Watch(args) => garmin_flow::watch(&self.flow_ctx(&ctx), self.garmin.as_deref(), &args).await,
            Command::Done(args) => plan_flow::done(&self.flow_ctx(&ctx), &args).await,
            Command::Skip(args) => plan_flow::skip(&self.flow_ctx(&ctx), &args).await,
            Command::Unwell(args) => plan_flow::unwell(&self.flow_ctx(&ctx), &args).await,
            Command::Ask(question) if question.trim().is_empty() => Ok(vec![Reply::text(texts::ask_usage(lang))]),
            Command::Ask(question) => self.free_text(ctx, &question, progress).await,
            Command::Club(args) => club_flow::club(&self.flow_ctx(&ctx), ctx.club.as_ref(), &args).await,
            Command::Status => Ok(vec![Reply::text(self.status(lang).await)]),
        }
    }

    fn flow_ctx<'a>(&'a self, ctx: &'a Ctx<'_>) -> FlowCtx<'a> {
        // "Today" is the runner's own calendar day.
        let today = ctx.now.with_timezone(&ctx.user.timezone.tz()).date_naive();
        FlowCtx {
            store: self.store.as_ref(),
            user: &ctx.user,
            chat: &ctx.chat,
            now: ctx.now,
            today,
            progress: None,
            limits: self.limits,
            weather: self.weather.as_deref(),
        }
    }

    /// [`BotCore::flow_ctx`] for a step that may take a while (a Garmin sync): it can show progress.
    fn flow_ctx_with<'a>(&'a self, ctx: &'a Ctx<'_>, progress: Option<&'a dyn Progress>) -> FlowCtx<'a> {
        FlowCtx { progress, ..self.flow_ctx(ctx) }
    }

    fn start(&self, ctx: &Ctx<'_>, returning: bool) -> Reply {
        let lang = ctx.lang();
        let name = ctx.sender.username.as_deref().or(ctx.user.display_name.as_deref());
        let other = lang.pick(BTN_LANG_EN, BTN_LANG_FR);
        let mut row = vec![Button::new(texts::button_help(lang), format!("{BTN_COMMAND}/help"))];
        if ctx.private {
            row.insert(0, Button::new(texts::button_profile(lang), format!("{BTN_COMMAND}/profile")));
        }
        row.push(Button::new(texts::button_other_language(lang), other));
        Reply::text(texts::welcome(lang, name, returning)).with_buttons(vec![row])
    }

    async fn language(&self, ctx: Ctx<'_>, choice: Option<Lang>) -> Handled {
        let Some(lang) = choice else {
            return Ok(vec![Reply::text(texts::choose_language(ctx.lang())).with_buttons(vec![vec![
                Button::new("🇫🇷 Français", BTN_LANG_FR),
                Button::new("🇬🇧 English", BTN_LANG_EN),
            ]])]);
        };
        self.store.set_language(ctx.user.id, lang).await?;
        Ok(vec![Reply::text(texts::language_set(lang))])
    }

    async fn profile(&self, ctx: Ctx<'_>, pairs: &[(String, String)]) -> Handled {
        let lang = ctx.lang();
        if pairs.is_empty() {
            return Ok(vec![Reply::text(texts::profile(lang, &ctx.user, false, ctx.now.year()))]);
        }
        // All values are checked before anything is written: one bad value changes nothing.
        let mut update = ProfileUpdate::default();
        let year = ctx.now.year();
        for (name, value) in pairs {
            let field = ProfileField::parse(name).ok_or_else(|| Failure::Say(texts::unknown_field(lang, name)))?;
            apply_field(&mut update, field, value, year).map_err(|e| Failure::Say(e.message(lang)))?;
        }
        let resting = update.profile.resting_hr.or(ctx.user.profile.resting_hr);
        let max = update.profile.max_hr.or(ctx.user.profile.max_hr);
        if let (Some(r), Some(m)) = (resting, max)
            && r >= m
        {
            let e = ProfileError::RestingAboveMax { resting: r.bpm(), max: m.bpm() };
            return Err(Failure::Say(e.message(lang)));
        }
        let user = self.store.update_profile(ctx.user.id, &update).await?;
        Ok(vec![Reply::text(texts::profile(lang, &user, true, ctx.now.year()))])
    }

    async fn export(&self, ctx: Ctx<'_>) -> Handled {
        let doc = self.store.export_user(ctx.user.id).await?;
        let data = serde_json::to_vec_pretty(&doc).map_err(|e| Failure::Internal(format!("export encoding: {e}")))?;
        self.store.audit(Some(ctx.user.id), "user", "export", &json!({ "platform": ctx.chat.platform })).await?;
        let name = format!("runcoach-export-{}.json", ctx.now.format("%Y-%m-%d"));
        Ok(vec![Reply::text(texts::export_ready(ctx.lang())).with_attachment(Attachment {
            kind: AttachmentKind::File,
            name,
            mime: "application/json".to_owned(),
            data,
        })])
    }

    async fn forget(&self, ctx: Ctx<'_>) -> Handled {
        let lang = ctx.lang();
        self.store.set_dialogue_state(ctx.user.id, &ctx.chat, Some(&json!({ "kind": STATE_FORGET }))).await?;
        Ok(vec![Reply::text(texts::forget_confirm(lang)).with_buttons(vec![vec![
            Button::new(texts::forget_yes(lang), BTN_FORGET_YES),
            Button::new(texts::forget_no(lang), BTN_FORGET_NO),
        ]])])
    }

    async fn forget_answer(&self, ctx: Ctx<'_>, yes: bool) -> Handled {
        let lang = ctx.lang();
        if !yes {
            self.store.set_dialogue_state(ctx.user.id, &ctx.chat, None).await?;
            return Ok(vec![Reply::text(texts::forget_cancelled(lang))]);
        }
        self.store.erase_user(ctx.user.id).await?;
        info!(user = %ctx.user.id, "runner erased their data");
        Ok(vec![Reply::text(texts::forget_done(lang))])
    }

    async fn link(&self, ctx: Ctx<'_>, code: Option<String>) -> Handled {
        let lang = ctx.lang();
        let Some(code) = code else {
            let code = new_link_code();
            let expires = ctx.now + Duration::minutes(LINK_CODE_MINUTES);
            self.store.create_link_code(ctx.user.id, &code, expires).await?;
            return Ok(vec![Reply::text(texts::link_code(lang, &show_link_code(&code), LINK_CODE_MINUTES))]);
        };
        let code = normalize_link_code(&code);
        // Wrong codes are counted per runner and for everyone: guessing is slow from one account
        // and from many.
        let me = ctx.user.id.to_string();
        for (rule, key) in [(self.limits.link_failures, me.as_str()), (self.limits.link_failures_all, "all")] {
            if let Verdict::Denied { retry_at } = limits::check(self.store.as_ref(), rule, key, ctx.now).await? {
                return Ok(vec![Reply::text(texts::link_locked(lang, &limits::retry_in(lang, retry_at, ctx.now)))]);
            }
        }
        let owner = match self.store.peek_link_code(&code, ctx.now).await? {
            Ok(owner) if owner == ctx.user.id => {
                return Ok(vec![Reply::text(ErrorCode::LinkSameUser.message(lang))]);
            }
            Ok(owner) => owner,
            Err(e) => {
                for (rule, key) in [(self.limits.link_failures, me.as_str()), (self.limits.link_failures_all, "all")] {
                    limits::spend(self.store.as_ref(), rule, key, ctx.now, 1).await?;
                }
                info!(user = %ctx.user.id, "wrong or expired link code");
                let code =
                    if e == LinkError::Expired { ErrorCode::LinkCodeExpired } else { ErrorCode::LinkCodeInvalid };
                return Ok(vec![Reply::text(code.message(lang))]);
            }
        };
        // Say which account is joined (platform and name only) and wait for a yes.
        let other = self.store.get_user(owner).await?;
        let platforms: Vec<&str> =
            self.store.identities(owner).await?.iter().map(|i| platform_name(i.platform)).collect();
        let state = json!({ "kind": STATE_LINK, "code": code });
        self.store.set_dialogue_state(ctx.user.id, &ctx.chat, Some(&state)).await?;
        Ok(vec![
            Reply::text(texts::link_confirm(lang, &platforms.join(", "), other.display_name.as_deref())).with_buttons(
                vec![vec![
                    Button::new(texts::link_yes(lang), BTN_LINK_YES),
                    Button::new(texts::link_no(lang), BTN_LINK_NO),
                ]],
            ),
        ])
    }

    /// The answer to "join this account?": the code is claimed and the accounts merged.
    async fn link_answer(&self, ctx: Ctx<'_>, yes: bool) -> Handled {
        let lang = ctx.lang();
        let state = self.store.dialogue_state(ctx.user.id, &ctx.chat).await?;
        self.store.set_dialogue_state(ctx.user.id, &ctx.chat, None).await?;
        let code = state.as_ref().and_then(|s| s.get("code")).and_then(|c| c.as_str()).map(str::to_owned);
        let (true, Some(code)) = (yes, code) else {
            return Ok(vec![Reply::text(texts::link_cancelled(lang))]);
        };
        match self.store.redeem_link_code(&code, ctx.user.id, ctx.now).await? {
            Ok(outcome) => {
                if let Some(garmin) = &self.garmin {
                    garmin.reseal_after_link(self.store.as_ref(), outcome.kept, outcome.merged).await?;
                }
                self.store.audit(Some(outcome.kept), "user", "link", &json!({ "platform": ctx.chat.platform })).await?;
                // The code's owner hears of it on their side, whoever redeemed it.
                crate::scheduler::notify_link(self.store.as_ref(), outcome.kept, ctx.chat.platform, ctx.now).await?;
                let platforms: Vec<String> = self
                    .store
                    .identities(outcome.kept)
                    .await?
                    .into_iter()
                    .map(|i| platform_name(i.platform).to_owned())
                    .collect();
                Ok(vec![Reply::text(texts::link_done(lang, &platforms))])
            }
            Err(LinkError::Invalid) => Ok(vec![Reply::text(ErrorCode::LinkCodeInvalid.message(lang))]),
            Err(LinkError::Expired) => Ok(vec![Reply::text(ErrorCode::LinkCodeExpired.message(lang))]),
            Err(LinkError::SameUser) => Ok(vec![Reply::text(ErrorCode::LinkSameUser.message(lang))]),
        }
    }

    async fn free_text(&self, ctx: Ctx<'_>, text: &str, progress: Option<&dyn Progress>) -> Handled {
        let lang = ctx.lang();
        let mut rated = false;
        let intent = coach::intent(text);
        // "et pour un semi ?" right after "10 km en 50 min": the same VDOT, the other distance.
        let follow_up = match (&intent, coach::follow_up_distance(text)) {
            (Intent::Question { medical: false }, Some(to)) if ctx.private => {
                self.last_performance(&ctx).await?.and_then(|from| coach::follow_up_answer(from, to, lang))
            }
            _ => None,
        };
        let mut replies = if let Some(reply) = follow_up {
            vec![reply]
        } else {
            match intent {
                Intent::Greeting => vec![self.start(&ctx, !ctx.created)],
                Intent::MakePlan if ctx.private => plan_flow::start(&self.flow_ctx(&ctx)).await?,
                Intent::Stats if ctx.private => activity_flow::stats(&self.flow_ctx(&ctx)).await?,
                Intent::ThisWeek if ctx.private => plan_flow::week(&self.flow_ctx(&ctx)).await?,
                Intent::Today if ctx.private => plan_flow::today(&self.flow_ctx(&ctx)).await?,
                Intent::Tomorrow if ctx.private => plan_flow::tomorrow(&self.flow_ctx(&ctx)).await?,
                Intent::RaceDay if ctx.private => plan_flow::race_day(&self.flow_ctx(&ctx)).await?,
                Intent::WhySession if ctx.private => vec![self.why_session(&ctx).await?],
                Intent::RecentVolume if ctx.private => activity_flow::recent_volume(&self.flow_ctx(&ctx), 7).await?,
                Intent::LongestRun if ctx.private => activity_flow::longest_run(&self.flow_ctx(&ctx)).await?,
                Intent::Pace { distance, time_s } => vec![coach::pace_answer(distance, time_s, lang)],
                Intent::Question { medical } => {
                    rated = true;
                    vec![self.coach_answer(&ctx, text, medical, progress).await?]
                }
                _ => vec![Reply::text(ErrorCode::PrivateChatOnly.message(lang))],
            }
        };
        // The conversation is kept (per runner, across their private chats) so the coach can
        // follow it later, here or on a linked platform.
        if ctx.private {
            self.store.append_message(ctx.user.id, &ctx.chat, Role::User, text).await?;
            let said: Vec<&str> = replies.iter().map(|r| r.text.as_str()).collect();
            let id = self.store.append_message(ctx.user.id, &ctx.chat, Role::Assistant, &said.join("\n\n")).await?;
            if rated && let Some(last) = replies.last_mut() {
                last.buttons.push(vec![
                    Button::new("👍", format!("{BTN_RATE}{id}:1")),
                    Button::new("👎", format!("{BTN_RATE}{id}:-1")),
                ]);
            }
            self.fold_memory(&ctx);
        }
        Ok(replies)
    }

    /// "why this session?": what today's (or the next) session is for, from the engine's purpose
    /// of its kind and the knowledge base's page on it.
    async fn why_session(&self, ctx: &Ctx<'_>) -> Result<Reply, Failure> {
        let lang = ctx.lang();
        let Some(w) = plan_flow::session_in_question(&self.flow_ctx(ctx)).await? else {
            return Ok(Reply::text(lang.pick(
                "Tu n'as pas de plan en cours : tape /plan pour en construire un.",
                "You have no plan yet: type /plan to build one.",
            )));
        };
        let head = format!(
            "**{} — {}**\n{}\n{}",
            crate::i18n::date_short(lang, w.date),
            w.kind.label().get(lang),
            w.description.get(lang),
            w.kind.purpose().get(lang)
        );
        let hits = match self.knowledge() {
            // The purpose says what the session is for: a closer query than its one-word name.
            Some(kb) => {
                let query = format!("{} {}", w.kind.label().get(lang), w.kind.purpose().get(lang));
                kb.search_off_runtime(query, Some(lang), 1).await
            }
            None => Vec::new(),
        };
        let more: Vec<String> = hits.iter().map(coach::cite).collect();
        Ok(Reply::text(if more.is_empty() { head } else { format!("{head}\n\n{}", more.join("\n")) }))
    }

    /// The race performance ("10 km en 50 min") of the runner's last few messages in this chat.
    async fn last_performance(&self, ctx: &Ctx<'_>) -> Result<Option<(crate::science::RaceDistance, f64)>, StoreError> {
        let recent = self.store.recent_messages(ctx.user.id, &ctx.chat, 6).await?;
        Ok(recent.iter().rev().filter(|m| m.role == Role::User).find_map(|m| coach::race_goal(&m.content)))
    }

    /// The LLM agent's answer when there is one and it succeeds; the deterministic coach's
    /// otherwise (the reason is logged and counted).
    async fn coach_answer(
        &self,
        ctx: &Ctx<'_>,
        text: &str,
        medical: bool,
        progress: Option<&dyn Progress>,
    ) -> Result<Reply, Failure> {
        let lang = ctx.lang();
        let kb = self.knowledge();
        if let Some(agent) = &self.agent {
            let (history, summary) = if ctx.private {
                let summary = self.store.conversation_summary(ctx.user.id).await?;
                (self.store.recent_conversation(ctx.user.id, MEMORY_TURNS).await?, summary.map(|s| s.0))
            } else {
                (Vec::new(), None)
            };
            let tools = ToolBox::new(self.store.as_ref(), &ctx.user, kb.clone(), self.flow_ctx(ctx).today, ctx.private)
                .with_weather(self.weather.as_deref(), ctx.now);
            let turn = Turn { question: text, history: &history, summary: summary.as_deref() };
            let sink = |partial: &str| {
                if let Some(p) = progress {
                    p.update(partial);
                }
            };
            match agent.answer(&ctx.user, &tools, turn, progress.map(|_| &sink as _)).await {
                Ok(answer) => {
                    if let Some(trace) = &self.tool_trace
                        && let Ok(mut t) = trace.lock()
                    {
                        t.extend(answer.tools.iter().cloned());
                    }
                    let mut out = answer.text;
                    let passages = tools.passages();
                    if !passages.is_empty() {
                        out.push_str("\n\n");
                        out.push_str(lang.pick("Sources :", "Sources:"));
                        for hit in passages.iter().take(3) {
                            out.push_str(&format!("\n{}", coach::cite(hit)));
                        }
                    }
                    if medical {
                        out.push_str("\n\n");
                        out.push_str(coach::safety_note(lang));
                    }
                    return Ok(Reply::text(out));
                }
                Err(e) => {
                    self.fallbacks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    crate::metrics::METRICS.llm_fallbacks.inc();
                    warn!(reason = e.reason(), "the deterministic coach answers instead of the LLM");
                }
            }
        }
        let hits = match kb {
            Some(kb) => kb.search_off_runtime(text.to_owned(), Some(lang), 3).await,
            None => Vec::new(),
        };
        Ok(coach::answer(hits, lang, medical))
    }

    /// Folds turns that left the LLM's window into the running summary, in the background.
    fn fold_memory(&self, ctx: &Ctx<'_>) {
        let Some(agent) = self.agent.clone() else { return };
        let store = Arc::clone(&self.store);
        let (user, chat) = (ctx.user.id, ctx.chat.clone());
        tokio::spawn(async move {
            let result: Result<(), crate::agent::AgentError> = async {
                let previous = store.conversation_summary(user).await?;
                let upto = previous.as_ref().map_or(0, |p| p.1);
                let window = usize::try_from(MEMORY_TURNS).unwrap_or(8);
                let recent = store.recent_conversation(user, MEMORY_TURNS + 2 * SUMMARY_BATCH as i64).await?;
                let older: Vec<_> =
                    recent.iter().take(recent.len().saturating_sub(window)).filter(|m| m.id > upto).cloned().collect();
                let Some(last) = older.last().map(|m| m.id) else { return Ok(()) };
                if older.len() < SUMMARY_BATCH {
                    return Ok(());
                }
                let summary = agent.summarise(previous.as_ref().map(|p| p.0.as_str()), &older).await?;
                store.set_conversation_summary(user, &chat, &summary, last).await?;
                info!(%user, upto = last, "conversation summary updated");
                Ok(())
            }
            .await;
            if let Err(e) = result {
                warn!(reason = e.reason(), "conversation summary not updated");
            }
        });
    }

    async fn rate(&self, ctx: Ctx<'_>, data: &str) -> Handled {
        let lang = ctx.lang();
        let parsed = data.strip_prefix(BTN_RATE).and_then(|r| r.split_once(':')).and_then(|(id, v)| {
            let v = v.parse::<i16>().ok().filter(|v| *v == 1 || *v == -1)?;
            Some((id.parse::<i64>().ok()?, v))
        });
        let Some((id, rating)) = parsed else {
            return Ok(vec![Reply::text(texts::expired_button(lang))]);
        };
        // Bound to the runner: a forged id of someone else's message changes nothing.
        if !self.store.rate_message(ctx.user.id, id, rating).await? {
            return Ok(vec![Reply::text(texts::expired_button(lang))]);
        }
        Ok(vec![Reply::text(texts::thanks_for_rating(lang, rating > 0))])
    }

    async fn status(&self, lang: Lang) -> String {
        let db = match self.store.ping().await {
            Ok(()) => lang.pick("OK", "OK"),
            Err(_) => lang.pick("injoignable", "unreachable"),
        };
        let coach = match &self.agent {
            Some(a) => match lang {
                Lang::Fr => format!("LLM « {} » (coach déterministe en secours)", a.config().model),
                Lang::En => format!("LLM \"{}\" (deterministic coach as fallback)", a.config().model),
            },
            None => lang
                .pick("coach déterministe (aucun LLM configuré)", "deterministic coach (no LLM configured)")
                .to_owned(),
        };
        let kb = match self.knowledge() {
            Some(kb) => kb.status().describe(lang),
            None => lang.pick("base de connaissances non chargée", "knowledge base not loaded").to_owned(),
        };
        let garmin = match (self.garmin.is_some(), lang) {
            (true, Lang::Fr) => "Garmin Connect : activé",
            (true, Lang::En) => "Garmin Connect: enabled",
            (false, Lang::Fr) => "Garmin Connect : désactivé (pas de clé de chiffrement configurée)",
            (false, Lang::En) => "Garmin Connect: disabled (no encryption key configured)",
        };
        match lang {
            Lang::Fr => format!(
                "🩺 **runcoach {}**\n• Coach : {coach}\n• {kb}\n• Base de données : {} — {db}\n• {garmin}",
                env!("CARGO_PKG_VERSION"),
                self.store.backend()
            ),
            Lang::En => format!(
                "🩺 **runcoach {}**\n• Coach: {coach}\n• {kb}\n• Database: {} — {db}\n• {garmin}",
                env!("CARGO_PKG_VERSION"),
                self.store.backend()
            ),
        }
    }
}

/// Commands whose texts show what to type (help, the start, goals set in km): their km stay.
fn keeps_metric(content: &Content) -> bool {
    let name = match content {
        Content::Command { name, .. } => name.clone(),
        Content::Text(text) => match commands::parse_text(text) {
            ParsedText::Command { name, .. } => name,
            ParsedText::Text(_) => return false,
        },
        _ => return false,
    };
    commands::lookup(&name).is_some_and(|c| matches!(c.name, "help" | "start" | "goal"))
}

fn too_long(content: &Content) -> Option<usize> {
    let len = match content {
        Content::Text(t) => t.chars().count(),
        Content::Command { name, args } => name.chars().count() + args.chars().count(),
        Content::Button(data) => data.chars().count(),
        Content::Form { id, values } => id.chars().count() + values.iter().map(|v| v.chars().count()).sum::<usize>(),
        Content::File { .. } | Content::Unsupported(_) => return None,
    };
    (len > MAX_MESSAGE_CHARS).then_some(len)
}

fn store_failure(e: &StoreError, lang: Lang) -> String {
    if matches!(e, StoreError::Full(_)) {
        // The operator has to act: free space or grow the volume.
        tracing::error!(error = %e, "database storage is full: nothing was saved");
    } else {
        warn!(error = %e, "store call failed");
    }
    e.code().message(lang).to_owned()
}

fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Console => "console",
        Platform::Telegram => "Telegram",
        Platform::Discord => "Discord",
        Platform::Api => "API",
    }
}

/// `ABCDE-FGHJK`: easier to read and type.
fn show_link_code(code: &str) -> String {
    let (a, b) = code.split_at(code.len().min(LINK_CODE_LEN / 2));
    format!("{a}-{b}")
}

/// What the runner typed, as stored: upper case, without spaces or dashes.
fn normalize_link_code(typed: &str) -> String {
    typed.chars().filter(|c| !matches!(c, '-' | ' ')).flat_map(char::to_uppercase).collect()
}

fn new_link_code() -> String {
    let mut rng = rand::rng();
    (0..LINK_CODE_LEN)
        .map(|_| {
            let i = rng.random_range(0..LINK_ALPHABET.len());
            LINK_ALPHABET.get(i).map_or('X', |b| char::from(*b))
        })
        .collect()
}

fn apply_field(update: &mut ProfileUpdate, field: ProfileField, value: &str, year: i32) -> Result<(), ProfileError> {
    let p = &mut update.profile;
    match field {
        ProfileField::Age => p.birth_year = Some(BirthYear::from_age(value, year)?),
        ProfileField::BirthYear => p.birth_year = Some(BirthYear::parse(value, year)?),
        ProfileField::Sex => p.sex = Some(Sex::parse(value)?),
        ProfileField::Weight => p.weight = Some(WeightKg::parse(value)?),
        ProfileField::Height => p.height = Some(HeightCm::parse(value)?),
        ProfileField::MaxHr => p.max_hr = Some(HeartRate::parse_max(value)?),
        ProfileField::RestingHr => p.resting_hr = Some(HeartRate::parse_resting(value)?),
        ProfileField::Vma => p.vma = Some(Vma::parse(value)?),
        ProfileField::Vo2max => p.vo2max = Some(Vo2max::parse(value)?),
        ProfileField::Timezone => update.timezone = Some(TimeZoneName::parse(value)?),
        ProfileField::Units => update.units = Some(Units::parse(value)?),
    }
    Ok(())
}
