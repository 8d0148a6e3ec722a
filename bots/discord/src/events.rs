//! Discord events in, the core's replies out.
//!
//! Every interaction is acknowledged before the core runs (a deferral, a message update or a
//! modal), so Discord's three seconds always hold whatever the core does (an LLM, a Garmin sync);
//! the answer then replaces the deferral and follow-ups carry the rest. Personal things are
//! ephemeral: a personal command, a button, a form, and their answers are seen by the runner alone,
//! in a chat of their own (`dm:<user id>`) that is the same in every channel and in direct messages.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use runcoach_core::chat::{
    ChatRef, ClubRef, Content, Incoming, MAX_FILE_BYTES, Progress, Reply, SEND_ATTEMPTS, SEND_ATTEMPTS_AFTER_THE_FIRST,
    Sender, Unsupported, send_retry,
};
use runcoach_core::domain::Platform;
use runcoach_core::i18n::Lang;
use serenity::{
    Builder, ComponentInteraction, ComponentInteractionDataKind, CreateAllowedMentions, CreateAttachment,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateMessage,
    EditInteractionResponse, FullEvent, Http, Interaction, Message, ModalInteraction, Permissions, ResolvedValue,
};
use tracing::{info, warn};

use crate::render::{self, CHOICE, FORM_BUTTON, MODAL, PICK};
use crate::{Data, Error};

/// Where a core chat id points on Discord: a runner's direct messages (opened on demand, so
/// stored by user), or a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscordChat {
    Dm(serenity::UserId),
    Channel(serenity::ChannelId),
}

const DM_PREFIX: &str = "dm:";

impl std::fmt::Display for DiscordChat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiscordChat::Dm(user) => write!(f, "{DM_PREFIX}{user}"),
            DiscordChat::Channel(channel) => write!(f, "{channel}"),
        }
    }
}

impl std::str::FromStr for DiscordChat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let snowflake = |digits: &str| digits.parse::<u64>().ok().filter(|n| *n > 0);
        match s.strip_prefix(DM_PREFIX) {
            Some(user) => snowflake(user).map(|u| DiscordChat::Dm(serenity::UserId::new(u))),
            None => snowflake(s).map(|c| DiscordChat::Channel(serenity::ChannelId::new(c))),
        }
        .ok_or_else(|| format!("bad Discord chat id {s:?}"))
    }
}

/// The chat in which a runner's personal conversation lives on Discord.
#[must_use]
pub fn private_chat(user: serenity::UserId) -> String {
    DiscordChat::Dm(user).to_string()
}

fn sender(user: &serenity::User, locale: Option<&str>) -> Sender {
    Sender {
        platform: Platform::Discord,
        user_id: user.id.to_string(),
        username: Some(user.global_name.clone().unwrap_or_else(|| user.name.clone())),
        language_code: locale.filter(|l| !l.is_empty()).map(str::to_owned),
    }
}

fn is_admin(member: Option<&serenity::Member>) -> bool {
    member
        .and_then(|m| m.permissions)
        .is_some_and(|p| p.contains(Permissions::ADMINISTRATOR) || p.contains(Permissions::MANAGE_GUILD))
}

/// Where the core's answer lives: the runner's own chat when private, else the channel.
fn chat(
    user: serenity::UserId,
    channel: serenity::ChannelId,
    guild: Option<serenity::GuildId>,
    member: Option<&serenity::Member>,
    private: bool,
) -> ChatRef {
    ChatRef {
        id: if private { private_chat(user) } else { channel.to_string() },
        private: private || guild.is_none(),
        club: guild.map(|g| ClubRef { guild_id: g.to_string(), admin: is_admin(member) }),
    }
}

fn no_mentions() -> CreateAllowedMentions {
    // Runners' names and questions are shown as typed: nobody is pinged by them.
    CreateAllowedMentions::new()
}

/// The file attached to a slash command (`/import file:…`), if any.
fn attached<'a>(ctx: &poise::ApplicationContext<'a, Data, Error>) -> Option<&'a serenity::Attachment> {
    ctx.args.iter().find_map(|o| match o.value {
        ResolvedValue::Attachment(a) => Some(a),
        _ => None,
    })
}

