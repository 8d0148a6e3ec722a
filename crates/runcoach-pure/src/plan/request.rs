//! Request checks and the numbers shared by the generator and the validator
//! (minimum lengths, taper lengths, volume bounds).

use super::{Goal, Level, PlanError, PlanLength, PlanRequest};
use crate::science::{Bilingual, Vdot};
use chrono::{Duration, NaiveDate};

pub(crate) const MAX_WEEKS: u16 = 52;
/// Less than two weeks before a race, training cannot help any more.
pub(crate) const MIN_RACE_DAYS: i64 = 14;

/// Minimum plan length (weeks) to prepare `goal` safely at `level`: the shortest published plans
/// for that runner (knowledge base, "How long a plan": Pfitzinger & Douglas' 12-week marathon
/// schedules for experienced runners, Higdon's 12-week novice half and 8-week novice 10K, the
/// 18-week beginner marathons of Higdon and the Hansons). Shorter is refused.
pub fn min_weeks(goal: Goal, level: Level) -> u16 {
    use Level::*;
    match (goal, level) {
        (Goal::FiveK, Beginner) => 6,
        (Goal::FiveK, Intermediate) => 4,
        (Goal::FiveK, Advanced) => 3,
        (Goal::TenK, Beginner) => 8,
        (Goal::TenK, Intermediate) => 6,
        (Goal::TenK, Advanced) => 4,
        (Goal::Half, Beginner) => 12,
        (Goal::Half, Intermediate) => 8,
        (Goal::Half, Advanced) => 6,
        (Goal::Marathon, Beginner) => 18,
        (Goal::Marathon, Intermediate) => 12,
        (Goal::Marathon, Advanced) => 10,
        (Goal::Fitness | Goal::Endurance | Goal::Speed, _) => 3,
    }
}

/// The length most published plans give `goal` at `level` (Pfitzinger & Douglas' 18-week
/// marathon, the Hansons' 18, Higdon's 12-week half and 8-week 5K/10K). Between [`min_weeks`] and
/// this, the plan is made with a caution ([`length_caution`]) rather than refused.
pub fn recommended_weeks(goal: Goal, level: Level) -> u16 {
    use Level::*;
    let recommended = match (goal, level) {
        (Goal::FiveK, Beginner) => 8,
        (Goal::FiveK, Intermediate) => 6,
        (Goal::FiveK, Advanced) => 4,
        (Goal::TenK, Beginner | Intermediate) => 8,
        (Goal::TenK, Advanced) => 6,
        (Goal::Half, Beginner | Intermediate) => 12,
        (Goal::Half, Advanced) => 10,
        (Goal::Marathon, Beginner) => 18,
        (Goal::Marathon, Intermediate) => 16,
        (Goal::Marathon, Advanced) => 12,
        (Goal::Fitness | Goal::Endurance | Goal::Speed, _) => 3,
    };
    recommended.max(min_weeks(goal, level))
}

/// Why a race plan of `weeks` is on the short side for `goal` at `level`, when it is (at least
/// [`min_weeks`], under [`recommended_weeks`]).
pub fn length_caution(goal: Goal, level: Level, weeks: usize) -> Option<Bilingual> {
    let recommended = usize::from(recommended_weeks(goal, level));
    if !goal.is_race() || weeks >= recommended {
        return None;
    }
    let label = goal.label();
    Some(Bilingual::new(
        format!(
            "⚠️ {weeks} semaines, c'est court pour un {} au niveau {} : la plupart des plans publiés durent {recommended} semaines ou plus. Ce plan garde chaque hausse dans des limites sûres, donc les dernières semaines resteront en deçà de ce qu'une préparation plus longue atteindrait ; vise un objectif prudent, ou une course plus tardive si tu peux.",
            label.fr,
            level.label_fr()
        ),
        format!(
            "⚠️ {weeks} weeks is short for a {} at {} level: most published plans run {recommended} weeks or more. This plan keeps every increase within safe limits, so the last weeks stay below what a longer build would reach; aim for a cautious target, or a later race if you can.",
            label.en,
            level.label_en()
        ),
    ))
}

/// Taper length (weeks) for a race goal in a plan of `n_weeks` (Bosquet 2007:
/// ~1 week for 5K/10K, 2 for the half, 2–3 for the marathon). 0 for other goals.
pub fn taper_weeks(goal: Goal, n_weeks: usize) -> usize {
    match goal {
        Goal::FiveK | Goal::TenK => 1,
        Goal::Half => 2,
        Goal::Marathon if n_weeks >= 16 => 3,
        Goal::Marathon => 2,
        _ => 0,
    }
}

