//! Heart-rate zones (% of max and Karvonen), max-HR resolution and VMA.

use super::ScienceError;
use super::units::Vdot;
use super::vdot::speed_at_vo2;
use serde::{Deserialize, Serialize};

/// Where a max HR value came from, most to least trustworthy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxHrSource {
    Profile,
    Observed,
    Tanaka,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MaxHr {
    pub bpm: f64,
    pub source: MaxHrSource,
}

/// Tanaka (2001): HRmax = 208 − 0.7 × age.
pub fn tanaka_max_hr(age: u8) -> f64 {
    208.0 - 0.7 * f64::from(age)
}

fn plausible_hr(x: f64) -> bool {
    x.is_finite() && (100.0..=230.0).contains(&x)
}

/// Max HR from the profile, else the best observed value, else Tanaka from age.
/// Implausible values (outside 100–230 bpm) are skipped as sensor glitches.
pub fn resolve_max_hr(profile: Option<f64>, observed: Option<f64>, age: Option<u8>) -> Option<MaxHr> {
    if let Some(b) = profile.filter(|x| plausible_hr(*x)) {
        return Some(MaxHr { bpm: b, source: MaxHrSource::Profile });
    }
    if let Some(b) = observed.filter(|x| plausible_hr(*x)) {
        return Some(MaxHr { bpm: b, source: MaxHrSource::Observed });
    }
    age.filter(|a| (5..=100).contains(a)).map(|a| MaxHr { bpm: tanaka_max_hr(a), source: MaxHrSource::Tanaka })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneMethod {
    PercentMax,
    Karvonen,
}

/// One zone, in bpm (inclusive lower bound).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HrZone {
    pub zone: u8,
    pub min_bpm: f64,
    pub max_bpm: f64,
}

/// Five zones at 50-60-70-80-90-100 % (of max, or of reserve for Karvonen).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HrZones {
    pub method: ZoneMethod,
    pub max_hr: f64,
    pub resting_hr: Option<f64>,
    pub zones: [HrZone; 5],
}

const ZONE_EDGES: [f64; 6] = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

fn build_zones(f: impl Fn(f64) -> f64) -> [HrZone; 5] {
    let mut out = [HrZone { zone: 0, min_bpm: 0.0, max_bpm: 0.0 }; 5];
    for (i, (z, pair)) in out.iter_mut().zip(ZONE_EDGES.windows(2)).enumerate() {
        if let [lo, hi] = pair {
            *z = HrZone { zone: i as u8 + 1, min_bpm: f(*lo), max_bpm: f(*hi) };
        }
    }
    out
}

/// Zones as % of max HR.
pub fn hr_zones_percent_max(max_hr: f64) -> Result<HrZones, ScienceError> {
    if !plausible_hr(max_hr) {
        return Err(ScienceError::InvalidHeartRate(format!("max HR {max_hr} outside 100–230 bpm")));
    }
    Ok(HrZones { method: ZoneMethod::PercentMax, max_hr, resting_hr: None, zones: build_zones(|k| k * max_hr) })
}

/// Karvonen zones: target = rest + k × (max − rest).
pub fn hr_zones_karvonen(max_hr: f64, resting_hr: f64) -> Result<HrZones, ScienceError> {
    if !plausible_hr(max_hr) {
        return Err(ScienceError::InvalidHeartRate(format!("max HR {max_hr} outside 100–230 bpm")));
    }
    if !resting_hr.is_finite() || !(25.0..=110.0).contains(&resting_hr) || resting_hr >= max_hr - 20.0 {
        return Err(ScienceError::InvalidHeartRate(format!(
            "resting HR {resting_hr} must be 25–110 bpm and well below max HR {max_hr}"
        )));
    }
    let reserve = max_hr - resting_hr;
    Ok(HrZones {
        method: ZoneMethod::Karvonen,
        max_hr,
        resting_hr: Some(resting_hr),
        zones: build_zones(|k| resting_hr + k * reserve),
    })
}

impl HrZones {
    /// Zone (1–5) of a heart rate; below zone 1 counts as 1, above max as 5.
    pub fn zone_of(&self, bpm: f64) -> u8 {
        self.zones.iter().rev().find(|z| bpm >= z.min_bpm).map_or(1, |z| z.zone)
    }

    pub fn zone(&self, n: u8) -> Option<&HrZone> {
        self.zones.iter().find(|z| z.zone == n)
    }
}

/// Where a VMA estimate came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VmaSource {
    SixMinuteTest,
    Vdot,
    Fastest1000,
}

/// Maximal aerobic speed (vitesse maximale aérobie).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct VmaEstimate {
    pub kmh: f64,
    pub source: VmaSource,
}

impl VmaEstimate {
    /// Pace (s/km) at `pct` % of VMA, e.g. 100 for 30/30s.
    pub fn pace_at_percent(&self, pct: f64) -> f64 {
        3600.0 / (self.kmh * pct / 100.0)
    }
}

fn plausible_vma(kmh: f64) -> bool {
    kmh.is_finite() && (6.0..=26.0).contains(&kmh)
}

/// Six-minute test (Léger/Mercier practice): distance covered / 6 min.
pub fn vma_from_six_minutes(distance_m: f64) -> Option<VmaEstimate> {
    let kmh = distance_m / 100.0; // m per 6 min → km/h is ×10/1000
    plausible_vma(kmh).then_some(VmaEstimate { kmh, source: VmaSource::SixMinuteTest })
}

