//! Garmin Connect in the chat: `/sync` connects the account once (email, password — deleted
//! from the chat where the platform allows — and the MFA code when Garmin asks), then syncs;
//! `/garmin_logout` forgets the tokens. The password only travels from the message to Garmin:
//! it is never stored, and the dialogue state holds the email alone.
//!
//! Garmin's MFA challenge carries SSO session cookies: it waits for the code in the dialogue
//! state, sealed like the tokens and for ten minutes at most, so that the code may reach any
//! instance.

use std::time::Duration;

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::activity_flow;
use super::flow::{Failure, FlowCtx};
use super::{Form, FormField, Reply};
use crate::domain::{Platform, UserId};
use crate::garmin::{
    self, GarminAccess, GarminClient, GarminEndpoints, GarminError, LoginStep, MfaChallenge, PROVIDER, SyncPolicy,
    TokenSealer,
};
use crate::i18n::{Lang, agree};
use crate::limits::{self, Verdict};
use crate::scheduler;
use crate::tracking;

pub(super) const STATE_KIND: &str = "garmin_login";
/// The dialog asking for the Garmin email and password at once (Discord's modal).
pub const FORM_LOGIN: &str = "garmin_login";
/// The dialog asking for the code Garmin sent.
pub const FORM_MFA: &str = "garmin_mfa";
const MFA_TTL: Duration = Duration::from_secs(600);

/// What the core needs to talk to Garmin: a client and the key that seals tokens at rest.
pub struct GarminService {
    client: GarminClient,
    sealer: TokenSealer,
    /// The background sync's period, for the schedule a connection turns on.
    every_hours: u32,
}

impl GarminService {
    #[must_use]
    pub fn new(client: GarminClient, sealer: TokenSealer) -> Self {
        GarminService { client, sealer, every_hours: SyncPolicy::default().every_hours }
    }

    /// After `merged` was linked into `kept`: Garmin tokens sealed for `merged` (they moved with
    /// its rows) are sealed again for `kept`, so the runner need not reconnect.
    pub(super) async fn reseal_after_link(
        &self,
        store: &dyn crate::store::Store,
        kept: UserId,
        merged: UserId,
    ) -> Result<(), crate::store::StoreError> {
        let Some(sealed) = store.get_credential(kept, garmin::PROVIDER).await? else {
            return Ok(());
        };
        if self.sealer.open(kept, &sealed).is_ok() {
            return Ok(());
        }
        match self.sealer.open(merged, &sealed).and_then(|t| self.sealer.seal(kept, &t)) {
            Ok(resealed) => store.put_credential(kept, garmin::PROVIDER, &resealed).await,
            Err(e) => {
                warn!(error = %e, "linked Garmin tokens could not be sealed again: the runner reconnects");
                Ok(())
            }
        }
    }

    /// From the settings: the sealing key (required to store tokens), Garmin's endpoints and the
    /// sync policy (the client is paced by it). `Ok(None)` when no key is configured.
    pub fn configured(
        secret_key: Option<&SecretString>,
        endpoints: GarminEndpoints,
        policy: SyncPolicy,
    ) -> Result<Option<Self>, GarminError> {
        if secret_key.is_none_or(|k| k.expose_secret().trim().is_empty()) {
            return Ok(None);
        }
        let sealer = TokenSealer::from_setting(secret_key)?;
        let client = GarminClient::new(endpoints)?.with_pace(policy.requests_per_s);
        Ok(Some(GarminService { client, sealer, every_hours: policy.every_hours }))
    }

    /// The same client (and pace) and sealer, for the scheduler's background syncs.
    #[must_use]
    pub fn access(&self) -> GarminAccess {
        GarminAccess { client: self.client.clone(), sealer: self.sealer.clone() }
    }

