//! A race target time against the runner's current fitness: is it within reach, realistic by race
//! day, or ambitious, and which time the race-pace sessions use.
//!
//! Daniels (Daniels' Running Formula, "VDOT" chapter) raises a runner's training VDOT by about one
//! point after 4–6 weeks of consistent training when there is no race to measure it. We take the
//! quick end, one point per 4 weeks, as the most a plan can count on.

use serde::{Deserialize, Serialize};

use super::{Goal, PlanError};
use crate::i18n::{self, Lang};
use crate::science::{Bilingual, Vdot, format_duration, race_time_s, vdot_from_performance};

/// VDOT points a plan may count on gaining per week of consistent training.
pub const VDOT_GAIN_PER_WEEK: f64 = 0.25;

/// What the plan thinks of the target.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum TargetVerdict {
    /// The current VDOT already predicts the target or better.
    WithinReach,
    /// Reachable by race day at [`VDOT_GAIN_PER_WEEK`].
    Realistic,
    /// Needs more weeks than the plan has; race-pace sessions use the time reachable by race day.
    Ambitious { weeks_needed: u32 },
    /// No current VDOT (no history, no recent race): nothing to compare with.
    Unknown,
}

/// A race target checked against the current VDOT.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetCheck {
    pub target_time_s: f64,
    /// The VDOT the target time implies.
    pub target_vdot: f64,
    pub current_vdot: Option<f64>,
    /// What the current VDOT predicts for the race today.
    pub predicted_time_s: Option<f64>,
    #[serde(flatten)]
    pub verdict: TargetVerdict,
    /// The time race-pace sessions and race day are paced for: the target, or for an ambitious
    /// target the time reachable by race day. `None` without a current VDOT (by effort).
    pub pace_time_s: Option<f64>,
}

