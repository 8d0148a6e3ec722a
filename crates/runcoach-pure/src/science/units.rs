//! Parse-don't-validate newtypes: [`Vdot`], [`Pace`], [`PaceRange`],
//! [`RaceDistance`], plus the `[H:]MM:SS` time parser and formatters.

use super::ScienceError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Lowest VDOT we accept: below this is walking pace, where the Daniels–Gilbert
/// equations were never fitted.
pub const VDOT_MIN: f64 = 15.0;
/// Highest VDOT we accept: world records sit around 85, so anything above 90 is
/// a data-entry error rather than a performance.
pub const VDOT_MAX: f64 = 90.0;

/// A VDOT value known to be inside [`VDOT_MIN`]..=[`VDOT_MAX`].
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Vdot(f64);

impl Vdot {
    pub fn new(value: f64) -> Result<Self, ScienceError> {
        if value.is_finite() && (VDOT_MIN..=VDOT_MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(ScienceError::VdotOutOfRange { value, min: VDOT_MIN, max: VDOT_MAX })
        }
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Vdot {
    type Error = ScienceError;
    fn try_from(v: f64) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<Vdot> for f64 {
    fn from(v: Vdot) -> f64 {
        v.0
    }
}

impl fmt::Display for Vdot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

/// A running pace in seconds per kilometre (finite, > 0).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Pace(f64);

impl Pace {
    pub fn new(s_per_km: f64) -> Result<Self, ScienceError> {
        if s_per_km.is_finite() && s_per_km > 0.0 {
            Ok(Self(s_per_km))
        } else {
            Err(ScienceError::InvalidPace(s_per_km))
        }
    }

    /// Pace from a speed in metres per second.
    pub fn from_speed_mps(mps: f64) -> Result<Self, ScienceError> {
        Self::new(1000.0 / mps)
    }

    pub fn s_per_km(self) -> f64 {
        self.0
    }

    pub fn speed_mps(self) -> f64 {
        1000.0 / self.0
    }

    /// Same pace rounded to whole seconds (what we show and store in plans).
    pub fn rounded(self) -> Pace {
        Pace(self.0.round().max(1.0))
    }
}

impl TryFrom<f64> for Pace {
    type Error = ScienceError;
    fn try_from(v: f64) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<Pace> for f64 {
    fn from(p: Pace) -> f64 {
        p.0
    }
}

impl fmt::Display for Pace {
    /// "4:50" (minutes:seconds per km).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Round first so 299.6 s shows as 5:00 and not 4:60.
        let total = self.0.round() as i64;
        write!(f, "{}:{:02}", total / 60, total % 60)
    }
}

/// A pace band: `min` is the fast end (fewer s/km), `max` the slow end.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaceRange {
    pub min: Pace,
    pub max: Pace,
}

impl PaceRange {
    /// Builds a range from two paces in any order.
    pub fn new(a: Pace, b: Pace) -> Self {
        if a.0 <= b.0 { Self { min: a, max: b } } else { Self { min: b, max: a } }
    }

    pub fn mid(&self) -> Pace {
        Pace((self.min.0 + self.max.0) / 2.0)
    }

    pub fn rounded(&self) -> PaceRange {
        PaceRange { min: self.min.rounded(), max: self.max.rounded() }
    }

    pub fn contains(&self, p: Pace) -> bool {
        p.0 >= self.min.0 && p.0 <= self.max.0
    }
}

impl fmt::Display for PaceRange {
    /// "4:50–5:00 /km", or "4:08 /km" when both ends round to the same second.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min.0.round() == self.max.0.round() {
            write!(f, "{} /km", self.min)
        } else {
            write!(f, "{}–{} /km", self.min, self.max)
        }
    }
}

/// A race distance. Standard distances keep their name; anything else is in metres.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RaceDistance {
    FiveK,
    TenK,
    Half,
    Marathon,
    Metres(f64),
}

impl RaceDistance {
    pub const HALF_M: f64 = 21_097.5;
    pub const MARATHON_M: f64 = 42_195.0;

    pub fn metres(self) -> f64 {
        match self {
            RaceDistance::FiveK => 5_000.0,
            RaceDistance::TenK => 10_000.0,
            RaceDistance::Half => Self::HALF_M,
            RaceDistance::Marathon => Self::MARATHON_M,
            RaceDistance::Metres(m) => m,
        }
    }

    /// From metres, recognising the standard distances (so 5000 → `FiveK`).
    pub fn from_metres(m: f64) -> Result<Self, ScienceError> {
        if !m.is_finite() || m <= 0.0 || m > 1_000_000.0 {
            return Err(ScienceError::InvalidDistance(m));
        }
        Ok(match m {
            x if (x - 5_000.0).abs() < 0.5 => RaceDistance::FiveK,
            x if (x - 10_000.0).abs() < 0.5 => RaceDistance::TenK,
            x if (x - Self::HALF_M).abs() < 1.0 => RaceDistance::Half,
            x if (x - Self::MARATHON_M).abs() < 1.0 => RaceDistance::Marathon,
            x => RaceDistance::Metres(x),
        })
    }

