//! A local Discord: the API v10 over HTTP and the gateway over a WebSocket, enough for serenity
//! and poise to run unchanged against it, and a model of what each member sees.
//!
//! Gateway: HELLO, IDENTIFY → READY (per shard, with the guilds routed to it by Discord's
//! `(guild_id >> 22) % shards`), HEARTBEAT → HEARTBEAT_ACK, and dispatches of INTERACTION_CREATE and
//! MESSAGE_CREATE on the shard that owns the guild (DMs on shard 0).
//! REST: gateway URL, application info, command registration (global and per guild), interaction
//! callbacks (message, deferral, update, modal) with Discord's rules (one acknowledgement, within
//! 3 s; a modal only for a command or a component; a token good for 15 min), the original
//! response and follow-ups, channel messages (JSON and multipart with files), typing, DM channels.
//! Every request body and every response body is checked against the operation that Discord's
//! OpenAPI description declares for the method and path ([`super::schema`]); a route the
//! description lacks, a body that does not validate, a missing bot token or a broken rule is a
//! violation, which tests assert there are none of. Responses carry `X-RateLimit-*` headers, and a
//! route can be told to answer 429 to exercise serenity's ratelimiter.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::schema::Spec;

pub const TOKEN: &str = "fake-bot-token.abc";
pub const APP_ID: u64 = 1_100_000_000_000_000_001;
pub const BOT_ID: u64 = APP_ID;
/// Discord's epoch (2015-01-01) in Unix milliseconds.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
const EPHEMERAL: u64 = 1 << 6;
const LOADING: u64 = 1 << 7;

/// A member of the test server (or someone writing to the bot).
#[derive(Clone, Debug)]
pub struct Member {
    pub id: u64,
    pub name: &'static str,
    pub locale: &'static str,
    pub admin: bool,
}

impl Member {
    pub fn new(id: u64, name: &'static str, locale: &'static str) -> Member {
        Member { id, name, locale, admin: false }
    }

    pub fn admin(mut self) -> Member {
        self.admin = true;
        self
    }
}

#[derive(Clone, Debug)]
pub struct FileData {
    pub id: u64,
    pub name: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// A message as Discord keeps it.
#[derive(Clone, Debug)]
pub struct Msg {
    pub id: u64,
    pub channel_id: u64,
    pub author: u64,
    pub content: String,
    /// As sent by the bot (action rows).
    pub components: Vec<Value>,
    pub files: Vec<FileData>,
    pub flags: u64,
    /// The interaction it answers, for the original response and follow-ups.
    pub interaction: Option<u64>,
    /// Seen only by this member (an ephemeral message).
    pub only_for: Option<u64>,
    pub edits: u32,
    /// What the message said before each edit, oldest first.
    pub history: Vec<String>,
    pub at: Instant,
}

impl Msg {
    pub fn ephemeral(&self) -> bool {
        self.flags & EPHEMERAL != 0
    }

    pub fn loading(&self) -> bool {
        self.flags & LOADING != 0
    }

    /// Every component (buttons, menus) of the message, flattened.
    pub fn controls(&self) -> Vec<Value> {
        self.components.iter().flat_map(|row| row["components"].as_array().cloned().unwrap_or_default()).collect()
    }

