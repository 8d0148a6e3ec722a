//! Reading the numbers for a runner: what a form (TSB) value means, and what a break does to a
//! VDOT. Thresholds and rates come from the sources cited in the knowledge base
//! (`training-load-and-acwr.md`, `returning-after-a-break.md`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::load::FitnessState;
use super::text::Bilingual;
use super::units::{VDOT_MIN, Vdot};

/// Where a runner's form (TSB = CTL − ATL) stands, in the bands of Coggan's performance
/// manager as coaches use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormBand {
    /// Too little recent load to read form (fitness under 1 load unit a day).
    NoLoad,
    /// TSB > +25: very rested; fitness is fading if it lasts.
    VeryFresh,
    /// +5 < TSB ≤ +25: fresh, the state to race in.
    Fresh,
    /// −10 ≤ TSB ≤ +5: neutral, normal training.
    Neutral,
    /// −30 ≤ TSB < −10: the fatigue of a productive block.
    Productive,
    /// TSB < −30: heavy fatigue; recover before adding more.
    Overreaching,
}

/// A form value read in plain words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormReading {
    pub band: FormBand,
    pub message: Bilingual,
}

/// Reads a fitness/fatigue/form state.
#[must_use]
pub fn form_reading(f: FitnessState) -> FormReading {
    use FormBand::*;
    let band = if !f.ctl.is_finite() || !f.tsb.is_finite() || f.ctl < 1.0 {
        NoLoad
    } else if f.tsb > 25.0 {
        VeryFresh
    } else if f.tsb > 5.0 {
        Fresh
    } else if f.tsb >= -10.0 {
        Neutral
    } else if f.tsb >= -30.0 {
        Productive
    } else {
        Overreaching
    };
    let (fr, en) = match band {
        NoLoad => ("pas assez de charge récente pour lire ta forme", "not enough recent load to read your form"),
        VeryFresh => (
            "très reposé : idéal pour une course, mais la forme s'érode si ça dure",
            "very rested: ideal for a race, but fitness fades if it lasts",
        ),
        Fresh => {
            ("frais : un bon moment pour courir vite ou pour une course", "fresh: a good time to race or run fast")
        }
        Neutral => ("équilibré : entraînement normal", "balanced: normal training"),
        Productive => (
            "fatigue d'un bloc productif : garde les footings vraiment faciles",
            "the fatigue of a productive block: keep easy runs truly easy",
        ),
        Overreaching => (
            "très fatigué : allège quelques jours avant d'en rajouter",
            "very tired: ease off for a few days before adding more",
        ),
    };
    FormReading { band, message: Bilingual::new(fr, en) }
}

/// Fitness, fatigue and form at the end of each day of a daily load series (the same recurrence
/// as [`super::load::fitness_state`], which is the last element of this series).
#[must_use]
pub fn fitness_series(daily: &[f64]) -> Vec<FitnessState> {
    let (mut ctl, mut atl) = (0.0_f64, 0.0_f64);
    daily
        .iter()
        .map(|&l| {
            let l = if l.is_finite() { l.max(0.0) } else { 0.0 };
            ctl += (l - ctl) / 42.0;
            atl += (l - atl) / 7.0;
            FitnessState { ctl, atl, tsb: ctl - atl }
        })
        .collect()
}

/// The share of aerobic capacity kept after `days_off` without running. Coyle et al. (1984)
/// measured VO2max 7 % lower after 21 days without training and 16 % lower at 56 days, where it
/// levelled off; a week off costs essentially nothing (Mujika & Padilla 2000). Straight lines
/// between those points.
#[must_use]
pub fn fitness_kept_after(days_off: i64) -> f64 {
    const POINTS: [(f64, f64); 3] = [(7.0, 1.0), (21.0, 0.93), (56.0, 0.84)];
    let d = days_off.max(0) as f64;
    let mut prev = POINTS[0];
    if d <= prev.0 {
        return prev.1;
    }
    for p in &POINTS[1..] {
        if d <= p.0 {
            return prev.1 + (p.1 - prev.1) * (d - prev.0) / (p.0 - prev.0);
        }
        prev = *p;
    }
    prev.1
}

