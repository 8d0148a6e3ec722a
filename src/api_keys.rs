//! HTTP API keys: each has a name and acts only for its own runners, `api:<key name>:<runner>`
//! (`api:<runner>` for an unnamed key from an older configuration); it can never reach a
//! Telegram, Discord or console runner, nor another key's. Keys come from the configuration
//! (`RUNCOACH_API_KEYS=name:secret,…`) or are made by the operator (`runcoach api-key create`):
//! stored as the SHA-256 of the secret, which is shown once. The secrets are 256 random bits,
//! so a fast hash is enough (no password-hashing function needed).

use chrono::{DateTime, Utc};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tracing::instrument;

use crate::domain::{Platform, PlatformIdentity};
use crate::store::{ApiKeyRecord, Store, StoreResult};

/// A key's name: 1 to 32 of `a-z`, `0-9`, `_`, `-`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyName(String);

impl KeyName {
    /// `None` when `raw` is not a valid name.
    #[must_use]
    pub fn parse(raw: &str) -> Option<KeyName> {
        let ok = !raw.is_empty()
            && raw.len() <= 32
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        ok.then(|| KeyName(raw.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of the key a configuration entry without one gets: its runners keep their old ids.
pub const UNNAMED: &str = "default";

/// A key given in the configuration.
#[derive(Clone, Debug)]
pub struct ConfiguredKey {
    pub name: KeyName,
    pub secret: SecretString,
    /// An entry without a name (`RUNCOACH_API_KEYS=secret`): runners are `api:<runner>`.
    pub unnamed: bool,
}

/// `name:secret,…` (an entry without a valid name before its first `:` is an unnamed key).
#[must_use]
pub fn parse_configured(raw: &str) -> Vec<ConfiguredKey> {
    raw.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|entry| match entry.split_once(':').and_then(|(n, s)| Some((KeyName::parse(n)?, s))) {
            Some((name, secret)) if !secret.is_empty() => {
                ConfiguredKey { name, secret: SecretString::from(secret.to_owned()), unnamed: false }
            }
            _ => ConfiguredKey {
                name: KeyName(UNNAMED.to_owned()),
                secret: SecretString::from(entry.to_owned()),
                unnamed: true,
            },
        })
        .collect()
}

/// The key a request presented: its name, and whether it is an unnamed configured one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub name: KeyName,
    pub unnamed: bool,
}

impl Caller {
    /// The platform identity of `runner` as this key's: `None` for a name that could reach
    /// outside the key's runners (empty, too long, control characters or a `:`).
    #[must_use]
    pub fn runner(&self, runner: &str) -> Option<PlatformIdentity> {
        let runner = runner.trim();
        let valid =
            !runner.is_empty() && runner.chars().count() <= 128 && !runner.chars().any(|c| c.is_control() || c == ':');
        valid.then(|| PlatformIdentity {
            platform: Platform::Api,
            platform_user_id: if self.unnamed { runner.to_owned() } else { format!("{}:{runner}", self.name.as_str()) },
        })
    }
}

/// The SHA-256 of a secret, in hex: what the store keeps.
#[must_use]
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first difference (no timing hint about the key).
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Which key `given` is: a configured one, else a live stored one.
#[instrument(skip_all)]
pub async fn identify(store: &dyn Store, configured: &[ConfiguredKey], given: &str) -> StoreResult<Option<Caller>> {
    let mut found = None;
    // Every configured key is compared, so the time taken says nothing about which matched.
    for k in configured {
        if constant_time_eq(k.secret.expose_secret().as_bytes(), given.as_bytes()) {
            found = Some(Caller { name: k.name.clone(), unnamed: k.unnamed });
        }
    }
    if found.is_some() {
        return Ok(found);
    }
    Ok(store
        .api_key_named(&digest(given))
        .await?
        .and_then(|n| KeyName::parse(&n))
        .map(|name| Caller { name, unnamed: false }))
}

/// Why a key was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("a key name is 1 to 32 of a-z, 0-9, _ and -")]
    BadName,
    #[error("a key named {0} exists already (revoked keys keep their name)")]
    Taken(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Makes a key named `name`; its secret, to show once.
#[instrument(skip_all, fields(name))]
pub async fn create(store: &dyn Store, name: &str, now: DateTime<Utc>) -> Result<SecretString, CreateError> {
    let name = KeyName::parse(name).ok_or(CreateError::BadName)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("rc_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
    if !store.insert_api_key(name.as_str(), &digest(&secret), now).await? {
        return Err(CreateError::Taken(name.0));
    }
    Ok(SecretString::from(secret))
}

pub async fn list(store: &dyn Store) -> StoreResult<Vec<ApiKeyRecord>> {
    store.api_keys().await
}

pub async fn revoke(store: &dyn Store, name: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    store.revoke_api_key(name, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_keys_have_names_or_are_unnamed() {
        let keys = parse_configured(" club:s3cret , legacy-only , Bad Name:x, partner:a:b ");
        let seen: Vec<(&str, &str, bool)> =
            keys.iter().map(|k| (k.name.as_str(), k.secret.expose_secret(), k.unnamed)).collect();
        assert_eq!(
            seen,
            [
                ("club", "s3cret", false),
                ("default", "legacy-only", true),
                ("default", "Bad Name:x", true),
                ("partner", "a:b", false)
            ]
        );
    }

    #[test]
    fn a_key_reaches_only_its_own_runners() {
        let club = Caller { name: KeyName::parse("club").unwrap(), unnamed: false };
        let id = club.runner("alice").unwrap();
        assert_eq!((id.platform, id.platform_user_id.as_str()), (Platform::Api, "club:alice"));
        for bad in ["", "other:alice", "telegram:1", "a\nb", &"x".repeat(129)] {
            assert!(club.runner(bad).is_none(), "{bad:?}");
        }
        let legacy = Caller { name: KeyName::parse(UNNAMED).unwrap(), unnamed: true };
        assert_eq!(legacy.runner("alice").unwrap().platform_user_id, "alice");
        assert!(legacy.runner("club:alice").is_none(), "an unnamed key cannot reach a named key's runner");
    }

    #[test]
    fn digests_are_sha256_hex() {
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(
            constant_time_eq(b"same", b"same") && !constant_time_eq(b"same", b"diff") && !constant_time_eq(b"a", b"ab")
        );
    }
}
