//! Telegram adapter: a thin teloxide layer over the core's chat model.
//!
//! Updates become [`Incoming`] messages; the core's [`Reply`] values become HTML messages (split
//! below Telegram's limit), inline keyboards, photos and documents. The bot is wrapped in
//! teloxide's `Throttle` adaptor, which keeps to Telegram's per-chat and global limits.
//! Conversation state lives in the core's store, not in teloxide's dialogue storage.

pub mod render;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use runcoach_core::chat::{
    AttachmentKind, BotCore, Button, COMMANDS, ChatRef, Content, Incoming, MAX_FILE_BYTES, Progress, Reply,
    SEND_ATTEMPTS, SEND_ATTEMPTS_AFTER_THE_FIRST, Sender, Unsupported, send_retry,
};
use runcoach_core::chat::{ChatKey, Notifier, NotifyError};
use runcoach_core::domain::Platform;
use runcoach_core::i18n::Lang;
use secrecy::{ExposeSecret, SecretString};
use teloxide::adaptors::Throttle;
use teloxide::adaptors::throttle::Limits;
use teloxide::dispatching::{Dispatcher, UpdateFilterExt};
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::net::Download;
use teloxide::payloads::setters::*;
use teloxide::prelude::{Requester, RequesterExt};
use teloxide::types::{
    BotCommand, CallbackQuery, ChatAction, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Me, Message,
    MessageId, ParseMode, Update, User,
};
use teloxide::{ApiError, Bot, RequestError, dptree};
use tracing::{info, warn};
use url::Url;

pub type TgBot = Throttle<Bot>;

#[derive(Debug, Clone)]
pub struct TelegramConfig {
    pub token: SecretString,
    /// A custom Bot API server (tests, self-hosted Bot API); Telegram's own when `None`.
    pub api_url: Option<Url>,
}

#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    #[error("Telegram refused the bot token or could not be reached: {0}")]
    Start(#[source] RequestError),
    #[error("the webhook secret must be 1 to 256 of A-Z, a-z, 0-9, _ and -")]
    BadSecret,
}

/// The bot for sending outside an update (the scheduler's weekly summaries), behind the same
/// throttling as the dispatcher's.
#[must_use]
pub fn bot(config: &TelegramConfig) -> TgBot {
    let mut bot = Bot::new(config.token.expose_secret());
    if let Some(url) = config.api_url.clone() {
        bot = bot.set_api_url(url);
    }
    bot.throttle(Limits::default())
}

/// Delivers scheduled messages (weekly summaries) to Telegram chats. `Ok` only once Telegram
/// accepted every message; a runner who blocked the bot is reported so their schedule pauses.
pub struct TelegramNotifier {
    bot: TgBot,
}

impl TelegramNotifier {
    #[must_use]
    pub fn new(bot: TgBot) -> Self {
        TelegramNotifier { bot }
    }
}

#[async_trait::async_trait]
impl Notifier for TelegramNotifier {
    async fn send(&self, chat: &ChatKey, replies: &[Reply]) -> Result<(), NotifyError> {
        let id: i64 =
            chat.chat_id.parse().map_err(|_| NotifyError::Transient(format!("bad chat id {:?}", chat.chat_id)))?;
        match send_all(&self.bot, ChatId(id), replies).await {
            Ok(()) => Ok(()),
            Err(RequestError::Api(
                ApiError::BotBlocked
                | ApiError::UserDeactivated
                | ApiError::ChatNotFound
                | ApiError::BotKicked
                | ApiError::BotKickedFromSupergroup,
            )) => Err(NotifyError::Blocked),
            Err(RequestError::RetryAfter(wait)) => Err(NotifyError::RateLimited { retry_after: wait.duration() }),
            Err(e) => Err(NotifyError::Transient(e.to_string())),
        }
    }
}

/// Runs the bot (long polling) until `shutdown` completes.
pub async fn run(
    core: Arc<BotCore>,
    config: TelegramConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), TelegramError> {
    run_with(core, config, shutdown, |_| {}).await
}