/// The core's content for a file from Discord: fetched from Discord's CDN, or refused by size.
async fn file_content(data: &Data, file: &serenity::Attachment) -> Option<Content> {
    if u64::from(file.size) > MAX_FILE_BYTES {
        return Some(Content::Unsupported(Unsupported::FileTooLarge { bytes: u64::from(file.size) }));
    }
    match download(&data.downloads, &file.url).await {
        Ok(bytes) => Some(Content::File { name: file.filename.clone(), mime: file.content_type.clone(), data: bytes }),
        Err(e) => {
            warn!(error = %e, "attachment download failed");
            None
        }
    }
}

/// The command line of a slash command (`club`, `leaderboard month`) from its resolved options.
fn command_line(ctx: &poise::ApplicationContext<'_, Data, Error>) -> (String, String) {
    let top = ctx.interaction.data.name.clone();
    let sub = ctx.command().name.to_string();
    let mut words: Vec<String> = Vec::new();
    if sub != top {
        words.push(sub.clone());
    }
    let mut stop = false;
    let mut channel = None;
    for option in ctx.args {
        match (&option.value, option.name) {
            (ResolvedValue::String(s), _) => words.push((*s).to_owned()),
            (ResolvedValue::Boolean(true), "hidden") => words.push("hidden".to_owned()),
            (ResolvedValue::Boolean(b), "stop") => stop = *b,
            (ResolvedValue::Channel(c), _) => channel = Some(c.id),
            _ => {}
        }
    }
    if top == "club" && sub == "digest" {
        // The digest goes to the channel named, else to the one the admin typed in.
        let channel = channel.unwrap_or(ctx.interaction.channel_id);
        if stop {
            words.push("off".to_owned());
        }
        words.push(channel.to_string());
    }
    (top, words.join(" "))
}

/// Personal commands, and `/club` except its leaderboard, answer the runner alone.
fn is_personal(name: &str, args: &str) -> bool {
    match name {
        "club" => !args.starts_with("leaderboard"),
        _ => runcoach_core::chat::COMMANDS.iter().any(|c| c.name == name && c.personal),
    }
}

/// poise's action for every slash command.
pub async fn slash(
    ctx: poise::ApplicationContext<'_, Data, Error>,
) -> Result<(), poise::FrameworkError<'_, Data, Error>> {
    if let Err(error) = on_slash(ctx).await {
        return Err(poise::FrameworkError::new_command(poise::Context::Application(ctx), error));
    }
    Ok(())
}

async fn on_slash(ctx: poise::ApplicationContext<'_, Data, Error>) -> Result<(), Error> {
    let http = ctx.framework.serenity_context.http.clone();
    let i = ctx.interaction;
    let (name, args) = command_line(&ctx);
    let private = is_personal(&name, &args) || i.guild_id.is_none();
    let ephemeral = private && i.guild_id.is_some();
    // Acknowledged before anything slow: the core may call an LLM or sync Garmin.
    defer(&http, i.id, &i.token, ephemeral).await?;
    ctx.has_sent_initial_response.store(true, std::sync::atomic::Ordering::SeqCst);
    // A file attached to the command is imported as if sent in a DM; a failed download falls
    // back to the command, whose answer says how to send the file.
    let file = match attached(&ctx) {
        Some(file) => file_content(ctx.data(), file).await,
        None => None,
    };
    let incoming = Incoming {
        sender: sender(&i.user, Some(&i.locale)),
        chat: chat(i.user.id, i.channel_id, i.guild_id, i.member.as_deref(), private),
        content: file.unwrap_or(Content::Command { name, args }),
    };
    // An answer the LLM writes appears as it is written, in place of the deferral.
    let (live, shown) = LiveAnswer::start(http.clone(), i.token.clone());
    let replies = ctx.data().core.handle_with_progress(incoming, Some(&live)).await;
    drop(live);
    let _ = shown.await;
    answer(&http, &i.token, &replies, ephemeral, true).await
}

/// Time between two edits of a growing answer (Discord allows a few edits a second).
const EDIT_EVERY: Duration = Duration::from_millis(1_500);

/// The core's [`Progress`] for an interaction: the deferral is edited with the answer so far (at
/// most once per [`EDIT_EVERY`]); the task ends when the core is done, before the final answer.
struct LiveAnswer {
    tx: tokio::sync::watch::Sender<Option<String>>,
}

