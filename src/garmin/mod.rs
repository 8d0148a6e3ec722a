//! Garmin Connect: the mobile SSO login (with MFA), DI OAuth2 tokens sealed in the store, and the
//! activity sync. See `shared/docs/garmin-connect.md` for the protocol; every base URL is
//! configurable so tests talk to a local server.

mod client;
mod seal;
mod sync;
pub mod workouts;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use client::{GarminClient, GarminEndpoints, GarminSession, LoginStep, MfaChallenge, RetryPolicy};
pub use seal::{SECRET_KEY_ENV, TokenSealer};
pub use sync::{SyncProgress, SyncSummary, connect_account, load_tokens, save_tokens, sync_activities, sync_user};

use crate::i18n::Lang;
use crate::store::StoreError;

/// The credentials row's provider name.
pub const PROVIDER: &str = "garmin";

/// What can go wrong talking to Garmin.
#[derive(Debug, thiserror::Error)]
pub enum GarminError {
    /// HTTP 429: Garmin throttles logins for hours; never retried here.
    #[error("rate limited by Garmin (retry after {retry_after_s:?} s)")]
    RateLimited { retry_after_s: Option<u64> },
    #[error("wrong Garmin email or password")]
    BadCredentials,
    #[error("wrong or expired MFA code")]
    MfaInvalid,
    /// The refresh token was refused: the runner must log in again.
    #[error("Garmin session expired")]
    SessionExpired,
    #[error("no Garmin account connected")]
    NotConnected,
    #[error("Garmin unavailable: {0}")]
    Unavailable(String),
    /// Garmin answered something we don't understand (auth schemes change without notice).
    #[error("unexpected Garmin response: {0}")]
    Unexpected(String),
    /// Garmin refused what we sent (HTTP 4xx), with its reason when it gave one.
    #[error("Garmin refused the request (HTTP {status}): {reason}")]
    Refused { status: u16, reason: String },
    #[error("{SECRET_KEY_ENV} is not set")]
    SecretKeyMissing,
    #[error("{SECRET_KEY_ENV} is not a base64 32-byte key")]
    SecretKeyInvalid,
    #[error("stored Garmin tokens cannot be opened (other key or damaged)")]
    TokensUnreadable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl GarminError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            GarminError::RateLimited { .. } => "garmin_rate_limited",
            GarminError::BadCredentials => "garmin_bad_credentials",
            GarminError::MfaInvalid => "garmin_mfa_invalid",
            GarminError::SessionExpired => "garmin_session_expired",
            GarminError::NotConnected => "garmin_not_connected",
            GarminError::Unavailable(_) => "garmin_unavailable",
            GarminError::Unexpected(_) => "garmin_unexpected",
            GarminError::Refused { .. } => "garmin_refused",
            GarminError::SecretKeyMissing => "garmin_secret_key_missing",
            GarminError::SecretKeyInvalid => "garmin_secret_key_invalid",
            GarminError::TokensUnreadable => "garmin_tokens_unreadable",
            GarminError::Store(e) => e.code().as_str(),
        }
    }

    #[must_use]
    pub fn message(&self, lang: Lang) -> String {
        let text = match self {
            GarminError::RateLimited { .. } => lang.pick(
                "Garmin refuse les connexions pour le moment (trop de tentatives). Attends quelques heures avant de réessayer : réessayer maintenant prolonge le blocage.",
                "Garmin is refusing logins right now (too many attempts). Wait a few hours before trying again: retrying now extends the block.",
            ),
            GarminError::BadCredentials => lang.pick(
                "Garmin refuse cet e-mail ou ce mot de passe.",
                "Garmin rejected that email or password.",
            ),
            GarminError::MfaInvalid => lang.pick(
                "Ce code de vérification est faux ou expiré. Recommence la connexion pour en recevoir un nouveau.",
                "That verification code is wrong or expired. Start the login again to get a new one.",
            ),
            GarminError::SessionExpired => lang.pick(
                "Ta connexion Garmin a expiré : reconnecte ton compte.",
                "Your Garmin connection has expired: please connect your account again.",
            ),
            GarminError::NotConnected => lang.pick(
                "Aucun compte Garmin n'est connecté.",
                "No Garmin account is connected.",
            ),
            GarminError::Unavailable(_) => lang.pick(
                "Garmin Connect ne répond pas pour le moment. Réessaie plus tard.",
                "Garmin Connect is not answering right now. Please try again later.",
            ),
            GarminError::Unexpected(_) => lang.pick(
                "Garmin a répondu quelque chose que je ne comprends pas (leur connexion a peut-être changé).",
                "Garmin answered something I don't understand (their login may have changed).",
            ),
            GarminError::Refused { .. } => lang.pick(
                "Garmin Connect a refusé la demande.",
                "Garmin Connect refused the request.",
            ),
            GarminError::SecretKeyMissing | GarminError::SecretKeyInvalid => lang.pick(
                "La connexion Garmin n'est pas configurée sur ce serveur.",
                "Garmin connection is not configured on this server.",
            ),
            GarminError::TokensUnreadable => lang.pick(
                "Je ne peux plus lire ta connexion Garmin : reconnecte ton compte.",
                "I can no longer read your Garmin connection: please connect your account again.",
            ),
            GarminError::Store(e) => e.code().message(lang),
        };
        text.to_owned()
    }
}

