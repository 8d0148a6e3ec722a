//! Training-plan engine: request checks, periodised generation, a validator
//! that every generated plan must pass, adaptation (missed sessions, "not
//! feeling 100 %", matching done activities) and rendering (markdown, JSON, iCalendar).
//!
//! Pure: no I/O, no clock. Dates come from the request or the caller.

mod adapt;
mod error;
mod generate;
mod render;
mod request;
mod schedule;
mod steps;
mod target;
mod validate;
mod workouts;

pub use adapt::{MatchReport, Replan, match_activities, replan_after_missed, scale_back};
pub use error::{PlanError, Suggestion};
pub use generate::generate;
pub use render::{to_ics, to_ics_with_stamp, to_json, to_markdown};
pub use request::{capacity_minutes, length_caution, min_start_minutes, min_weeks, recommended_weeks, taper_weeks};
pub use steps::{Block, Intensity, Length, Step, StepName, Target};
pub use target::{TargetCheck, TargetVerdict, VDOT_GAIN_PER_WEEK, check_target};
pub use validate::{Rule, Violation, validate};
pub use workouts::expected_pace;

pub use crate::science::Level;

use crate::science::{Bilingual, HistoryAnalysis, PaceRange, RaceDistance};
use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What the runner trains for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Goal {
    #[serde(rename = "5k")]
    FiveK,
    #[serde(rename = "10k")]
    TenK,
    #[serde(rename = "half")]
    Half,
    #[serde(rename = "marathon")]
    Marathon,
    #[serde(rename = "fitness")]
    Fitness,
    #[serde(rename = "endurance")]
    Endurance,
    #[serde(rename = "speed")]
    Speed,
}

impl Goal {
    pub const ALL: [Goal; 7] =
        [Goal::FiveK, Goal::TenK, Goal::Half, Goal::Marathon, Goal::Fitness, Goal::Endurance, Goal::Speed];

    /// Race goals end with a taper and a race.
    pub fn is_race(self) -> bool {
        self.race_distance().is_some()
    }

    pub fn race_distance(self) -> Option<RaceDistance> {
        match self {
            Goal::FiveK => Some(RaceDistance::FiveK),
            Goal::TenK => Some(RaceDistance::TenK),
            Goal::Half => Some(RaceDistance::Half),
            Goal::Marathon => Some(RaceDistance::Marathon),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Goal::FiveK => "5k",
            Goal::TenK => "10k",
            Goal::Half => "half",
            Goal::Marathon => "marathon",
            Goal::Fitness => "fitness",
            Goal::Endurance => "endurance",
            Goal::Speed => "speed",
        }
    }

    pub fn label(self) -> Bilingual {
        let (fr, en) = match self {
            Goal::FiveK => ("5 km", "5K"),
            Goal::TenK => ("10 km", "10K"),
            Goal::Half => ("semi-marathon", "half marathon"),
            Goal::Marathon => ("marathon", "marathon"),
            Goal::Fitness => ("forme", "fitness"),
            Goal::Endurance => ("endurance", "endurance"),
            Goal::Speed => ("vitesse", "speed"),
        };
        Bilingual::new(fr, en)
    }
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Goal {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().replace([' ', '_', '-'], "").as_str() {
            "5k" | "5km" => Ok(Goal::FiveK),
            "10k" | "10km" => Ok(Goal::TenK),
            "half" | "halfmarathon" | "semi" | "semimarathon" => Ok(Goal::Half),
            "marathon" => Ok(Goal::Marathon),
            "fitness" | "forme" => Ok(Goal::Fitness),
            "endurance" => Ok(Goal::Endurance),
            "speed" | "vitesse" => Ok(Goal::Speed),
            other => Err(format!("unknown goal {other:?} (5k, 10k, half, marathon, fitness, endurance, speed)")),
        }
    }
}

/// How long the plan is: a number of weeks from the start date, or up to a race date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanLength {
    Weeks(u16),
    /// The plan ends on this day. For race goals the race is on it; for
    /// fitness/endurance/speed it is simply the last day.
    RaceDate(NaiveDate),
}

/// The part of a [`HistoryAnalysis`] the plan engine uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistorySummary {
    pub level: Level,
    pub level_reason: Bilingual,
    pub recent_weekly_minutes: f64,
    pub recent_weekly_km: f64,
    pub runs_per_week: f64,
    pub longest_run_km: f64,
    pub vdot: Option<f64>,
}