/// From the fastest 1000 m split. An all-out kilometre (~3 min) is run above VMA,
/// but splits inside training runs are rarely all-out; 95 % of that speed is a
/// conservative middle ground.
pub fn vma_from_fastest_1000(seconds: f64) -> Option<VmaEstimate> {
    if !seconds.is_finite() || seconds <= 0.0 {
        return None;
    }
    let kmh = 3600.0 / seconds * 0.95;
    plausible_vma(kmh).then_some(VmaEstimate { kmh, source: VmaSource::Fastest1000 })
}

/// vVO2max from VDOT: the speed whose oxygen cost equals VDOT.
pub fn vma_from_vdot(vdot: Vdot) -> VmaEstimate {
    VmaEstimate { kmh: speed_at_vo2(vdot.value()) * 60.0 / 1000.0, source: VmaSource::Vdot }
}

/// Best available VMA: a 6-minute test, else VDOT, else the fastest 1000 m split.
pub fn estimate_vma(six_minute_m: Option<f64>, fastest_1000_s: Option<f64>, vdot: Option<Vdot>) -> Option<VmaEstimate> {
    six_minute_m
        .and_then(vma_from_six_minutes)
        .or_else(|| vdot.map(vma_from_vdot))
        .or_else(|| fastest_1000_s.and_then(vma_from_fastest_1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn max_hr_priority() {
        assert_eq!(tanaka_max_hr(40), 180.0);
        let m = resolve_max_hr(Some(190.0), Some(185.0), Some(40)).unwrap();
        assert_eq!((m.bpm, m.source), (190.0, MaxHrSource::Profile));
        let m = resolve_max_hr(None, Some(185.0), Some(40)).unwrap();
        assert_eq!(m.source, MaxHrSource::Observed);
        let m = resolve_max_hr(None, Some(260.0), Some(40)).unwrap();
        assert_eq!((m.bpm, m.source), (180.0, MaxHrSource::Tanaka));
        assert!(resolve_max_hr(None, None, None).is_none());
    }

    #[test]
    fn zones_percent_and_karvonen() {
        let z = hr_zones_percent_max(200.0).unwrap();
        assert_eq!(z.zone(1).unwrap().min_bpm, 100.0);
        assert_eq!(z.zone(5).unwrap().max_bpm, 200.0);
        assert_eq!(z.zone_of(150.0), 3);
        assert_eq!(z.zone_of(90.0), 1);
        assert_eq!(z.zone_of(195.0), 5);
        let k = hr_zones_karvonen(190.0, 50.0).unwrap();
        // Zone 2 starts at 50 + 0.6 × 140 = 134.
        assert_eq!(k.zone(2).unwrap().min_bpm, 134.0);
        assert!(hr_zones_karvonen(190.0, 180.0).is_err());
        assert!(hr_zones_percent_max(40.0).is_err());
    }

    #[test]
    fn vma_sources() {
        let six = vma_from_six_minutes(1500.0).unwrap();
        assert!((six.kmh - 15.0).abs() < 1e-9);
        assert!((six.pace_at_percent(100.0) - 240.0).abs() < 1e-9);
        // 1000 m in 3:36 = 16.67 km/h → 15.83 km/h.
        let k = vma_from_fastest_1000(216.0).unwrap();
        assert!((k.kmh - 15.833).abs() < 0.01);
        let vd = vma_from_vdot(Vdot::new(50.0).unwrap());
        assert!((vd.kmh - 15.6).abs() < 0.3, "{}", vd.kmh);
        assert_eq!(estimate_vma(Some(1500.0), Some(216.0), None).unwrap().source, VmaSource::SixMinuteTest);
        assert_eq!(estimate_vma(None, Some(216.0), Some(Vdot::new(50.0).unwrap())).unwrap().source, VmaSource::Vdot);
        assert_eq!(estimate_vma(None, Some(216.0), None).unwrap().source, VmaSource::Fastest1000);
        assert!(estimate_vma(Some(10.0), None, None).is_none());
    }

    proptest! {
        #[test]
        fn karvonen_zones_ordered(max in 140.0f64..220.0, rest in 35.0f64..90.0) {
            let z = hr_zones_karvonen(max, rest).unwrap();
            let mut prev_hi = rest;
            for zone in z.zones {
                prop_assert!(zone.min_bpm < zone.max_bpm);
                prop_assert!(zone.min_bpm >= prev_hi - 1e-9 || zone.zone == 1);
                prop_assert!((zone.min_bpm - prev_hi).abs() < 1e-9 || zone.zone == 1);
                prev_hi = zone.max_bpm;
            }
            prop_assert!((prev_hi - max).abs() < 1e-9);
            // Karvonen targets sit above %max targets for the same fraction.
            let pm = hr_zones_percent_max(max).unwrap();
            prop_assert!(z.zones[2].min_bpm > pm.zones[2].min_bpm);
        }

        #[test]
        fn zone_of_is_monotone(max in 150.0f64..210.0, a in 60.0f64..220.0, b in 60.0f64..220.0) {
            let z = hr_zones_percent_max(max).unwrap();
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(z.zone_of(lo) <= z.zone_of(hi));
        }
    }
}