/// [`run`], telling `ready` when the bot is connected (for `/readyz`).
pub async fn run_with(
    core: Arc<BotCore>,
    config: TelegramConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl Fn(bool) + Send + Sync + 'static,
) -> Result<(), TelegramError> {
    let (bot, me) = connect(&config).await?;
    ready(true);
    let mut dispatcher = dispatcher(bot, core, me);
    stop_on(&dispatcher, shutdown);
    dispatcher.dispatch().await;
    ready(false);
    info!("telegram adapter stopped");
    Ok(())
}

/// Webhook mode: Telegram posts updates to `url` (on our HTTP server) with the secret in the
/// `X-Telegram-Bot-Api-Secret-Token` header, which is checked on every request. Every instance
/// behind one URL has the same secret (from the configuration).
#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: Url,
    pub secret: SecretString,
}

/// Telegram accepts 1 to 256 of `A-Z a-z 0-9 _ -` (checked here: teloxide panics on others).
#[must_use]
pub fn valid_webhook_secret(secret: &str) -> bool {
    (1..=256).contains(&secret.len()) && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Registers the webhook when Telegram does not already have it, and returns the router to mount
/// in the HTTP server and the task that dispatches the updates it receives (until `shutdown`).
/// A stopping instance leaves the webhook in place: the others behind the same URL go on
/// (`runcoach telegram webhook delete` removes it).
pub async fn start_webhook(
    core: Arc<BotCore>,
    config: TelegramConfig,
    hook: Webhook,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl Fn(bool) + Send + Sync + 'static,
) -> Result<(axum::Router, tokio::task::JoinHandle<()>), TelegramError> {
    use teloxide::update_listeners::webhooks;
    if !valid_webhook_secret(hook.secret.expose_secret()) {
        return Err(TelegramError::BadSecret);
    }
    let (bot, me) = connect(&config).await?;
    let plain = bot.inner().clone();
    // setWebhook only when Telegram's registration differs: N instances starting do not fight
    // over it. A registration failing with 401 means the secret changed: set it again.
    let info = plain.get_webhook_info().await.map_err(TelegramError::Start)?;
    let stale_secret = info.last_error_message.as_deref().is_some_and(|m| m.contains("401"));
    if info.url.as_ref() != Some(&hook.url) || stale_secret {
        plain
            .set_webhook(hook.url.clone())
            .secret_token(hook.secret.expose_secret().to_owned())
            .await
            .map_err(TelegramError::Start)?;
        info!("telegram webhook registered");
    } else {
        info!("telegram webhook already registered");
    }
    // The address is only used by teloxide's own server, which we do not start.
    let unused = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let options = webhooks::Options::new(unused, hook.url.clone()).secret_token(hook.secret.expose_secret().to_owned());
    // teloxide's stop future is not awaited: when our HTTP server stops first, the update stream
    // ends before the dispatcher stops the listener, and that future would never resolve.
    let (listener, _stop_flag, router) = webhooks::axum_no_setup(options);
    let router = router.layer(axum::middleware::from_fn_with_state(Arc::new(hook.secret.clone()), guard_webhook));
    ready(true);
    let mut dispatcher = dispatcher(bot, core, me);
    stop_on(&dispatcher, shutdown);
    let task = tokio::spawn(async move {
        let handler = LoggingErrorHandler::with_custom_text("telegram webhook listener failed");
        dispatcher.dispatch_with_listener(listener, handler).await;
        ready(false);
        info!("telegram adapter stopped");
    });
    Ok((router, task))
}

/// Before teloxide sees a webhook request: the secret compared in constant time, and an update
/// teloxide could not read dropped here with its id only (teloxide would log the whole update,
/// the runner's text included).
async fn guard_webhook(
    axum::extract::State(secret): axum::extract::State<Arc<SecretString>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let given = request.headers().get("x-telegram-bot-api-secret-token").map_or(&b""[..], |v| v.as_bytes());
    if !runcoach_core::api_keys::constant_time_eq(given, secret.expose_secret().as_bytes()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (parts, body) = request.into_parts();
    // Telegram's updates are small; files come by reference.
    let Ok(bytes) = axum::body::to_bytes(body, 4 * 1024 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    if serde_json::from_slice::<teloxide::types::Update>(&bytes).is_err() {
        let id = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("update_id").and_then(serde_json::Value::as_i64));
        warn!(update_id = ?id, "dropped a webhook update that does not read as one (content not logged)");
        return StatusCode::OK.into_response();
    }
    next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// Removes the webhook (the operator's `runcoach telegram webhook delete`).
pub async fn delete_webhook(config: &TelegramConfig) -> Result<(), TelegramError> {
    let mut bot = Bot::new(config.token.expose_secret());
    if let Some(url) = config.api_url.clone() {
        bot = bot.set_api_url(url);
    }
    bot.delete_webhook().await.map_err(TelegramError::Start)?;
    Ok(())
}

async fn connect(config: &TelegramConfig) -> Result<(TgBot, Me), TelegramError> {
    let mut bot = Bot::new(config.token.expose_secret());
    if let Some(url) = config.api_url.clone() {
        bot = bot.set_api_url(url);
    }
    let me = bot.get_me().await.map_err(TelegramError::Start)?;
    info!(bot = %me.username(), "telegram adapter connected");
    register_commands(&bot).await;
    Ok((bot.throttle(Limits::default()), me))
}

type TgDispatcher = Dispatcher<TgBot, RequestError, teloxide::dispatching::DefaultKey>;

fn dispatcher(bot: TgBot, core: Arc<BotCore>, me: Me) -> TgDispatcher {
    let handler = dptree::entry()
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_edited_message().endpoint(on_edited))
        .branch(Update::filter_callback_query().endpoint(on_callback));
    Dispatcher::builder(bot, handler)
        .dependencies(dptree::deps![core, Arc::new(me)])
        .default_handler(|_| async {})
        .error_handler(LoggingErrorHandler::with_custom_text("telegram update failed"))
        .build()
}

fn stop_on(dispatcher: &TgDispatcher, shutdown: impl Future<Output = ()> + Send + 'static) {
    let token = dispatcher.shutdown_token();
    tokio::spawn(async move {
        shutdown.await;
        if let Ok(stopped) = token.shutdown() {
            stopped.await;
        }
    });
}

/// An edited message is not a new request: answering it again would repeat (or undo) what the
/// original did. The runner is told once, in a private chat, to send a new message instead.
async fn on_edited(bot: TgBot, msg: Message, core: Arc<BotCore>) -> Result<(), RequestError> {
    let Some(from) = msg.from.as_ref().filter(|u| !u.is_bot) else {
        return Ok(());
    };
    if !msg.chat.is_private() {
        return Ok(());
    }
    let lang = core.language_of(&sender(from)).await;
    let text = lang.pick(
        "✏️ Je ne relis pas les messages modifiés : envoie plutôt un nouveau message.",
        "✏️ I don't reread edited messages: send a new message instead.",
    );
    deliver(&bot, msg.chat.id, &[Reply::text(text)]).await
}

/// The command menu, in English (default) and French.
async fn register_commands(bot: &Bot) {
    for lang in Lang::ALL {
        // `/club` works on a club's Discord server only: not offered in Telegram's menu.
        let commands: Vec<BotCommand> =
            COMMANDS.iter().filter(|c| c.name != "club").map(|c| BotCommand::new(c.name, c.help(lang))).collect();
        let request = bot.set_my_commands(commands);
        let result = match lang {
            Lang::Fr => request.language_code("fr").await,
            Lang::En => request.await,
        };
        if let Err(e) = result {
            warn!(error = %e, lang = %lang, "could not set the command menu");
        }
    }
}

fn sender(user: &User) -> Sender {
    Sender {
        platform: Platform::Telegram,
        user_id: user.id.0.to_string(),
        username: Some(user.first_name.clone()),
        language_code: user.language_code.clone(),
    }
}

/// In a group, only commands addressed to this bot (`/help`, `/help@our_bot`) are ours.
fn addressed_command(text: &str, bot_username: &str) -> Option<String> {
    let first = text.split_whitespace().next()?;
    let command = first.strip_prefix('/')?;
    match command.split_once('@') {
        Some((_, to)) if !to.eq_ignore_ascii_case(bot_username) => None,
        _ => Some(text.to_owned()),
    }
}

fn media_kind(msg: &Message) -> Option<&'static str> {
    if msg.sticker().is_some() {
        Some("sticker")
    } else if msg.voice().is_some() || msg.audio().is_some() {
        Some("audio")
    } else if msg.photo().is_some() {
        Some("photo")
    } else if msg.video().is_some() || msg.video_note().is_some() || msg.animation().is_some() {
        Some("video")
    } else if msg.contact().is_some() || msg.poll().is_some() || msg.dice().is_some() {
        Some("other")
    } else {
        None
    }
}

async fn on_message(bot: TgBot, msg: Message, core: Arc<BotCore>, me: Arc<Me>) -> Result<(), RequestError> {
    let Some(from) = msg.from.as_ref().filter(|u| !u.is_bot) else {
        return Ok(());
    };
    let private = msg.chat.is_private();
    let content = if let Some(text) = msg.text() {
        if private {
            Content::Text(text.to_owned())
        } else {
            match addressed_command(text, me.username()) {
                Some(command) => Content::Text(command),
                None => return Ok(()),
            }
        }
    } else if let Some(doc) = msg.document() {
        if !private {
            // Files in a club group are the members' business, not an import request.
            return Ok(());
        }
        let size = u64::from(doc.file.size);
        if size > MAX_FILE_BYTES {
            Content::Unsupported(Unsupported::FileTooLarge { bytes: size })
        } else {
            let _ = bot.send_chat_action(msg.chat.id, ChatAction::UploadDocument).await;
            let file = bot.get_file(doc.file.id.clone()).await?;
            let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or_default());
            if let Err(e) = bot.download_file(&file.path, &mut data).await {
                warn!(error = %e, "file download failed");
                return Ok(());
            }
            Content::File {
                name: doc.file_name.clone().unwrap_or_else(|| "file".to_owned()),
                mime: doc.mime_type.as_ref().map(ToString::to_string),
                data,
            }
        }
    } else if let Some(place) = msg.location().or_else(|| msg.venue().map(|v| &v.location)) {
        if !private {
            return Ok(());
        }
        // A location sent in the chat is where the runner runs (the core rounds it to ~1 km).
        Content::Command {
            name: "profile".to_owned(),
            args: format!("location {:.5},{:.5}", place.latitude, place.longitude),
        }
    } else if let Some(kind) = media_kind(&msg) {
        if !private {
            return Ok(());
        }
        Content::Unsupported(Unsupported::Media(kind.to_owned()))
    } else {
        // Service messages (members joining, chat migrated, pinned…) need no answer.
        return Ok(());
    };
    let _ = bot.send_chat_action(msg.chat.id, ChatAction::Typing).await;
    let streamable = private && matches!(content, Content::Text(_));
    let incoming = Incoming { sender: sender(from), chat: ChatRef::new(msg.chat.id.0.to_string(), private), content };
    // A coach answer written by the LLM appears as it is written: one message, edited.
    let (replies, live) = if streamable {
        let (progress, shown) = LiveMessage::start(bot.clone(), msg.chat.id);
        let replies = core.handle_with_progress(incoming, Some(&progress)).await;
        drop(progress);
        (replies, shown.await.ok().flatten())
    } else {
        (core.handle(incoming).await, None)
    };
    if replies.iter().any(|r| r.delete_incoming) {
        // The runner's message held a secret (a password): take it out of the chat history.
        if let Err(e) = bot.delete_message(msg.chat.id, msg.id).await {
            warn!(error = %e, "could not delete a message holding a secret");
        }
    }
    if let Some(live) = live
        && finish_live(&bot, msg.chat.id, live, &replies).await
    {
        return deliver(&bot, msg.chat.id, replies.get(1..).unwrap_or_default()).await;
    }
    deliver(&bot, msg.chat.id, &replies).await
}