impl From<&HistoryAnalysis> for HistorySummary {
    fn from(h: &HistoryAnalysis) -> Self {
        HistorySummary {
            level: h.level.level,
            level_reason: h.level.reason.clone(),
            recent_weekly_minutes: h.recent_weekly_minutes,
            recent_weekly_km: h.recent_weekly_km,
            runs_per_week: h.level.runs_per_week,
            longest_run_km: h.level.longest_run_km,
            vdot: h.vdot.map(|v| v.vdot.value()),
        }
    }
}

/// What the runner asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub goal: Goal,
    /// Declared level; adjusted (down only) from history.
    #[serde(default)]
    pub level: Option<Level>,
    /// 2–6 running sessions a week.
    pub sessions_per_week: u8,
    /// Preferred training days; empty lets the engine pick well-spread days.
    #[serde(default)]
    pub preferred_days: Vec<Weekday>,
    pub start_date: NaiveDate,
    pub length: PlanLength,
    /// VDOT from a recent race; overrides the history's estimate.
    #[serde(default)]
    pub vdot: Option<f64>,
    /// Race goals: the time the runner aims for (s). Race-pace sessions are paced from it when it
    /// is reachable ([`check_target`]).
    #[serde(default)]
    pub target_time_s: Option<f64>,
    #[serde(default)]
    pub history: Option<HistorySummary>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Base,
    Build,
    Peak,
    Taper,
}

