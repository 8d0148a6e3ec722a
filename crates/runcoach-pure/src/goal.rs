//! A runner's goals and their progress: a race time over a distance, or a running volume, each
//! with an optional deadline. Parsed and checked at the boundary (a race faster than the world
//! record, a deadline already past, 0 km are refused with a reason), then measured against the
//! history: a race goal against the time predicted from the current VDOT, a volume goal against
//! the distance run so far and the pro-rata share of the target.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::science::{RaceDistance, Vdot, format_duration, parse_race_time, race_time_s, vdot_from_performance};

/// The most a volume goal may ask: 20,000 km (an ultra runner's decade, not a year).
pub const MAX_VOLUME_KM: f64 = 20_000.0;

/// What a goal aims at.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GoalTarget {
    /// Run `distance_m` in `time_s`.
    Race { distance_m: f64, time_s: f64 },
    /// Run `km` in total from the goal's start.
    Volume { km: f64 },
}

impl GoalTarget {
    /// The stored kind: `race` or `volume`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            GoalTarget::Race { .. } => "race",
            GoalTarget::Volume { .. } => "volume",
        }
    }
}

/// A goal as the runner set it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoalSpec {
    pub target: GoalTarget,
    pub deadline: Option<NaiveDate>,
}

/// Why a goal was refused; [`GoalError::explain`] says it in the runner's language.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GoalError {
    #[error("usage: race DISTANCE TIME [by DATE] | volume KM [by DATE]")]
    Usage,
    #[error("unknown distance {0:?}")]
    Distance(String),
    #[error("unreadable time {0:?}")]
    Time(String),
    #[error("unreadable date {0:?}")]
    Date(String),
    #[error("the deadline {0} is not in the future")]
    PastDeadline(NaiveDate),
    #[error("{0} is faster than anyone has run")]
    Impossible(String),
    #[error("{0} is too slow to be a race goal")]
    TooSlow(String),
    #[error("a volume goal needs between 1 and {MAX_VOLUME_KM} km")]
    Volume,
}

impl GoalError {
    /// A stable code for scripts and tests.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            GoalError::Usage => "goal_usage",
            GoalError::Distance(_) => "goal_distance",
            GoalError::Time(_) => "goal_time",
            GoalError::Date(_) => "goal_date",
            GoalError::PastDeadline(_) => "goal_past_deadline",
            GoalError::Impossible(_) => "goal_impossible",
            GoalError::TooSlow(_) => "goal_too_slow",
            GoalError::Volume => "goal_volume",
        }
    }

    #[must_use]
    pub fn explain(&self, lang: Lang) -> String {
        let usage = lang.pick(
            "Par exemple : `/goal race 10k 50:00 by 2027-06-01` ou `/goal volume 1000 by 2027-12-31`.",
            "For example: `/goal race 10k 50:00 by 2027-06-01` or `/goal volume 1000 by 2027-12-31`.",
        );
        let why = match (self, lang) {
            (GoalError::Usage, _) => return usage.to_owned(),
            (GoalError::Distance(d), Lang::Fr) => {
                format!("Je ne connais pas la distance « {d} » (5k, 10k, semi, marathon, ou en km).")
            }
            (GoalError::Distance(d), Lang::En) => {
                format!("I don't know the distance \"{d}\" (5k, 10k, half, marathon, or in km).")
            }
            (GoalError::Time(t), Lang::Fr) => format!("Je ne lis pas le temps « {t} » (h:mm:ss ou mm:ss)."),
            (GoalError::Time(t), Lang::En) => format!("I can't read the time \"{t}\" (h:mm:ss or mm:ss)."),
            (GoalError::Date(d), Lang::Fr) => format!("Je ne lis pas la date « {d} » (AAAA-MM-JJ)."),
            (GoalError::Date(d), Lang::En) => format!("I can't read the date \"{d}\" (YYYY-MM-DD)."),
            (GoalError::PastDeadline(d), Lang::Fr) => {
                format!("L'échéance {d} est déjà passée : choisis une date à venir.")
            }
            (GoalError::PastDeadline(d), Lang::En) => {
                format!("The deadline {d} has already passed: pick a date ahead.")
            }
            (GoalError::Impossible(t), Lang::Fr) => {
                format!("{t}, c'est plus rapide que le record du monde : vise un temps réaliste.")
            }
            (GoalError::Impossible(t), Lang::En) => {
                format!("{t} is faster than the world record: aim for a realistic time.")
            }
            (GoalError::TooSlow(t), Lang::Fr) => {
                format!("{t}, c'est plus lent que la marche : ce n'est pas un objectif de course.")
            }
            (GoalError::TooSlow(t), Lang::En) => format!("{t} is slower than walking: that's not a race goal."),
            (GoalError::Volume, Lang::Fr) => format!("Un objectif de volume va de 1 à {} km.", MAX_VOLUME_KM as u32),
            (GoalError::Volume, Lang::En) => format!("A volume goal is between 1 and {} km.", MAX_VOLUME_KM as u32),
        };
        format!("{why}\n{usage}")
    }
}