    /// A short label: "5K", "10K", "half marathon", "marathon", "15 km", "1500 m".
    pub fn label_en(self) -> String {
        match self {
            RaceDistance::FiveK => "5K".into(),
            RaceDistance::TenK => "10K".into(),
            RaceDistance::Half => "half marathon".into(),
            RaceDistance::Marathon => "marathon".into(),
            RaceDistance::Metres(m) => metres_label(m),
        }
    }

    pub fn label_fr(self) -> String {
        match self {
            RaceDistance::FiveK => "5 km".into(),
            RaceDistance::TenK => "10 km".into(),
            RaceDistance::Half => "semi-marathon".into(),
            RaceDistance::Marathon => "marathon".into(),
            RaceDistance::Metres(m) => metres_label(m),
        }
    }
}

fn metres_label(m: f64) -> String {
    if m >= 3_000.0 && (m / 1000.0).fract().abs() < 1e-9 {
        format!("{} km", m / 1000.0)
    } else if m >= 3_000.0 {
        format!("{:.1} km", m / 1000.0)
    } else {
        format!("{} m", m.round())
    }
}

impl FromStr for RaceDistance {
    type Err = ScienceError;

    /// Accepts "5k", "10k", "half" (also "semi", "half-marathon"), "marathon",
    /// a number of kilometres with a k/km suffix ("15k", "21.1km") or a bare
    /// number of metres ("1500", "3000m").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ScienceError::InvalidDistanceText { input: s.to_string() };
        let t = s.trim().to_ascii_lowercase().replace([' ', '_'], "");
        match t.as_str() {
            "5k" | "5km" => return Ok(RaceDistance::FiveK),
            "10k" | "10km" => return Ok(RaceDistance::TenK),
            "half" | "halfmarathon" | "half-marathon" | "semi" | "semi-marathon" | "semimarathon" | "21.1k"
            | "21.1km" => return Ok(RaceDistance::Half),
            "marathon" | "full" | "42.2k" | "42.2km" | "42.195k" | "42.195km" => {
                return Ok(RaceDistance::Marathon);
            }
            _ => {}
        }
        let (num, factor) = if let Some(n) = t.strip_suffix("km") {
            (n, 1000.0)
        } else if let Some(n) = t.strip_suffix('k') {
            (n, 1000.0)
        } else if let Some(n) = t.strip_suffix('m') {
            (n, 1.0)
        } else {
            (t.as_str(), 1.0)
        };
        let value: f64 = num.parse().map_err(|_| bad())?;
        RaceDistance::from_metres(value * factor).map_err(|_| bad())
    }
}

impl fmt::Display for RaceDistance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RaceDistance::FiveK => write!(f, "5k"),
            RaceDistance::TenK => write!(f, "10k"),
            RaceDistance::Half => write!(f, "half"),
            RaceDistance::Marathon => write!(f, "marathon"),
            RaceDistance::Metres(m) => write!(f, "{m}"),
        }
    }
}

impl TryFrom<String> for RaceDistance {
    type Error = ScienceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RaceDistance> for String {
    fn from(d: RaceDistance) -> String {
        d.to_string()
    }
}

/// Parses `[H:]MM:SS` (also `MM:SS.s`) into seconds.
///
/// With an hour part, minutes must be 0–59; without one, minutes may exceed 59
/// ("75:00") because people write long efforts that way.
pub fn parse_race_time(input: &str) -> Result<f64, ScienceError> {
    let err = |reason: &'static str| ScienceError::InvalidTime { input: input.to_string(), reason };
    let s = input.trim();
    if s.is_empty() {
        return Err(err("empty"));
    }
    let parts: Vec<&str> = s.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [m, sec] => ("0", *m, *sec),
        [h, m, sec] => (*h, *m, *sec),
        _ => return Err(err("expected one or two ':' separators")),
    };
    let is_int = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit());
    if !is_int(h) || !is_int(m) {
        return Err(err("hours and minutes must be whole numbers"));
    }
    let sec_ok = !sec.is_empty()
        && sec.chars().all(|c| c.is_ascii_digit() || c == '.')
        && sec.chars().next().is_some_and(|c| c.is_ascii_digit());
    if !sec_ok {
        return Err(err("seconds must be a number"));
    }
    let h: f64 = h.parse().map_err(|_| err("bad hours"))?;
    let m: f64 = m.parse().map_err(|_| err("bad minutes"))?;
    let sec: f64 = sec.parse().map_err(|_| err("bad seconds"))?;
    if parts.len() == 3 && m >= 60.0 {
        return Err(err("minutes must be below 60 when hours are given"));
    }
    if sec >= 60.0 {
        return Err(err("seconds must be below 60"));
    }
    if parts.len() == 2 && sec.fract() == 0.0 && parts.get(1).is_some_and(|p| p.len() != 2) {
        return Err(err("seconds must have two digits"));
    }
    let total = h * 3600.0 + m * 60.0 + sec;
    if total <= 0.0 {
        return Err(err("time must be positive"));
    }
    Ok(total)
}

