//! The runner's profile and the newtypes that keep its values plausible.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::i18n::{self, Lang};

/// A profile field, as users name it (in either language).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileField {
    Age,
    BirthYear,
    Sex,
    Weight,
    Height,
    MaxHr,
    RestingHr,
    Vma,
    Vo2max,
    Timezone,
    Units,
}

impl ProfileField {
    pub const ALL: [ProfileField; 11] = [
        ProfileField::Age,
        ProfileField::BirthYear,
        ProfileField::Sex,
        ProfileField::Weight,
        ProfileField::Height,
        ProfileField::MaxHr,
        ProfileField::RestingHr,
        ProfileField::Vma,
        ProfileField::Vo2max,
        ProfileField::Timezone,
        ProfileField::Units,
    ];

    /// Parses a field name typed by a user: English or French, with or without accents.
    #[must_use]
    pub fn parse(name: &str) -> Option<ProfileField> {
        let n: String = name
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| match c {
                'â' | 'à' => 'a',
                'é' | 'è' | 'ê' => 'e',
                '-' | ' ' => '_',
                c => c,
            })
            .collect();
        Some(match n.as_str() {
            "age" => ProfileField::Age,
            "birth_year" | "birthyear" | "born" | "annee_de_naissance" | "naissance" => ProfileField::BirthYear,
            "sex" | "gender" | "sexe" | "genre" => ProfileField::Sex,
            "weight" | "poids" => ProfileField::Weight,
            "height" | "taille" => ProfileField::Height,
            "max_hr" | "maxhr" | "hrmax" | "fcmax" | "fc_max" => ProfileField::MaxHr,
            "resting_hr" | "restinghr" | "rest_hr" | "resthr" | "fcrepos" | "fc_repos" => ProfileField::RestingHr,
            "vma" | "mas" => ProfileField::Vma,
            "vo2max" | "vo2_max" => ProfileField::Vo2max,
            "timezone" | "tz" | "fuseau" | "fuseau_horaire" => ProfileField::Timezone,
            "units" | "unites" | "unit" | "unite" => ProfileField::Units,
            _ => return None,
        })
    }

    /// The name shown to users.
    #[must_use]
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            ProfileField::Age => lang.pick("âge", "age"),
            ProfileField::BirthYear => lang.pick("année de naissance", "birth year"),
            ProfileField::Sex => lang.pick("sexe", "sex"),
            ProfileField::Weight => lang.pick("poids", "weight"),
            ProfileField::Height => lang.pick("taille", "height"),
            ProfileField::MaxHr => lang.pick("FC max", "max HR"),
            ProfileField::RestingHr => lang.pick("FC repos", "resting HR"),
            ProfileField::Vma => "VMA",
            ProfileField::Vo2max => "VO2max",
            ProfileField::Timezone => lang.pick("fuseau horaire", "time zone"),
            ProfileField::Units => lang.pick("unités", "units"),
        }
    }

    /// The command-line key (`/profile weight 70`).
    #[must_use]
    pub fn key(self, lang: Lang) -> &'static str {
        match self {
            ProfileField::Age => "age",
            ProfileField::BirthYear => lang.pick("naissance", "birth_year"),
            ProfileField::Sex => lang.pick("sexe", "sex"),
            ProfileField::Weight => lang.pick("poids", "weight"),
            ProfileField::Height => lang.pick("taille", "height"),
            ProfileField::MaxHr => lang.pick("fcmax", "max_hr"),
            ProfileField::RestingHr => lang.pick("fcrepos", "resting_hr"),
            ProfileField::Vma => "vma",
            ProfileField::Vo2max => "vo2max",
            ProfileField::Timezone => lang.pick("fuseau", "timezone"),
            ProfileField::Units => lang.pick("unites", "units"),
        }
    }
}

/// Why a profile value was refused. Every variant renders in both languages.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    #[error("{field:?}: {value:?} is not a number")]
    NotANumber { field: ProfileField, value: String },
    #[error("{field:?}: {value} is outside {min}..={max}")]
    OutOfRange { field: ProfileField, value: f64, min: f64, max: f64, unit: &'static str },
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    #[error("unknown value {value:?} for {field:?}")]
    UnknownChoice { field: ProfileField, value: String },
    #[error("resting HR {resting} must be below max HR {max}")]
    RestingAboveMax { resting: u16, max: u16 },
}

