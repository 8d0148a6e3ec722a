//! Domain types. Values that come from users are parsed once at the boundary into these types,
//! so the rest of the core never sees a weight of 0 kg or a heart rate of 300 bpm.

pub mod activity;
mod location;
mod profile;
pub mod samples;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use location::{Location, LocationError};
pub use profile::{
    BirthYear, HeartRate, HeightCm, Profile, ProfileError, ProfileField, Sex, TimeZoneName, Units, Vma, Vo2max,
    WeightKg,
};

use crate::i18n::Lang;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Console,
    Telegram,
    Discord,
    Api,
}

impl Platform {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Console => "console",
            Platform::Telegram => "telegram",
            Platform::Discord => "discord",
            Platform::Api => "api",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown platform {0:?}")]
pub struct UnknownPlatform(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatform;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "console" => Ok(Platform::Console),
            "telegram" => Ok(Platform::Telegram),
            "discord" => Ok(Platform::Discord),
            "api" => Ok(Platform::Api),
            other => Err(UnknownPlatform(other.to_owned())),
        }
    }
}

/// Who a runner is on one platform.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlatformIdentity {
    pub platform: Platform,
    pub platform_user_id: String,
}

/// A runner named on the command line: `camille` is the console identity `camille`,
/// `telegram:12345` names a platform identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRef(pub PlatformIdentity);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UserRefError {
    #[error("a user name cannot be empty")]
    Empty,
    #[error("a user name is at most 64 characters")]
    TooLong,
    #[error("a user name cannot contain control characters or spaces")]
    BadCharacters,
    #[error(transparent)]
    Platform(#[from] UnknownPlatform),
}

impl UserRef {
    pub fn parse(raw: &str) -> Result<UserRef, UserRefError> {
        let raw = raw.trim();
        let (platform, id) = match raw.split_once(':') {
            Some((p, id)) => (p.parse::<Platform>()?, id),
            None => (Platform::Console, raw),
        };
        if id.is_empty() {
            return Err(UserRefError::Empty);
        }
        if id.chars().count() > 64 {
            return Err(UserRefError::TooLong);
        }
        if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(UserRefError::BadCharacters);
        }
        Ok(UserRef(PlatformIdentity { platform, platform_user_id: id.to_owned() }))
    }
}

/// A stored runner.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub display_name: Option<String>,
    pub lang: Lang,
    pub timezone: TimeZoneName,
    pub units: Units,
    pub profile: Profile,
    /// Where they run, for the weather (`None` until they say).
    pub location: Option<Location>,
    /// When they last wrote, to the day (the retention policy's inactivity rule); kept out of
    /// what is shown.
    #[serde(skip)]
    pub last_seen_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_refs_default_to_the_console() {
        let r = UserRef::parse("camille").unwrap();
        assert_eq!(r.0.platform, Platform::Console);
        assert_eq!(r.0.platform_user_id, "camille");
        let r = UserRef::parse("telegram:42").unwrap();
        assert_eq!(r.0.platform, Platform::Telegram);
        assert_eq!(r.0.platform_user_id, "42");
        assert_eq!(UserRef::parse(""), Err(UserRefError::Empty));
        assert_eq!(UserRef::parse("a b"), Err(UserRefError::BadCharacters));
        assert!(UserRef::parse("myspace:1").is_err());
        assert_eq!(UserRef::parse(&"x".repeat(65)), Err(UserRefError::TooLong));
    }
}