/// Smallest sensible weekly volume (minutes) for `sessions` runs: below this,
/// sessions get too short to be worth lacing up for, and cutback/taper weeks
/// would shrink them further.
pub fn min_start_minutes(sessions: u8) -> u32 {
    25 * u32::from(sessions) + 20
}

/// Largest weekly volume (minutes) `sessions` runs can hold with the long run
/// within its share of the week and other sessions of reasonable length.
pub fn capacity_minutes(sessions: u8) -> u32 {
    match sessions {
        0..=2 => 170,
        3 => 250,
        4 => 330,
        5 => 420,
        _ => 500,
    }
}

/// Target peak weekly volume (minutes) before the capacity cap.
pub(crate) fn peak_target(goal: Goal, level: Level) -> u32 {
    let (b, i, a) = match goal {
        Goal::FiveK => (150, 220, 300),
        Goal::TenK => (170, 250, 340),
        Goal::Half => (210, 300, 400),
        Goal::Marathon => (260, 360, 460),
        Goal::Fitness => (130, 180, 240),
        Goal::Endurance => (200, 280, 380),
        Goal::Speed => (140, 200, 280),
    };
    match level {
        Level::Beginner => b,
        Level::Intermediate => i,
        Level::Advanced => a,
    }
}

/// Starting volume when there is no history: per-session minutes by level.
pub(crate) fn default_start(level: Level, sessions: u8) -> u32 {
    let per = match level {
        Level::Beginner => 30,
        Level::Intermediate => 40,
        Level::Advanced => 50,
    };
    (per * u32::from(sessions)).clamp(min_start_minutes(sessions), capacity_minutes(sessions))
}

/// The first-week target when history exists: the recent weekly average,
/// clamped to what the requested number of sessions can safely hold.
pub(crate) fn history_start(recent_weekly_minutes: f64, sessions: u8) -> f64 {
    let r = if recent_weekly_minutes.is_finite() { recent_weekly_minutes.max(0.0) } else { 0.0 };
    r.clamp(f64::from(min_start_minutes(sessions)), f64::from(capacity_minutes(sessions)))
}

/// Hard sessions allowed per week.
pub(crate) fn max_hard(level: Level, sessions: u8) -> usize {
    match level {
        Level::Beginner => 1,
        Level::Intermediate if sessions <= 3 => 1,
        Level::Advanced if sessions <= 2 => 1,
        _ => 2,
    }
}

/// A request after checking, with everything derived from it.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub goal: Goal,
    pub level: Level,
    pub level_reason: Bilingual,
    pub sessions: u8,
    pub weeks: usize,
    pub plan_start: NaiveDate,
    /// The requested race date (race goals only).
    pub race_date: Option<NaiveDate>,
    /// Day of the goal race (race goals): the race date, or the plan's last day.
    pub event_date: Option<NaiveDate>,
    pub vdot: Option<Vdot>,
    /// The race target checked against `vdot`.
    pub target: Option<super::TargetCheck>,
    pub taper: usize,
    /// Week-1 volume target from history, if any.
    pub history_start: Option<f64>,
}