impl Phase {
    pub fn label(self) -> Bilingual {
        let (fr, en) = match self {
            Phase::Base => ("foncier", "base"),
            Phase::Build => ("développement", "build"),
            Phase::Peak => ("spécifique", "peak"),
            Phase::Taper => ("affûtage", "taper"),
        };
        Bilingual::new(fr, en)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkoutKind {
    Easy,
    Long,
    Recovery,
    Tempo,
    Threshold,
    Intervals,
    Hills,
    Fartlek,
    RacePace,
    Strides,
    Race,
    Rest,
    Cross,
}

impl WorkoutKind {
    /// Sessions that need recovery afterwards: at most 2 a week (1 for
    /// beginners), never on consecutive days.
    pub fn is_hard(self) -> bool {
        matches!(
            self,
            WorkoutKind::Tempo
                | WorkoutKind::Threshold
                | WorkoutKind::Intervals
                | WorkoutKind::Hills
                | WorkoutKind::Fartlek
                | WorkoutKind::RacePace
                | WorkoutKind::Race
        )
    }

    /// Counts as one of the week's running sessions.
    pub fn is_running(self) -> bool {
        !matches!(self, WorkoutKind::Rest | WorkoutKind::Cross)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WorkoutKind::Easy => "easy",
            WorkoutKind::Long => "long",
            WorkoutKind::Recovery => "recovery",
            WorkoutKind::Tempo => "tempo",
            WorkoutKind::Threshold => "threshold",
            WorkoutKind::Intervals => "intervals",
            WorkoutKind::Hills => "hills",
            WorkoutKind::Fartlek => "fartlek",
            WorkoutKind::RacePace => "race_pace",
            WorkoutKind::Strides => "strides",
            WorkoutKind::Race => "race",
            WorkoutKind::Rest => "rest",
            WorkoutKind::Cross => "cross",
        }
    }

    /// Why a plan holds this kind of session (the knowledge base's session pages say more).
    pub fn purpose(self) -> Bilingual {
        let (fr, en) = match self {
            WorkoutKind::Easy => (
                "Le footing en endurance fondamentale construit la base aérobie (cœur, capillaires, mitochondries) sans fatigue qui gênerait les séances dures : c'est l'essentiel du volume (environ 80 %).",
                "Easy running builds the aerobic base (heart, capillaries, mitochondria) without fatigue that would spoil the hard sessions: it is most of the volume (about 80 %).",
            ),
            WorkoutKind::Long => (
                "La sortie longue développe l'endurance et l'économie de course, et habitue les jambes et le ravitaillement à la durée de la course.",
                "The long run builds endurance and running economy, and gets legs and fuelling used to the race's duration.",
            ),
            WorkoutKind::Recovery => (
                "La récupération active fait circuler le sang après une séance dure sans ajouter de fatigue : très lente, courte.",
                "Recovery running keeps blood flowing after a hard day without adding fatigue: very slow, short.",
            ),
            WorkoutKind::Tempo | WorkoutKind::Threshold => (
                "Le seuil repousse l'allure que tu peux tenir longtemps sans t'asphyxier (le seuil lactique) : « confortablement difficile ».",
                "Threshold work raises the pace you can hold for long without tying up (the lactate threshold): \"comfortably hard\".",
            ),
            WorkoutKind::Intervals => (
                "Le fractionné à VMA développe la VO2max, la plus grande quantité d'oxygène que tu peux utiliser : des répétitions courtes et rapides, récupérations comprises.",
                "VO2max intervals raise the most oxygen you can use: short fast repeats, with their recoveries.",
            ),
            WorkoutKind::Hills => (
                "Les côtes renforcent les jambes et la foulée avec moins de choc qu'en vitesse sur le plat.",
                "Hills build leg strength and stride power with less impact than speed on the flat.",
            ),
            WorkoutKind::Fartlek => (
                "Le fartlek mêle les allures aux sensations : de la vitesse sans la pression du chrono.",
                "Fartlek mixes paces by feel: speed without the pressure of the watch.",
            ),
            WorkoutKind::RacePace => (
                "L'allure spécifique apprend au corps et à la tête le rythme exact de la course visée.",
                "Race-pace work teaches body and mind the exact rhythm of the goal race.",
            ),
            WorkoutKind::Strides => (
                "Les lignes droites entretiennent la vitesse et la foulée sans fatigue : rapides mais relâchées.",
                "Strides keep speed and form without fatigue: fast but relaxed.",
            ),
            WorkoutKind::Race => ("Le jour J : tout le plan mène ici.", "Race day: the whole plan leads here."),
            WorkoutKind::Rest => (
                "Le repos fait partie de l'entraînement : c'est pendant la récupération que le corps s'adapte.",
                "Rest is part of training: the body adapts while it recovers.",
            ),
            WorkoutKind::Cross => (
                "L'entraînement croisé entretient le cardio en épargnant les impacts de la course.",
                "Cross-training keeps the aerobic work going while sparing the legs the impact of running.",
            ),
        };
        Bilingual::new(fr, en)
    }

    pub fn label(self) -> Bilingual {
        let (fr, en) = match self {
            WorkoutKind::Easy => ("Footing", "Easy"),
            WorkoutKind::Long => ("Sortie longue", "Long run"),
            WorkoutKind::Recovery => ("Récupération", "Recovery"),
            WorkoutKind::Tempo => ("Tempo", "Tempo"),
            WorkoutKind::Threshold => ("Seuil", "Threshold"),
            WorkoutKind::Intervals => ("Fractionné", "Intervals"),
            WorkoutKind::Hills => ("Côtes", "Hills"),
            WorkoutKind::Fartlek => ("Fartlek", "Fartlek"),
            WorkoutKind::RacePace => ("Allure course", "Race pace"),
            WorkoutKind::Strides => ("Footing + lignes droites", "Easy + strides"),
            WorkoutKind::Race => ("Course", "Race"),
            WorkoutKind::Rest => ("Repos", "Rest"),
            WorkoutKind::Cross => ("Entraînement croisé", "Cross-training"),
        };
        Bilingual::new(fr, en)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkoutStatus {
    #[default]
    Planned,
    Done,
    /// Its day ended with no run matched to it.
    Missed,
    /// The runner said they would not do it (`/skip`).
    Skipped,
    /// Changed by an adaptation (missed sessions, scale-back).
    Adjusted,
}

impl WorkoutStatus {
    /// The name in the plan document and the CLI's JSON.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            WorkoutStatus::Planned => "planned",
            WorkoutStatus::Done => "done",
            WorkoutStatus::Missed => "missed",
            WorkoutStatus::Skipped => "skipped",
            WorkoutStatus::Adjusted => "adjusted",
        }
    }

    /// Not done and no longer to do.
    #[must_use]
    pub const fn is_dropped(self) -> bool {
        matches!(self, WorkoutStatus::Missed | WorkoutStatus::Skipped)
    }
}

/// The activity a workout was matched with.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub start: DateTime<Utc>,
    pub distance_km: f64,
    pub duration_min: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workout {
    pub date: NaiveDate,
    pub kind: WorkoutKind,
    pub duration_min: u32,
    pub distance_km: Option<f64>,
    pub pace_s_per_km: Option<PaceRange>,
    pub hr_zone: Option<u8>,
    pub description: Bilingual,
    #[serde(default)]
    pub status: WorkoutStatus,
    #[serde(default)]
    pub completed: Option<Completion>,
    /// The session step by step for a watch ([`Workout::blocks`] reads it; plans stored before
    /// it existed have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Block>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanWeek {
    /// 1-based.
    pub index: u16,
    pub phase: Phase,
    /// All running minutes of the week, the race included.
    pub planned_minutes: u32,
    /// Estimated km (from paces when the VDOT is known, else from a typical pace).
    pub planned_km: f64,
    pub workouts: Vec<Workout>,
}

impl PlanWeek {
    /// Running minutes excluding the race: the volume the progression rules use
    /// (a marathon in race week is not "training volume").
    pub fn training_minutes(&self) -> u32 {
        self.workouts
            .iter()
            .filter(|w| w.kind.is_running() && w.kind != WorkoutKind::Race)
            .map(|w| w.duration_min)
            .sum()
    }

