//! A session's structure, step by step, as a watch runs it: warm-up, work and recovery
//! (repeated), cool-down, each with a length (time or distance) and a target (a pace band or
//! a heart-rate zone). The builders in `workouts.rs` write it next to the text, from the same
//! numbers, so the watch and the chat never disagree.

use super::{Workout, WorkoutKind};
use crate::i18n::Lang;
use crate::science::PaceRange;
use serde::{Deserialize, Serialize};

/// What a step is for; a watch shows each differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intensity {
    WarmUp,
    Active,
    Recovery,
    CoolDown,
}

/// How long a step lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Length {
    Seconds(u32),
    Metres(u32),
}

/// What the watch holds the runner to during a step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// By feel (recoveries, strides, hills).
    Open,
    Pace(PaceRange),
    /// Heart-rate zone 1–5 (when the paces are unknown).
    HrZone(u8),
}

/// The name a step shows on the watch, translated when it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepName {
    WarmUp,
    CoolDown,
    Jog,
    Easy,
    Long,
    Recovery,
    Stride,
    Tempo,
    Threshold,
    Interval,
    Repetition,
    Uphill,
    Fast,
    RacePace,
    MarathonPace,
    Race,
}

impl StepName {
    #[must_use]
    pub fn get(self, lang: Lang) -> &'static str {
        let (fr, en) = match self {
            StepName::WarmUp => ("Échauffement", "Warm-up"),
            StepName::CoolDown => ("Retour au calme", "Cool-down"),
            StepName::Jog => ("Trot", "Jog"),
            StepName::Easy => ("Endurance", "Easy"),
            StepName::Long => ("Sortie longue", "Long run"),
            StepName::Recovery => ("Récupération", "Recovery"),
            StepName::Stride => ("Ligne droite", "Stride"),
            StepName::Tempo => ("Tempo", "Tempo"),
            StepName::Threshold => ("Seuil", "Threshold"),
            StepName::Interval => ("Allure I", "Interval"),
            StepName::Repetition => ("Allure R", "Repetition"),
            StepName::Uphill => ("Côte", "Uphill"),
            StepName::Fast => ("Vite", "Fast"),
            StepName::RacePace => ("Allure course", "Race pace"),
            StepName::MarathonPace => ("Allure marathon", "Marathon pace"),
            StepName::Race => ("Course", "Race"),
        };
        lang.pick(fr, en)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub name: StepName,
    pub intensity: Intensity,
    pub length: Length,
    pub target: Target,
}

impl Step {
    #[must_use]
    pub fn new(name: StepName, intensity: Intensity, length: Length, target: Target) -> Step {
        Step { name, intensity, length, target }
    }

    /// A step of whole seconds (a fraction of a minute rounds to the second).
    #[must_use]
    pub fn minutes(name: StepName, intensity: Intensity, minutes: f64, target: Target) -> Step {
        Step::new(name, intensity, Length::Seconds((minutes * 60.0).round().max(1.0) as u32), target)
    }

    /// Seconds this step should take (a distance at its target's middle pace, or at
    /// `fallback_s_per_km` when it has none).
    #[must_use]
    pub fn seconds(&self, fallback_s_per_km: f64) -> f64 {
        match self.length {
            Length::Seconds(s) => f64::from(s),
            Length::Metres(m) => {
                let pace = match self.target {
                    Target::Pace(p) => p.mid().s_per_km(),
                    _ => fallback_s_per_km,
                };
                f64::from(m) / 1000.0 * pace
            }
        }
    }
}

/// One step, or a few steps run `times` times in a row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    Step(Step),
    Repeat { times: u32, steps: Vec<Step> },
}

impl Block {
    #[must_use]
    pub fn seconds(&self, fallback_s_per_km: f64) -> f64 {
        match self {
            Block::Step(s) => s.seconds(fallback_s_per_km),
            Block::Repeat { times, steps } => {
                f64::from(*times) * steps.iter().map(|s| s.seconds(fallback_s_per_km)).sum::<f64>()
            }
        }
    }
}

/// Minutes the blocks should take.
#[must_use]
pub fn total_minutes(blocks: &[Block], fallback_s_per_km: f64) -> f64 {
    blocks.iter().map(|b| b.seconds(fallback_s_per_km)).sum::<f64>() / 60.0
}

/// The step name of a steady run of `kind`.
#[must_use]
pub fn steady_name(kind: WorkoutKind) -> StepName {
    match kind {
        WorkoutKind::Long => StepName::Long,
        WorkoutKind::Recovery => StepName::Recovery,
        WorkoutKind::Tempo => StepName::Tempo,
        WorkoutKind::Threshold => StepName::Threshold,
        WorkoutKind::Intervals => StepName::Interval,
        WorkoutKind::Hills => StepName::Uphill,
        WorkoutKind::Fartlek => StepName::Fast,
        WorkoutKind::RacePace => StepName::RacePace,
        WorkoutKind::Race => StepName::Race,
        WorkoutKind::Easy | WorkoutKind::Strides | WorkoutKind::Rest | WorkoutKind::Cross => StepName::Easy,
    }
}

/// The target of a step: the pace band when there is one, else the heart-rate zone, else by feel.
#[must_use]
pub fn target(pace: Option<PaceRange>, zone: Option<u8>) -> Target {
    match (pace, zone) {
        (Some(p), _) => Target::Pace(p),
        (None, Some(z)) => Target::HrZone(z),
        (None, None) => Target::Open,
    }
}

impl Workout {
    /// The session step by step. A stored plan made before sessions had steps, or a session
    /// whose length was changed without them (more than 15 % or 3 minutes apart), is one steady step of
    /// its whole length at its own target. Rest and cross-training have no steps.
    #[must_use]
    pub fn blocks(&self) -> Vec<Block> {
        if !self.kind.is_running() {
            return Vec::new();
        }
        // Paceless distance steps are timed at a middling 6:00 /km for this check only; distance
        // recoveries make the estimate loose, hence the 15 %.
        let minutes = f64::from(self.duration_min);
        if !self.steps.is_empty() && (total_minutes(&self.steps, 360.0) - minutes).abs() <= (0.15 * minutes).max(3.0) {
            return self.steps.clone();
        }
        let length = match (self.kind, self.distance_km) {
            (WorkoutKind::Race, Some(km)) => Length::Metres((km * 1000.0).round() as u32),
            _ => Length::Seconds(self.duration_min.max(1) * 60),
        };
        vec![Block::Step(Step::new(
            steady_name(self.kind),
            Intensity::Active,
            length,
            target(self.pace_s_per_km, self.hr_zone),
        ))]
    }
}