/// `race 10k 50:00 [by 2027-06-01]`, `volume 1000 [km] [by 2027-12-31]` (also `course`,
/// `semi`, `par`/`avant`). A deadline must be after `today`.
pub fn parse(text: &str, today: NaiveDate) -> Result<GoalSpec, GoalError> {
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    let (head, deadline) = match words.iter().position(|w| matches!(w.as_str(), "by" | "par" | "avant" | "--by")) {
        Some(i) => {
            let raw = words.get(i + 1).ok_or(GoalError::Usage)?;
            let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| GoalError::Date(raw.clone()))?;
            (words.get(..i).unwrap_or_default(), Some(date))
        }
        None => (words.as_slice(), None),
    };
    let target = match head {
        [kind, distance, time] if matches!(kind.as_str(), "race" | "course") => race(distance, time)?,
        [kind, km] | [kind, km, _] if matches!(kind.as_str(), "volume") => {
            let unit_ok = head.get(2).is_none_or(|u| u == "km");
            let km: f64 = km.trim_end_matches("km").replace(',', ".").parse().map_err(|_| GoalError::Volume)?;
            if !unit_ok || !km.is_finite() || !(1.0..=MAX_VOLUME_KM).contains(&km) {
                return Err(GoalError::Volume);
            }
            GoalTarget::Volume { km }
        }
        _ => return Err(GoalError::Usage),
    };
    new(target, deadline, today)
}

fn race(distance: &str, time: &str) -> Result<GoalTarget, GoalError> {
    let distance_m = distance.parse::<RaceDistance>().map_err(|_| GoalError::Distance(distance.to_owned()))?.metres();
    let time_s = parse_race_time(time).map_err(|_| GoalError::Time(time.to_owned()))?;
    Ok(GoalTarget::Race { distance_m, time_s })
}

/// A goal from its parts, checked as [`parse`] checks it.
pub fn new(target: GoalTarget, deadline: Option<NaiveDate>, today: NaiveDate) -> Result<GoalSpec, GoalError> {
    if let Some(d) = deadline
        && d <= today
    {
        return Err(GoalError::PastDeadline(d));
    }
    match target {
        GoalTarget::Race { distance_m, time_s } => {
            let shown = format_duration(time_s);
            match vdot_from_performance(distance_m, time_s) {
                Ok(_) => {}
                Err(crate::science::ScienceError::TooSlow { .. }) => return Err(GoalError::TooSlow(shown)),
                Err(crate::science::ScienceError::FasterThanWorldRecord { .. }) => {
                    return Err(GoalError::Impossible(shown));
                }
                Err(_) => return Err(GoalError::Distance(format!("{distance_m} m"))),
            }
        }
        GoalTarget::Volume { km } => {
            if !km.is_finite() || !(1.0..=MAX_VOLUME_KM).contains(&km) {
                return Err(GoalError::Volume);
            }
            // A volume without a deadline counts for the year (measured pro rata).
            if deadline.is_none() {
                return Ok(GoalSpec { target, deadline: end_of_year(today).filter(|d| *d > today) });
            }
        }
    }
    Ok(GoalSpec { target, deadline })
}

/// How far a goal has come.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Race: the predicted time (s), `None` without a VDOT. Volume: km run since the start.
    pub current: Option<f64>,
    /// Race: the target time (s). Volume: the share of the target due by today (pro rata), or the
    /// whole target without a deadline.
    pub target: f64,
    /// Race: target time / predicted time × 100 (100 = there). Volume: km run / km due × 100.
    pub pct: Option<f64>,
    /// `None` when it cannot be told (no VDOT yet).
    pub on_track: Option<bool>,
}

/// A race goal against the runner's current VDOT.
#[must_use]
pub fn race_progress(distance_m: f64, time_s: f64, vdot: Option<Vdot>) -> Progress {
    let predicted = vdot.and_then(|v| race_time_s(v, distance_m).ok());
    Progress {
        current: predicted.map(f64::round),
        target: time_s.round(),
        pct: predicted.map(|p| (time_s / p * 1000.0).round() / 10.0),
        on_track: predicted.map(|p| p <= time_s),
    }
}

/// A volume goal: `km_so_far` since `start`, against the pro-rata share of `km` due by `today`
/// when there is a deadline.
#[must_use]
pub fn volume_progress(
    km: f64,
    km_so_far: f64,
    start: NaiveDate,
    deadline: Option<NaiveDate>,
    today: NaiveDate,
) -> Progress {
    let due = match deadline {
        Some(end) if end > start => {
            let total = (end - start).num_days() as f64;
            let elapsed = ((today - start).num_days() as f64).clamp(0.0, total);
            km * elapsed / total
        }
        _ => km,
    };
    // `+ 0.0`: an empty sum is -0.0.
    let so_far = (km_so_far * 10.0).round() / 10.0 + 0.0;
    let due = (due * 10.0).round() / 10.0;
    Progress {
        current: Some(so_far),
        target: due,
        pct: (due > 0.0).then(|| (so_far / due * 1000.0).round() / 10.0),
        on_track: Some(so_far >= due),
    }
}

