//! Analysis of a runner's history: volumes, best recent effort → VDOT, race
//! predictions, load (ACWR, CTL/ATL/TSB), level and readiness.

use super::form::{Returning, fitness_series, returning};
use super::hr::{HrZones, MaxHr, VmaEstimate, estimate_vma, hr_zones_karvonen, hr_zones_percent_max, resolve_max_hr};
use super::load::{
    ActivityInput, FitnessState, HrContext, IntensityDistribution, WeekVolume, acwr, daily_loads,
    intensity_distribution, weekly_volumes,
};
use super::text::Bilingual;
use super::units::Vdot;
use super::vdot::{RacePrediction, race_equivalents, vdot_from_performance};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

/// What the runner told us about themselves. All optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunnerProfile {
    #[serde(default)]
    pub age: Option<u8>,
    #[serde(default)]
    pub sex: Option<Sex>,
    #[serde(default)]
    pub max_hr: Option<f64>,
    #[serde(default)]
    pub resting_hr: Option<f64>,
    /// Distance covered in a 6-minute VMA test, if the runner did one.
    #[serde(default)]
    pub six_minute_test_m: Option<f64>,
}

/// Runner level, ordered from least to most experienced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Beginner,
    Intermediate,
    Advanced,
}

impl Level {
    pub fn label_en(self) -> &'static str {
        match self {
            Level::Beginner => "beginner",
            Level::Intermediate => "intermediate",
            Level::Advanced => "advanced",
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            Level::Beginner => "débutant",
            Level::Intermediate => "intermédiaire",
            Level::Advanced => "confirmé",
        }
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "beginner" | "debutant" | "débutant" | "novice" => Ok(Level::Beginner),
            "intermediate" | "intermediaire" | "intermédiaire" => Ok(Level::Intermediate),
            "advanced" | "confirme" | "confirmé" | "expert" | "avance" | "avancé" => Ok(Level::Advanced),
            other => Err(format!("unknown level {other:?} (beginner, intermediate, advanced)")),
        }
    }
}

/// A level with the facts it was derived from and the reason in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelAssessment {
    pub level: Level,
    pub reason: Bilingual,
    pub weeks_observed: u32,
    pub runs_per_week: f64,
    pub weekly_km: f64,
    pub longest_run_km: f64,
    pub vdot: Option<f64>,
}

fn fr_num(x: f64, decimals: usize) -> String {
    crate::i18n::number(crate::i18n::Lang::Fr, x, decimals)
}

fn en_num(x: f64, decimals: usize) -> String {
    crate::i18n::number(crate::i18n::Lang::En, x, decimals)
}

/// Level from recent habits. Volume and regularity matter more than speed: a
/// fast runner with little mileage is not ready for advanced loads.
///
/// * advanced: ≥ 4 runs/week and ≥ 45 km/week, or VDOT ≥ 55 with ≥ 35 km/week
/// * beginner: < 2 runs/week, or < 15 km/week, or a longest run < 8 km
///   (unless VDOT ≥ 45 shows a fit runner who just runs short)
/// * otherwise intermediate
pub fn assess_level(
    weeks_observed: u32,
    runs_per_week: f64,
    weekly_km: f64,
    longest_run_km: f64,
    vdot: Option<f64>,
) -> LevelAssessment {
    let fast = |t: f64| vdot.is_some_and(|v| v >= t);
    let level = if (runs_per_week >= 4.0 && weekly_km >= 45.0) || (fast(55.0) && weekly_km >= 35.0) {
        Level::Advanced
    } else if runs_per_week < 2.0 || weekly_km < 15.0 || (longest_run_km < 8.0 && !fast(45.0)) {
        Level::Beginner
    } else {
        Level::Intermediate
    };
    let vdot_en = vdot.map_or("no recent race-like effort to estimate VDOT".to_string(), |v| format!("VDOT {v:.1}"));
    let vdot_fr = vdot.map_or("pas d'effort récent assez soutenu pour estimer la VDOT".to_string(), |v| {
        format!("VDOT {}", fr_num(v, 1))
    });
    let en = format!(
        "Over the last {weeks_observed} weeks: {} runs/week, {} km/week, longest run {} km, {vdot_en} → {}.",
        en_num(runs_per_week, 1),
        en_num(weekly_km, 0),
        en_num(longest_run_km, 1),
        level.label_en()
    );
    let fr = format!(
        "Sur les {weeks_observed} dernières semaines : {} sorties/semaine, {} km/semaine, sortie la plus longue {} km, {vdot_fr} → niveau {}.",
        fr_num(runs_per_week, 1),
        fr_num(weekly_km, 0),
        fr_num(longest_run_km, 1),
        level.label_fr()
    );
    LevelAssessment {
        level,
        reason: Bilingual { fr, en },
        weeks_observed,
        runs_per_week,
        weekly_km,
        longest_run_km,
        vdot,
    }
}

