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
    // What rounds to zero is written "0", never "-0" (-0.0, or -0.04 with one decimal).
    let s = match s.strip_prefix('-') {
        Some(digits) if digits.chars().all(|c| c == '0' || c == '.') => digits.to_owned(),
        _ => s,
    };
    match lang {
        Lang::Fr => s.replace('.', ","),
        Lang::En => s,
    }
}

/// Whether a count takes the singular: in French 0 and 1 do ("0 sortie", "1 sortie"), in
/// English 1 only ("0 runs", "1 run").
#[must_use]
pub fn singular(lang: Lang, n: u64) -> bool {
    match lang {
        Lang::Fr => n <= 1,
        Lang::En => n == 1,
    }
}

/// The form of a word that agrees with the count `n`: `[singular, plural]` per language.
#[must_use]
pub fn agree<'a>(lang: Lang, n: u64, fr: [&'a str; 2], en: [&'a str; 2]) -> &'a str {
    let [one, many] = lang.pick(fr, en);
    if singular(lang, n) { one } else { many }
}

/// `n` and the word that agrees with it: `count(lang, 2, ["sortie", "sorties"], ["run", "runs"])`
/// is "2 sorties" or "2 runs".
#[must_use]
pub fn count(lang: Lang, n: u64, fr: [&str; 2], en: [&str; 2]) -> String {
    format!("{n} {}", agree(lang, n, fr, en))
}

/// `Tue` / `mar.`
#[must_use]
pub fn weekday_short(lang: Lang, d: chrono::Weekday) -> &'static str {
    let i = d.num_days_from_monday() as usize;
    let names = lang.pick(
        ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    );
    names.get(i).copied().unwrap_or_default()
}

/// `Tuesday` / `mardi`
#[must_use]
pub fn weekday_long(lang: Lang, d: chrono::Weekday) -> &'static str {
    let i = d.num_days_from_monday() as usize;
    let names = lang.pick(
        ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    );
    names.get(i).copied().unwrap_or_default()
}

/// `Tue 1 Dec` / `mar. 01/12`
#[must_use]
pub fn date_short(lang: Lang, d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    match lang {
        Lang::Fr => format!("{} {:02}/{:02}", weekday_short(lang, d.weekday()), d.day(), d.month()),
        Lang::En => format!(
            "{} {} {}",
            weekday_short(lang, d.weekday()),
            d.day(),
            months.get(d.month0() as usize).copied().unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_never_read_minus_zero() {
        assert_eq!(number(Lang::Fr, -0.0, 1), "0,0");
        assert_eq!(number(Lang::En, -0.04, 1), "0.0");
        assert_eq!(number(Lang::En, -0.4, 0), "0");
        assert_eq!(number(Lang::Fr, -1.25, 1), "-1,2");
        assert_eq!(number(Lang::En, 12.345, 2), "12.35");
    }

    #[test]
    fn weekdays_in_both_languages() {
        assert_eq!(weekday_short(Lang::Fr, chrono::Weekday::Tue), "mar.");
        assert_eq!(weekday_short(Lang::En, chrono::Weekday::Sun), "Sun");
        assert_eq!(weekday_long(Lang::Fr, chrono::Weekday::Mon), "lundi");
        assert_eq!(weekday_long(Lang::En, chrono::Weekday::Sat), "Saturday");
        let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
        assert_eq!(
            (date_short(Lang::Fr, d), date_short(Lang::En, d)),
            ("mar. 01/12".to_owned(), "Tue 1 Dec".to_owned())
        );
    }

    #[test]
    fn counts_agree_in_both_languages() {
        let runs = |lang, n| count(lang, n, ["sortie", "sorties"], ["run", "runs"]);
        assert_eq!([runs(Lang::Fr, 0), runs(Lang::Fr, 1), runs(Lang::Fr, 2)], ["0 sortie", "1 sortie", "2 sorties"]);
        assert_eq!([runs(Lang::En, 0), runs(Lang::En, 1), runs(Lang::En, 2)], ["0 runs", "1 run", "2 runs"]);
        let skipped = |lang, n| agree(lang, n, ["sautée", "sautées"], ["skipped", "skipped"]);
        assert_eq!(
            [skipped(Lang::Fr, 1), skipped(Lang::Fr, 2), skipped(Lang::En, 1)],
            ["sautée", "sautées", "skipped"]
        );
    }

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
