//! When a schedule fires: cron expressions (with the `cron` crate) evaluated on the wall clock of
//! the schedule's time zone.
//!
//! Daylight-saving changes follow ISC cron: a time the clocks skip (02:30 on the night clocks go
//! forward) fires right after the change; a time the clocks repeat (02:30 on the night they go back)
//! fires once, the first time. A weekly summary is neither lost nor sent twice.

use std::str::FromStr;

use chrono::offset::LocalResult;
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Candidates looked at before giving up on finding a next run.
const MAX_STEPS: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("invalid cron expression {0:?}: {1}")]
    Invalid(String, String),
    #[error("cron expression {0:?} fires more than once an hour")]
    TooFrequent(String),
    #[error("cron expression {0:?} never fires")]
    NeverFires(String),
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
}

/// A parsed schedule: the normalised expression (6 or 7 fields, as the `cron` crate reads it).
#[derive(Clone, Debug)]
pub struct CronSpec {
    pub expression: String,
    schedule: cron::Schedule,
}

/// Standard cron numbers days 0–7 from Sunday; the `cron` crate numbers them 1–7 from Sunday.
/// Names mean the same to both, so a 5-field expression's numeric days become names.
fn day_names(field: &str) -> String {
    const NAMES: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    let name = |t: &str| -> String {
        t.parse::<usize>().ok().and_then(|i| NAMES.get(i)).map_or_else(|| t.to_owned(), |n| (*n).to_owned())
    };
    field
        .split(',')
        .map(|part| {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (part, None),
            };
            let mapped = match range.split_once('-') {
                // `5-7` (Friday to Sunday) would wrap in the crate's numbering: split off Sunday.
                Some((a, "7")) if step.is_none() && a != "0" => format!("{}-SAT,SUN", name(a)),
                Some((a, b)) => format!("{}-{}", name(a), name(b)),
                None => name(range),
            };
            match step {
                Some(s) => format!("{mapped}/{s}"),
                None => mapped,
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses a cron expression: standard 5 fields (`0 8 * * 1` = Mondays 08:00), or the `cron` crate's
/// 6–7 fields with seconds first (`0 0 8 * * Mon`), or `@weekly`-style shortcuts. Quotes around
/// the expression are ignored. Schedules firing more than once an hour are refused.
pub fn parse_cron(raw: &str) -> Result<CronSpec, CronError> {
    let text = raw.trim().trim_matches(|c| c == '"' || c == '\'' || c == '“' || c == '”').trim();
    let fields: Vec<&str> = text.split_whitespace().collect();
    let expression = match fields.as_slice() {
        [one] if one.starts_with('@') => (*one).to_owned(),
        [min, hour, dom, month, dow] => format!("0 {min} {hour} {dom} {month} {}", day_names(dow)),
        f if f.len() == 6 || f.len() == 7 => f.join(" "),
        _ => {
            return Err(CronError::Invalid(
                text.chars().take(80).collect(),
                "expected 5 fields: minute hour day-of-month month day-of-week".into(),
            ));
        }
    };
    let schedule = cron::Schedule::from_str(&expression)
        .map_err(|e| CronError::Invalid(text.chars().take(80).collect(), e.to_string()))?;
    let upcoming: Vec<DateTime<Utc>> = schedule.upcoming(Utc).take(3).collect();
    if upcoming.is_empty() {
        return Err(CronError::NeverFires(expression));
    }
    if upcoming.windows(2).any(|w| matches!(w, [a, b] if *b - *a < Duration::hours(1))) {
        return Err(CronError::TooFrequent(expression));
    }
    Ok(CronSpec { expression, schedule })
}

/// Parses an IANA time zone name (`Europe/Paris`).
pub fn parse_tz(name: &str) -> Result<Tz, CronError> {
    name.trim().parse::<Tz>().map_err(|_| CronError::UnknownTimeZone(name.chars().take(40).collect()))
}

/// The first instant after the skipped wall-clock time `naive`: the moment the clocks went forward.
fn after_gap(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Tz>> {
    (1..=180).find_map(|m| match tz.from_local_datetime(&(naive + Duration::minutes(m))) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t),
        LocalResult::None => None,
    })
}

impl CronSpec {
    /// The first run strictly after `after`, on `tz`'s wall clock.
    #[must_use]
    pub fn next_after(&self, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // The wall clock repeats up to an hour (or two) when clocks go back: start a little earlier.
        let local = after.with_timezone(&tz).naive_local() - Duration::hours(3);
        let start = Utc.from_utc_datetime(&local);
        for candidate in self.schedule.after(&start).take(MAX_STEPS) {
            let naive = candidate.naive_utc();
            let instant = match tz.from_local_datetime(&naive) {
                LocalResult::Single(t) => t,
                LocalResult::Ambiguous(first, _) => first,
                LocalResult::None => after_gap(tz, naive)?,
            }
            .with_timezone(&Utc);
            if instant > after {
                return Some(instant);
            }
        }
        None
    }

    /// The last run at or before `now`, looking forward from `from` (a due time that was missed).
    #[must_use]
    pub fn latest_until(&self, tz: Tz, from: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut latest = from;
        for _ in 0..1000 {
            match self.next_after(tz, latest) {
                Some(next) if next <= now => latest = next,
                _ => break,
            }
        }
        latest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_fields_use_standard_day_numbers() {
        assert_eq!(parse_cron("0 8 * * 1").unwrap().expression, "0 0 8 * * MON");
        assert_eq!(parse_cron("\"30 18 * * 0\"").unwrap().expression, "0 30 18 * * SUN");
        assert_eq!(parse_cron("0 7 * * 1-5").unwrap().expression, "0 0 7 * * MON-FRI");
        assert_eq!(parse_cron("0 7 * * 5-7").unwrap().expression, "0 0 7 * * FRI-SAT,SUN");
        assert_eq!(parse_cron("0 0 8 * * Mon").unwrap().expression, "0 0 8 * * Mon");
        assert!(parse_cron("@weekly").is_ok());
    }

    #[test]
    fn refuses_nonsense() {
        assert!(matches!(parse_cron("every monday"), Err(CronError::Invalid(..))));
        assert!(matches!(parse_cron("61 8 * * 1"), Err(CronError::Invalid(..))));
        assert!(matches!(parse_cron("* * * * *"), Err(CronError::TooFrequent(_))));
        assert!(parse_tz("Mars/Olympus").is_err());
    }
}