impl ProfileError {
    #[must_use]
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ProfileError::NotANumber { field, value } => match lang {
                Lang::Fr => format!("« {value} » n'est pas un nombre valide pour {}.", field.label(lang)),
                Lang::En => format!("\"{value}\" is not a valid number for {}.", field.label(lang)),
            },
            ProfileError::OutOfRange { field, value, min, max, unit } => {
                let (v, lo, hi) = (
                    i18n::number(lang, *value, decimals(*value)),
                    i18n::number(lang, *min, decimals(*min)),
                    i18n::number(lang, *max, decimals(*max)),
                );
                let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
                match lang {
                    Lang::Fr => format!(
                        "{v}{unit} ne semble pas réaliste pour {} : j'accepte de {lo} à {hi}{unit}. Rien n'a été modifié.",
                        field.label(lang)
                    ),
                    Lang::En => format!(
                        "{v}{unit} doesn't look realistic for {}: I accept {lo} to {hi}{unit}. Nothing was changed.",
                        field.label(lang)
                    ),
                }
            }
            ProfileError::UnknownTimeZone(tz) => match lang {
                Lang::Fr => format!(
                    "Je ne connais pas le fuseau horaire « {tz} ». Utilise un nom IANA, par exemple Europe/Paris."
                ),
                Lang::En => format!("I don't know the time zone \"{tz}\". Use an IANA name, for example Europe/Paris."),
            },
            ProfileError::UnknownChoice { field, value } => {
                let choices = match field {
                    ProfileField::Sex => lang.pick("f, m ou autre", "f, m or other"),
                    ProfileField::Units => lang.pick("metric ou imperial", "metric or imperial"),
                    _ => "",
                };
                match lang {
                    Lang::Fr => {
                        format!("« {value} » n'est pas une valeur possible pour {} ({choices}).", field.label(lang))
                    }
                    Lang::En => format!("\"{value}\" is not a valid {} ({choices}).", field.label(lang)),
                }
            }
            ProfileError::RestingAboveMax { resting, max } => match lang {
                Lang::Fr => format!(
                    "Ta FC de repos ({resting} bpm) doit être inférieure à ta FC max ({max} bpm). Rien n'a été modifié."
                ),
                Lang::En => format!(
                    "Your resting HR ({resting} bpm) must be below your max HR ({max} bpm). Nothing was changed."
                ),
            },
        }
    }
}

fn decimals(v: f64) -> usize {
    if (v - v.round()).abs() < 1e-9 { 0 } else { 1 }
}

/// Reads a number as people type it: `70`, `70.5`, `70,5`, `70kg`, `190 bpm`, `17 km/h`.
fn parse_number(field: ProfileField, raw: &str) -> Result<f64, ProfileError> {
    let cleaned: String = raw.trim().replace(',', ".");
    let numeric: String =
        cleaned.trim_end_matches(|c: char| c.is_alphabetic() || c == '/' || c.is_whitespace()).to_owned();
    numeric
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| ProfileError::NotANumber { field, value: raw.trim().chars().take(40).collect() })
}

fn in_range(field: ProfileField, value: f64, min: f64, max: f64, unit: &'static str) -> Result<f64, ProfileError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ProfileError::OutOfRange { field, value, min, max, unit })
    }
}