    /// The login step that waits for the code, carrying `challenge` sealed.
    fn waiting_for_code(
        &self,
        user: UserId,
        challenge: &MfaChallenge,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<LoginState, GarminError> {
        let sealed = self.sealer.seal_mfa(user, challenge)?;
        let expires_at = now + chrono::Duration::from_std(MFA_TTL).unwrap_or_default();
        Ok(LoginState::Mfa {
            challenge: Some(base64::engine::general_purpose::STANDARD.encode(sealed)),
            expires_at: Some(expires_at.timestamp()),
        })
    }

    /// The challenge a [`LoginState::Mfa`] carries, unless it expired or does not open.
    fn challenge(
        &self,
        user: UserId,
        sealed: Option<&str>,
        expires_at: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<MfaChallenge> {
        if expires_at? < now.timestamp() {
            return None;
        }
        let sealed = base64::engine::general_purpose::STANDARD.decode(sealed?).ok()?;
        self.sealer.open_mfa(user, &sealed).ok()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub(super) enum LoginState {
    Email,
    Password {
        email: String,
    },
    /// Waiting for the code: Garmin's challenge, sealed (base64), and when it expires (Unix s).
    Mfa {
        #[serde(default)]
        challenge: Option<String>,
        #[serde(default)]
        expires_at: Option<i64>,
    },
}

#[derive(Serialize, Deserialize)]
struct Stored {
    kind: String,
    #[serde(flatten)]
    state: LoginState,
}

pub(super) fn from_state(value: &serde_json::Value) -> Option<LoginState> {
    serde_json::from_value::<Stored>(value.clone()).ok().filter(|s| s.kind == STATE_KIND).map(|s| s.state)
}

async fn save(ctx: &FlowCtx<'_>, state: Option<LoginState>) -> Result<(), Failure> {
    match state {
        Some(state) => ctx.save_state(&Stored { kind: STATE_KIND.to_owned(), state }).await,
        None => ctx.clear_state().await,
    }
}

fn login_form(lang: Lang) -> Form {
    Form {
        id: FORM_LOGIN.to_owned(),
        lang,
        title: lang.pick("Connexion Garmin Connect", "Garmin Connect login").to_owned(),
        fields: vec![
            FormField {
                label: lang.pick("E-mail du compte Garmin", "Garmin account email").to_owned(),
                placeholder: Some("runner@example.com".to_owned()),
                secret: false,
                min_len: 3,
                max_len: 254,
            },
            FormField {
                label: lang.pick("Mot de passe (jamais conservé)", "Password (never kept)").to_owned(),
                placeholder: None,
                secret: true,
                min_len: 1,
                max_len: 200,
            },
        ],
    }
}

fn mfa_form(lang: Lang) -> Form {
    Form {
        id: FORM_MFA.to_owned(),
        lang,
        title: lang.pick("Code de vérification Garmin", "Garmin verification code").to_owned(),
        fields: vec![FormField {
            label: lang.pick("Code reçu par e-mail ou SMS", "Code sent by email or text").to_owned(),
            placeholder: Some("123456".to_owned()),
            secret: true,
            min_len: 4,
            max_len: 12,
        }],
    }
}

pub(super) fn form_spec(id: &str, lang: Lang) -> Option<Form> {
    match id {
        FORM_LOGIN => Some(login_form(lang)),
        FORM_MFA => Some(mfa_form(lang)),
        _ => None,
    }
}

fn valid_email(email: &str) -> bool {
    email.contains('@') && !email.contains(char::is_whitespace) && email.len() <= 254
}

fn not_an_email(lang: Lang) -> Reply {
    Reply::text(lang.pick(
        "Ça ne ressemble pas à une adresse e-mail. Réessaie, ou tape /help pour abandonner.",
        "That doesn't look like an email address. Try again, or type /help to give up.",
    ))
}

fn not_configured(lang: Lang) -> Vec<Reply> {
    vec![Reply::text(lang.pick(
        "La synchronisation Garmin n'est pas activée sur ce serveur (l'administrateur doit définir RUNCOACH_SECRET_KEY). \
En attendant, envoie-moi tes fichiers FIT/GPX/TCX ou le ZIP exporté de Garmin Connect.",
        "Garmin sync is not enabled on this server (the operator must set RUNCOACH_SECRET_KEY). \
Meanwhile, send me your FIT/GPX/TCX files or the ZIP exported from Garmin Connect.",
    ))]
}

/// `/sync`: syncs with stored tokens, or starts the login.
pub(super) async fn sync(ctx: &FlowCtx<'_>, service: Option<&GarminService>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    let Some(service) = service else {
        return Ok(not_configured(lang));
    };
    if ctx.store.get_credential(ctx.user.id, "garmin").await?.is_none() {
        save(ctx, Some(LoginState::Email)).await?;
        return Ok(vec![
            Reply::text(lang.pick(
                "⌚ Connectons ton compte Garmin. Quelle est l'adresse e-mail de ton compte Garmin Connect ?\n\
(Ton mot de passe ne sert qu'une fois pour obtenir un jeton ; je ne le garde jamais.)",
                "⌚ Let's connect your Garmin account. What is your Garmin Connect email address?\n\
(Your password is used once to get a token; I never keep it.)",
            ))
            .with_form(login_form(lang)),
        ]);
    }
    run_sync(ctx, service).await
}

/// A count as the plural rules take it.
fn n(count: usize) -> u64 {
    u64::try_from(count).unwrap_or(u64::MAX)
}

fn progress_text(lang: Lang, p: &garmin::SyncProgress) -> String {
    let read = agree(lang, n(p.fetched), ["activité lue", "activités lues"], ["activity read", "activities read"]);
    let new = agree(lang, n(p.new), ["nouvelle", "nouvelles"], ["new", "new"]);
    match (lang, p.total) {
        (Lang::Fr, Some(total)) => {
            format!("🔄 Synchronisation Garmin… {} / {total} {read} ({} {new})", p.fetched, p.new)
        }
        (Lang::Fr, None) => format!("🔄 Synchronisation Garmin… {} {read} ({} {new})", p.fetched, p.new),
        (Lang::En, Some(total)) => format!("🔄 Syncing Garmin… {} / {total} {read} ({} {new})", p.fetched, p.new),
        (Lang::En, None) => format!("🔄 Syncing Garmin… {} {read} ({} {new})", p.fetched, p.new),
    }
}

/// Where the bot can write first (Telegram, Discord), a connected runner is synced in the
/// background and told of new runs in this chat. Also for runners connected before that existed.
async fn follow_garmin(ctx: &FlowCtx<'_>, service: &GarminService) {
    if !matches!(ctx.chat.platform, Platform::Telegram | Platform::Discord) {
        return;
    }
    if let Err(e) = scheduler::enable_garmin_sync(ctx.store, ctx.user.id, ctx.chat, service.every_hours, ctx.now).await
    {
        warn!(error = %e, "background Garmin sync not scheduled");
    }
}

async fn run_sync(ctx: &FlowCtx<'_>, service: &GarminService) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    follow_garmin(ctx, service).await;
    let result = garmin::sync_user(&service.client, ctx.store, &service.sealer, ctx.user.id, |p| {
        info!(fetched = p.fetched, new = p.new, "garmin sync progress");
        // A long first sync (years of history, a page of 100 at a time) says how far it is.
        if let Some(shown) = ctx.progress {
            shown.update(&progress_text(lang, &p));
        }
    })
    .await;
    // Even a sync that failed midway stored whole activities: they tick the plan off too.
    let ticked = tracking::tick_off(ctx.store, ctx.user.id).await?;
    match result {
        Ok(s) => {
            let read =
                agree(lang, n(s.total), ["activité lue", "activités lues"], ["activity read", "activities read"]);
            let new = agree(lang, n(s.new), ["nouvelle", "nouvelles"], ["new", "new"]);
            let known = agree(lang, n(s.duplicates), ["déjà connue", "déjà connues"], ["already known"; 2]);
            let head = format!(
                "🔄 Garmin{} {} {read}, {} {new}, {} {known} ✓",
                lang.pick(" :", ":"),
                s.total,
                s.new,
                s.duplicates
            );
            let lines = tracking::ticked_lines(&ticked, lang);
            let head = if lines.is_empty() { head } else { format!("{head}\n{}", lines.join("\n")) };
            let mut replies = vec![Reply::text(head)];
            replies.extend(activity_flow::stats(ctx).await?);
            Ok(replies)
        }
        Err(GarminError::SessionExpired | GarminError::TokensUnreadable | GarminError::NotConnected) => {
            // Tokens no longer work: forget them and log in again.
            ctx.store.delete_credential(ctx.user.id, "garmin").await?;
            save(ctx, Some(LoginState::Email)).await?;
            Ok(vec![
                Reply::text(lang.pick(
                    "Ta connexion Garmin a expiré. Reconnectons-la : quelle est l'adresse e-mail de ton compte ?",
                    "Your Garmin connection has expired. Let's reconnect: what is your account's email address?",
                ))
                .with_form(login_form(lang)),
            ])
        }
        Err(e) => {
            warn!(code = e.code(), "garmin sync failed");
            Ok(vec![Reply::text(e.message(lang))])
        }
    }
}

/// Why a Garmin login is not tried now, in the runner's words: Garmin is refusing this server
/// (a 429 paused every login), or this runner or everyone has tried too often this hour.
/// Counted before Garmin sees anything, so the bot cannot be used to test stolen passwords.
async fn login_refused(ctx: &FlowCtx<'_>) -> Result<Option<String>, Failure> {
    let lang = ctx.user.lang;
    if let Some(until) = ctx.store.provider_paused_until("garmin", ctx.now).await? {
        return Ok(Some(format!(
            "⏳ {} ({}).",
            GarminError::RateLimited { retry_after_s: None }.message(lang).trim_end_matches('.'),
            limits::retry_in(lang, until, ctx.now)
        )));
    }
    let runner = limits::take(ctx.store, ctx.limits.garmin_logins, &ctx.user.id.to_string(), ctx.now).await?;
    let everyone = match runner {
        Verdict::Allowed => limits::take(ctx.store, ctx.limits.garmin_logins_all, "all", ctx.now).await?,
        denied => denied,
    };
    Ok(match (runner, everyone) {
        (Verdict::Denied { retry_at }, _) => Some(match lang {
            Lang::Fr => format!(
                "⏳ Trop de tentatives de connexion à Garmin cette heure-ci : {}. Vérifie ton e-mail et ton mot de passe sur connect.garmin.com d'ici là.",
                limits::retry_in(lang, retry_at, ctx.now)
            ),
            Lang::En => format!(
                "⏳ Too many Garmin login attempts this hour: {}. Check your email and password on connect.garmin.com meanwhile.",
                limits::retry_in(lang, retry_at, ctx.now)
            ),
        }),
        (_, Verdict::Denied { retry_at }) => Some(match lang {
            Lang::Fr => format!(
                "⏳ Beaucoup de coureurs se connectent à Garmin en ce moment : {}.",
                limits::retry_in(lang, retry_at, ctx.now)
            ),
            Lang::En => format!(
                "⏳ Many runners are logging in to Garmin right now: {}.",
                limits::retry_in(lang, retry_at, ctx.now)
            ),
        }),
        _ => None,
    })
}

/// Text typed while the login waits for an answer.
pub(super) async fn text(
    ctx: &FlowCtx<'_>,
    service: Option<&GarminService>,
    state: LoginState,
    text: &str,
) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    let Some(service) = service else {
        save(ctx, None).await?;
        return Ok(not_configured(lang));
    };
    match state {
        LoginState::Email => {
            let email = text.trim();
            if !valid_email(email) {
                return Ok(vec![not_an_email(lang)]);
            }
            save(ctx, Some(LoginState::Password { email: email.to_owned() })).await?;
            Ok(vec![Reply::text(lang.pick(
                "Merci. Maintenant ton mot de passe Garmin (j'efface ton message dès que je l'ai lu) :",
                "Thanks. Now your Garmin password (I delete your message as soon as I've read it):",
            ))])
        }
        LoginState::Password { email } => {
            let password = SecretString::from(text.trim().to_owned());
            if let Some(refused) = login_refused(ctx).await? {
                drop(password);
                save(ctx, None).await?;
                let mut reply = Reply::text(refused);
                // The password never stays on screen, even when it is not tried.
                reply.delete_incoming = true;
                return Ok(vec![reply]);
            }
            let outcome = service.client.login(&email, &password).await;
            drop(password);
            if let Err(GarminError::RateLimited { retry_after_s }) = &outcome {
                // Garmin blocks the server's address: nobody's login is tried until it lifts.
                garmin::pause_after_429(ctx.store, *retry_after_s, chrono::Duration::hours(1), ctx.now, "login 429")
                    .await?;
            }
            let mut replies = match outcome {
                Ok(LoginStep::Done(tokens)) => {
                    save(ctx, None).await?;
                    connected(ctx, service, tokens).await?
                }
                Ok(LoginStep::NeedMfa(challenge)) => {
                    let waiting = match service.waiting_for_code(ctx.user.id, &challenge, ctx.now) {
                        Ok(waiting) => waiting,
                        Err(e) => {
                            save(ctx, None).await?;
                            return Ok(vec![Reply::text(e.message(lang))]);
                        }
                    };
                    save(ctx, Some(waiting)).await?;
                    vec![
                        Reply::text(lang.pick(
                            "🔐 Garmin t'a envoyé un code de vérification (par e-mail ou SMS). Écris-le ici :",
                            "🔐 Garmin sent you a verification code (by email or text). Type it here:",
                        ))
                        .with_form(mfa_form(lang)),
                    ]
                }
                Err(e) => {
                    save(ctx, None).await?;
                    vec![Reply::text(e.message(lang))]
                }
            };
            if let Some(first) = replies.first_mut() {
                first.delete_incoming = true;
            }
            Ok(replies)
        }
        LoginState::Mfa { challenge, expires_at } => {
            let Some(challenge) = service.challenge(ctx.user.id, challenge.as_deref(), expires_at, ctx.now) else {
                save(ctx, None).await?;
                return Ok(vec![Reply::text(lang.pick(
                    "Cette demande de code a expiré. Tape /sync pour recommencer.",
                    "That code request has expired. Type /sync to start again.",
                ))]);
            };
            match service.client.verify_mfa(&challenge, text.trim()).await {
                Ok(tokens) => {
                    save(ctx, None).await?;
                    connected(ctx, service, tokens).await
                }
                Err(GarminError::MfaInvalid) => {
                    // The sealed challenge stays in the dialogue state for another try.
                    Ok(vec![Reply::text(GarminError::MfaInvalid.message(lang)).with_form(mfa_form(lang))])
                }
                Err(e) => {
                    save(ctx, None).await?;
                    Ok(vec![Reply::text(e.message(lang))])
                }
            }
        }
    }
}

/// A submitted dialog: the login (email and password at once) or the MFA code. The password
/// goes straight to Garmin, as in [`text`]; nothing of it is stored.
pub(super) async fn form(
    ctx: &FlowCtx<'_>,
    service: Option<&GarminService>,
    id: &str,
    values: &[String],
) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    match (id, values) {
        (FORM_LOGIN, [email, password]) => {
            let email = email.trim();
            if service.is_some() && !valid_email(email) {
                save(ctx, Some(LoginState::Email)).await?;
                return Ok(vec![not_an_email(lang).with_form(login_form(lang))]);
            }
            text(ctx, service, LoginState::Password { email: email.to_owned() }, password).await
        }
        (FORM_MFA, [code]) => {
            // The challenge waits in the dialogue state (on whichever instance asked for the code).
            let waiting = ctx.store.dialogue_state(ctx.user.id, ctx.chat).await?.as_ref().and_then(from_state);
            let state = match waiting {
                Some(state @ LoginState::Mfa { .. }) => state,
                _ => LoginState::Mfa { challenge: None, expires_at: None },
            };
            text(ctx, service, state, code).await
        }
        _ => Ok(vec![Reply::text(super::texts::expired_button(lang))]),
    }
}

async fn connected(ctx: &FlowCtx<'_>, service: &GarminService, tokens: garmin::Tokens) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    match garmin::connect_account(&service.client, ctx.store, &service.sealer, ctx.user.id, tokens).await {
        Ok(name) => {
            let hello = match (lang, name) {
                (Lang::Fr, Some(n)) => format!("✅ Compte Garmin connecté ({n})."),
                (Lang::Fr, None) => "✅ Compte Garmin connecté.".to_owned(),
                (Lang::En, Some(n)) => format!("✅ Garmin account connected ({n})."),
                (Lang::En, None) => "✅ Garmin account connected.".to_owned(),
            };
            let mut replies = vec![Reply::text(hello)];
            replies.extend(run_sync(ctx, service).await?);
            Ok(replies)
        }
        Err(e) => Ok(vec![Reply::text(e.message(lang))]),
    }
}