/// Checks `target_time_s` for `goal` (a race) against `current` over a plan of `weeks`.
pub fn check_target(
    goal: Goal,
    target_time_s: f64,
    current: Option<Vdot>,
    weeks: usize,
) -> Result<TargetCheck, PlanError> {
    let distance = goal.race_distance().ok_or(PlanError::TargetWithoutRace { goal })?;
    let metres = distance.metres();
    let target_vdot = vdot_from_performance(metres, target_time_s)
        .map_err(|_| PlanError::ImplausibleTarget { goal, time_s: target_time_s })?
        .value();
    let Some(current) = current else {
        return Ok(TargetCheck {
            target_time_s,
            target_vdot: round1(target_vdot),
            current_vdot: None,
            predicted_time_s: None,
            verdict: TargetVerdict::Unknown,
            pace_time_s: None,
        });
    };
    let predicted = race_time_s(current, metres).ok().map(f64::round);
    let gap = target_vdot - current.value();
    let reachable = current.value() + VDOT_GAIN_PER_WEEK * weeks as f64;
    let (verdict, pace_time_s) = if gap <= 0.0 {
        (TargetVerdict::WithinReach, target_time_s)
    } else if target_vdot <= reachable {
        (TargetVerdict::Realistic, target_time_s)
    } else {
        let weeks_needed = (gap / VDOT_GAIN_PER_WEEK).ceil() as u32;
        let reachable_time =
            Vdot::new(reachable).ok().and_then(|v| race_time_s(v, metres).ok()).map_or(target_time_s, f64::round);
        (TargetVerdict::Ambitious { weeks_needed }, reachable_time)
    };
    Ok(TargetCheck {
        target_time_s,
        target_vdot: round1(target_vdot),
        current_vdot: Some(round1(current.value())),
        predicted_time_s: predicted,
        verdict,
        pace_time_s: Some(pace_time_s),
    })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl TargetCheck {
    /// The plain verdict for the plan's header.
    #[must_use]
    pub fn explain(&self) -> Bilingual {
        Bilingual::new(self.text(Lang::Fr), self.text(Lang::En))
    }

    fn text(&self, lang: Lang) -> String {
        let target = format_duration(self.target_time_s);
        let vdot = |v: f64| i18n::number(lang, v, 1);
        let predicted = self.predicted_time_s.map(format_duration).unwrap_or_default();
        let current = self.current_vdot.map(vdot).unwrap_or_default();
        match (self.verdict, lang) {
            (TargetVerdict::WithinReach, Lang::Fr) => format!(
                "🎯 Objectif {target} : à ta portée dès maintenant (ta VDOT de {current} prédit {predicted}). Les séances à allure course visent {target}."
            ),
            (TargetVerdict::WithinReach, Lang::En) => format!(
                "🎯 Target {target}: within reach already (your VDOT of {current} predicts {predicted}). Race-pace sessions aim at {target}."
            ),
            (TargetVerdict::Realistic, Lang::Fr) => format!(
                "🎯 Objectif {target} : réaliste d'ici la course. Ta VDOT de {current} prédit {predicted} aujourd'hui ; il faut {} (environ un point par mois d'entraînement régulier, d'après Daniels). Les séances à allure course visent {target}.",
                vdot(self.target_vdot)
            ),
            (TargetVerdict::Realistic, Lang::En) => format!(
                "🎯 Target {target}: realistic by race day. Your VDOT of {current} predicts {predicted} today; it takes {} (about one point per month of steady training, after Daniels). Race-pace sessions aim at {target}.",
                vdot(self.target_vdot)
            ),
            (TargetVerdict::Ambitious { weeks_needed }, Lang::Fr) => format!(
                "🎯 Objectif {target} : trop ambitieux pour ce plan. Il demande une VDOT de {} ; la tienne est {current} (prédit {predicted}), et elle gagne environ un point par mois : compte {weeks_needed} semaines. Les séances à allure course visent {}, le temps réaliste le jour de la course ; un test chrono en cours de plan dira si on peut viser plus vite.",
                vdot(self.target_vdot),
                self.pace_time_s.map(format_duration).unwrap_or_default()
            ),
            (TargetVerdict::Ambitious { weeks_needed }, Lang::En) => format!(
                "🎯 Target {target}: too ambitious for this plan. It takes a VDOT of {}; yours is {current} (predicts {predicted}), and it rises about one point a month: allow {weeks_needed} weeks. Race-pace sessions aim at {}, the realistic time on race day; a time trial during the plan will tell whether to aim faster.",
                vdot(self.target_vdot),
                self.pace_time_s.map(format_duration).unwrap_or_default()
            ),
            (TargetVerdict::Unknown, Lang::Fr) => format!(
                "🎯 Objectif {target} (VDOT {}) : sans course récente ni historique, je ne peux pas dire s'il est réaliste. Les séances à allure course se font aux sensations jusqu'à ce que je voie tes sorties.",
                vdot(self.target_vdot)
            ),
            (TargetVerdict::Unknown, Lang::En) => format!(
                "🎯 Target {target} (VDOT {}): without a recent race or history I cannot tell whether it is realistic. Race-pace sessions go by effort until I see your runs.",
                vdot(self.target_vdot)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: f64) -> Option<Vdot> {
        Vdot::new(x).ok()
    }

    #[test]
    fn verdicts_follow_the_vdot_gap_and_the_weeks() {
        // VDOT 45 predicts a 10K in about 46:0x.
        let now = check_target(Goal::TenK, 47.0 * 60.0, v(45.0), 8).unwrap();
        assert_eq!(now.verdict, TargetVerdict::WithinReach);
        assert_eq!(now.pace_time_s, Some(47.0 * 60.0));
        // 44:00 needs ~47: two points, 8 weeks at a point a month.
        let realistic = check_target(Goal::TenK, 44.0 * 60.0, v(45.0), 10).unwrap();
        assert_eq!(realistic.verdict, TargetVerdict::Realistic, "{realistic:?}");
        assert_eq!(realistic.pace_time_s, Some(44.0 * 60.0));
        let ambitious = check_target(Goal::TenK, 40.0 * 60.0, v(45.0), 8).unwrap();
        let TargetVerdict::Ambitious { weeks_needed } = ambitious.verdict else { panic!("{ambitious:?}") };
        assert!(weeks_needed > 8, "{weeks_needed}");
        let pace = ambitious.pace_time_s.unwrap();
        assert!(pace > 40.0 * 60.0 && pace < ambitious.predicted_time_s.unwrap(), "{ambitious:?}");
        let unknown = check_target(Goal::Marathon, 4.0 * 3600.0, None, 16).unwrap();
        assert_eq!((unknown.verdict, unknown.pace_time_s), (TargetVerdict::Unknown, None));
    }

    #[test]
    fn absurd_targets_and_goals_without_a_race_are_refused() {
        assert!(matches!(check_target(Goal::Marathon, 3600.0, v(45.0), 16), Err(PlanError::ImplausibleTarget { .. })));
        assert!(matches!(check_target(Goal::TenK, -5.0, None, 8), Err(PlanError::ImplausibleTarget { .. })));
        assert!(matches!(check_target(Goal::Fitness, 3000.0, None, 8), Err(PlanError::TargetWithoutRace { .. })));
    }

    #[test]
    fn the_explanation_states_the_numbers_in_both_languages() {
        let c = check_target(Goal::TenK, 40.0 * 60.0, v(45.0), 8).unwrap();
        let text = c.explain();
        assert!(text.en.contains("40:00") && text.en.contains("45.0"), "{}", text.en);
        assert!(text.fr.contains("40:00") && text.fr.contains("45,0"), "{}", text.fr);
    }
}