/// After a Garmin 429: every instance leaves Garmin alone for its Retry-After (else `otherwise`),
/// through the `provider_pauses` row. Returns the wait.
pub async fn pause_after_429(
    store: &dyn crate::store::Store,
    retry_after_s: Option<u64>,
    otherwise: chrono::Duration,
    now: DateTime<Utc>,
    why: &str,
) -> Result<chrono::Duration, StoreError> {
    let wait = retry_after_s
        .filter(|s| *s > 0)
        .and_then(|s| i64::try_from(s).ok())
        .map_or(otherwise, chrono::Duration::seconds);
    store.pause_provider(PROVIDER, now + wait, why).await?;
    tracing::warn!(wait_s = wait.num_seconds(), why, "Garmin answered 429: every Garmin call waits");
    Ok(wait)
}

/// Garmin's OAuth2 tokens. `Debug` hides both tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    access_token: String,
    refresh_token: String,
    /// The DI client id the tokens were issued to (refreshes must use the same).
    pub client_id: String,
    pub expires_at: DateTime<Utc>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"[REDACTED]")
            .field("refresh_token", &"[REDACTED]")
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

/// The sealed form.
#[derive(Serialize, Deserialize)]
struct TokenDoc {
    access_token: String,
    refresh_token: String,
    client_id: String,
    expires_at: DateTime<Utc>,
    refresh_expires_at: Option<DateTime<Utc>>,
}

impl Tokens {
    /// Whether the access token expires within `seconds` of `now`.
    #[must_use]
    pub fn expires_within(&self, now: DateTime<Utc>, seconds: i64) -> bool {
        self.expires_at - now <= chrono::Duration::seconds(seconds)
    }

    pub(crate) fn access_token(&self) -> &str {
        &self.access_token
    }

    fn to_doc(&self) -> TokenDoc {
        TokenDoc {
            access_token: self.access_token.clone(),
            refresh_token: self.refresh_token.clone(),
            client_id: self.client_id.clone(),
            expires_at: self.expires_at,
            refresh_expires_at: self.refresh_expires_at,
        }
    }

    fn from_doc(d: TokenDoc) -> Tokens {
        Tokens {
            access_token: d.access_token,
            refresh_token: d.refresh_token,
            client_id: d.client_id,
            expires_at: d.expires_at,
            refresh_expires_at: d.refresh_expires_at,
        }
    }
}

/// What a sync needs without a runner at the keyboard: the (paced) client and the sealer of the
/// stored tokens. Cloning shares the client's pace.
#[derive(Clone, Debug)]
pub struct GarminAccess {
    pub client: GarminClient,
    pub sealer: TokenSealer,
}

/// How hard one instance leans on Garmin: the background sync's period and the request pace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SyncPolicy {
    /// Every runner connected to Garmin is synced this often (1–24 hours).
    pub every_hours: u32,
    /// At most this many Garmin requests a second from one instance.
    pub requests_per_s: f64,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        SyncPolicy { every_hours: 3, requests_per_s: 1.0 }
    }
}

/// `3h`, `3`, `24h` → hours (1 to 24).
pub fn parse_sync_every(raw: &str) -> Result<u32, String> {
    let digits = raw.trim().trim_end_matches(['h', 'H']).trim();
    match digits.parse::<u32>() {
        Ok(h @ 1..=24) => Ok(h),
        _ => Err(format!("{raw:?}: give hours from 1 to 24, e.g. 3h")),
    }
}