impl LiveAnswer {
    fn start(http: Arc<Http>, token: String) -> (LiveAnswer, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = tokio::sync::watch::channel::<Option<String>>(None);
        let task = tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let Some(text) = rx.borrow_and_update().clone() else { continue };
                let first = render::split(&text, render::MAX_CHUNK - 2).into_iter().next().unwrap_or_default();
                let edit = EditInteractionResponse::new().content(format!("{first} …")).allowed_mentions(no_mentions());
                if let Err(e) = edit.execute(&*http, &token).await {
                    warn!(error = %e, "could not show the answer in progress");
                }
                // Wait before the next edit, but not once the core is done: the final answer is due.
                let next = tokio::time::Instant::now() + EDIT_EVERY;
                while tokio::time::Instant::now() < next {
                    if rx.has_changed().is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        });
        (LiveAnswer { tx }, task)
    }
}

impl Progress for LiveAnswer {
    fn update(&self, text: &str) {
        let _ = self.tx.send(Some(text.to_owned()));
    }
}

async fn defer(http: &Http, id: serenity::InteractionId, token: &str, ephemeral: bool) -> Result<(), Error> {
    CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(ephemeral))
        .execute(http, (id, token))
        .await?;
    Ok(())
}

/// The reply's file: Discord shows images (charts) inline from their name's extension, and offers
/// anything else for download.
fn attachment(reply: &Reply) -> Option<CreateAttachment> {
    reply.attachment.as_ref().map(|a| CreateAttachment::bytes(a.data.clone(), a.name.clone()))
}

/// One Discord message per chunk of each reply; the components and the file go with the last
/// chunk of their reply.
fn messages(replies: &[Reply]) -> Vec<(String, Vec<serenity::CreateActionRow>, Option<CreateAttachment>)> {
    let mut out = Vec::new();
    for reply in replies {
        let chunks = render::chunks(reply);
        let components = render::components(reply);
        let file = attachment(reply);
        if chunks.is_empty() {
            if file.is_some() || !components.is_empty() {
                out.push((String::new(), components, file));
            }
            continue;
        }
        let last = chunks.len() - 1;
        let (mut components, mut file) = (Some(components), file);
        for (n, chunk) in chunks.into_iter().enumerate() {
            if n == last {
                out.push((chunk, components.take().unwrap_or_default(), file.take()));
            } else {
                out.push((chunk, Vec::new(), None));
            }
        }
    }
    out
}

/// Answers an interaction already acknowledged: the first message replaces the deferral when
/// `edit_original` (else every message is a follow-up), the others follow.
async fn answer(
    http: &Http,
    token: &str,
    replies: &[Reply],
    ephemeral: bool,
    edit_original: bool,
) -> Result<(), Error> {
    let mut first = edit_original;
    let messages = messages(replies);
    if messages.is_empty() && first {
        retrying(|| EditInteractionResponse::new().content("✓").execute(http, token)).await?;
    }
    for (i, (content, components, file)) in messages.into_iter().enumerate() {
        if first {
            first = false;
            let mut edit =
                EditInteractionResponse::new().content(content).components(components).allowed_mentions(no_mentions());
            if let Some(file) = file {
                edit = edit.new_attachment(file);
            }
            retrying(|| edit.clone().execute(http, token)).await?;
        } else {
            let mut followup = CreateInteractionResponseFollowup::new()
                .ephemeral(ephemeral)
                .components(components)
                .allowed_mentions(no_mentions());
            if !content.is_empty() {
                followup = followup.content(content);
            }
            if let Some(file) = file {
                followup = followup.add_file(file);
            }
            retrying_longer(i > 0, || followup.clone().execute(http, (None, token))).await?;
        }
    }
    Ok(())
}

/// Sends replies as plain channel messages (direct messages, scheduled messages).
pub async fn send(http: &Http, channel: serenity::ChannelId, replies: &[Reply]) -> Result<(), serenity::Error> {
    for (i, (content, components, file)) in messages(replies).into_iter().enumerate() {
        let mut message = CreateMessage::new().components(components).allowed_mentions(no_mentions());
        if !content.is_empty() {
            message = message.content(content);
        }
        if let Some(file) = file {
            message = message.add_file(file);
        }
        retrying_longer(i > 0, || channel.send_message(http, message.clone())).await?;
    }
    Ok(())
}