macro_rules! bounded_newtype {
    ($(#[$doc:meta])* $name:ident($inner:ty), $field:expr, $min:expr, $max:expr, $unit:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
        #[serde(transparent)]
        pub struct $name($inner);

        impl $name {
            pub const MIN: f64 = $min;
            pub const MAX: f64 = $max;

            pub fn parse(raw: &str) -> Result<Self, ProfileError> {
                Self::try_from_f64(parse_number($field, raw)?)
            }

            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            pub fn try_from_f64(value: f64) -> Result<Self, ProfileError> {
                let v = in_range($field, value, $min, $max, $unit)?;
                Ok($name(v as $inner))
            }

            #[must_use]
            pub fn get(self) -> $inner {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

bounded_newtype!(
    /// Body weight in kilograms.
    WeightKg(f64), ProfileField::Weight, 25.0, 300.0, "kg");
bounded_newtype!(
    /// Height in centimetres.
    HeightCm(f64), ProfileField::Height, 100.0, 250.0, "cm");
bounded_newtype!(
    /// Maximal aerobic speed (VMA) in km/h.
    Vma(f64), ProfileField::Vma, 6.0, 30.0, "km/h");
bounded_newtype!(
    /// VO2max in ml/kg/min.
    Vo2max(f64), ProfileField::Vo2max, 15.0, 95.0, "ml/kg/min");

/// A heart rate in beats per minute; bounds depend on which heart rate it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct HeartRate(u16);

impl HeartRate {
    pub fn parse_max(raw: &str) -> Result<Self, ProfileError> {
        Self::max_from_f64(parse_number(ProfileField::MaxHr, raw)?)
    }

    pub fn parse_resting(raw: &str) -> Result<Self, ProfileError> {
        Self::resting_from_f64(parse_number(ProfileField::RestingHr, raw)?)
    }

    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn max_from_f64(v: f64) -> Result<Self, ProfileError> {
        Ok(HeartRate(in_range(ProfileField::MaxHr, v.round(), 100.0, 230.0, "bpm")? as u16))
    }

    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn resting_from_f64(v: f64) -> Result<Self, ProfileError> {
        Ok(HeartRate(in_range(ProfileField::RestingHr, v.round(), 25.0, 120.0, "bpm")? as u16))
    }

    #[must_use]
    pub fn bpm(self) -> u16 {
        self.0
    }
}

/// Year of birth; `age N` is turned into one relative to the current year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct BirthYear(i32);

impl BirthYear {
    pub const MIN_AGE: i32 = 10;
    pub const MAX_AGE: i32 = 100;

    #[allow(clippy::cast_possible_truncation)]
    pub fn from_age(raw: &str, current_year: i32) -> Result<Self, ProfileError> {
        let age = in_range(
            ProfileField::Age,
            parse_number(ProfileField::Age, raw)?.trunc(),
            f64::from(Self::MIN_AGE),
            f64::from(Self::MAX_AGE),
            "",
        )?;
        Ok(BirthYear(current_year - age as i32))
    }

    #[allow(clippy::cast_possible_truncation)]
    pub fn parse(raw: &str, current_year: i32) -> Result<Self, ProfileError> {
        let year = in_range(
            ProfileField::BirthYear,
            parse_number(ProfileField::BirthYear, raw)?.trunc(),
            f64::from(current_year - Self::MAX_AGE),
            f64::from(current_year - Self::MIN_AGE),
            "",
        )?;
        Ok(BirthYear(year as i32))
    }

    /// Trusts a year read back from the store (it was validated when written).
    #[must_use]
    pub fn from_stored(year: i32) -> Self {
        BirthYear(year)
    }

    #[must_use]
    pub fn year(self) -> i32 {
        self.0
    }

    #[must_use]
    pub fn age_in(self, year: i32) -> i32 {
        year - self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Female,
    Male,
    Other,
}

impl Sex {
    pub fn parse(raw: &str) -> Result<Sex, ProfileError> {
        match raw.trim().to_lowercase().as_str() {
            "f" | "female" | "woman" | "femme" | "w" => Ok(Sex::Female),
            "m" | "male" | "man" | "homme" | "h" => Ok(Sex::Male),
            "other" | "autre" | "x" => Ok(Sex::Other),
            _ => Err(ProfileError::UnknownChoice {
                field: ProfileField::Sex,
                value: raw.trim().chars().take(40).collect(),
            }),
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
        }
    }

    #[must_use]
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Sex::Female => lang.pick("femme", "female"),
            Sex::Male => lang.pick("homme", "male"),
            Sex::Other => lang.pick("autre", "other"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Units {
    #[default]
    Metric,
    Imperial,
}

impl Units {
    pub fn parse(raw: &str) -> Result<Units, ProfileError> {
        match raw.trim().to_lowercase().as_str() {
            "metric" | "km" | "metrique" | "métrique" => Ok(Units::Metric),
            "imperial" | "mi" | "miles" | "imperiale" | "impérial" | "impériale" => Ok(Units::Imperial),
            _ => Err(ProfileError::UnknownChoice {
                field: ProfileField::Units,
                value: raw.trim().chars().take(40).collect(),
            }),
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Units::Metric => "metric",
            Units::Imperial => "imperial",
        }
    }

    /// The unit of distance shown to the runner: "km" or "mi".
    #[must_use]
    pub fn distance_unit(self) -> &'static str {
        match self {
            Units::Metric => "km",
            Units::Imperial => "mi",
        }
    }

    /// Kilometres in the runner's unit of distance.
    #[must_use]
    pub fn from_km(self, km: f64) -> f64 {
        match self {
            Units::Metric => km,
            Units::Imperial => km / KM_PER_MILE,
        }
    }

    /// A distance in the runner's unit, for `lang`: "12,3 km", "7.6 mi".
    #[must_use]
    pub fn distance(self, lang: Lang, km: f64, decimals: usize) -> String {
        format!("{} {}", crate::i18n::number(lang, self.from_km(km), decimals), self.distance_unit())
    }

    /// A pace given in seconds per km, in the runner's unit: "5:12 /km", "8:22 /mi".
    #[must_use]
    pub fn pace(self, s_per_km: f64) -> String {
        let s = match self {
            Units::Metric => s_per_km,
            Units::Imperial => s_per_km * KM_PER_MILE,
        };
        let s = if s.is_finite() { s.round().max(0.0) as i64 } else { 0 };
        format!("{}:{:02} /{}", s / 60, s % 60, self.distance_unit())
    }
}

impl Units {
    /// `text` (written in kilometres, as the plan engine, the analysis and the weekly summary
    /// write it) in the runner's units: distances "12,3 km" → "7,6 mi", paces "5:12 /km" and bands
    /// "5:30–6:00 /km" → per mile, speeds "16 km/h" → "9.9 mph". "5 km" and "10 km" are race names
    /// ("Plan 10 km") and stay. Metric texts come back unchanged.
    #[must_use]
    pub fn localise(self, lang: Lang, text: &str) -> String {
        if self == Units::Metric {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut rest = text;
        while let Some(at) = rest.find("km") {
            let (before, from_km) = rest.split_at(at);
            let after = from_km.get(2..).unwrap_or_default();
            let word_end = !after.chars().next().is_some_and(char::is_alphanumeric);
            let speed = after.starts_with("/h");
            let converted = if !word_end && !speed {
                None
            } else if let Some(head) = before.strip_suffix('/') {
                pace_before(head).map(|(keep, paces)| {
                    let shown: Vec<String> = paces.iter().map(|s| mmss(s * KM_PER_MILE)).collect();
                    (keep.len(), format!("{} /mi", shown.join("–")), 2)
                })
            } else {
                number_before(before).and_then(|(keep, value, decimals)| {
                    if !speed && decimals == 0 && (value == 5.0 || value == 10.0) {
                        return None;
                    }
                    let miles = crate::i18n::number(lang, value / KM_PER_MILE, decimals.max(1));
                    Some(if speed {
                        (keep.len(), format!("{miles} mph"), 4)
                    } else {
                        (keep.len(), format!("{miles} mi"), 2)
                    })
                })
            };
            match converted {
                Some((keep, replacement, consumed)) => {
                    out.push_str(before.get(..keep).unwrap_or_default());
                    out.push_str(&replacement);
                    rest = from_km.get(consumed..).unwrap_or_default();
                }
                None => {
                    out.push_str(before);
                    out.push_str("km");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

fn mmss(seconds: f64) -> String {
    let s = if seconds.is_finite() { seconds.round().max(0.0) as i64 } else { 0 };
    format!("{}:{:02}", s / 60, s % 60)
}

/// `head` ends with a number and spaces ("Run 12,5 ", "~27.5 "): the length of what comes before
/// the number, its value and its decimals.
fn number_before(head: &str) -> Option<(&str, f64, usize)> {
    let trimmed = head.trim_end_matches(' ');
    if trimmed.len() == head.len() && !head.is_empty() && !head.ends_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let start = trimmed
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit() || *c == '.' || *c == ',')
        .last()
        .map(|(i, _)| i)?;
    let literal = trimmed.get(start..)?.trim_start_matches([',', '.']);
    let start = trimmed.len() - literal.len();
    if literal.is_empty() || !literal.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let value: f64 = literal.replace(',', ".").parse().ok()?;
    let decimals = literal.split(['.', ',']).nth(1).map_or(0, str::len);
    Some((trimmed.get(..start)?, value, decimals))
}

/// `head` ends with a pace or a band and maybe a space ("at 5:30–6:00 ", "(5:12"): what comes
/// before it and the paces in seconds.
fn pace_before(head: &str) -> Option<(&str, Vec<f64>)> {
    let trimmed = head.trim_end_matches(' ');
    let start = trimmed
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit() || matches!(c, ':' | '–' | '-'))
        .last()
        .map(|(i, _)| i)?;
    let literal = trimmed.get(start..)?.trim_start_matches(['–', '-']);
    let start = trimmed.len() - literal.len();
    let paces: Option<Vec<f64>> = literal
        .split(['–', '-'])
        .map(|p| {
            let (m, s) = p.split_once(':')?;
            let (m, s): (u32, u32) = (m.parse().ok()?, s.parse().ok()?);
            (s < 60 && (1..=2).contains(&p.split_once(':')?.1.len())).then_some(f64::from(m * 60 + s))
        })
        .collect();
    let paces = paces.filter(|p| !p.is_empty() && p.len() <= 2)?;
    Some((trimmed.get(..start)?, paces))
}

/// The international mile, in kilometres.
pub const KM_PER_MILE: f64 = 1.609_344;

/// An IANA time zone name that chrono-tz knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(raw: &str) -> Result<Self, ProfileError> {
        let raw = raw.trim();
        // People type "europe/paris" or "paris": try the exact name, then a case-insensitive match.
        if let Ok(tz) = raw.parse::<chrono_tz::Tz>() {
            return Ok(TimeZoneName(tz.name().to_owned()));
        }
        let lower = raw.to_lowercase().replace(' ', "_");
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| {
                let name = tz.name().to_lowercase();
                name == lower || name.rsplit('/').next() == Some(lower.as_str())
            })
            .map(|tz| TimeZoneName(tz.name().to_owned()))
            .ok_or_else(|| ProfileError::UnknownTimeZone(raw.chars().take(40).collect()))
    }

    #[must_use]
    pub fn utc() -> Self {
        TimeZoneName("UTC".to_owned())
    }

    #[must_use]
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0.parse().unwrap_or(chrono_tz::UTC)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TimeZoneName {
    fn default() -> Self {
        Self::utc()
    }
}

impl FromStr for TimeZoneName {
    type Err = ProfileError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// What the coach knows about the runner's body. Every field is optional: the coach says what is
/// missing rather than guessing.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Profile {
    pub birth_year: Option<BirthYear>,
    pub sex: Option<Sex>,
    pub weight: Option<WeightKg>,
    pub height: Option<HeightCm>,
    pub resting_hr: Option<HeartRate>,
    pub max_hr: Option<HeartRate>,
    pub vma: Option<Vma>,
    pub vo2max: Option<Vo2max>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_convert_and_format_distances_and_paces() {
        assert_eq!(Units::Metric.distance(Lang::Fr, 12.345, 1), "12,3 km");
        assert_eq!(Units::Imperial.distance(Lang::En, 16.09344, 1), "10.0 mi");
        assert_eq!(Units::Metric.pace(312.0), "5:12 /km");
        // 5:00 /km is 8:03 /mi.
        assert_eq!(Units::Imperial.pace(300.0), "8:03 /mi");
        assert_eq!(Units::Imperial.pace(f64::NAN), "0:00 /mi");
        assert_eq!(Units::Imperial.distance(Lang::Fr, -0.01, 1), "0,0 mi");
    }

    proptest::proptest! {
        #[test]
        fn localising_any_text_is_safe_and_metric_changes_nothing(
            text in "[0-9 ,.:–/kmhé-]{0,40}|\\PC{0,60}",
        ) {
            let _ = Units::Imperial.localise(Lang::Fr, &text);
            proptest::prop_assert_eq!(Units::Metric.localise(Lang::En, &text), text);
        }

        #[test]
        fn every_pace_and_distance_is_converted(m in 2u32..20, sec in 0u32..60, km in 0.1f64..100.0) {
            let text = format!("run {km:.1} km at {m}:{sec:02} /km, then");
            let miles = Units::Imperial.localise(Lang::En, &text);
            let expected = format!(
                "run {} mi at {} /mi, then",
                crate::i18n::number(Lang::En, format!("{km:.1}").parse::<f64>().unwrap_or(km) / KM_PER_MILE, 1),
                mmss(f64::from(m * 60 + sec) * KM_PER_MILE)
            );
            proptest::prop_assert_eq!(miles, expected);
        }
    }

    #[test]
    fn texts_in_km_are_shown_in_miles() {
        let mi = |lang, t: &str| Units::Imperial.localise(lang, t);
        assert_eq!(mi(Lang::En, "Week 1 — base — 2 h 40, ~27.5 km"), "Week 1 — base — 2 h 40, ~17.1 mi");
        assert_eq!(mi(Lang::Fr, "sortie la plus longue 16,1 km."), "sortie la plus longue 10,0 mi.");
        assert_eq!(mi(Lang::En, "45 min easy (5:30–6:00 /km)"), "45 min easy (8:51–9:39 /mi)");
        assert_eq!(mi(Lang::En, "pace 5:00 /km, then"), "pace 8:03 /mi, then");
        assert_eq!(mi(Lang::En, "at 5:00/km"), "at 8:03 /mi");
        assert_eq!(mi(Lang::En, "VMA 16 km/h"), "VMA 9.9 mph");
        assert_eq!(mi(Lang::En, "12 km run, 30 km due"), "7.5 mi run, 18.6 mi due");
        // Race names stay; words that merely contain "km" stay.
        assert_eq!(mi(Lang::Fr, "Plan 10 km — 12 semaines"), "Plan 10 km — 12 semaines");
        assert_eq!(mi(Lang::En, "5 km race"), "5 km race");
        assert_eq!(mi(Lang::En, "kmh km, the okm"), "kmh km, the okm");
        assert_eq!(Units::Metric.localise(Lang::En, "12.0 km at 5:00 /km"), "12.0 km at 5:00 /km");
    }

    #[test]
    fn absurd_values_are_refused_with_a_translated_reason() {
        assert!(WeightKg::parse("0").is_err());
        let err = WeightKg::parse("900").unwrap_err();
        assert!(err.message(Lang::En).contains("25 to 300 kg"), "{}", err.message(Lang::En));
        assert!(err.message(Lang::Fr).contains("de 25 à 300 kg"), "{}", err.message(Lang::Fr));
        assert!(HeartRate::parse_max("300").is_err());
        assert!(HeartRate::parse_resting("20").is_err());
        assert!(HeightCm::parse("abc").is_err());
        assert!(WeightKg::parse("NaN").is_err());
        assert!(WeightKg::parse("inf").is_err());
    }

    #[test]
    fn numbers_are_read_as_people_type_them() {
        assert_eq!(WeightKg::parse("70,5 kg").unwrap().get(), 70.5);
        assert_eq!(HeartRate::parse_max("190bpm").unwrap().bpm(), 190);
        assert_eq!(Vma::parse("17 km/h").unwrap().get(), 17.0);
        assert_eq!(BirthYear::from_age("35", 2026).unwrap().year(), 1991);
        assert!(BirthYear::from_age("4", 2026).is_err());
    }

    #[test]
    fn field_names_in_both_languages() {
        assert_eq!(ProfileField::parse("Poids"), Some(ProfileField::Weight));
        assert_eq!(ProfileField::parse("FCmax"), Some(ProfileField::MaxHr));
        assert_eq!(ProfileField::parse("âge"), Some(ProfileField::Age));
        assert_eq!(ProfileField::parse("resting-hr"), Some(ProfileField::RestingHr));
        assert_eq!(ProfileField::parse("shoe"), None);
        for f in ProfileField::ALL {
            for lang in Lang::ALL {
                assert_eq!(ProfileField::parse(f.key(lang)), Some(f), "{f:?} key in {lang}");
            }
        }
    }

    #[test]
    fn time_zones_are_found_loosely() {
        assert_eq!(TimeZoneName::parse("Europe/Paris").unwrap().as_str(), "Europe/Paris");
        assert_eq!(TimeZoneName::parse("paris").unwrap().as_str(), "Europe/Paris");
        assert_eq!(TimeZoneName::parse("new york").unwrap().as_str(), "America/New_York");
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
    }
}