/// Machine-readable readiness, for the chat layer to branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessCode {
    InsufficientData,
    HighRisk,
    Fatigued,
    Caution,
    LowLoad,
    Fresh,
    Ready,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Readiness {
    pub code: ReadinessCode,
    pub message: Bilingual,
}

/// Readiness from ACWR (Gabbett: 0.8–1.3 lower risk, ≥ 1.5 high risk) and TSB.
pub fn readiness(acwr: Option<f64>, tsb: f64, runs_last_28d: u32) -> Readiness {
    use ReadinessCode::*;
    let (code, fr, en) = match acwr {
        None => (
            InsufficientData,
            "Pas assez de données récentes pour juger de ta charge : reprends en douceur, footing facile.".to_string(),
            "Not enough recent data to judge your load: ease in with easy running.".to_string(),
        ),
        Some(_) if runs_last_28d < 3 => (
            InsufficientData,
            "Très peu de sorties ces 4 dernières semaines : reprends progressivement, en endurance.".to_string(),
            "Very few runs in the last 4 weeks: build back gradually with easy running.".to_string(),
        ),
        Some(r) if r >= 1.5 => (
            HighRisk,
            format!(
                "Ta charge des 7 derniers jours est {} fois ta moyenne (ACWR ≥ 1,5, risque de blessure élevé) : quelques jours faciles ou de repos.",
                fr_num(r, 2)
            ),
            format!(
                "Your last-7-day load is {r:.2}× your average (ACWR ≥ 1.5, high injury risk): take a few easy or rest days."
            ),
        ),
        Some(_) if tsb < -30.0 => (
            Fatigued,
            format!(
                "Fatigue accumulée importante (forme TSB {}) : allège, pas de séance dure avant d'avoir récupéré.",
                fr_num(tsb, 0)
            ),
            format!(
                "Heavy accumulated fatigue (form TSB {tsb:.0}): back off, no hard session until you have recovered."
            ),
        ),
        Some(r) if r > 1.3 => (
            Caution,
            format!(
                "Charge en hausse rapide (ACWR {}) : garde les prochaines séances faciles, n'augmente pas encore.",
                fr_num(r, 2)
            ),
            format!("Load rising fast (ACWR {r:.2}): keep the next sessions easy and hold the volume."),
        ),
        Some(r) if r < 0.8 => (
            LowLoad,
            format!(
                "Ta charge récente a baissé (ACWR {}) : remonte progressivement, pas plus de +10 % par semaine.",
                fr_num(r, 2)
            ),
            format!("Your recent load has dropped (ACWR {r:.2}): build back gradually, no more than +10 % a week."),
        ),
        Some(r) if tsb > 10.0 => (
            Fresh,
            format!(
                "Tu es frais (TSB +{}, ACWR {}) : bon moment pour une séance de qualité ou une course.",
                fr_num(tsb, 0),
                fr_num(r, 2)
            ),
            format!("You are fresh (TSB +{tsb:.0}, ACWR {r:.2}): a good time for a quality session or a race."),
        ),
        Some(r) => (
            Ready,
            format!("Charge équilibrée (ACWR {}, zone 0,8–1,3) : entraîne-toi comme prévu.", fr_num(r, 2)),
            format!("Balanced load (ACWR {r:.2}, in the 0.8–1.3 zone): train as planned."),
        ),
    };
    Readiness { code, message: Bilingual { fr, en } }
}

/// The performance a VDOT was derived from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct VdotEstimate {
    pub vdot: Vdot,
    pub date: NaiveDate,
    pub distance_m: f64,
    pub time_s: f64,
    /// Average HR below 85 % of max: probably not a full effort, so the VDOT
    /// is likely an underestimate.
    pub submaximal: bool,
}