/// Makes one Discord request, trying it again (after 1 s, then 2 s) when Discord answered with a
/// server error or the connection could not be made, so a reply is not lost to a bad second;
/// 429s are serenity's ratelimiter's. Each message of a reply is retried on its own: the ones
/// already sent are not sent again.
pub(crate) async fn retrying<T, F, Fut>(request: F) -> Result<T, serenity::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, serenity::Error>>,
{
    retrying_longer(false, request).await
}

/// [`retrying`], with more tries (up to 16 s apart) when `part_of_a_reply_is_out`: giving up
/// then leaves a half-delivered reply (and a scheduled one is sent again whole, later).
async fn retrying_longer<T, F, Fut>(part_of_a_reply_is_out: bool, mut request: F) -> Result<T, serenity::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, serenity::Error>>,
{
    use backon::Retryable;
    let attempts = if part_of_a_reply_is_out { SEND_ATTEMPTS_AFTER_THE_FIRST } else { SEND_ATTEMPTS };
    (|| request())
        .retry(send_retry(attempts))
        .sleep(tokio::time::sleep)
        .when(transient)
        .notify(|e, wait| warn!(error = %e, wait_ms = wait.as_millis(), "Discord request failed: trying again"))
        .await
}

fn transient(e: &serenity::Error) -> bool {
    match e {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)) => r.status_code.is_server_error(),
        serenity::Error::Http(serenity::HttpError::Request(e)) => e.is_connect(),
        _ => false,
    }
}