/// Time between two edits of a growing answer (Telegram allows about one message a second per chat).
const EDIT_EVERY: Duration = Duration::from_millis(1_100);

/// The core's [`Progress`] for Telegram: the first text is sent as a message, later ones edit it
/// (at most once per [`EDIT_EVERY`]). The task ends when the core is done and gives the message.
struct LiveMessage {
    tx: tokio::sync::watch::Sender<Option<String>>,
}

impl LiveMessage {
    fn start(bot: TgBot, chat: ChatId) -> (LiveMessage, tokio::task::JoinHandle<Option<MessageId>>) {
        let (tx, mut rx) = tokio::sync::watch::channel::<Option<String>>(None);
        let task = tokio::spawn(async move {
            let mut shown: Option<MessageId> = None;
            while rx.changed().await.is_ok() {
                let Some(text) = rx.borrow_and_update().clone() else { continue };
                // Plain text while it grows: half-written markdown must not break the HTML parser.
                let text = format!("{} …", render::split(&text, render::MAX_CHUNK).first().map_or("", String::as_str));
                let result = match shown {
                    None => bot.send_message(chat, text).await.map(|m| shown = Some(m.id)),
                    Some(id) => bot.edit_message_text(chat, id, text).await.map(|_| ()),
                };
                if let Err(e) = result {
                    warn!(error = %e, "could not show the answer in progress");
                }
                // Wait before the next edit, but not once the core is done: the final edit is due.
                let next = tokio::time::Instant::now() + EDIT_EVERY;
                while tokio::time::Instant::now() < next {
                    if rx.has_changed().is_err() {
                        return shown;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            shown
        });
        (LiveMessage { tx }, task)
    }
}

impl Progress for LiveMessage {
    fn update(&self, text: &str) {
        let _ = self.tx.send(Some(text.to_owned()));
    }
}

/// Turns the message that showed the answer in progress into the final first reply. Returns
/// false (and nothing is changed) when the first reply does not fit in one edited message.
async fn finish_live(bot: &TgBot, chat: ChatId, live: MessageId, replies: &[Reply]) -> bool {
    let Some(first) = replies.first() else { return false };
    let chunks = render::split(&first.text, render::MAX_CHUNK);
    let [only] = chunks.as_slice() else { return false };
    if first.attachment.is_some() {
        return false;
    }
    let mut edit = bot.edit_message_text(chat, live, render::to_html(only)).parse_mode(ParseMode::Html);
    if !first.buttons.is_empty() {
        edit = edit.reply_markup(keyboard(&first.buttons));
    }
    match edit.await {
        Ok(_) => true,
        Err(e) => {
            warn!(error = %e, "could not finish the answer in place; sending it anew");
            let _ = bot.delete_message(chat, live).await;
            false
        }
    }
}

async fn on_callback(bot: TgBot, q: CallbackQuery, core: Arc<BotCore>) -> Result<(), RequestError> {
    // Stop the button's spinner at once; the answer comes as messages.
    bot.answer_callback_query(q.id.clone()).await?;
    let Some(message) = q.regular_message() else {
        return Ok(());
    };
    // A pressed keyboard goes away, so the same choice cannot be sent twice.
    if message.reply_markup().is_some() {
        let _ = bot.edit_message_reply_markup(message.chat.id, message.id).await;
    }
    let incoming = Incoming {
        sender: sender(&q.from),
        chat: ChatRef::new(message.chat.id.0.to_string(), message.chat.is_private()),
        content: Content::Button(q.data.clone().unwrap_or_default()),
    };
    let replies = core.handle(incoming).await;
    deliver(&bot, message.chat.id, &replies).await
}

fn keyboard(rows: &[Vec<Button>]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(rows.iter().map(|row| {
        row.iter().map(|b| InlineKeyboardButton::callback(b.label.clone(), b.data.clone())).collect::<Vec<_>>()
    }))
}

/// Sends replies to a chat a runner is talking in; a runner who blocked the bot or left is not an
/// error (their reply is dropped).
async fn deliver(bot: &TgBot, chat: ChatId, replies: &[Reply]) -> Result<(), RequestError> {
    match send_all(bot, chat, replies).await {
        Err(RequestError::Api(ApiError::BotBlocked | ApiError::UserDeactivated | ApiError::ChatNotFound)) => {
            info!(chat = chat.0, "recipient unreachable (blocked the bot or left); reply dropped");
            Ok(())
        }
        sent => sent,
    }
}

/// The longest 429 wait served in place; a longer one is returned to the caller.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(60);

/// One Telegram message of a reply.
enum Part<'a> {
    Text { html: String, buttons: Option<&'a [Vec<Button>]> },
    Attachment(&'a runcoach_core::chat::Attachment),
}

fn parts(replies: &[Reply]) -> Vec<Part<'_>> {
    let mut parts = Vec::new();
    for reply in replies {
        let chunks =
            if reply.text.trim().is_empty() { Vec::new() } else { render::split(&reply.text, render::MAX_CHUNK) };
        let last = chunks.len().saturating_sub(1);
        for (i, chunk) in chunks.iter().enumerate() {
            let buttons = (i == last && !reply.buttons.is_empty()).then_some(reply.buttons.as_slice());
            parts.push(Part::Text { html: render::to_html(chunk), buttons });
        }
        if let Some(att) = &reply.attachment {
            parts.push(Part::Attachment(att));
        }
    }
    parts
}

async fn send_part(bot: &TgBot, chat: ChatId, part: &Part<'_>) -> Result<(), RequestError> {
    match part {
        Part::Text { html, buttons } => {
            let request = bot.send_message(chat, html.clone()).parse_mode(ParseMode::Html);
            match buttons {
                Some(rows) => request.reply_markup(keyboard(rows)).await?,
                None => request.await?,
            };
        }
        Part::Attachment(att) => {
            let file = InputFile::memory(att.data.clone()).file_name(att.name.clone());
            match att.kind {
                AttachmentKind::Image => bot.send_photo(chat, file).await?,
                AttachmentKind::File => bot.send_document(chat, file).await?,
            };
        }
    }
    Ok(())
}

/// Worth sending again: Telegram answered with a server error (teloxide has already waited 10 s)
/// or the connection could not be made (the request never left).
fn transient(e: &RequestError) -> bool {
    match e {
        RequestError::Network(e) => e.is_connect(),
        // A 5xx from a proxy in front of the Bot API: an HTML page, not Telegram's JSON.
        RequestError::InvalidJson { .. } => true,
        RequestError::Api(ApiError::Unknown(description)) => {
            ["Internal Server Error", "Bad Gateway", "Service Unavailable", "Gateway Timeout"]
                .iter()
                .any(|s| description.contains(s))
        }
        _ => false,
    }
}

/// Sends replies message by message. Each message follows a group's migration to a supergroup,
/// waits out a 429 and is tried again after a transient failure (1 s, 2 s, … up to 16 s), so a
/// failure halfway through never sends the earlier messages a second time.
async fn send_all(bot: &TgBot, chat: ChatId, replies: &[Reply]) -> Result<(), RequestError> {
    use backon::Retryable;
    // The chat a migrated group moved to is where the next tries (and parts) go.
    let chat = std::sync::atomic::AtomicI64::new(chat.0);
    let current = || ChatId(chat.load(std::sync::atomic::Ordering::Relaxed));
    for (i, part) in parts(replies).iter().enumerate() {
        let attempts = if i == 0 { SEND_ATTEMPTS } else { SEND_ATTEMPTS_AFTER_THE_FIRST };
        (|| send_part(bot, current(), part))
            .retry(send_retry(attempts))
            .sleep(tokio::time::sleep)
            .when(|e| match e {
                RequestError::MigrateToChatId(_) => true,
                RequestError::RetryAfter(wait) => wait.duration() <= MAX_INLINE_WAIT,
                e => transient(e),
            })
            // A migration is tried again at once, a 429 after the wait Telegram asks for; a try
            // left (`wait` is some) is needed either way.
            .adjust(|e, wait| match e {
                RequestError::MigrateToChatId(_) => wait.map(|_| std::time::Duration::ZERO),
                RequestError::RetryAfter(asked) => wait.map(|_| asked.duration()),
                _ => wait,
            })
            .notify(|e, wait| match e {
                RequestError::MigrateToChatId(new) => {
                    info!(from = current().0, to = new.0, "group migrated to a supergroup");
                    chat.store(new.0, std::sync::atomic::Ordering::Relaxed);
                }
                e => warn!(chat = current().0, error = %e, wait_ms = wait.as_millis(), "Telegram send failed: trying again"),
            })
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_commands_must_be_addressed_to_us() {
        assert_eq!(addressed_command("/help", "coach_bot").as_deref(), Some("/help"));
        assert_eq!(addressed_command("/help@Coach_Bot now", "coach_bot").as_deref(), Some("/help@Coach_Bot now"));
        assert_eq!(addressed_command("/help@other_bot", "coach_bot"), None);
        assert_eq!(addressed_command("hello everyone", "coach_bot"), None);
    }
}