/// Everything the coach needs to know about a runner's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryAnalysis {
    pub today: NaiveDate,
    pub activity_count: u32,
    pub run_count: u32,
    pub total_run_km: f64,
    pub avg_run_km: f64,
    pub max_run_km: f64,
    pub avg_run_min: f64,
    pub max_run_min: f64,
    pub avg_hr: Option<f64>,
    pub max_hr_observed: Option<f64>,
    pub max_hr: Option<MaxHr>,
    pub hr_zones: Option<HrZones>,
    pub vdot: Option<VdotEstimate>,
    pub predictions: Vec<RacePrediction>,
    pub vma: Option<VmaEstimate>,
    pub load_7d: f64,
    pub load_28d: f64,
    pub acwr: Option<f64>,
    pub fitness: FitnessState,
    /// Fitness, fatigue and form at the end of each of the last 84 days (oldest first; fewer
    /// when the history is shorter).
    pub form_days: Vec<(NaiveDate, FitnessState)>,
    /// When no run of the recent window rates fitness but an older one does: the last known
    /// VDOT and what the break has likely cost.
    pub returning: Option<Returning>,
    /// Last 12 ISO weeks, oldest first.
    pub weekly: Vec<WeekVolume>,
    /// Average running minutes / km per week over the last 4 weeks (or fewer
    /// when the history is shorter).
    pub recent_weekly_minutes: f64,
    pub recent_weekly_km: f64,
    pub intensity: Option<IntensityDistribution>,
    pub level: LevelAssessment,
    pub readiness: Readiness,
}

/// Window for level and VDOT: 12 weeks is long enough to smooth a bad week and
/// short enough to reflect current fitness.
const RECENT_DAYS: i64 = 84;
/// A run must be at least this long to rate fitness (short runs overstate VDOT
/// through anaerobic contribution, and are seldom race-like).
const MIN_VDOT_RUN_M: f64 = 3_000.0;
/// CTL needs a long lead-in, but older data hardly changes today's value (weight e^(-730/42)).
const MAX_PMC_DAYS: i64 = 730;

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = xs.fold((0.0, 0u32), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / f64::from(n))
}

/// The best VDOT of the 12 weeks that ended with the runner's last rated run, read as of `today`
/// (see [`returning`]). `None` when no run ever rated fitness.
fn last_known_vdot(runs: &[&ActivityInput], today: NaiveDate) -> Option<Returning> {
    let rated = |a: &&&ActivityInput| a.distance_m >= MIN_VDOT_RUN_M;
    let last_rated = runs.iter().filter(rated).map(|a| a.date()).max()?;
    let window_start = last_rated - Duration::days(RECENT_DAYS - 1);
    let (vdot, date) = runs
        .iter()
        .filter(rated)
        .filter(|a| a.date() >= window_start)
        .filter_map(|a| vdot_from_performance(a.distance_m, a.run_time_s()).ok().map(|v| (v, a.date())))
        .max_by(|a, b| a.0.value().total_cmp(&b.0.value()))?;
    let last_run = runs.iter().map(|a| a.date()).max().unwrap_or(last_rated);
    Some(returning(vdot, date, last_run, today))
}