fn resolve_level(req: &PlanRequest, vdot: Option<Vdot>) -> (Level, Bilingual) {
    let declared = req.level;
    match (declared, req.history.as_ref()) {
        (Some(d), Some(h)) if h.level < d => (
            h.level,
            Bilingual::new(
                format!(
                    "Tu t'es décrit comme {} mais ton historique récent correspond au niveau {} ({}) : le plan part sur {} pour que la charge reste sûre.",
                    d.label_fr(),
                    h.level.label_fr(),
                    h.level_reason.fr,
                    h.level.label_fr()
                ),
                format!(
                    "You described yourself as {} but your recent history fits {} ({}): the plan uses {} to keep the load safe.",
                    d.label_en(),
                    h.level.label_en(),
                    h.level_reason.en,
                    h.level.label_en()
                ),
            ),
        ),
        (Some(d), Some(h)) if h.level > d => (
            d,
            Bilingual::new(
                format!(
                    "Ton historique suggère le niveau {} ({}), mais tu as choisi {} : le plan respecte ton choix (demande un plan plus exigeant si tu veux).",
                    h.level.label_fr(),
                    h.level_reason.fr,
                    d.label_fr()
                ),
                format!(
                    "Your history suggests {} ({}), but you chose {}: the plan respects your choice (ask for a harder one if you like).",
                    h.level.label_en(),
                    h.level_reason.en,
                    d.label_en()
                ),
            ),
        ),
        (Some(d), Some(h)) => (
            d,
            Bilingual::new(
                format!("Niveau {} déclaré, cohérent avec ton historique : {}", d.label_fr(), h.level_reason.fr),
                format!("Declared level {}, consistent with your history: {}", d.label_en(), h.level_reason.en),
            ),
        ),
        (None, Some(h)) => (h.level, h.level_reason.clone()),
        (Some(d), None) => (
            d,
            Bilingual::new(
                format!(
                    "Niveau {} tel que tu l'as indiqué (pas d'historique disponible pour le vérifier).",
                    d.label_fr()
                ),
                format!("Level {} as you stated it (no history available to check it).", d.label_en()),
            ),
        ),
        (None, None) => match vdot {
            // Speed alone says nothing about how much volume the legs can take,
            // so a fast runner without history is capped at intermediate.
            Some(v) if v.value() >= 45.0 => (
                Level::Intermediate,
                Bilingual::new(
                    format!(
                        "Pas d'historique ni de niveau déclaré ; ta VDOT de {} montre une bonne forme, mais sans connaître ton volume le plan reste au niveau intermédiaire.",
                        format!("{:.1}", v.value()).replace('.', ",")
                    ),
                    format!(
                        "No history or declared level; your VDOT of {:.1} shows good fitness, but without knowing your volume the plan stays at intermediate level.",
                        v.value()
                    ),
                ),
            ),
            _ => (
                Level::Beginner,
                Bilingual::new(
                    "Pas d'historique ni de niveau déclaré : le plan part sur le niveau débutant par prudence.",
                    "No history or declared level: the plan starts at beginner level to be safe.",
                ),
            ),
        },
    }
}

/// The longest race goal shorter than `goal` that fits in `weeks` at `level`.
fn shorter_goal(goal: Goal, level: Level, weeks: u16) -> Option<Goal> {
    let order = [Goal::Marathon, Goal::Half, Goal::TenK, Goal::FiveK];
    let pos = order.iter().position(|g| *g == goal)?;
    order.iter().skip(pos + 1).copied().find(|g| min_weeks(*g, level) <= weeks)
}