/// poise's event handler: buttons, menus, modals and direct messages (slash commands come
/// through [`slash`]).
pub async fn on_event(framework: poise::FrameworkContext<'_, Data, Error>, event: &FullEvent) -> Result<(), Error> {
    let http = framework.serenity_context.http.clone();
    let data = framework.user_data;
    match event {
        FullEvent::InteractionCreate { interaction: Interaction::Component(c) } => on_component(&http, data, c).await,
        FullEvent::InteractionCreate { interaction: Interaction::Modal(m) } => on_modal(&http, data, m).await,
        FullEvent::Message { new_message } if new_message.guild_id.is_none() && !new_message.author.bot => {
            on_direct_message(&http, data, new_message).await
        }
        FullEvent::Ready { data_about_bot } => {
            info!(bot = %data_about_bot.user.name, shard = ?data_about_bot.shard, "discord adapter connected");
            data.shards.set(framework.serenity_context.shard_id.0, true);
            Ok(())
        }
        FullEvent::Resume { .. } => {
            data.shards.set(framework.serenity_context.shard_id.0, true);
            Ok(())
        }
        FullEvent::ShardStageUpdate { event } => {
            let up = matches!(event.new, serenity::ConnectionStage::Connected);
            if !up {
                info!(shard = %event.shard_id, stage = %event.new, "discord shard not connected");
            }
            data.shards.set(event.shard_id.0, up);
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn on_component(http: &Arc<Http>, data: &Data, c: &ComponentInteraction) -> Result<(), Error> {
    let custom_id = c.data.custom_id.as_str();
    if let Some(rest) = custom_id.strip_prefix(FORM_BUTTON) {
        // A modal must be the first answer to the press: nothing may come before it.
        let (id, lang) = rest.rsplit_once(':').unwrap_or((rest, "en"));
        let lang: Lang = lang.parse().unwrap_or_default();
        if let Some(form) = runcoach_core::chat::form(id, lang) {
            CreateInteractionResponse::Modal(render::modal(&form)).execute(&**http, (c.id, c.token.as_str())).await?;
            return Ok(());
        }
    }
    let content = match &c.data.kind {
        ComponentInteractionDataKind::StringSelect { values } if custom_id == PICK => {
            Content::Button(values.first().cloned().unwrap_or_default())
        }
        ComponentInteractionDataKind::StringSelect { values } => {
            let prefix = custom_id.strip_prefix(CHOICE).unwrap_or(custom_id);
            Content::Button(format!("{prefix}{}", values.join(",")))
        }
        _ => Content::Button(custom_id.to_owned()),
    };
    let in_guild = c.guild_id.is_some();
    // The runner's own message (ephemeral or in their DMs): its buttons go at once, so the same
    // choice cannot be sent twice. A channel's message keeps them for the other members.
    let own = !in_guild || c.message.flags.is_some_and(|f| f.contains(serenity::MessageFlags::EPHEMERAL));
    let edit_original = if own {
        CreateInteractionResponse::UpdateMessage(CreateInteractionResponseMessage::new().components(Vec::new()))
            .execute(&**http, (c.id, c.token.as_str()))
            .await?;
        false
    } else {
        defer(http, c.id, &c.token, true).await?;
        true
    };
    // A press is personal whoever's message it was on: the answer is for the presser alone.
    let incoming = Incoming {
        sender: sender(&c.user, Some(&c.locale)),
        chat: chat(c.user.id, c.channel_id, c.guild_id, c.member.as_ref(), true),
        content,
    };
    let replies = data.core.handle(incoming).await;
    answer(http, &c.token, &replies, in_guild, edit_original).await
}

async fn on_modal(http: &Arc<Http>, data: &Data, m: &ModalInteraction) -> Result<(), Error> {
    let in_guild = m.guild_id.is_some();
    defer(http, m.id, &m.token, in_guild).await?;
    let id = m.data.custom_id.strip_prefix(MODAL).unwrap_or(&m.data.custom_id).to_owned();
    let values = m
        .data
        .components
        .iter()
        .flat_map(|row| row.components.iter())
        .filter_map(|c| match c {
            serenity::ActionRowComponent::InputText(input) => Some(input.value.clone().unwrap_or_default()),
            _ => None,
        })
        .collect();
    let incoming = Incoming {
        sender: sender(&m.user, Some(&m.locale)),
        chat: chat(m.user.id, m.channel_id, m.guild_id, m.member.as_ref(), true),
        content: Content::Form { id, values },
    };
    let replies = data.core.handle(incoming).await;
    answer(http, &m.token, &replies, in_guild, true).await
}

async fn on_direct_message(http: &Arc<Http>, data: &Data, msg: &Message) -> Result<(), Error> {
    let mut contents = Vec::new();
    if !msg.content.trim().is_empty() {
        contents.push(Content::Text(msg.content.clone()));
    }
    for file in &msg.attachments {
        contents.extend(file_content(data, file).await);
    }
    if contents.is_empty() {
        if msg.sticker_items.is_empty() {
            return Ok(());
        }
        contents.push(Content::Unsupported(Unsupported::Media("sticker".to_owned())));
    }
    for content in contents {
        let _ = msg.channel_id.broadcast_typing(&**http).await;
        let incoming = Incoming {
            sender: sender(&msg.author, None),
            chat: ChatRef::new(private_chat(msg.author.id), true),
            content,
        };
        let replies = data.core.handle(incoming).await;
        if replies.iter().any(|r| r.delete_incoming) {
            // Bots cannot delete a runner's message in a DM: the modal keeps secrets out of chats.
            info!("a secret was typed in a direct message; Discord does not let bots delete it");
        }
        send(http, msg.channel_id, &replies).await?;
    }
    Ok(())
}

/// Fetches an attachment from Discord's CDN, refusing more than [`MAX_FILE_BYTES`].
async fn download(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, Error> {
    let mut response = client.get(url).send().await?.error_for_status()?;
    let mut data = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        data.extend_from_slice(&chunk);
        if data.len() as u64 > MAX_FILE_BYTES {
            return Err("attachment larger than announced".into());
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_commands_and_club_membership_are_ephemeral() {
        assert!(is_personal("plan", ""));
        assert!(is_personal("stats", ""));
        assert!(!is_personal("help", ""));
        assert!(!is_personal("ask", "how to taper?"));
        assert!(!is_personal("club", "leaderboard week"));
        assert!(is_personal("club", "join hidden"));
        assert!(is_personal("club", "digest 123"));
    }

    #[test]
    fn a_chat_id_reads_back_as_the_dm_or_channel_it_was_written_from() {
        let dm = DiscordChat::Dm(serenity::UserId::new(42));
        assert_eq!(dm.to_string(), "dm:42");
        assert_eq!("dm:42".parse::<DiscordChat>(), Ok(dm));
        assert_eq!("7".parse::<DiscordChat>(), Ok(DiscordChat::Channel(serenity::ChannelId::new(7))));
        for bad in ["", "dm:", "dm:0", "0", "dm:x", "-1", "dm:42 ", "chan:7"] {
            assert!(bad.parse::<DiscordChat>().is_err(), "{bad:?}");
        }
    }
}