    pub fn running_sessions(&self) -> usize {
        self.workouts.iter().filter(|w| w.kind.is_running()).count()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub goal: Goal,
    pub level: Level,
    pub level_reason: Bilingual,
    /// First day of week 1. With a race date, weeks are whole 7-day blocks ending
    /// on race day, so this can be up to 6 days after the requested start.
    pub start_date: NaiveDate,
    pub race_date: Option<NaiveDate>,
    pub sessions_per_week: u8,
    pub vdot: Option<f64>,
    /// The race target and what the plan makes of it.
    #[serde(default)]
    pub target: Option<TargetCheck>,
    pub weeks: Vec<PlanWeek>,
    /// The request the plan was generated from, kept so adaptations can re-plan
    /// and re-validate without the caller storing it separately.
    pub request: PlanRequest,
}

impl Plan {
    /// How the last weeks go, for a race plan: the taper weeks' share of the peak, then race week
    /// (from the generator's own numbers; Bosquet et al. 2007 in the knowledge base's tapering page).
    #[must_use]
    pub fn race_week_rule(&self) -> Option<Bilingual> {
        if !self.goal.is_race() {
            return None;
        }
        let taper = taper_weeks(self.goal, self.weeks.len());
        let shares = generate::taper_shares(taper);
        let pct = |x: f64| format!("{:.0} %", x * 100.0);
        let list = |sep: &str| shares.iter().map(|x| pct(*x)).collect::<Vec<_>>().join(sep);
        let race = pct(generate::RACE_WEEK);
        Some(if shares.is_empty() {
            Bilingual::new(
                format!(
                    "🏁 Semaine de course : environ {race} du volume de la semaine la plus chargée, des footings courts (30 min au plus) avec quelques lignes droites ; la course est le seul effort dur de la semaine."
                ),
                format!(
                    "🏁 Race week: about {race} of the peak week's volume, short easy runs (30 min at most) with a few strides; the race is the week's only hard effort."
                ),
            )
        } else {
            Bilingual::new(
                format!(
                    "🏁 Affûtage : {} de la semaine la plus chargée ({}), l'intensité gardée (Bosquet et al., 2007) ; puis la semaine de course à environ {race}, des footings courts (30 min au plus) avec quelques lignes droites, la course étant le seul effort dur.",
                    list(" puis "),
                    crate::i18n::count(
                        crate::i18n::Lang::Fr,
                        shares.len() as u64,
                        ["semaine", "semaines"],
                        ["week", "weeks"]
                    )
                ),
                format!(
                    "🏁 Taper: {} of the peak week ({}), intensity kept (Bosquet et al., 2007); then race week at about {race}, short easy runs (30 min at most) with a few strides, the race being the only hard effort.",
                    list(" then "),
                    crate::i18n::count(
                        crate::i18n::Lang::En,
                        shares.len() as u64,
                        ["semaine", "semaines"],
                        ["week", "weeks"]
                    )
                ),
            )
        })
    }

    /// A caution when the plan is shorter than most published ones for its goal and level.
    #[must_use]
    pub fn length_caution(&self) -> Option<Bilingual> {
        length_caution(self.goal, self.level, self.weeks.len())
    }

    pub fn week_start(&self, index0: usize) -> NaiveDate {
        self.start_date + Duration::weeks(index0 as i64)
    }

    pub fn end_date(&self) -> NaiveDate {
        self.start_date + Duration::days(7 * self.weeks.len() as i64 - 1)
    }

    pub fn workouts(&self) -> impl Iterator<Item = &Workout> {
        self.weeks.iter().flat_map(|w| w.workouts.iter())
    }
}

#[cfg(test)]
pub(crate) mod test_support;