/// "10 km in 50:00" / "1000 km"
#[must_use]
pub fn describe(target: &GoalTarget, lang: Lang) -> String {
    match *target {
        GoalTarget::Race { distance_m, time_s } => {
            let d = distance_name(distance_m, lang);
            format!("{d} {} {}", lang.pick("en", "in"), format_duration(time_s))
        }
        GoalTarget::Volume { km } => format!("{} km", crate::i18n::number(lang, km, 0)),
    }
}

fn distance_name(distance_m: f64, lang: Lang) -> String {
    match distance_m {
        m if (m - 5_000.0).abs() < 1.0 => "5 km".to_owned(),
        m if (m - 10_000.0).abs() < 1.0 => "10 km".to_owned(),
        m if (m - RaceDistance::HALF_M).abs() < 1.0 => lang.pick("Semi-marathon", "Half marathon").to_owned(),
        m if (m - RaceDistance::MARATHON_M).abs() < 1.0 => "Marathon".to_owned(),
        m => format!("{} km", crate::i18n::number(lang, m / 1000.0, 1)),
    }
}

/// The end of `today`'s year: a volume goal without a deadline counts for the year.
#[must_use]
pub fn end_of_year(today: NaiveDate) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(today.year(), 12, 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn race_and_volume_goals_parse_in_both_languages() {
        let today = d(2026, 12, 4);
        let g = parse("race 10k 50:00 by 2027-06-01", today).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.target, GoalTarget::Race { distance_m: 10_000.0, time_s: 3000.0 });
        assert_eq!(g.deadline, Some(d(2027, 6, 1)));
        let g = parse("course semi 1:45:00 avant 2027-04-12", today).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.target, GoalTarget::Race { distance_m: RaceDistance::HALF_M, time_s: 6300.0 });
        let g = parse("volume 1000 km", today).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((g.target, g.deadline), (GoalTarget::Volume { km: 1000.0 }, Some(d(2026, 12, 31))));
        let g = parse("volume 1000", d(2026, 12, 31)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.deadline, None, "on the year's last day there is no year left to count");
    }

    #[test]
    fn absurd_goals_are_refused_with_their_reason() {
        let today = d(2026, 12, 4);
        let code = |t: &str| parse(t, today).err().map(|e| e.code());
        assert_eq!(code("race 10k 10:00"), Some("goal_impossible"));
        assert_eq!(code("race 5k 5:00:00"), Some("goal_too_slow"));
        assert_eq!(code("race 10k 50:00 by 2026-12-04"), Some("goal_past_deadline"));
        assert_eq!(code("race 10k 50:00 by 2020-01-01"), Some("goal_past_deadline"));
        assert_eq!(code("race 12 parsecs 50:00"), Some("goal_usage"));
        assert_eq!(code("race moon 50:00"), Some("goal_distance"));
        assert_eq!(code("race 10k soon"), Some("goal_time"));
        assert_eq!(code("volume 0"), Some("goal_volume"));
        assert_eq!(code("volume -5 km"), Some("goal_volume"));
        assert_eq!(code("volume 1e9"), Some("goal_volume"));
        assert_eq!(code("volume 100 miles"), Some("goal_volume"));
        assert_eq!(code("volume 100 by tomorrow"), Some("goal_date"));
        assert_eq!(code(""), Some("goal_usage"));
        for e in [GoalError::Usage, GoalError::Impossible("10:00".into())] {
            assert!(e.explain(Lang::Fr).contains("/goal race") && e.explain(Lang::En).contains("/goal race"));
        }
    }

    #[test]
    fn a_race_goal_is_on_track_when_the_prediction_beats_the_target() {
        let vdot = vdot_from_performance(10_000.0, 2900.0).ok();
        let p = race_progress(10_000.0, 3000.0, vdot);
        assert_eq!(p.current, Some(2900.0));
        assert_eq!(p.on_track, Some(true));
        assert!(p.pct.is_some_and(|x| x > 100.0), "{p:?}");
        let p = race_progress(10_000.0, 2700.0, vdot);
        assert_eq!(p.on_track, Some(false));
        let p = race_progress(10_000.0, 3000.0, None);
        assert_eq!((p.current, p.pct, p.on_track), (None, None, None));
    }

    #[test]
    fn a_volume_goal_is_measured_pro_rata() {
        let start = d(2026, 1, 1);
        let end = d(2026, 12, 31);
        // Half the year gone (181 of 364 days), 400 of 1000 km: behind the 497 km due.
        let p = volume_progress(1000.0, 400.0, start, Some(end), d(2026, 7, 1));
        assert_eq!(p.current, Some(400.0));
        assert!((p.target - 497.3).abs() < 0.1, "{p:?}");
        assert_eq!(p.on_track, Some(false));
        let p = volume_progress(1000.0, 600.0, start, Some(end), d(2026, 7, 1));
        assert_eq!(p.on_track, Some(true));
        // After the deadline the whole target is due.
        assert_eq!(volume_progress(1000.0, 600.0, start, Some(end), d(2027, 2, 1)).target, 1000.0);
        assert_eq!(volume_progress(1000.0, 0.0, start, None, d(2026, 7, 1)).target, 1000.0);
    }
}