/// Formats seconds as "M:SS" below one hour and "H:MM:SS" above.
pub fn format_duration(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as i64;
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_times() {
        assert_eq!(parse_race_time("24:34").unwrap(), 1474.0);
        assert_eq!(parse_race_time("1:31:31").unwrap(), 5491.0);
        assert_eq!(parse_race_time(" 3:10:40 ").unwrap(), 11440.0);
        assert_eq!(parse_race_time("75:00").unwrap(), 4500.0);
        assert_eq!(parse_race_time("19:56.5").unwrap(), 1196.5);
    }

    #[test]
    fn rejects_bad_times() {
        for bad in ["", "abc", "12", "1:60:00", "12:60", "1:2:3:4", "-5:00", "5:7", "00:00", ":30", "5:x0"] {
            let e = parse_race_time(bad);
            assert!(matches!(e, Err(ScienceError::InvalidTime { .. })), "{bad:?} gave {e:?}");
        }
        // The message explains the expected format.
        let msg = parse_race_time("abc").unwrap_err().to_string();
        assert!(msg.contains("[H:]MM:SS"), "{msg}");
    }

    #[test]
    fn formats_durations() {
        assert_eq!(format_duration(1196.4), "19:56");
        assert_eq!(format_duration(5491.0), "1:31:31");
        assert_eq!(format_duration(59.6), "1:00");
    }

    #[test]
    fn parses_distances() {
        assert_eq!("5k".parse::<RaceDistance>().unwrap(), RaceDistance::FiveK);
        assert_eq!("10K".parse::<RaceDistance>().unwrap(), RaceDistance::TenK);
        assert_eq!("half".parse::<RaceDistance>().unwrap(), RaceDistance::Half);
        assert_eq!("Semi".parse::<RaceDistance>().unwrap(), RaceDistance::Half);
        assert_eq!("marathon".parse::<RaceDistance>().unwrap(), RaceDistance::Marathon);
        assert_eq!("1500".parse::<RaceDistance>().unwrap(), RaceDistance::Metres(1500.0));
        assert_eq!("5000".parse::<RaceDistance>().unwrap(), RaceDistance::FiveK);
        assert_eq!("15k".parse::<RaceDistance>().unwrap(), RaceDistance::Metres(15_000.0));
        assert_eq!("3000m".parse::<RaceDistance>().unwrap(), RaceDistance::Metres(3000.0));
        for bad in ["", "fast", "-5k", "0", "k", "nan"] {
            assert!(bad.parse::<RaceDistance>().is_err(), "{bad}");
        }
        assert_eq!(RaceDistance::Half.metres(), 21_097.5);
        assert_eq!(RaceDistance::Metres(15_000.0).label_en(), "15 km");
    }

    #[test]
    fn distance_serde_round_trip() {
        let j = serde_json::to_string(&RaceDistance::Half).unwrap();
        assert_eq!(j, "\"half\"");
        let back: RaceDistance = serde_json::from_str(&j).unwrap();
        assert_eq!(back, RaceDistance::Half);
        let m: RaceDistance = serde_json::from_str("\"1500\"").unwrap();
        assert_eq!(m, RaceDistance::Metres(1500.0));
    }

    #[test]
    fn vdot_newtype_bounds() {
        assert!(Vdot::new(50.0).is_ok());
        assert!(Vdot::new(14.9).is_err());
        assert!(Vdot::new(90.1).is_err());
        assert!(Vdot::new(f64::NAN).is_err());
        assert!(serde_json::from_str::<Vdot>("120").is_err());
        assert_eq!(serde_json::from_str::<Vdot>("50.5").unwrap().value(), 50.5);
    }

    #[test]
    fn pace_display_and_range() {
        assert_eq!(Pace::new(290.0).unwrap().to_string(), "4:50");
        assert_eq!(Pace::new(299.6).unwrap().to_string(), "5:00");
        assert!(Pace::new(0.0).is_err());
        assert!(Pace::new(-3.0).is_err());
        let r = PaceRange::new(Pace::new(300.0).unwrap(), Pace::new(290.0).unwrap());
        assert_eq!(r.min.s_per_km(), 290.0);
        assert_eq!(r.to_string(), "4:50–5:00 /km");
        let same = PaceRange::new(Pace::new(248.2).unwrap(), Pace::new(247.9).unwrap());
        assert_eq!(same.to_string(), "4:08 /km");
    }

    proptest! {
        #[test]
        fn time_format_parse_round_trip(secs in 1u32..36_000) {
            let s = format_duration(f64::from(secs));
            prop_assert_eq!(parse_race_time(&s).unwrap(), f64::from(secs));
        }
    }
}
