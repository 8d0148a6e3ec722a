//! Runtime settings: everything configurable, read once by the binary (clap, from the command line
//! and the environment) and passed down. No other part of the core reads the environment.
//! Secrets are `SecretString`s: their `Debug` prints `[REDACTED]`, so they never reach a log.
//!
//! At the top of the core's layers: it gathers each part's configuration type.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use crate::agent::LlmConfig;
use crate::garmin::{GarminEndpoints, SyncPolicy};
use crate::knowledge::KbConfig;

#[derive(Debug, Clone)]
pub struct Settings {
    /// `postgres://…` or `sqlite:…`; `None` means the SQLite file under `data_dir`.
    pub database_url: Option<SecretString>,
    pub data_dir: PathBuf,
    pub telegram_token: Option<SecretString>,
    pub discord_token: Option<SecretString>,
    /// A custom Telegram Bot API server; Telegram's own when `None`.
    pub telegram_api_url: Option<url::Url>,
    /// The LLM agent; `None`: the deterministic coach answers.
    pub llm: Option<LlmConfig>,
    /// Garmin Connect's endpoints (Garmin's own unless overridden).
    pub garmin: GarminEndpoints,
    /// The background sync's period and the pace of Garmin requests.
    pub garmin_sync: SyncPolicy,
    /// The base64 32-byte key sealing stored tokens; without it Garmin sync is off.
    pub secret_key: Option<SecretString>,
    /// The knowledge base's markdown and its embedding model.
    pub knowledge: KbConfig,
    /// Limits shared by every instance (messages, imports, Garmin logins, API calls).
    pub limits: crate::limits::Limits,
    /// Forecasts and place search (Open-Meteo); `None`: no weather.
    pub weather: Option<crate::weather::WeatherConfig>,
    /// What is kept how long (the scheduler's daily pass, `runcoach admin retention`).
    pub retention: crate::retention::RetentionPolicy,
}

impl Settings {
    /// The defaults with no chat platform, LLM or key: a console on SQLite under `data_dir`.
    #[must_use]
    pub fn local(data_dir: PathBuf) -> Self {
        Settings {
            database_url: None,
            data_dir,
            telegram_token: None,
            discord_token: None,
            telegram_api_url: None,
            llm: None,
            garmin: GarminEndpoints::default(),
            garmin_sync: SyncPolicy::default(),
            secret_key: None,
            knowledge: KbConfig::default(),
            limits: crate::limits::Limits::default(),
            weather: Some(crate::weather::WeatherConfig::default()),
            retention: crate::retention::RetentionPolicy::default(),
        }
    }

    #[must_use]
    pub fn database_url(&self) -> Option<&str> {
        self.database_url.as_ref().map(ExposeSecret::expose_secret)
    }

    /// Whether any chat platform is configured (otherwise the console is the way in).
    #[must_use]
    pub fn has_platform(&self) -> bool {
        self.telegram_token.is_some() || self.discord_token.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let mut llm = LlmConfig::new("http://127.0.0.1:1/v1", "m");
        llm.api_key = SecretString::from("sk-llmsecret");
        let s = Settings {
            database_url: Some(SecretString::from("postgres://u:hunter2@db/x")),
            telegram_token: Some(SecretString::from("123:ABCsecret")),
            secret_key: Some(SecretString::from("c2VhbGluZ2tleQ==")),
            llm: Some(llm),
            ..Settings::local(PathBuf::from("data"))
        };
        let shown = format!("{s:?}");
        for secret in ["hunter2", "ABCsecret", "c2VhbGluZ2tleQ", "sk-llmsecret"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert_eq!(s.database_url(), Some("postgres://u:hunter2@db/x"));
        assert!(s.has_platform());
    }
}