/// Analyses a history (any order; activities after `today` are ignored).
pub fn analyze(history: &[ActivityInput], profile: &RunnerProfile, today: NaiveDate) -> HistoryAnalysis {
    let past: Vec<&ActivityInput> = history.iter().filter(|a| a.date() <= today).collect();
    let runs: Vec<&ActivityInput> = past.iter().copied().filter(|a| a.kind.is_running()).collect();
    let recent_start = today - Duration::days(RECENT_DAYS - 1);
    let recent: Vec<&ActivityInput> = runs.iter().copied().filter(|a| a.date() >= recent_start).collect();

    let max_hr_observed = past.iter().filter_map(|a| a.max_hr.or(a.avg_hr)).filter(|x| x.is_finite()).reduce(f64::max);
    let max_hr = resolve_max_hr(profile.max_hr, max_hr_observed, profile.age);
    let hr_zones = max_hr.and_then(|m| match profile.resting_hr {
        Some(r) => hr_zones_karvonen(m.bpm, r).or_else(|_| hr_zones_percent_max(m.bpm)).ok(),
        None => hr_zones_percent_max(m.bpm).ok(),
    });
    let ctx = HrContext {
        resting_hr: profile.resting_hr,
        max_hr: max_hr.map(|m| m.bpm),
        female: profile.sex == Some(Sex::Female),
    };

    // Best recent effort: highest VDOT among recent runs ≥ 3 km. The hardest
    // run gives the highest VDOT; easy runs only ever underestimate it.
    let vdot = recent
        .iter()
        .filter(|a| a.distance_m >= MIN_VDOT_RUN_M)
        .filter_map(|a| {
            let t = a.run_time_s();
            vdot_from_performance(a.distance_m, t).ok().map(|v| VdotEstimate {
                vdot: v,
                date: a.date(),
                distance_m: a.distance_m,
                time_s: t,
                submaximal: match (a.avg_hr, ctx.max_hr) {
                    (Some(h), Some(m)) => h < 0.85 * m,
                    _ => false,
                },
            })
        })
        .max_by(|a, b| a.vdot.value().total_cmp(&b.vdot.value()));
    let predictions = vdot.map(|v| race_equivalents(v.vdot)).unwrap_or_default();
    let best_1000 = runs.iter().filter_map(|a| a.fastest_1000_s).filter(|s| *s > 0.0).reduce(f64::min);
    let vma = estimate_vma(profile.six_minute_test_m, best_1000, vdot.map(|v| v.vdot));

    // Loads.
    let first_day = past.iter().map(|a| a.date()).min().unwrap_or(today);
    let pmc_start = first_day.max(today - Duration::days(MAX_PMC_DAYS));
    let daily = daily_loads(history, &ctx, pmc_start, today);
    let sum_last = |n: usize| daily.iter().rev().take(n).sum::<f64>();
    let (load_7d, load_28d) = (sum_last(7), sum_last(28));
    let acwr_v = acwr(load_7d, load_28d);
    let series = fitness_series(&daily);
    let fitness = series.last().copied().unwrap_or_default();
    let form_days: Vec<(NaiveDate, FitnessState)> = series
        .iter()
        .enumerate()
        .map(|(i, f)| (pmc_start + Duration::days(i as i64), *f))
        .filter(|(d, _)| *d >= recent_start)
        .collect();
    let returning = if vdot.is_some() { None } else { last_known_vdot(&runs, today) };

    let weekly = weekly_volumes(history, &ctx, today, 12);
    // Recent weekly averages over the last 28 days, or over the days since the
    // first run if the history is shorter (so a new watch does not read as a drop).
    let first_run = runs.iter().map(|a| a.date()).min();
    let days_observed = first_run.map_or(28, |f| ((today - f).num_days() + 1).clamp(7, 28));
    let last_28: Vec<&&ActivityInput> =
        runs.iter().filter(|a| a.date() > today - Duration::days(days_observed)).collect();
    let per_week = 7.0 / days_observed as f64;
    let recent_weekly_minutes = last_28.iter().map(|a| a.run_time_s() / 60.0).sum::<f64>() * per_week;
    let recent_weekly_km = last_28.iter().map(|a| a.distance_m / 1000.0).sum::<f64>() * per_week;
    let runs_28 = last_28.len() as u32;

    // Level over the last 12 weeks (or since the first run).
    let weeks_observed = first_run.map_or(12, |f| (((today - f).num_days() + 1 + 6) / 7).clamp(1, 12)) as u32;
    let recent_for_level: Vec<&&ActivityInput> =
        recent.iter().filter(|a| a.date() > today - Duration::weeks(i64::from(weeks_observed))).collect();
    let wk = f64::from(weeks_observed);
    let level = assess_level(
        weeks_observed,
        recent_for_level.len() as f64 / wk,
        recent_for_level.iter().map(|a| a.distance_m / 1000.0).sum::<f64>() / wk,
        recent.iter().map(|a| a.distance_m / 1000.0).fold(0.0, f64::max),
        vdot.map(|v| v.vdot.value()),
    );

    let intensity = intensity_distribution(&recent.iter().map(|a| (*a).clone()).collect::<Vec<_>>(), hr_zones.as_ref());

    HistoryAnalysis {
        today,
        activity_count: past.len() as u32,
        run_count: runs.len() as u32,
        total_run_km: runs.iter().map(|a| a.distance_m / 1000.0).sum(),
        avg_run_km: mean(runs.iter().map(|a| a.distance_m / 1000.0)).unwrap_or(0.0),
        max_run_km: runs.iter().map(|a| a.distance_m / 1000.0).fold(0.0, f64::max),
        avg_run_min: mean(runs.iter().map(|a| a.run_time_s() / 60.0)).unwrap_or(0.0),
        max_run_min: runs.iter().map(|a| a.run_time_s() / 60.0).fold(0.0, f64::max),
        avg_hr: mean(runs.iter().filter_map(|a| a.avg_hr)),
        max_hr_observed,
        max_hr,
        hr_zones,
        vdot,
        predictions,
        vma,
        load_7d,
        load_28d,
        acwr: acwr_v,
        fitness,
        form_days,
        returning,
        weekly,
        recent_weekly_minutes,
        recent_weekly_km,
        intensity,
        readiness: readiness(acwr_v, fitness.tsb, runs_28),
        level,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::science::load::ActivityKind;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn run(date: NaiveDate, km: f64, min: f64, hr: Option<f64>) -> ActivityInput {
        ActivityInput {
            start: Utc.from_utc_datetime(&date.and_hms_opt(7, 0, 0).unwrap()),
            kind: ActivityKind::Running,
            duration_s: min * 60.0,
            moving_s: Some(min * 60.0),
            distance_m: km * 1000.0,
            avg_hr: hr,
            max_hr: hr.map(|h| h + 15.0),
            device_load: None,
            hr_zone_s: None,
            fastest_1000_s: None,
            elevation_gain_m: None,
        }
    }

    /// 12 weeks of 4 runs/week: 3 easy 10 km in 55 min and a 16 km long run,
    /// plus a 5K race in 19:57 two weeks ago.
    fn regular_history(today: NaiveDate) -> Vec<ActivityInput> {
        let mut v = Vec::new();
        for w in 0..12 {
            let base = today - Duration::weeks(w) - Duration::days(6);
            for k in [0, 2, 4] {
                v.push(run(base + Duration::days(k), 10.0, 55.0, Some(140.0)));
            }
            v.push(run(base + Duration::days(6), 16.0, 90.0, Some(145.0)));
        }
        v.push(run(today - Duration::days(13), 5.0, 19.0 + 57.0 / 60.0, Some(178.0)));
        v
    }

    #[test]
    fn a_returning_runner_keeps_the_last_known_vdot_with_its_date() {
        let today = d(2026, 12, 1);
        let last = d(2025, 9, 1);
        let h = regular_history(last);
        let a = analyze(&h, &RunnerProfile::default(), today);
        assert!(a.vdot.is_none());
        let r = a.returning.expect("an older rated run");
        assert!((r.last_vdot.value() - 50.0).abs() < 0.2, "{r:?}");
        assert_eq!(r.last_vdot_date, last - Duration::days(13));
        assert_eq!(r.last_run, last);
        assert_eq!(r.days_off, (today - last).num_days());
        assert!((r.estimated_vdot.value() - r.last_vdot.value() * 0.84).abs() < 1e-9);
        // Fitness has long decayed: the last 84 days of form are all near zero.
        assert_eq!(a.form_days.len(), 84);
        assert_eq!(a.form_days.last().map(|x| x.0), Some(today));
        assert!(a.fitness.ctl < 1.0, "{:?}", a.fitness);
        // A recent runner is not "returning", and their form series covers the window.
        let b = analyze(&regular_history(today), &RunnerProfile::default(), today);
        assert!(b.returning.is_none() && b.vdot.is_some());
        assert_eq!(b.form_days.first().map(|x| x.0), Some(today - Duration::days(83)));
        assert_eq!(b.form_days.last().map(|x| x.1), Some(b.fitness));
    }

    #[test]
    fn analyses_regular_runner() {
        let today = d(2025, 6, 1);
        let h = regular_history(today);
        let a = analyze(&h, &RunnerProfile { age: Some(35), ..Default::default() }, today);
        assert_eq!(a.run_count, 49);
        assert_eq!(a.max_run_km, 16.0);
        let v = a.vdot.unwrap();
        assert!((v.vdot.value() - 50.0).abs() < 0.2, "{:?}", v);
        assert_eq!(v.distance_m, 5000.0);
        assert_eq!(a.predictions.len(), 4);
        assert_eq!(a.level.level, Level::Advanced, "{}", a.level.reason.en);
        assert!(a.level.reason.en.contains("runs/week") && a.level.reason.fr.contains("sorties/semaine"));
        assert_eq!(a.weekly.len(), 12);
        // 46 km/week of steady running, plus one race in the window.
        assert!((a.recent_weekly_km - 47.25).abs() < 0.01, "{}", a.recent_weekly_km);
        assert!(a.acwr.unwrap() > 0.8 && a.acwr.unwrap() < 1.3);
        assert_eq!(a.readiness.code, ReadinessCode::Ready);
        assert!(a.fitness.ctl > 0.0);
        assert_eq!(a.max_hr.unwrap().source, MaxHrSource::Observed);
        assert!(a.hr_zones.is_some() && a.intensity.is_some() && a.vma.is_some());
    }

    use crate::science::hr::MaxHrSource;

    #[test]
    fn spike_is_high_risk_and_break_is_low_load() {
        let today = d(2025, 6, 1);
        let mut h: Vec<ActivityInput> =
            (7..28).step_by(3).map(|k| run(today - Duration::days(k), 5.0, 30.0, None)).collect();
        for k in 0..6 {
            h.push(run(today - Duration::days(k), 15.0, 90.0, None));
        }
        let a = analyze(&h, &RunnerProfile::default(), today);
        assert_eq!(a.readiness.code, ReadinessCode::HighRisk, "{:?}", a.acwr);
        assert!(a.readiness.message.fr.contains("ACWR"));

        let h: Vec<ActivityInput> = (8..28).map(|k| run(today - Duration::days(k), 8.0, 45.0, None)).collect();
        let a = analyze(&h, &RunnerProfile::default(), today);
        assert_eq!(a.readiness.code, ReadinessCode::LowLoad, "{:?}", a.acwr);
    }

    #[test]
    fn empty_history() {
        let a = analyze(&[], &RunnerProfile::default(), d(2025, 1, 1));
        assert_eq!(a.run_count, 0);
        assert!(a.vdot.is_none() && a.acwr.is_none());
        assert_eq!(a.level.level, Level::Beginner);
        assert_eq!(a.readiness.code, ReadinessCode::InsufficientData);
        assert_eq!(a.recent_weekly_minutes, 0.0);
    }

    #[test]
    fn vdot_ignores_old_short_and_future_runs() {
        let today = d(2025, 6, 1);
        let h = vec![
            run(today - Duration::days(120), 10.0, 36.0, None), // fast but too old
            run(today - Duration::days(3), 2.0, 6.0, None),     // fast but too short
            run(today + Duration::days(3), 10.0, 33.0, None),   // in the future
            run(today - Duration::days(5), 10.0, 50.0, None),
        ];
        let a = analyze(&h, &RunnerProfile::default(), today);
        let v = a.vdot.unwrap();
        assert_eq!(v.distance_m, 10_000.0);
        assert_eq!(v.time_s, 3000.0);
        assert_eq!(a.run_count, 3);
    }

    #[test]
    fn level_rules() {
        assert_eq!(assess_level(12, 1.5, 12.0, 8.0, None).level, Level::Beginner);
        assert_eq!(assess_level(12, 3.0, 25.0, 12.0, Some(42.0)).level, Level::Intermediate);
        assert_eq!(assess_level(12, 5.0, 55.0, 20.0, Some(48.0)).level, Level::Advanced);
        assert_eq!(assess_level(12, 3.0, 38.0, 15.0, Some(58.0)).level, Level::Advanced);
        // Short runs only, but clearly fit: not a beginner.
        assert_eq!(assess_level(12, 3.0, 20.0, 7.0, Some(50.0)).level, Level::Intermediate);
        let r = assess_level(8, 3.0, 25.0, 12.0, None).reason;
        assert!(r.en.contains("8 weeks") && r.fr.contains("8 dernières semaines"), "{r:?}");
        assert!("Confirmé".parse::<Level>().unwrap() == Level::Advanced);
    }

    proptest! {
        #[test]
        fn analysis_is_total(runs in proptest::collection::vec((0i64..200, 0.5f64..45.0, 3.0f64..300.0, proptest::option::of(90.0f64..200.0)), 0..60)) {
            let today = d(2025, 6, 1);
            let h: Vec<ActivityInput> = runs.iter().map(|(k, km, min, hr)| run(today - Duration::days(*k), *km, *min, *hr)).collect();
            let a = analyze(&h, &RunnerProfile::default(), today);
            prop_assert!(a.recent_weekly_minutes.is_finite() && a.recent_weekly_minutes >= 0.0);
            prop_assert!(a.fitness.ctl.is_finite() && a.fitness.tsb.is_finite());
            if let Some(r) = a.acwr { prop_assert!(r.is_finite() && r >= 0.0); }
            if let Some(v) = a.vdot { prop_assert!((15.0..=90.0).contains(&v.vdot.value())); }
        }
    }
}
