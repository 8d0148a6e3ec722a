//! Why a plan request was refused, with a bilingual explanation and a safe alternative.

use super::validate::Violation;
use super::{Goal, Level};
use crate::science::Bilingual;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A safe alternative the chat layer can offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suggestion {
    Weeks(u16),
    Goal(Goal),
    Sessions(u8),
    /// Pick a race on or after this date.
    RaceOnOrAfter(NaiveDate),
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum PlanError {
    #[error("sessions per week must be between 2 and 6 (got {requested}); try {suggested}")]
    SessionsOutOfRange { requested: u8, suggested: u8 },
    #[error("the race date {race_date} is before the plan start {start_date}")]
    RaceDateInPast { race_date: NaiveDate, start_date: NaiveDate },
    #[error("the race on {race_date} is only {days} days away: too soon for a plan (need at least 14 days)")]
    RaceTooSoon { race_date: NaiveDate, days: i64, earliest_race_date: NaiveDate },
    #[error("a plan needs at least one week")]
    ZeroWeeks,
    #[error("{weeks} weeks is too long for one plan (maximum {max_weeks}); start with a base block")]
    PlanTooLong { weeks: i64, max_weeks: u16 },
    #[error("{weeks} weeks is too short to prepare a {goal} safely at {} level (minimum {min_weeks})", level.label_en())]
    PlanTooShort {
        goal: Goal,
        level: Level,
        weeks: u16,
        min_weeks: u16,
        /// A goal that fits in the time available, if any.
        suggested_goal: Option<Goal>,
        earliest_race_date: NaiveDate,
    },
    #[error("{requested} sessions a week is too few to prepare a {goal} safely (minimum {suggested})")]
    TooFewSessions { goal: Goal, requested: u8, suggested: u8 },
    #[error("VDOT {value} is not plausible (expected 15–90)")]
    InvalidVdot { value: f64 },
    #[error("a target time only makes sense for a race goal, not {goal}")]
    TargetWithoutRace { goal: Goal },
    #[error("a {goal} in {time_s} s is not a plausible target")]
    ImplausibleTarget { goal: Goal, time_s: f64 },
    #[error("the date {date} is outside the plan ({start} to {end})")]
    DateOutsidePlan { date: NaiveDate, start: NaiveDate, end: NaiveDate },
    #[error("scale-back must cover 1 to 14 days (got {days})")]
    InvalidScaleBack { days: u32 },
    #[error("the generated plan broke {} rule(s): {}", .0.len(), .0.iter().map(|v| v.message.as_str()).collect::<Vec<_>>().join("; "))]
    InvalidPlan(Vec<Violation>),
}

fn goal_fr(g: Goal) -> String {
    g.label().fr
}

fn goal_en(g: Goal) -> String {
    g.label().en
}

impl PlanError {
    /// The explanation to show the runner, in both languages, including the alternative.
    pub fn explain(&self) -> Bilingual {
        match self {
            PlanError::SessionsOutOfRange { requested, suggested } => Bilingual::new(
                format!(
                    "{requested} séances par semaine, ce n'est pas possible : il en faut entre 2 (le minimum pour progresser) et 6 (au-delà, le risque de blessure grimpe). Je te propose {suggested} séances."
                ),
                format!(
                    "{requested} sessions a week won't work: it must be between 2 (the minimum to progress) and 6 (beyond that, injury risk climbs). I suggest {suggested} sessions."
                ),
            ),
            PlanError::RaceDateInPast { race_date, start_date } => Bilingual::new(
                format!(
                    "La date de course ({race_date}) est avant le début du plan ({start_date}). Vérifie la date, ou choisis un plan d'un nombre de semaines donné."
                ),
                format!(
                    "The race date ({race_date}) is before the plan start ({start_date}). Check the date, or ask for a plan of a given number of weeks."
                ),
            ),
            PlanError::RaceTooSoon { race_date, days, earliest_race_date } => Bilingual::new(
                format!(
                    "La course du {race_date} est dans {days} jours : trop tôt pour un plan, l'entraînement n'aurait pas le temps d'agir. D'ici là, cours facile et repose-toi bien. Pour un vrai plan, vise une course à partir du {earliest_race_date}."
                ),
                format!(
                    "The race on {race_date} is {days} days away: too soon for a plan, training would not have time to work. Until then, run easy and rest well. For a real plan, aim for a race on or after {earliest_race_date}."
                ),
            ),
            PlanError::ZeroWeeks => {
                Bilingual::new("Un plan doit durer au moins une semaine.", "A plan must last at least one week.")
            }
            PlanError::PlanTooLong { weeks, max_weeks } => Bilingual::new(
                format!(
                    "{weeks} semaines, c'est trop long pour un seul plan (maximum {max_weeks}). Commence par un bloc de {max_weeks} semaines ou moins ; on construira la suite ensuite."
                ),
                format!(
                    "{weeks} weeks is too long for a single plan (maximum {max_weeks}). Start with a block of {max_weeks} weeks or fewer; we'll build the next one afterwards."
                ),
            ),
            PlanError::PlanTooShort { goal, level, weeks, min_weeks, suggested_goal, earliest_race_date } => {
                let alt_fr = suggested_goal.map_or(String::new(), |g| {
                    format!(" En {weeks} semaines, un objectif {} est réaliste.", goal_fr(g))
                });
                let alt_en = suggested_goal
                    .map_or(String::new(), |g| format!(" In {weeks} weeks, a {} goal is realistic.", goal_en(g)));
                Bilingual::new(
                    format!(
                        "{weeks} semaines, c'est trop court pour préparer un {} en sécurité au niveau {} : il faut au moins {min_weeks} semaines (soit une course à partir du {earliest_race_date}).{alt_fr}",
                        goal_fr(*goal),
                        level.label_fr()
                    ),
                    format!(
                        "{weeks} weeks is too short to prepare a {} safely at {} level: it takes at least {min_weeks} weeks (a race on or after {earliest_race_date}).{alt_en}",
                        goal_en(*goal),
                        level.label_en()
                    ),
                )
            }
            PlanError::TooFewSessions { goal, requested, suggested } => Bilingual::new(
                format!(
                    "{requested} séances par semaine, c'est trop peu pour préparer un {} sans se blesser : les sorties longues deviendraient trop dures pour le reste de la semaine. Je te propose {suggested} séances.",
                    goal_fr(*goal)
                ),
                format!(
                    "{requested} sessions a week is too few to prepare a {} without getting hurt: the long runs would be too big for the rest of the week. I suggest {suggested} sessions.",
                    goal_en(*goal)
                ),
            ),
            PlanError::InvalidVdot { value } => Bilingual::new(
                format!(
                    "Une VDOT de {value} n'est pas plausible (elle doit être entre 15 et 90). Donne plutôt un temps de course récent, par exemple « 5 km en 24:34 »."
                ),
                format!(
                    "A VDOT of {value} is not plausible (it must be between 15 and 90). Give a recent race time instead, e.g. \"5K in 24:34\"."
                ),
            ),
            PlanError::TargetWithoutRace { goal } => Bilingual::new(
                format!("Un temps visé n'a de sens que pour une course ; ton objectif est {}.", goal_fr(*goal)),
                format!("A target time only makes sense for a race; your goal is {}.", goal_en(*goal)),
            ),
            PlanError::ImplausibleTarget { goal, time_s } => Bilingual::new(
                format!(
                    "{} pour un {}, ce n'est pas un temps plausible (plus rapide que le record du monde, ou plus lent que la marche). Écris-le comme `45:00` ou `1:45:00`.",
                    crate::science::format_duration(*time_s),
                    goal_fr(*goal)
                ),
                format!(
                    "{} for a {} is not a plausible time (faster than the world record, or slower than walking). Write it like `45:00` or `1:45:00`.",
                    crate::science::format_duration(*time_s),
                    goal_en(*goal)
                ),
            ),
            PlanError::DateOutsidePlan { date, start, end } => Bilingual::new(
                format!("Le {date} est en dehors du plan (du {start} au {end})."),
                format!("{date} is outside the plan ({start} to {end})."),
            ),
            PlanError::InvalidScaleBack { days } => Bilingual::new(
                format!("On peut alléger de 1 à 14 jours (pas {days}). Au-delà, mieux vaut refaire un plan."),
                format!("A scale-back can cover 1 to 14 days (not {days}). Beyond that, better make a new plan."),
            ),
            PlanError::InvalidPlan(v) => Bilingual::new(
                format!(
                    "Je n'ai pas pu construire un plan sûr pour cette demande ({} non {}). Essaie un autre nombre de séances ou de semaines.",
                    crate::i18n::count(crate::i18n::Lang::Fr, v.len() as u64, ["règle", "règles"], ["rule", "rules"]),
                    crate::i18n::agree(crate::i18n::Lang::Fr, v.len() as u64, ["respectée", "respectées"], ["", ""])
                ),
                format!(
                    "I could not build a safe plan for this request ({} broken). Try another number of sessions or weeks.",
                    crate::i18n::count(crate::i18n::Lang::En, v.len() as u64, ["règle", "règles"], ["rule", "rules"])
                ),
            ),
        }
    }

    /// Safe alternatives, most useful first.
    pub fn suggestions(&self) -> Vec<Suggestion> {
        match self {
            PlanError::SessionsOutOfRange { suggested, .. } | PlanError::TooFewSessions { suggested, .. } => {
                vec![Suggestion::Sessions(*suggested)]
            }
            PlanError::RaceTooSoon { earliest_race_date, .. } => vec![Suggestion::RaceOnOrAfter(*earliest_race_date)],
            PlanError::PlanTooLong { max_weeks, .. } => vec![Suggestion::Weeks(*max_weeks)],
            PlanError::ZeroWeeks => vec![Suggestion::Weeks(4)],
            PlanError::PlanTooShort { min_weeks, suggested_goal, earliest_race_date, .. } => {
                let mut v = Vec::new();
                if let Some(g) = suggested_goal {
                    v.push(Suggestion::Goal(*g));
                }
                v.push(Suggestion::Weeks(*min_weeks));
                v.push(Suggestion::RaceOnOrAfter(*earliest_race_date));
                v
            }
            _ => Vec::new(),
        }
    }
}