    /// The custom id of the button whose label contains `label`.
    pub fn button(&self, label: &str) -> String {
        self.controls()
            .iter()
            .find(|c| c["type"] == 2 && c["label"].as_str().is_some_and(|l| l.contains(label)))
            .and_then(|c| c["custom_id"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no button {label:?} on {:?}: {:?}", self.content, self.controls()))
    }
}

/// An interaction dispatched to the bot, and what the bot did with it.
#[derive(Clone, Debug)]
pub struct Ix {
    pub id: u64,
    pub token: String,
    pub kind: u8,
    pub user: u64,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    pub source_message: Option<u64>,
    pub dispatched: Instant,
    /// The callback type (4, 5, 6, 7, 9) and how long after the dispatch it came.
    pub response: Option<(u8, Duration)>,
    pub modal: Option<Value>,
    pub original: Option<u64>,
}

struct Conn {
    shard: u32,
    total: u32,
    tx: mpsc::UnboundedSender<String>,
    seq: AtomicU64,
}

#[derive(Default)]
pub struct State_ {
    pub messages: Vec<Msg>,
    pub interactions: HashMap<u64, Ix>,
    pub global_commands: Vec<Value>,
    pub guild_commands: HashMap<u64, Vec<Value>>,
    pub violations: Vec<String>,
    /// Requests that Discord takes but its description would refuse (integer snowflakes).
    pub leniencies: Vec<String>,
    pub requests: Vec<(String, String)>,
    /// Every JSON body the bot sent, by route (`POST /channels/{channel_id}/messages`).
    pub bodies: Vec<(String, Value)>,
    pub identified: Vec<(u32, u32, u64)>,
    pub heartbeats: u32,
    pub dm_channels: HashMap<u64, u64>,
    pub typing: Vec<u64>,
    /// Route (`POST /channels/{channel_id}/messages`) → 429 answers still to give, and their wait.
    pub rate_limits: HashMap<String, (u32, f64)>,
    /// Route → calls to let through, then 502 answers to give (a bad second at Discord's edge).
    pub server_errors: HashMap<String, (u32, u32)>,
    pub limited_at: Vec<(String, Instant)>,
    /// When each 502 of [`Fake::server_error`] was answered.
    pub failed_at: Vec<(String, Instant)>,
    cdn: HashMap<u64, FileData>,
    conns: Vec<Conn>,
    users: HashMap<u64, Member>,
}

pub struct Inner {
    pub spec: Spec,
    pub url: String,
    pub guild: u64,
    pub channel: u64,
    pub heartbeat_ms: u64,
    next: AtomicU64,
    state: Mutex<State_>,
}

#[derive(Clone)]
pub struct Fake(pub Arc<Inner>);

fn snowflake(counter: u64) -> u64 {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    ((ms - DISCORD_EPOCH_MS) << 22) | (counter & 0x3F_FFFF)
}

/// A guild id that Discord's routing puts on `shard` of `total`.
pub fn guild_on_shard(shard: u64, total: u64) -> u64 {
    let mut id = (1_000_000u64 << 22) + 12_345;
    while (id >> 22) % total != shard {
        id += 1 << 22;
    }
    id
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn user_json(id: u64, name: &str, bot: bool) -> Value {
    let mut u = json!({
        "id": id.to_string(), "username": name, "avatar": null, "discriminator": "0", "public_flags": 0,
        "flags": 0, "global_name": if bot { Value::Null } else { json!(name) }, "primary_guild": null,
    });
    if bot {
        u["bot"] = json!(true);
    }
    u
}

impl Fake {
    /// Starts the server on a free local port; `guild` is the club's server, `channel` its
    /// #running channel.
    pub async fn start(guild: u64, heartbeat_ms: u64) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let inner = Inner {
            spec: Spec::load(),
            url,
            guild,
            channel: guild + 1,
            heartbeat_ms,
            next: AtomicU64::new(1),
            state: Mutex::new(State_::default()),
        };
        let fake = Fake(Arc::new(inner));
        let app = Router::new()
            .route("/gateway-ws", get(gateway))
            .route("/attachments/{id}/{name}", get(cdn))
            .fallback(rest)
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    pub fn url(&self) -> &str {
        &self.0.url
    }

    fn id(&self) -> u64 {
        snowflake(self.0.next.fetch_add(1, Ordering::SeqCst))
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State_) -> R) -> R {
        f(&mut self.0.state.lock().unwrap())
    }

    pub fn violation(&self, v: String) {
        eprintln!("DISCORD FAKE VIOLATION: {v}");
        self.with(|s| s.violations.push(v));
    }

    pub fn violations(&self) -> Vec<String> {
        self.with(|s| s.violations.clone())
    }

    /// Waits (up to `secs`) until `f` gives something.
    pub async fn wait<R>(&self, secs: u64, what: &str, f: impl Fn(&State_) -> Option<R>) -> R {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(r) = self.with(|s| f(s)) {
                return r;
            }
            if Instant::now() > deadline {
                let log = self.with(|s| s.requests.clone());
                panic!("timed out waiting for {what}; requests: {log:#?}; violations: {:#?}", self.violations());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `shards` shards have identified and commands are registered.
    pub async fn ready(&self, shards: usize) {
        self.wait(30, "the bot to identify", |s| (s.identified.len() >= shards).then_some(())).await;
    }

    pub fn registered(&self, guild: Option<u64>) -> Vec<Value> {
        self.with(|s| match guild {
            Some(g) => s.guild_commands.get(&g).cloned().unwrap_or_default(),
            None => s.global_commands.clone(),
        })
    }

    fn member_json(&self, m: &Member) -> Value {
        json!({
            "user": user_json(m.id, m.name, false), "nick": null, "avatar": null, "banner": null, "roles": [],
            "joined_at": "2025-01-01T00:00:00.000000+00:00", "premium_since": null, "deaf": false, "mute": false,
            "flags": 0, "pending": false,
            // ADMINISTRATOR for the server's admins; view, send, use commands for the others.
            "permissions": if m.admin { "8" } else { "2147485696" },
            "communication_disabled_until": null, "unusual_dm_activity_until": null,
        })
    }

    /// The bot's view of a message (a MessageResponse), for REST answers and dispatches.
    fn message_json(&self, m: &Msg) -> Value {
        let author = self.with(|s| s.users.get(&m.author).cloned());
        let author = match author {
            Some(u) => user_json(u.id, u.name, false),
            None => user_json(BOT_ID, "runcoach", true),
        };
        let attachments: Vec<Value> = m
            .files
            .iter()
            .map(|f| {
                let url = format!("{}/attachments/{}/{}", self.0.url, f.id, f.name);
                let mut a = json!({
                    "id": f.id.to_string(), "filename": f.name, "size": f.bytes.len(), "url": url, "proxy_url": url,
                });
                if let Some(ct) = &f.content_type {
                    a["content_type"] = json!(ct);
                }
                a
            })
            .collect();
        let mut v = json!({
            "id": m.id.to_string(), "channel_id": m.channel_id.to_string(), "author": author, "content": m.content,
            "timestamp": now_iso(), "edited_timestamp": if m.edits > 0 { json!(now_iso()) } else { Value::Null },
            "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": attachments,
            "embeds": [], "pinned": false, "type": if m.interaction.is_some() { 20 } else { 0 }, "flags": m.flags,
            "components": response_components(&m.components),
        });
        if m.interaction.is_some() {
            v["application_id"] = json!(APP_ID.to_string());
            v["webhook_id"] = json!(APP_ID.to_string());
        }
        v
    }

    fn dispatch(&self, guild: Option<u64>, event: &str, data: Value) {
        let sent = self.with(|s| {
            let conn = s.conns.iter().find(|c| match guild {
                Some(g) => (g >> 22) % u64::from(c.total) == u64::from(c.shard),
                None => c.shard == 0,
            });
            conn.map(|c| {
                let seq = c.seq.fetch_add(1, Ordering::SeqCst) + 1;
                c.tx.send(json!({ "op": 0, "t": event, "s": seq, "d": data }).to_string()).is_ok()
            })
        });
        if sent != Some(true) {
            self.violation(format!("no gateway connection for the shard of {guild:?} to dispatch {event}"));
        }
    }

    fn interaction_base(&self, kind: u8, who: &Member, channel: u64, guild: Option<u64>) -> (u64, String, Value) {
        self.with(|s| s.users.insert(who.id, who.clone()));
        let id = self.id();
        let token = format!("itk-{id}-{}", who.id);
        let mut v = json!({
            "id": id.to_string(), "application_id": APP_ID.to_string(), "type": kind, "token": token, "version": 1,
            "channel_id": channel.to_string(), "locale": who.locale, "app_permissions": "2251799813685247",
            "entitlements": [], "authorizing_integration_owners": { "0": self.0.guild.to_string() },
            "attachment_size_limit": 26_214_400,
        });
        // The parts of an interaction that Discord's description has schemas for.
        match guild {
            Some(_) => self.check_schema(
                "INTERACTION_CREATE member",
                self.0.spec.schema("GuildMemberResponse"),
                &self.member_json(who),
            ),
            None => self.check_schema(
                "INTERACTION_CREATE user",
                self.0.spec.schema("UserResponse"),
                &user_json(who.id, who.name, false),
            ),
        }
        match guild {
            Some(g) => {
                v["guild_id"] = json!(g.to_string());
                v["guild_locale"] = json!("en-US");
                v["member"] = self.member_json(who);
                v["context"] = json!(0);
                v["channel"] = json!({ "id": channel.to_string(), "type": 0, "name": "running", "guild_id": g.to_string(), "permissions": "2251799813685247", "flags": 0 });
            }
            None => {
                v["user"] = user_json(who.id, who.name, false);
                v["context"] = json!(1);
                v["channel"] = json!({ "id": channel.to_string(), "type": 1, "flags": 0, "recipients": [user_json(who.id, who.name, false)] });
            }
        }
        (id, token, v)
    }

    /// Keeps an interaction about to be dispatched; `place` is its channel and server.
    fn record_ix(
        &self,
        id: u64,
        token: String,
        kind: u8,
        who: &Member,
        place: (u64, Option<u64>),
        source: Option<u64>,
    ) {
        let (channel, guild) = place;
        let ix = Ix {
            id,
            token,
            kind,
            user: who.id,
            channel_id: channel,
            guild_id: guild,
            source_message: source,
            dispatched: Instant::now(),
            response: None,
            modal: None,
            original: None,
        };
        self.with(|s| s.interactions.insert(id, ix));
    }

    /// A member types a slash command (with its options as Discord sends them) in `channel` of
    /// the club's server (`guild` None: in their DMs with the bot).
    pub fn slash(&self, who: &Member, guild: Option<u64>, channel: u64, name: &str, options: Value) -> u64 {
        self.slash_with(who, guild, channel, name, options, Value::Null)
    }

    /// A file a member attaches to a slash command: its id (the option's value) and the
    /// `resolved` object Discord sends with the command.
    pub fn upload(&self, name: &str, content_type: &str, bytes: Vec<u8>) -> (u64, Value) {
        let file =
            FileData { id: self.id(), name: name.to_owned(), content_type: Some(content_type.to_owned()), bytes };
        let url = format!("{}/attachments/{}/{}", self.0.url, file.id, file.name);
        let json = json!({ "id": file.id.to_string(), "filename": file.name, "size": file.bytes.len(), "url": url,
            "proxy_url": url, "content_type": content_type, "ephemeral": true });
        let id = file.id;
        self.with(|s| s.cdn.insert(id, file));
        (id, json!({ "attachments": { id.to_string(): json } }))
    }

    /// [`Fake::slash`] with the `resolved` objects (attachments, channels) its options refer to.
    pub fn slash_with(
        &self,
        who: &Member,
        guild: Option<u64>,
        channel: u64,
        name: &str,
        options: Value,
        resolved: Value,
    ) -> u64 {
        let commands = match guild {
            Some(g) if !self.registered(Some(g)).is_empty() => self.registered(Some(g)),
            _ => self.registered(None),
        };
        let Some(command) = commands.iter().find(|c| c["name"] == name).cloned() else {
            panic!("/{name} is not registered: the member cannot type it");
        };
        let (id, token, mut v) = self.interaction_base(2, who, channel, guild);
        v["data"] = json!({ "id": command["id"], "name": name, "type": 1, "options": options });
        if !resolved.is_null() {
            v["data"]["resolved"] = resolved;
        }
        if let Some(g) = guild {
            v["data"]["guild_id"] = json!(g.to_string());
        }
        self.record_ix(id, token, 2, who, (channel, guild), None);
        self.dispatch(guild, "INTERACTION_CREATE", v);
        id
    }

    fn component(&self, who: &Member, message: u64, custom_id: &str, data: Value) -> u64 {
        let msg = self.message(message);
        if msg.only_for.is_some_and(|u| u != who.id) {
            panic!("{} cannot see message {message}", who.name);
        }
        let known = msg.controls().iter().any(|c| c["custom_id"] == custom_id);
        assert!(known, "no component {custom_id:?} on the message: {:?}", msg.controls());
        let guild = self.guild_of(msg.channel_id);
        let (id, token, mut v) = self.interaction_base(3, who, msg.channel_id, guild);
        v["data"] = data;
        v["message"] = self.message_json(&msg);
        self.check_schema("INTERACTION_CREATE message", self.0.spec.schema("MessageResponse"), &v["message"]);
        self.record_ix(id, token, 3, who, (msg.channel_id, guild), Some(message));
        self.dispatch(guild, "INTERACTION_CREATE", v);
        id
    }

    /// A member presses a button of a message.
    pub fn click(&self, who: &Member, message: u64, custom_id: &str) -> u64 {
        self.component(who, message, custom_id, json!({ "custom_id": custom_id, "component_type": 2 }))
    }

    /// A member picks options in a select menu of a message.
    pub fn select(&self, who: &Member, message: u64, custom_id: &str, values: &[&str]) -> u64 {
        let msg = self.message(message);
        let menu = msg.controls().into_iter().find(|c| c["custom_id"] == custom_id).expect("the menu");
        let (min, max) = (menu["min_values"].as_u64().unwrap_or(1), menu["max_values"].as_u64().unwrap_or(1));
        let n = values.len() as u64;
        assert!(n >= min && n <= max, "Discord's client only allows {min} to {max} values, not {n}");
        for v in values {
            assert!(menu["options"].as_array().unwrap().iter().any(|o| o["value"] == *v), "{v} is not an option");
        }
        self.component(
            who,
            message,
            custom_id,
            json!({ "custom_id": custom_id, "component_type": 3, "values": values }),
        )
    }

    /// A member fills in and submits the modal the bot opened for interaction `opened_by`.
    pub fn submit_modal(&self, who: &Member, opened_by: u64, values: &[&str]) -> u64 {
        let ix = self.interaction(opened_by);
        let modal = ix.modal.clone().expect("the bot opened no modal");
        let inputs: Vec<Value> = modal["components"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .collect();
        assert_eq!(inputs.len(), values.len(), "the modal has {} fields", inputs.len());
        let rows: Vec<Value> = inputs
            .iter()
            .zip(values)
            .map(|(input, value)| {
                let len = value.chars().count() as u64;
                assert!(
                    input["max_length"].as_u64().is_none_or(|m| len <= m)
                        && input["min_length"].as_u64().is_none_or(|m| len >= m)
                );
                json!({ "type": 1, "components": [{ "type": 4, "custom_id": input["custom_id"], "value": value }] })
            })
            .collect();
        let (id, token, mut v) = self.interaction_base(5, who, ix.channel_id, ix.guild_id);
        v["data"] = json!({ "custom_id": modal["custom_id"], "components": rows });
        if let Some(source) = ix.source_message {
            v["message"] = self.message_json(&self.message(source));
        }
        self.record_ix(id, token, 5, who, (ix.channel_id, ix.guild_id), ix.source_message);
        self.dispatch(ix.guild_id, "INTERACTION_CREATE", v);
        id
    }

    /// A member writes to the bot in their DMs, with files attached.
    pub fn dm(&self, who: &Member, text: &str, files: Vec<(&str, &str, Vec<u8>)>) -> u64 {
        self.with(|s| s.users.insert(who.id, who.clone()));
        let channel = self.dm_channel(who.id);
        let files: Vec<FileData> = files
            .into_iter()
            .map(|(name, ct, bytes)| FileData {
                id: self.id(),
                name: name.to_owned(),
                content_type: Some(ct.to_owned()),
                bytes,
            })
            .collect();
        self.with(|s| {
            for f in &files {
                s.cdn.insert(f.id, f.clone());
            }
        });
        let msg = Msg {
            id: self.id(),
            channel_id: channel,
            author: who.id,
            content: text.to_owned(),
            components: Vec::new(),
            files,
            flags: 0,
            interaction: None,
            only_for: None,
            edits: 0,
            history: Vec::new(),
            at: Instant::now(),
        };
        let json = self.message_json(&msg);
        self.check_schema("MESSAGE_CREATE", self.0.spec.schema("MessageResponse"), &json);
        let id = msg.id;
        self.with(|s| s.messages.push(msg));
        self.dispatch(None, "MESSAGE_CREATE", json);
        id
    }

    pub fn dm_channel(&self, user: u64) -> u64 {
        let fresh = self.id();
        self.with(|s| *s.dm_channels.entry(user).or_insert(fresh))
    }

    fn guild_of(&self, channel: u64) -> Option<u64> {
        if self.with(|s| s.dm_channels.values().any(|c| *c == channel)) { None } else { Some(self.0.guild) }
    }

    pub fn message(&self, id: u64) -> Msg {
        self.with(|s| s.messages.iter().find(|m| m.id == id).cloned()).unwrap_or_else(|| panic!("no message {id}"))
    }

    pub fn interaction(&self, id: u64) -> Ix {
        self.with(|s| s.interactions.get(&id).cloned()).unwrap()
    }

    /// What `who` sees in `channel`, oldest first.
    pub fn visible(&self, who: u64, channel: u64) -> Vec<Msg> {
        self.with(|s| {
            s.messages
                .iter()
                .filter(|m| m.channel_id == channel && m.only_for.is_none_or(|u| u == who))
                .cloned()
                .collect()
        })
    }

    /// The bot's messages answering interaction `ix` (the original response, then follow-ups),
    /// once the original is no longer "thinking…" and nothing new came for a moment.
    pub async fn answer(&self, ix: u64) -> Vec<Msg> {
        let settled = |s: &State_| {
            let msgs: Vec<Msg> = s.messages.iter().filter(|m| m.interaction == Some(ix)).cloned().collect();
            let done = !msgs.is_empty() && msgs.iter().all(|m| !m.loading());
            let quiet = msgs.iter().map(|m| m.at).max().is_some_and(|t| t.elapsed() > Duration::from_millis(400));
            (done && quiet).then_some(msgs)
        };
        self.wait(20, &format!("the answer to interaction {ix}"), settled).await
    }

    /// The bot's messages in `channel` after message `after`, once nothing new came for a moment.
    pub async fn bot_messages_after(&self, channel: u64, after: u64, at_least: usize) -> Vec<Msg> {
        self.wait(20, "the bot's messages", |s| {
            let msgs: Vec<Msg> = s
                .messages
                .iter()
                .filter(|m| m.channel_id == channel && m.id > after && m.author == BOT_ID)
                .cloned()
                .collect();
            let quiet = msgs.iter().map(|m| m.at).max().is_some_and(|t| t.elapsed() > Duration::from_millis(400));
            (msgs.len() >= at_least && quiet).then_some(msgs)
        })
        .await
    }

    /// After `skip` calls, the next `n` calls to `route` answer 502 (not Discord's JSON: the edge's).
    pub fn server_error(&self, route: &str, skip: u32, n: u32) {
        self.with(|s| s.server_errors.insert(route.to_owned(), (skip, n)));
    }

    /// The next `n` calls to `route` (`POST /channels/{channel_id}/messages`) answer 429.
    pub fn rate_limit(&self, route: &str, n: u32, retry_after_s: f64) {
        self.with(|s| s.rate_limits.insert(route.to_owned(), (n, retry_after_s)));
    }

    fn check_schema(&self, what: &str, schema: &Value, value: &Value) {
        for e in self.0.spec.validate(schema, value) {
            self.violation(format!("{what}: {e}"));
        }
    }
}

/// Response components from the bot's: Discord adds a numeric `id` to each.
fn response_components(rows: &[Value]) -> Value {
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    Value::Array(
        rows.iter()
            .map(|row| {
                let mut row = row.clone();
                row["id"] = json!(next());
                if let Some(items) = row["components"].as_array_mut() {
                    for c in items {
                        c["id"] = json!(next());
                    }
                }
                row
            })
            .collect(),
    )
}

// ---------------------------------------------------------------- gateway

async fn gateway(ws: WebSocketUpgrade, State(fake): State<Fake>) -> Response {
    ws.on_upgrade(move |socket| connection(fake, socket))
}

async fn connection(fake: Fake, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(text) = rx.recv().await {
            if sink.send(WsMessage::Text(text.into())).await.is_err() {
                break;
            }
        }
    });
    let _ = tx.send(
        json!({ "op": 10, "d": { "heartbeat_interval": fake.0.heartbeat_ms }, "s": null, "t": null }).to_string(),
    );
    let mut shard = None;
    while let Some(Ok(frame)) = stream.next().await {
        let text = match frame {
            WsMessage::Text(t) => t.to_string(),
            WsMessage::Close(_) => break,
            _ => continue,
        };
        let Ok(payload) = serde_json::from_str::<Value>(&text) else {
            fake.violation(format!("gateway: not JSON: {text}"));
            continue;
        };
        match payload["op"].as_u64() {
            Some(1) => {
                fake.with(|s| s.heartbeats += 1);
                let _ = tx.send(json!({ "op": 11, "d": null, "s": null, "t": null }).to_string());
            }
            Some(2) => {
                let d = &payload["d"];
                let token = d["token"].as_str().unwrap_or_default();
                if token.trim_start_matches("Bot ") != TOKEN {
                    fake.violation(format!("IDENTIFY with a wrong token {token:?}"));
                    let _ = tx.send(json!({ "op": 9, "d": false, "s": null, "t": null }).to_string());
                    continue;
                }
                let intents = d["intents"].as_u64().unwrap_or_default();
                let (id, total) =
                    (d["shard"][0].as_u64().unwrap_or(0) as u32, d["shard"][1].as_u64().unwrap_or(1) as u32);
                if d["properties"]["os"].as_str().is_none() || id >= total {
                    fake.violation(format!("IDENTIFY without properties or with a bad shard: {d}"));
                }
                shard = Some(id);
                let guilds: Vec<Value> = [fake.0.guild]
                    .into_iter()
                    .filter(|g| (g >> 22) % u64::from(total) == u64::from(id))
                    .map(|g| json!({ "id": g.to_string(), "unavailable": true }))
                    .collect();
                let ready = json!({
                    "op": 0, "t": "READY", "s": 1, "d": {
                        "v": 10, "user": { "id": BOT_ID.to_string(), "username": "runcoach", "discriminator": "0", "avatar": null,
                            "global_name": null, "bot": true, "verified": true, "mfa_enabled": false, "flags": 0, "email": null },
                        "guilds": guilds, "session_id": format!("session-{id}"),
                        "resume_gateway_url": fake.0.url.replace("http://", "ws://") + "/gateway-ws",
                        "shard": [id, total], "application": { "id": APP_ID.to_string(), "flags": 0 },
                        "private_channels": [], "relationships": [], "presences": [], "guild_join_requests": [],
                        "geo_ordered_rtc_regions": [], "user_settings": {}, "auth": {},
                    }
                });
                fake.with(|s| {
                    s.identified.push((id, total, intents));
                    s.conns.push(Conn { shard: id, total, tx: tx.clone(), seq: AtomicU64::new(1) });
                });
                let _ = tx.send(ready.to_string());
            }
            Some(6) => {
                // No resuming here: the client identifies anew.
                let _ = tx.send(json!({ "op": 9, "d": false, "s": null, "t": null }).to_string());
            }
            Some(3 | 4 | 8) => {}
            other => fake.violation(format!("gateway: unexpected opcode {other:?}: {text}")),
        }
    }
    if let Some(id) = shard {
        fake.with(|s| s.conns.retain(|c| c.shard != id || c.tx.is_closed()));
    }
}

async fn cdn(State(fake): State<Fake>, Path((id, _name)): Path<(u64, String)>) -> Response {
    match fake.with(|s| s.cdn.get(&id).cloned()) {
        Some(f) => ([(header::CONTENT_TYPE, f.content_type.unwrap_or_default())], f.bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

// ---------------------------------------------------------------- REST

struct Body {
    json: Option<Value>,
    files: Vec<FileData>,
    content_type: &'static str,
}

async fn read_body(fake: &Fake, req: Request) -> Body {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if ct.starts_with("multipart/form-data") {
        let mut multipart = match Multipart::from_request(req, &()).await {
            Ok(m) => m,
            Err(e) => {
                fake.violation(format!("unreadable multipart body: {e}"));
                return Body { json: None, files: Vec::new(), content_type: "multipart/form-data" };
            }
        };
        let (mut json, mut files) = (None, Vec::new());
        while let Ok(Some(field)) = multipart.next_field().await {
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(str::to_owned);
            let bytes = field.bytes().await.unwrap_or_default().to_vec();
            if name == "payload_json" {
                json = serde_json::from_slice(&bytes).ok();
                if json.is_none() {
                    fake.violation("payload_json is not JSON".into());
                }
            } else if let Some(index) = name.strip_prefix("files[").and_then(|r| r.strip_suffix(']')) {
                files.push(FileData {
                    id: index.parse().unwrap_or(u64::MAX),
                    name: file_name.unwrap_or_default(),
                    content_type,
                    bytes,
                });
            } else {
                fake.violation(format!("unexpected multipart field {name:?}"));
            }
        }
        return Body { json, files, content_type: "multipart/form-data" };
    }
    let bytes = axum::body::to_bytes(req.into_body(), 64 << 20).await.unwrap_or_default();
    let json = if bytes.is_empty() { None } else { serde_json::from_slice(&bytes).ok() };
    if !bytes.is_empty() && json.is_none() {
        fake.violation(format!("body is not JSON: {}", String::from_utf8_lossy(&bytes)));
    }
    Body { json, files: Vec::new(), content_type: "application/json" }
}

fn error(status: u16, code: u64, message: &str) -> (u16, Value) {
    (status, json!({ "code": code, "message": message }))
}

pub async fn rest(State(fake): State<Fake>, method: Method, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let headers: HeaderMap = req.headers().clone();
    let Some(path) = path.strip_prefix("/api/v10").map(str::to_owned) else {
        fake.violation(format!("{method} {path}: not under /api/v10"));
        return StatusCode::NOT_FOUND.into_response();
    };
    fake.with(|s| s.requests.push((method.to_string(), path.clone())));
    let spec = &fake.0.spec;
    let Some(op) = spec.operation(method.as_str(), &path) else {
        fake.violation(format!("{method} {path}: no such operation in Discord's API description"));
        return (StatusCode::NOT_FOUND, axum::Json(json!({ "code": 0, "message": "404: Not Found" }))).into_response();
    };
    let route = format!("{method} {}", op.template);
    let webhook = op.template.starts_with("/webhooks/") || op.template.starts_with("/interactions/");
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !webhook && auth != format!("Bot {TOKEN}") {
        fake.violation(format!("{route}: Authorization {auth:?} is not the bot token"));
    }
    let body = read_body(&fake, req).await;
    if let Some(json) = &body.json {
        fake.with(|s| s.bodies.push((route.clone(), json.clone())));
        match spec.request_schema(op.op, body.content_type) {
            Some(schema) => {
                let (errors, lenient) = spec.validate_request(schema, json);
                for e in errors {
                    fake.violation(format!("{route} request: {e}"));
                }
                fake.with(|s| s.leniencies.extend(lenient.into_iter().map(|l| format!("{route} request: {l}"))));
            }
            None => fake.violation(format!("{route}: a body where the description has none")),
        }
        if let Some(attachments) = json.get("attachments").and_then(Value::as_array) {
            for a in attachments {
                let id = a["id"].as_u64().or_else(|| a["id"].as_str().and_then(|s| s.parse().ok()));
                let new = id.is_some_and(|id| body.files.iter().any(|f| f.id == id));
                let kept = a["id"].is_string();
                if !new && !kept {
                    fake.violation(format!("{route}: attachment {a} names no uploaded file"));
                }
            }
        }
    } else if body.content_type == "multipart/form-data" {
        fake.violation(format!("{route}: multipart without payload_json"));
    }
    let failing = fake.with(|s| match s.server_errors.get_mut(&route) {
        Some((skip, _)) if *skip > 0 => {
            *skip -= 1;
            false
        }
        Some((_, n)) if *n > 0 => {
            *n -= 1;
            s.failed_at.push((route.clone(), Instant::now()));
            true
        }
        _ => false,
    });
    if failing {
        return (StatusCode::BAD_GATEWAY, "upstream connect error or disconnect/reset before headers").into_response();
    }
    let limited = fake.with(|s| match s.rate_limits.get_mut(&route) {
        Some((n, wait)) if *n > 0 => {
            *n -= 1;
            s.limited_at.push((route.clone(), Instant::now()));
            Some(*wait)
        }
        _ => None,
    });
    let (status, value) = match limited {
        Some(wait) => (429, json!({ "message": "You are being rate limited.", "retry_after": wait, "global": false })),
        None => handle(&fake, &method, &path, &op.template, body).await,
    };
    if !spec.declares_status(op.op, status) {
        fake.violation(format!("{route}: answered {status}, a status the description does not declare"));
    }
    if (200..300).contains(&status) && status != 204 {
        match spec.response_schema(op.op, status) {
            Some(schema) => fake.check_schema(&format!("{route} response"), schema, &value),
            None => fake.violation(format!("{route}: no response schema for {status}")),
        }
    }
    let mut response = if status == 204 {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (StatusCode::from_u16(status).unwrap(), axum::Json(value.clone())).into_response()
    };
    let h = response.headers_mut();
    let bucket = format!("{:x}", md5ish(&op.template));
    let (remaining, reset_after) =
        if status == 429 { ("0", value["retry_after"].as_f64().unwrap_or(1.0)) } else { ("4", 1.0) };
    let reset = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64() + reset_after;
    h.insert("x-ratelimit-limit", HeaderValue::from_static("5"));
    h.insert("x-ratelimit-remaining", HeaderValue::from_static(remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from_str(&format!("{reset:.3}")).unwrap());
    h.insert("x-ratelimit-reset-after", HeaderValue::from_str(&format!("{reset_after:.3}")).unwrap());
    h.insert("x-ratelimit-bucket", HeaderValue::from_str(&bucket).unwrap());
    if status == 429 {
        h.insert("retry-after", HeaderValue::from_str(&format!("{}", reset_after.ceil() as u64)).unwrap());
        h.insert("x-ratelimit-scope", HeaderValue::from_static("user"));
    }
    response
}

fn md5ish(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn seg(path: &str, n: usize) -> String {
    path.trim_matches('/').split('/').nth(n).unwrap_or_default().to_owned()
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

fn command_response(c: &Value, id: u64, guild: Option<u64>) -> Value {
    let mut r = json!({
        "id": id.to_string(), "application_id": APP_ID.to_string(), "version": id.to_string(),
        "default_member_permissions": c.get("default_member_permissions").cloned().unwrap_or(Value::Null),
        "type": c.get("type").cloned().unwrap_or(json!(1)), "name": c["name"],
        "description": c.get("description").cloned().unwrap_or(json!("")),
        "name_localizations": c.get("name_localizations").cloned().unwrap_or(Value::Null),
        "description_localizations": c.get("description_localizations").cloned().unwrap_or(Value::Null),
        // Discord leaves unset fields out of what it sends back.
        "options": strip_nulls(c.get("options").cloned().unwrap_or(json!([]))),
        "contexts": c.get("contexts").cloned().unwrap_or(Value::Null),
        "integration_types": c.get("integration_types").cloned().unwrap_or(json!([0])),
        "nsfw": false, "dm_permission": true,
    });
    if let Some(g) = guild {
        r["guild_id"] = json!(g.to_string());
    }
    r
}

async fn handle(fake: &Fake, method: &Method, path: &str, template: &str, body: Body) -> (u16, Value) {
    let json = body.json.clone().unwrap_or(Value::Null);
    match (method.as_str(), template) {
        ("GET", "/gateway") => (200, json!({ "url": fake.0.url.replace("http://", "ws://") + "/gateway-ws" })),
        ("GET", "/oauth2/applications/@me" | "/applications/@me") => (200, application_json()),
        ("GET", "/users/@me") => (
            200,
            json!({
                "id": BOT_ID.to_string(), "username": "runcoach", "avatar": null, "discriminator": "0", "public_flags": 0,
                "flags": 0, "bot": true, "global_name": null, "primary_guild": null, "mfa_enabled": false, "locale": "en-US",
                "premium_type": 0, "email": null, "verified": true,
            }),
        ),
        (
            "PUT",
            "/applications/{application_id}/commands" | "/applications/{application_id}/guilds/{guild_id}/commands",
        ) => {
            if seg(path, 1) != APP_ID.to_string() {
                return error(404, 10002, "Unknown Application");
            }
            let guild = template.contains("guilds").then(|| seg(path, 3).parse::<u64>().unwrap());
            let list: Vec<Value> = json
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|c| command_response(c, fake.id(), guild))
                .collect();
            fake.with(|s| match guild {
                Some(g) => s.guild_commands.insert(g, list.clone()),
                None => Some(std::mem::replace(&mut s.global_commands, list.clone())),
            });
            (200, Value::Array(list))
        }
        ("POST", "/users/@me/channels") => {
            let Some(user) = json["recipient_id"].as_str().and_then(|u| u.parse::<u64>().ok()) else {
                return error(400, 50035, "Invalid Form Body");
            };
            let channel = fake.dm_channel(user);
            let name = fake.with(|s| s.users.get(&user).map(|u| u.name)).unwrap_or("someone");
            (
                200,
                json!({ "id": channel.to_string(), "type": 1, "flags": 0, "last_message_id": null,
                "recipients": [user_json(user, name, false)] }),
            )
        }
        ("POST", "/channels/{channel_id}/typing") => {
            fake.with(|s| s.typing.push(seg(path, 1).parse().unwrap_or_default()));
            (204, Value::Null)
        }
        ("POST", "/channels/{channel_id}/messages") => {
            let channel: u64 = seg(path, 1).parse().unwrap_or_default();
            let known = channel == fake.0.channel || fake.with(|s| s.dm_channels.values().any(|c| *c == channel));
            if !known {
                return error(404, 10003, "Unknown Channel");
            }
            let msg = new_message(fake, channel, &json, body.files, None, None);
            (200, fake.message_json(&msg))
        }
        ("POST", "/interactions/{interaction_id}/{interaction_token}/callback") => {
            callback(fake, path, &json, body.files)
        }
        ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
        | ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}") => {
            let Some(ix) = webhook_ix(fake, path) else { return error(404, 10015, "Unknown Webhook") };
            let target = if template.ends_with("@original") { ix.original } else { seg(path, 4).parse().ok() };
            let Some(target) =
                target.filter(|t| fake.with(|s| s.messages.iter().any(|m| m.id == *t && m.interaction == Some(ix.id))))
            else {
                return error(404, 10008, "Unknown Message");
            };
            let msg = fake.with(|s| {
                let m = s.messages.iter_mut().find(|m| m.id == target).unwrap();
                apply_edit(m, &json, body.files);
                m.clone()
            });
            (200, fake.message_json(&msg))
        }
        ("POST", "/webhooks/{webhook_id}/{webhook_token}") => {
            let Some(ix) = webhook_ix(fake, path) else { return error(404, 10015, "Unknown Webhook") };
            if ix.response.is_none() {
                return error(400, 40060, "Interaction has not been acknowledged");
            }
            let ephemeral = json["flags"].as_u64().unwrap_or(0) & EPHEMERAL != 0;
            let only_for = (ephemeral && ix.guild_id.is_some()).then_some(ix.user);
            let msg = new_message(fake, ix.channel_id, &json, body.files, Some(ix.id), only_for);
            (200, fake.message_json(&msg))
        }
        _ => {
            fake.violation(format!("{method} {path}: the fake does not implement this operation"));
            error(404, 0, "404: Not Found")
        }
    }
}

fn application_json() -> Value {
    json!({
        "id": APP_ID.to_string(), "name": "runcoach", "icon": null, "description": "A running coach", "type": null,
        "bot_public": true, "bot_require_code_grant": false, "verify_key": "0".repeat(64), "flags": 0, "flags_new": "0",
        "redirect_uris": [], "interactions_endpoint_url": null, "role_connections_verification_url": null,
        "owner": user_json(42, "owner", false), "approximate_guild_count": 1, "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0, "explicit_content_filter": 0, "team": null,
        "eligible_oauth2_scopes": [], "summary": "", "tags": [],
    })
}

/// The interaction a webhook path's token belongs to (still within its 15 minutes).
fn webhook_ix(fake: &Fake, path: &str) -> Option<Ix> {
    let (app, token) = (seg(path, 1), seg(path, 2));
    if app != APP_ID.to_string() {
        return None;
    }
    fake.with(|s| s.interactions.values().find(|i| i.token == token).cloned())
        .filter(|i| i.dispatched.elapsed() < Duration::from_secs(15 * 60))
}

fn apply_edit(m: &mut Msg, json: &Value, files: Vec<FileData>) {
    if let Some(content) = json.get("content").and_then(Value::as_str) {
        m.history.push(std::mem::replace(&mut m.content, content.to_owned()));
    }
    if let Some(components) = json.get("components").and_then(Value::as_array) {
        m.components = components.clone();
    }
    if let Some(attachments) = json.get("attachments").and_then(Value::as_array) {
        // Kept: listed existing ones (string ids); added: the new uploads.
        let keep: Vec<String> = attachments.iter().filter_map(|a| a["id"].as_str().map(str::to_owned)).collect();
        m.files.retain(|f| keep.contains(&f.id.to_string()));
    }
    m.files.extend(files.into_iter().map(|mut f| {
        f.id = snowflake(f.id.wrapping_add(7_000));
        f
    }));
    m.flags &= !LOADING;
    m.edits += 1;
    m.at = Instant::now();
}

fn new_message(
    fake: &Fake,
    channel: u64,
    json: &Value,
    files: Vec<FileData>,
    ix: Option<u64>,
    only_for: Option<u64>,
) -> Msg {
    let files = files
        .into_iter()
        .map(|mut f| {
            f.id = fake.id();
            f
        })
        .collect();
    let msg = Msg {
        id: fake.id(),
        channel_id: channel,
        author: BOT_ID,
        content: json["content"].as_str().unwrap_or_default().to_owned(),
        components: json["components"].as_array().cloned().unwrap_or_default(),
        files,
        flags: json["flags"].as_u64().unwrap_or(0) & EPHEMERAL,
        interaction: ix,
        only_for,
        edits: 0,
        history: Vec::new(),
        at: Instant::now(),
    };
    if msg.content.is_empty() && msg.files.is_empty() && msg.components.is_empty() {
        fake.violation(format!("an empty message in {channel}"));
    }
    fake.with(|s| s.messages.push(msg.clone()));
    msg
}

fn callback(fake: &Fake, path: &str, json: &Value, files: Vec<FileData>) -> (u16, Value) {
    let (id, token) = (seg(path, 1).parse::<u64>().unwrap_or_default(), seg(path, 2));
    let Some(ix) = fake.with(|s| s.interactions.get(&id).cloned()).filter(|i| i.token == token) else {
        return error(404, 10062, "Unknown interaction");
    };
    let waited = ix.dispatched.elapsed();
    if ix.response.is_some() {
        fake.violation(format!("interaction {id} acknowledged twice"));
        return error(400, 40060, "Interaction has already been acknowledged.");
    }
    if waited > Duration::from_secs(3) {
        fake.violation(format!("interaction {id} acknowledged after {waited:?}: Discord shows 'interaction failed'"));
        return error(404, 10062, "Unknown interaction");
    }
    let kind = json["type"].as_u64().unwrap_or_default() as u8;
    let data = json.get("data").cloned().unwrap_or(Value::Null);
    let ephemeral = data["flags"].as_u64().unwrap_or(0) & EPHEMERAL != 0;
    let only_for = (ephemeral && ix.guild_id.is_some()).then_some(ix.user);
    let mut original = None;
    match kind {
        4 => original = Some(new_message(fake, ix.channel_id, &data, files, Some(id), only_for).id),
        5 => {
            // "runcoach is thinking…": an empty message until the bot edits it.
            let msg = Msg {
                id: fake.id(),
                channel_id: ix.channel_id,
                author: BOT_ID,
                content: String::new(),
                components: Vec::new(),
                files: Vec::new(),
                flags: LOADING | if ephemeral { EPHEMERAL } else { 0 },
                interaction: Some(id),
                only_for,
                edits: 0,
                history: Vec::new(),
                at: Instant::now(),
            };
            original = Some(msg.id);
            fake.with(|s| s.messages.push(msg));
        }
        6 | 7 => {
            if ix.kind != 3 {
                fake.violation(format!("interaction {id}: an update of a message answers a component only"));
            }
            if kind == 7
                && let Some(source) = ix.source_message
            {
                fake.with(|s| {
                    if let Some(m) = s.messages.iter_mut().find(|m| m.id == source) {
                        apply_edit(m, &data, files);
                    }
                });
            }
        }
        9 => {
            if ix.kind == 5 {
                fake.violation(format!("interaction {id}: a modal cannot answer a modal"));
            }
        }
        other => fake.violation(format!("interaction {id}: callback type {other}")),
    }
    fake.with(|s| {
        let i = s.interactions.get_mut(&id).unwrap();
        i.response = Some((kind, waited));
        i.original = original;
        if kind == 9 {
            i.modal = Some(data.clone());
        }
    });
    (204, Value::Null)
}
