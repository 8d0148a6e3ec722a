//! The platform-neutral message model: what an adapter hands the core ([`Incoming`]), what it
//! renders back ([`Reply`]), where a message goes ([`ChatKey`]) and the port a platform offers for
//! messages nobody asked for ([`Notifier`]: weekly summaries, club digests).
//!
//! A leaf of the core: it depends on the domain types and the languages only, so the chat
//! dispatch, the scheduler, the summaries and every adapter can all speak it without depending
//! on each other. Nothing here knows Telegram or Discord.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::{Platform, PlatformIdentity};
use crate::i18n::Lang;

/// Who wrote, as the platform tells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    pub platform: Platform,
    pub user_id: String,
    pub username: Option<String>,
    /// IETF language tag from the platform (Telegram's `language_code`, Discord's `locale`).
    pub language_code: Option<String>,
}

impl Sender {
    #[must_use]
    pub fn identity(&self) -> PlatformIdentity {
        PlatformIdentity { platform: self.platform, platform_user_id: self.user_id.clone() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRef {
    pub id: String,
    /// A one-to-one chat (or an ephemeral Discord reply): personal data may be shown.
    pub private: bool,
    /// The club (a Discord server) the message comes from, for `/club`.
    #[serde(default)]
    pub club: Option<ClubRef>,
}

impl ChatRef {
    /// A chat outside any club.
    #[must_use]
    pub fn new(id: impl Into<String>, private: bool) -> Self {
        ChatRef { id: id.into(), private, club: None }
    }
}

/// A running club: a Discord server, as the adapter saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClubRef {
    pub guild_id: String,
    /// The sender may manage the server (Discord's Manage Server or Administrator permission):
    /// they choose where the weekly digest goes.
    pub admin: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Content {
    Text(String),
    /// A command already split by the platform (`/profile weight 70`).
    Command {
        name: String,
        args: String,
    },
    /// A button press: the `data` of a [`Button`] the core sent.
    Button(String),
    File {
        name: String,
        mime: Option<String>,
        data: Vec<u8>,
    },
    /// A [`Form`] the platform showed as a dialog, submitted: its `id` and the values in the
    /// order of its fields.
    Form {
        id: String,
        values: Vec<String>,
    },
    /// Something the platform delivered that the coach cannot use (a sticker, a voice note, a
    /// file over the size limit): the core explains, in the runner's language.
    Unsupported(Unsupported),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unsupported {
    /// A sticker, voice note, video, location…: the platform's name for it.
    Media(String),
    FileTooLarge {
        bytes: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incoming {
    pub sender: Sender,
    pub chat: ChatRef,
    pub content: Content,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub data: String,
}

impl Button {
    #[must_use]
    pub fn new(label: impl Into<String>, data: impl Into<String>) -> Self {
        Button { label: label.into(), data: data.into() }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentKind {
    Image,
    File,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub kind: AttachmentKind,
    pub name: String,
    pub mime: String,
    pub data: Vec<u8>,
}

/// A few fields the platform may ask for in one dialog (Discord's modals); platforms without
/// dialogs ignore it and the conversation asks for each value in turn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    pub id: String,
    /// The language of its labels (a platform that opens it later asks [`crate::chat::form`] for it again).
    pub lang: Lang,
    /// The dialog's title, also the label of the button that opens it.
    pub title: String,
    pub fields: Vec<FormField>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    pub label: String,
    pub placeholder: Option<String>,
    /// A password or a code: never echoed back.
    pub secret: bool,
    pub min_len: u16,
    pub max_len: u16,
}

/// Several options to pick from at once (Discord's select menus); platforms without them ignore
/// it and the text says what to type. The pick comes back as [`Content::Button`] with
/// `prefix` followed by the chosen options' data joined by commas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub prefix: String,
    pub placeholder: String,
    /// `label` shown, `data` sent back.
    pub options: Vec<Button>,
    pub min: u8,
    pub max: u8,
}

/// Work in progress an adapter can show while the core is busy: the coach's answer as it is
/// written (Telegram edits one message), or a long sync's progress. Called from the core's task:
/// implementations hand the text off (e.g. to a channel) and return at once.
pub trait Progress: Send + Sync {
    /// The text so far; it replaces what was shown before.
    fn update(&self, text: &str);
}

/// One message back to the user. `text` is light markdown (`**bold**`, `_italic_`, `` `code` ``,
/// lists); adapters escape or convert it for their platform.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    /// Rows of buttons.
    pub buttons: Vec<Vec<Button>>,
    pub attachment: Option<Attachment>,
    /// The message being answered held a secret (a password): the adapter deletes it where the
    /// platform allows.
    #[serde(default)]
    pub delete_incoming: bool,
    /// A dialog to offer (a button that opens it), where the platform has dialogs.
    #[serde(default)]
    pub form: Option<Form>,
    /// A pick-several menu, where the platform has one.
    #[serde(default)]
    pub choice: Option<Choice>,
}

impl Reply {
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Reply { text: text.into(), ..Reply::default() }
    }

    #[must_use]
    pub fn with_buttons(mut self, rows: Vec<Vec<Button>>) -> Self {
        self.buttons = rows;
        self
    }

    #[must_use]
    pub fn with_form(mut self, form: Form) -> Self {
        self.form = Some(form);
        self
    }

    #[must_use]
    pub fn with_choice(mut self, choice: Choice) -> Self {
        self.choice = Some(choice);
        self
    }

    #[must_use]
    pub fn with_attachment(mut self, attachment: Attachment) -> Self {
        self.attachment = Some(attachment);
        self
    }
}

/// Where a message goes: a platform chat.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChatKey {
    pub platform: Platform,
    pub chat_id: String,
}

/// Why a platform did not take a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// The runner blocked the bot, left the server, or the chat is gone: stop writing there.
    #[error("blocked by the recipient")]
    Blocked,
    /// The platform asks to wait (HTTP 429).
    #[error("rate limited, retry after {retry_after:?}")]
    RateLimited { retry_after: std::time::Duration },
    /// Anything else that may work later (network, 5xx).
    #[error("transient failure: {0}")]
    Transient(String),
}

/// Sends replies to a chat through a platform adapter. `Ok` means the platform accepted them.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, chat: &ChatKey, replies: &[Reply]) -> Result<(), NotifyError>;
}

/// How adapters retry one platform message that failed transiently (a 5xx, a refused
/// connection): this many tries for the first message of a reply...
pub const SEND_ATTEMPTS: u32 = 3;
/// ...and more for a later one, since giving up then leaves a half-delivered reply (and a
/// scheduled one is sent again whole, later).
pub const SEND_ATTEMPTS_AFTER_THE_FIRST: u32 = 6;

/// The back-off between tries of one platform message, `attempts` tries in all: 1 s, 2 s, 4 s…
/// apart (at most 16 s). Adapters add their own predicate (what is transient) and waits (a 429's).
#[must_use]
pub fn send_retry(attempts: u32) -> backon::ExponentialBuilder {
    backon::ExponentialBuilder::default()
        .with_min_delay(std::time::Duration::from_secs(1))
        .with_factor(2.0)
        .with_max_delay(std::time::Duration::from_secs(16))
        .with_max_times(usize::try_from(attempts.saturating_sub(1)).unwrap_or(0))
}

/// Splits text into chunks of at most `max` characters: at paragraph breaks if possible, then at
/// line breaks, then at spaces, and only as a last resort inside a word.
#[must_use]
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut chunks = Vec::new();
    let mut rest: &str = text;
    while rest.chars().count() > max {
        let limit = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let window = rest.get(..limit).unwrap_or(rest);
        let cut = ["\n\n", "\n", " "]
            .iter()
            .find_map(|sep| window.rfind(sep).filter(|&i| i > 0).map(|i| (i, sep.len())))
            .unwrap_or((limit, 0));
        let (head, tail) = rest.split_at(cut.0);
        chunks.push(head.trim_end().to_owned());
        rest = tail.get(cut.1..).unwrap_or_default().trim_start_matches('\n');
    }
    if !rest.trim().is_empty() || chunks.is_empty() {
        chunks.push(rest.to_owned());
    }
    chunks
}
