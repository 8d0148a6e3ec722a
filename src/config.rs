//! Runtime settings, layered from the command line and the environment by the binary.
//! Secrets are `SecretString`s: their `Debug` prints `[REDACTED]`, so they never reach a log.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, Clone)]
pub struct Settings {
    /// `postgres://…` or `sqlite:…`; `None` means the SQLite file under `data_dir`.
    pub database_url: Option<SecretString>,
    pub data_dir: PathBuf,
    pub telegram_token: Option<SecretString>,
    pub discord_token: Option<SecretString>,
    /// A custom Telegram Bot API server; Telegram's own when `None`.
    pub telegram_api_url: Option<url::Url>,
}

impl Settings {
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
        let s = Settings {
            database_url: Some(SecretString::from("postgres://u:hunter2@db/x")),
            data_dir: PathBuf::from("data"),
            telegram_token: Some(SecretString::from("123:ABCsecret")),
            discord_token: None,
            telegram_api_url: None,
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("ABCsecret"), "{shown}");
        assert_eq!(s.database_url(), Some("postgres://u:hunter2@db/x"));
        assert!(s.has_platform());
    }
}
