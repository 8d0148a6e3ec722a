//! Languages. Every user-facing string exists in French and English; the `match` on [`Lang`] in each
//! message function makes a missing translation a compile error.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Fr,
    #[default]
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::En];

    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The language to greet a new user in, from the platform's IETF tag (`fr`, `fr-CA`, `en-US`).
    #[must_use]
    pub fn from_platform_code(code: Option<&str>) -> Lang {
        match code {
            Some(c) if c.trim().to_ascii_lowercase().starts_with("fr") => Lang::Fr,
            _ => Lang::En,
        }
    }

    /// Picks the French or the English text.
    #[must_use]
    pub fn pick<T>(self, fr: T, en: T) -> T {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown language {0:?} (expected fr or en)")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "fr" | "french" | "français" | "francais" => Ok(Lang::Fr),
            "en" | "english" | "anglais" => Ok(Lang::En),
            other => Err(UnknownLang(other.to_owned())),
        }
    }
}

/// Formats a number the way each language writes it (decimal comma in French).
#[must_use]
pub fn number(lang: Lang, value: f64, decimals: usize) -> String {
    let s = format!("{value:.decimals$}");
    match lang {
        Lang::Fr => s.replace('.', ","),
        Lang::En => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_codes_map_to_languages() {
        assert_eq!(Lang::from_platform_code(Some("fr-CA")), Lang::Fr);
        assert_eq!(Lang::from_platform_code(Some("FR")), Lang::Fr);
        assert_eq!(Lang::from_platform_code(Some("en-GB")), Lang::En);
        assert_eq!(Lang::from_platform_code(Some("de")), Lang::En);
        assert_eq!(Lang::from_platform_code(None), Lang::En);
    }

    #[test]
    fn parses_names_and_rejects_others() {
        assert_eq!("Français".parse::<Lang>(), Ok(Lang::Fr));
        assert_eq!(" en ".parse::<Lang>(), Ok(Lang::En));
        assert!("es".parse::<Lang>().is_err());
    }

    #[test]
    fn numbers_use_the_language_decimal_mark() {
        assert_eq!(number(Lang::Fr, 5.24, 1), "5,2");
        assert_eq!(number(Lang::En, 5.26, 1), "5.3");
    }
}