/// `/garmin_logout`
pub(super) async fn logout(ctx: &FlowCtx<'_>) -> Result<Vec<Reply>, Failure> {
    let lang = ctx.user.lang;
    let removed = ctx.store.delete_credential(ctx.user.id, "garmin").await?;
    Ok(vec![Reply::text(match (removed, lang) {
        (true, Lang::Fr) => {
            "Compte Garmin déconnecté : j'ai supprimé les jetons. Tes activités importées restent (/forget efface tout)."
        }
        (true, Lang::En) => {
            "Garmin account disconnected: the tokens are deleted. Your imported activities stay (/forget deletes everything)."
        }
        (false, Lang::Fr) => "Aucun compte Garmin n'était connecté.",
        (false, Lang::En) => "No Garmin account was connected.",
    })])
}

/// `/watch [push [days] | auto on|off]`: the next sessions in the runner's Garmin calendar.
pub(super) async fn watch(
    ctx: &FlowCtx<'_>,
    service: Option<&GarminService>,
    args: &str,
) -> Result<Vec<Reply>, Failure> {
    use crate::garmin::workouts::{self, DEFAULT_DAYS, MAX_DAYS};
    let lang = ctx.user.lang;
    let args = args.trim().to_lowercase();
    let mut words = args.split_whitespace();
    let verb = words.next().unwrap_or("");
    let rest: Vec<&str> = words.collect();
    let connected = ctx.store.get_credential(ctx.user.id, PROVIDER).await?.is_some();
    match verb {
        "push" | "envoyer" | "envoie" => {
            let Some(service) = service else { return Ok(not_configured(lang)) };
            let days = match rest.first() {
                None => DEFAULT_DAYS,
                Some(n) => match n.parse::<u32>() {
                    Ok(d) if (1..=MAX_DAYS).contains(&d) => d,
                    _ => {
                        return Ok(vec![Reply::text(match lang {
                            Lang::Fr => format!(
                                "Combien de jours ? De 1 à {MAX_DAYS}, par exemple `/watch push 7` (les montres gardent une trentaine de séances)."
                            ),
                            Lang::En => format!(
                                "How many days? 1 to {MAX_DAYS}, for example `/watch push 7` (watches keep about thirty sessions)."
                            ),
                        })]);
                    }
                },
            };
            if !connected {
                return Ok(vec![Reply::text(lang.pick(
                    "Connecte d'abord ton compte Garmin avec /sync. Sans Garmin, le bouton ⌚ de /today et /week te donne les séances en fichiers pour ta montre.",
                    "Connect your Garmin account first with /sync. Without Garmin, the ⌚ button of /today and /week gives you the sessions as files for your watch.",
                ))]);
            }
            if let Some(until) = ctx.store.provider_paused_until(PROVIDER, ctx.now).await? {
                return Ok(vec![Reply::text(match lang {
                    Lang::Fr => format!(
                        "⏳ Garmin limite ce serveur pour le moment : réessaie {}.",
                        limits::retry_in(lang, until, ctx.now)
                    ),
                    Lang::En => format!(
                        "⏳ Garmin is limiting this server right now: try again {}.",
                        limits::retry_in(lang, until, ctx.now)
                    ),
                })]);
            }
            let plan = crate::plans::active(ctx.store, ctx.user.id).await?.map(|a| a.plan);
            if plan.is_none() {
                return Ok(vec![Reply::text(lang.pick(
                    "Tu n'as pas de plan en cours : /plan pour en créer un, puis /watch push.",
                    "You have no active plan: /plan to make one, then /watch push.",
                ))]);
            }
            let result = workouts::push(
                &service.client,
                ctx.store,
                &service.sealer,
                ctx.user.id,
                plan.as_ref(),
                ctx.today,
                days,
                lang,
                ctx.now,
            )
            .await;
            match result {
                Ok(report) => Ok(vec![Reply::text(workouts::report_text(&report, lang))]),
                Err(GarminError::RateLimited { retry_after_s }) => {
                    let half_hour = chrono::Duration::minutes(30);
                    garmin::pause_after_429(ctx.store, retry_after_s, half_hour, ctx.now, "push 429").await?;
                    Ok(vec![Reply::text(lang.pick(
                        "⏳ Garmin limite ce serveur pour le moment : les séances déjà envoyées y sont, je n'ai rien enregistré d'autre. Réessaie plus tard.",
                        "⏳ Garmin is limiting this server right now: the sessions already sent are there, nothing else was recorded. Try again later.",
                    ))])
                }
                Err(GarminError::Store(e)) => Err(Failure::Store(e)),
                Err(e) => {
                    warn!(code = e.code(), "garmin push failed");
                    Ok(vec![Reply::text(e.message(lang))])
                }
            }
        }
        "auto" => {
            let on = match rest.first().copied() {
                Some("on" | "oui") => true,
                Some("off" | "non") => false,
                _ => {
                    return Ok(vec![Reply::text(lang.pick(
                        "`/watch auto on` garde ton calendrier Garmin à jour du plan (vérifié chaque heure), `/watch auto off` l'arrête.",
                        "`/watch auto on` keeps your Garmin calendar in step with the plan (checked every hour), `/watch auto off` stops it.",
                    ))]);
                }
            };
            if on && service.is_none() {
                return Ok(not_configured(lang));
            }
            if on && !connected {
                return Ok(vec![Reply::text(lang.pick(
                    "Connecte d'abord ton compte Garmin avec /sync, puis `/watch auto on`.",
                    "Connect your Garmin account first with /sync, then `/watch auto on`.",
                ))]);
            }
            ctx.store.set_watch_auto_push(ctx.user.id, on).await?;
            if on {
                scheduler::enable_garmin_push(ctx.store, ctx.user.id, ctx.chat, ctx.user.timezone.tz(), ctx.now)
                    .await
                    .map_err(|e| match e {
                        scheduler::ScheduleError::Store(s) => Failure::Store(s),
                        other => Failure::Internal(other.to_string()),
                    })?;
            } else {
                scheduler::disable_garmin_push(ctx.store, ctx.chat).await?;
            }
            Ok(vec![Reply::text(if on {
                lang.pick(
                    "✅ Ton calendrier Garmin suivra le plan : chaque changement (séance manquée, allègement, nouveau plan) y est reporté dans l'heure, sur les 7 prochains jours.",
                    "✅ Your Garmin calendar will follow the plan: every change (missed session, eased days, new plan) reaches it within the hour, for the next 7 days.",
                )
            } else {
                lang.pick(
                    "Mise à jour automatique arrêtée. `/watch push` envoie les séances quand tu veux.",
                    "Automatic updates off. `/watch push` sends the sessions whenever you like.",
                )
            })])
        }
        _ => {
            let auto = ctx.store.watch_auto_push(ctx.user.id).await?;
            let state = match (connected, auto, lang) {
                (false, _, Lang::Fr) => "Garmin n'est pas connecté (/sync).",
                (false, _, Lang::En) => "Garmin is not connected (/sync).",
                (true, true, Lang::Fr) => "Mise à jour automatique : activée.",
                (true, true, Lang::En) => "Automatic updates: on.",
                (true, false, Lang::Fr) => "Mise à jour automatique : désactivée.",
                (true, false, Lang::En) => "Automatic updates: off.",
            };
            Ok(vec![Reply::text(format!(
                "{}\n{state}",
                lang.pick(
                    "⌚ Tes séances sur ta montre :\n• `/watch push [jours]` les met dans ton calendrier Garmin (7 jours par défaut)\n• `/watch auto on` les garde à jour du plan\n• le bouton ⌚ de /today et /week donne les fichiers FIT pour toute montre (Garmin, Coros, Suunto, Wahoo)",
                    "⌚ Your sessions on your watch:\n• `/watch push [days]` puts them in your Garmin calendar (7 days by default)\n• `/watch auto on` keeps them in step with the plan\n• the ⌚ button of /today and /week gives FIT files for any watch (Garmin, Coros, Suunto, Wahoo)",
                )
            ))])
        }
    }
}