/// Checks a request and derives what generation and validation need.
pub(crate) fn resolve(req: &PlanRequest) -> Result<Resolved, PlanError> {
    let sessions = req.sessions_per_week;
    if !(2..=6).contains(&sessions) {
        return Err(PlanError::SessionsOutOfRange { requested: sessions, suggested: sessions.clamp(2, 6) });
    }
    // A marathon on two runs a week means long runs that dwarf everything else.
    if req.goal == Goal::Marathon && sessions < 3 {
        return Err(PlanError::TooFewSessions { goal: req.goal, requested: sessions, suggested: 3 });
    }
    let vdot = match req.vdot {
        Some(v) => Some(Vdot::new(v).map_err(|_| PlanError::InvalidVdot { value: v })?),
        // A history estimate outside the range is ignored rather than fatal:
        // the runner did not type it.
        None => req.history.as_ref().and_then(|h| h.vdot).and_then(|v| Vdot::new(v).ok()),
    };
    let (level, level_reason) = resolve_level(req, vdot);
    let (weeks, plan_start, end_date) = match req.length {
        PlanLength::Weeks(0) => return Err(PlanError::ZeroWeeks),
        PlanLength::Weeks(n) if n > MAX_WEEKS => {
            return Err(PlanError::PlanTooLong { weeks: i64::from(n), max_weeks: MAX_WEEKS });
        }
        PlanLength::Weeks(n) => (usize::from(n), req.start_date, req.start_date + Duration::days(7 * i64::from(n) - 1)),
        PlanLength::RaceDate(d) => {
            if d < req.start_date {
                return Err(PlanError::RaceDateInPast { race_date: d, start_date: req.start_date });
            }
            let days = (d - req.start_date).num_days() + 1;
            if days < MIN_RACE_DAYS {
                let min = i64::from(min_weeks(req.goal, level).max(2));
                return Err(PlanError::RaceTooSoon {
                    race_date: d,
                    days: days - 1,
                    earliest_race_date: req.start_date + Duration::days(7 * min - 1),
                });
            }
            let n = days / 7;
            if n > i64::from(MAX_WEEKS) {
                return Err(PlanError::PlanTooLong { weeks: n, max_weeks: MAX_WEEKS });
            }
            // Whole weeks ending on race day: the leftover days (< 7) come before week 1.
            (n as usize, d - Duration::days(7 * n - 1), d)
        }
    };
    let min = min_weeks(req.goal, level);
    if weeks < usize::from(min) {
        let w = weeks as u16;
        return Err(PlanError::PlanTooShort {
            goal: req.goal,
            level,
            weeks: w,
            min_weeks: min,
            suggested_goal: shorter_goal(req.goal, level, w),
            earliest_race_date: req.start_date + Duration::days(7 * i64::from(min) - 1),
        });
    }
    let target = match req.target_time_s {
        Some(t) => Some(super::check_target(req.goal, t, vdot, weeks)?),
        None => None,
    };
    let is_race = req.goal.is_race();
    Ok(Resolved {
        goal: req.goal,
        level,
        level_reason,
        sessions,
        weeks,
        plan_start,
        race_date: match req.length {
            PlanLength::RaceDate(d) if is_race => Some(d),
            _ => None,
        },
        event_date: is_race.then_some(end_date),
        vdot,
        target,
        taper: taper_weeks(req.goal, weeks),
        history_start: req.history.as_ref().map(|h| history_start(h.recent_weekly_minutes, sessions)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::plan::test_support::{date, history, request};
    use crate::plan::{Suggestion, generate};

    #[test]
    fn short_plans_from_published_ones_are_made_with_a_caution_not_refused() {
        for goal in Goal::ALL {
            for level in [Level::Beginner, Level::Intermediate, Level::Advanced] {
                let (min, rec) = (min_weeks(goal, level), recommended_weeks(goal, level));
                assert!(rec >= min, "{goal} {level:?}");
                assert!(length_caution(goal, level, usize::from(rec)).is_none());
                if rec > min {
                    let caution = length_caution(goal, level, usize::from(min)).unwrap();
                    assert!(caution.en.contains(&format!("{rec} weeks or more")), "{}", caution.en);
                    assert!(caution.fr.contains(&format!("{rec} semaines ou plus")), "{}", caution.fr);
                }
            }
        }
        // 13 weeks to a marathon for an intermediate runner (Pfitzinger's 12-week schedules exist):
        // a valid plan, with a caution; 11 weeks is still refused.
        for sessions in [3, 4, 5] {
            let mut req = request(Goal::Marathon, Some(Level::Intermediate), sessions, PlanLength::Weeks(13));
            req.history = Some(history(Level::Intermediate, 240.0, 40.0, Some(45.0)));
            let plan = generate(&req).unwrap_or_else(|e| panic!("{sessions} sessions: {e}"));
            assert!(plan.length_caution().unwrap().en.contains("13 weeks is short for a marathon"));
            assert!(crate::plan::to_markdown(&plan, Lang::En).contains("16 weeks or more"));
        }
        let req = request(Goal::Marathon, Some(Level::Intermediate), 4, PlanLength::Weeks(11));
        assert!(matches!(generate(&req), Err(PlanError::PlanTooShort { min_weeks: 12, .. })));
        let full = request(Goal::Marathon, Some(Level::Intermediate), 4, PlanLength::Weeks(16));
        assert!(generate(&full).unwrap().length_caution().is_none());
    }

    #[test]
    fn race_in_the_past_or_too_soon() {
        let req = request(Goal::TenK, None, 3, PlanLength::RaceDate(date(2025, 2, 20)));
        let e = generate(&req).unwrap_err();
        assert!(matches!(e, PlanError::RaceDateInPast { .. }), "{e}");
        assert!(e.explain().fr.contains("avant le début"));

        let req = request(Goal::TenK, Some(Level::Intermediate), 3, PlanLength::RaceDate(date(2025, 3, 12)));
        let e = generate(&req).unwrap_err();
        assert!(matches!(e, PlanError::RaceTooSoon { days: 9, .. }), "{e:?}");
        // Earliest sensible race: 6 weeks for an intermediate 10K.
        assert_eq!(e.suggestions(), vec![Suggestion::RaceOnOrAfter(date(2025, 4, 13))]);
        assert!(e.explain().en.contains("9 days away"), "{}", e.explain().en);
    }

    #[test]
    fn sessions_outside_range() {
        for (n, want) in [(1u8, 2u8), (7, 6), (0, 2)] {
            let e = generate(&request(Goal::FiveK, None, n, PlanLength::Weeks(8))).unwrap_err();
            assert_eq!(e, PlanError::SessionsOutOfRange { requested: n, suggested: want });
            assert_eq!(e.suggestions(), vec![Suggestion::Sessions(want)]);
            assert!(e.explain().fr.contains("entre 2"));
        }
    }

    #[test]
    fn marathon_in_three_weeks_for_a_beginner() {
        let req = request(Goal::Marathon, Some(Level::Beginner), 4, PlanLength::RaceDate(date(2025, 3, 23)));
        let e = generate(&req).unwrap_err();
        match &e {
            PlanError::PlanTooShort { weeks, min_weeks, suggested_goal, .. } => {
                assert_eq!((*weeks, *min_weeks), (3, 18));
                // Nothing fits in 3 weeks for a beginner except... nothing: 5K needs 6.
                assert_eq!(*suggested_goal, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(e.suggestions().contains(&Suggestion::Weeks(18)));
        assert!(e.explain().en.contains("at least 18 weeks"), "{}", e.explain().en);
        // 8 weeks: a 10K fits for a beginner.
        let req = request(Goal::Marathon, Some(Level::Beginner), 4, PlanLength::Weeks(8));
        let e = generate(&req).unwrap_err();
        assert_eq!(e.suggestions().first(), Some(&Suggestion::Goal(Goal::TenK)));
        assert!(e.explain().fr.contains("un objectif 10 km est réaliste"), "{}", e.explain().fr);
        // The same request is fine for an advanced runner with 10 weeks.
        let req = request(Goal::Marathon, Some(Level::Advanced), 4, PlanLength::Weeks(10));
        assert!(generate(&req).is_ok());
    }

    #[test]
    fn marathon_needs_three_sessions() {
        let e = generate(&request(Goal::Marathon, Some(Level::Advanced), 2, PlanLength::Weeks(16))).unwrap_err();
        assert_eq!(e, PlanError::TooFewSessions { goal: Goal::Marathon, requested: 2, suggested: 3 });
        assert_eq!(e.suggestions(), vec![Suggestion::Sessions(3)]);
        assert!(generate(&request(Goal::Marathon, Some(Level::Advanced), 3, PlanLength::Weeks(16))).is_ok());
    }

    #[test]
    fn absurd_vdot_and_lengths() {
        let mut req = request(Goal::FiveK, None, 3, PlanLength::Weeks(8));
        req.vdot = Some(120.0);
        assert!(matches!(generate(&req), Err(PlanError::InvalidVdot { .. })));
        req.vdot = Some(f64::NAN);
        assert!(matches!(generate(&req), Err(PlanError::InvalidVdot { .. })));
        req.vdot = None;
        req.length = PlanLength::Weeks(0);
        assert_eq!(generate(&req).unwrap_err(), PlanError::ZeroWeeks);
        req.length = PlanLength::Weeks(60);
        assert!(matches!(generate(&req), Err(PlanError::PlanTooLong { .. })));
        // A silly VDOT in the history is ignored, not fatal.
        req.length = PlanLength::Weeks(8);
        req.history = Some(history(Level::Intermediate, 150.0, 25.0, Some(150.0)));
        assert_eq!(generate(&req).unwrap().vdot, None);
    }

    #[test]
    fn level_resolution() {
        let mut req = request(Goal::TenK, None, 4, PlanLength::Weeks(10));
        assert_eq!(resolve(&req).unwrap().level, Level::Beginner);
        req.vdot = Some(60.0);
        let r = resolve(&req).unwrap();
        assert_eq!(r.level, Level::Intermediate);
        assert!(r.level_reason.fr.contains("VDOT de 60,0"), "{}", r.level_reason.fr);
        req.level = Some(Level::Beginner);
        req.history = Some(history(Level::Advanced, 300.0, 55.0, None));
        let r = resolve(&req).unwrap();
        assert_eq!(r.level, Level::Beginner);
        assert!(r.level_reason.en.contains("respects your choice"));
        req.level = None;
        assert_eq!(resolve(&req).unwrap().level, Level::Advanced);
    }

    #[test]
    fn shared_numbers() {
        assert_eq!(taper_weeks(Goal::FiveK, 8), 1);
        assert_eq!(taper_weeks(Goal::Half, 12), 2);
        assert_eq!(taper_weeks(Goal::Marathon, 14), 2);
        assert_eq!(taper_weeks(Goal::Marathon, 18), 3);
        assert_eq!(taper_weeks(Goal::Fitness, 18), 0);
        assert!(min_start_minutes(6) < capacity_minutes(6));
        assert_eq!(history_start(1000.0, 2), 170.0);
        assert_eq!(history_start(10.0, 3), 95.0);
        assert_eq!(history_start(f64::NAN, 3), 95.0);
    }
}