/// A runner back after a break: the last VDOT their history gave, and an estimate of today's.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Returning {
    /// The last known VDOT and the date of the run it came from.
    pub last_vdot: Vdot,
    pub last_vdot_date: NaiveDate,
    /// The date of the runner's last run, and the days since.
    pub last_run: NaiveDate,
    pub days_off: i64,
    /// The last known VDOT less what the break is likely to have cost.
    pub estimated_vdot: Vdot,
}

/// What a break of `today − last_run` days did to `last_vdot`.
#[must_use]
pub fn returning(last_vdot: Vdot, last_vdot_date: NaiveDate, last_run: NaiveDate, today: NaiveDate) -> Returning {
    let days_off = (today - last_run).num_days().max(0);
    let estimated = (last_vdot.value() * fitness_kept_after(days_off)).max(VDOT_MIN);
    Returning {
        last_vdot,
        last_vdot_date,
        last_run,
        days_off,
        estimated_vdot: Vdot::new(estimated).unwrap_or(last_vdot),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::science::load::fitness_state;
    use proptest::prelude::*;

    fn state(ctl: f64, atl: f64) -> FitnessState {
        FitnessState { ctl, atl, tsb: ctl - atl }
    }

    #[test]
    fn reads_form_bands() {
        assert_eq!(form_reading(state(0.5, 0.0)).band, FormBand::NoLoad);
        assert_eq!(form_reading(state(50.0, 20.0)).band, FormBand::VeryFresh);
        assert_eq!(form_reading(state(50.0, 40.0)).band, FormBand::Fresh);
        assert_eq!(form_reading(state(50.0, 50.0)).band, FormBand::Neutral);
        assert_eq!(form_reading(state(50.0, 60.0)).band, FormBand::Neutral);
        assert_eq!(form_reading(state(50.0, 70.0)).band, FormBand::Productive);
        assert_eq!(form_reading(state(50.0, 85.0)).band, FormBand::Overreaching);
        assert_eq!(form_reading(state(f64::NAN, 1.0)).band, FormBand::NoLoad);
        let r = form_reading(state(50.0, 70.0));
        assert!(!r.message.fr.is_empty() && !r.message.en.is_empty() && r.message.fr != r.message.en);
    }

    #[test]
    fn the_series_ends_where_the_state_does() {
        let daily = [0.0, 50.0, 80.0, 0.0, 60.0, f64::NAN, -3.0, 100.0];
        let series = fitness_series(&daily);
        assert_eq!(series.len(), daily.len());
        assert_eq!(series.last().copied(), Some(fitness_state(&daily)));
        assert!(fitness_series(&[]).is_empty());
    }

    #[test]
    fn detraining_follows_coyle() {
        assert_eq!(fitness_kept_after(0), 1.0);
        assert_eq!(fitness_kept_after(7), 1.0);
        assert!((fitness_kept_after(21) - 0.93).abs() < 1e-12);
        assert!((fitness_kept_after(56) - 0.84).abs() < 1e-12);
        assert!((fitness_kept_after(450) - 0.84).abs() < 1e-12);
        assert!((fitness_kept_after(14) - 0.965).abs() < 1e-12);
    }

    #[test]
    fn a_returning_runner_is_estimated_below_the_last_vdot() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let v = Vdot::new(45.0).unwrap();
        let r = returning(v, d(2025, 8, 20), d(2025, 9, 1), d(2026, 12, 1));
        assert_eq!(r.days_off, 456);
        assert!((r.estimated_vdot.value() - 37.8).abs() < 1e-9, "{:?}", r);
        assert_eq!(r.last_vdot_date, d(2025, 8, 20));
    }

    proptest! {
        #[test]
        fn fitness_kept_never_rises_with_time(a in 0i64..1000, b in 0i64..1000) {
            let (short, long) = (a.min(b), a.max(b));
            prop_assert!(fitness_kept_after(long) <= fitness_kept_after(short));
            prop_assert!((0.84..=1.0).contains(&fitness_kept_after(a)));
        }

        #[test]
        fn every_tsb_has_one_band(ctl in 0.0f64..300.0, atl in 0.0f64..300.0) {
            let r = form_reading(state(ctl, atl));
            prop_assert_eq!(r.band == FormBand::NoLoad, ctl < 1.0);
        }
    }
}
