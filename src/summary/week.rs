//! ISO weeks (`2025-W12`): what a weekly summary covers and what its dedupe key names.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One ISO 8601 week (Monday to Sunday), written `YYYY-Www`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IsoWeek {
    year: i32,
    week: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid ISO week {0:?} (expected YYYY-Www, e.g. 2025-W07)")]
pub struct InvalidWeek(pub String);

impl IsoWeek {
    /// The week `week` of ISO year `year`, if it exists (week 53 only in long years).
    #[must_use]
    pub fn new(year: i32, week: u32) -> Option<IsoWeek> {
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).map(|_| IsoWeek { year, week })
    }

    /// The week containing `date`.
    #[must_use]
    pub fn of(date: NaiveDate) -> IsoWeek {
        let w = date.iso_week();
        IsoWeek { year: w.year(), week: w.week() }
    }

    /// The last complete week before `today`'s week: what a Monday summary covers.
    #[must_use]
    pub fn last_complete(today: NaiveDate) -> IsoWeek {
        IsoWeek::of(today - Duration::days(7))
    }

    /// The week a summary fired on local date `date` covers: the week that ends that day when it
    /// is a Sunday (an evening summary), else the previous week.
    #[must_use]
    pub fn summarised_on(date: NaiveDate) -> IsoWeek {
        if date.weekday() == Weekday::Sun { IsoWeek::of(date) } else { IsoWeek::last_complete(date) }
    }

    #[must_use]
    pub fn year(self) -> i32 {
        self.year
    }

    #[must_use]
    pub fn week(self) -> u32 {
        self.week
    }

    #[must_use]
    pub fn monday(self) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.year, self.week, Weekday::Mon).unwrap_or_default()
    }

    #[must_use]
    pub fn sunday(self) -> NaiveDate {
        self.monday() + Duration::days(6)
    }

    #[must_use]
    pub fn contains(self, date: NaiveDate) -> bool {
        IsoWeek::of(date) == self
    }

    /// `n` weeks later (negative: earlier).
    #[must_use]
    pub fn offset(self, n: i64) -> IsoWeek {
        IsoWeek::of(self.monday() + Duration::weeks(n))
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-W{:02}", self.year, self.week)
    }
}

impl FromStr for IsoWeek {
    type Err = InvalidWeek;

    /// Accepts `2025-W07`, `2025-w7` and `2025W07`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidWeek(s.chars().take(20).collect());
        let t = s.trim().to_ascii_uppercase();
        let (year, week) = t.split_once('W').ok_or_else(bad)?;
        let year: i32 = year.trim_end_matches('-').parse().map_err(|_| bad())?;
        let week: u32 = week.parse().map_err(|_| bad())?;
        if !(1..=9999).contains(&year) {
            return Err(bad());
        }
        IsoWeek::new(year, week).ok_or_else(bad)
    }
}

impl Serialize for IsoWeek {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IsoWeek {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn parses_and_prints() {
        let w: IsoWeek = "2025-W07".parse().unwrap();
        assert_eq!((w.year(), w.week()), (2025, 7));
        assert_eq!(w.to_string(), "2025-W07");
        assert_eq!("2025w7".parse::<IsoWeek>().unwrap(), w);
        assert!("2025-W54".parse::<IsoWeek>().is_err());
        assert!("2025-07".parse::<IsoWeek>().is_err());
        assert_eq!("2020-W53".parse::<IsoWeek>().unwrap().monday(), d(2020, 12, 28));
    }

    #[test]
    fn weeks_around_new_year() {
        // 2024-12-30 is the Monday of 2025-W01.
        assert_eq!(IsoWeek::of(d(2024, 12, 31)).to_string(), "2025-W01");
        assert_eq!(IsoWeek::last_complete(d(2025, 1, 6)).to_string(), "2025-W01");
        assert_eq!(IsoWeek::of(d(2025, 1, 1)).offset(-1).to_string(), "2024-W52");
        assert_eq!(IsoWeek::summarised_on(d(2025, 3, 23)).to_string(), "2025-W12");
        assert_eq!(IsoWeek::summarised_on(d(2025, 3, 24)).to_string(), "2025-W12");
    }
}
