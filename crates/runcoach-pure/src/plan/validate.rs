//! The plan validator: every rule a plan must satisfy before it is shown.
//! Volume rules use each week's training minutes (running, race excluded).

use super::request::{history_start, resolve, taper_weeks};
use super::workouts::PaceTable;
use super::{Level, Phase, Plan, PlanLength, PlanRequest, PlanWeek, WorkoutKind, WorkoutStatus};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The request itself is invalid.
    Request,
    /// Goal, level, sessions, dates or VDOT differ from the request.
    Header,
    WeekCount,
    /// Week indices, dates inside their week, totals.
    Structure,
    SessionsPerWeek,
    Growth,
    Cutback,
    Taper,
    LongRun,
    HardSessions,
    HardConsecutive,
    FirstWeekVolume,
    Pace,
    Race,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: Rule,
    pub week: Option<u16>,
    pub date: Option<NaiveDate>,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.rule)?;
        if let Some(w) = self.week {
            write!(f, " (week {w})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Growth allowed week over week (the "10 % rule"; weak evidence, but a sane
/// ceiling together with the cutbacks). The generator and the adaptation engine build under it.
pub(crate) const MAX_GROWTH: f64 = 1.10;

/// A reduction (cutback) week holds at most this share of the week before it.
pub(crate) const REDUCTION_MAX_SHARE: f64 = 0.85;

/// Whether week `j` of the weekly volumes `v` is a reduction week. The validator owns this
/// definition: the generator and the adaptation engine use it to build plans that pass.
pub(crate) fn is_reduction(v: &[f64], j: usize) -> bool {
    match (j.checked_sub(1).and_then(|p| v.get(p)), v.get(j)) {
        (Some(prev), Some(cur)) => *cur <= REDUCTION_MAX_SHARE * prev + EPS,
        _ => false,
    }
}

/// Volume of the last week before the run of reduction weeks that ends at `j`.
pub(crate) fn reference_before(v: &[f64], j: usize) -> f64 {
    let mut r = j;
    while r > 0 && is_reduction(v, r) {
        r -= 1;
    }
    v.get(r).copied().unwrap_or(0.0)
}

/// A week changed by an adaptation (missed or eased sessions). Minimum-volume
/// rules (taper floor, long-run share of a week that shrank around it, week 1
/// vs history) describe how a plan is *built*; when the runner is ill or misses
/// runs, doing less is right, so those rules are not applied to such weeks.
/// Every upper bound still is.
fn adapted(w: &PlanWeek) -> bool {
    w.workouts
        .iter()
        .any(|x| matches!(x.status, WorkoutStatus::Adjusted | WorkoutStatus::Missed | WorkoutStatus::Skipped))
}
const EPS: f64 = 1e-9;

/// Checks `plan` against every rule for `req`:
/// number of weeks (or whole weeks up to the race date) and of running sessions
/// per week (race week may have fewer); week-over-week growth ≤ 10 % except when
/// returning from a reduction week (then ≤ 10 % over the week before it); in
/// plans longer than 6 weeks, a reduction week (≤ 85 % of the previous one) in
/// every 4 consecutive weeks; for race goals a taper (1 week for 5K/10K, 2 for the
/// half, 2–3 for the marathon) whose weeks before race week hold 40–80 % of the
/// peak, and a race week whose other runs hold at most 60 % of it (the race itself
/// is that week's key load); long run ≤ 35 % of the week with ≥ 4 sessions (≤ 50 %
/// with 2–3) and ≤ 180 min; at most 2 hard sessions a week (1 for beginners), never
/// on consecutive days; week 1 within ±20 % of the recent weekly average (clamped to
/// what the sessions can hold) when history exists (minimum-volume rules are not
/// applied to weeks changed by an adaptation, see `adapted`); paces equal to the Daniels
/// paces of the VDOT (none without one); the race as the last workout, on race day.
pub fn validate(plan: &Plan, req: &PlanRequest) -> Result<(), Vec<Violation>> {
    let mut out = Vec::new();
    let mut add = |rule: Rule, week: Option<u16>, date: Option<NaiveDate>, message: String| {
        out.push(Violation { rule, week, date, message });
    };
    let r = match resolve(req) {
        Ok(r) => r,
        Err(e) => {
            add(Rule::Request, None, None, e.to_string());
            return Err(out);
        }
    };
    let s = usize::from(r.sessions);
    let n = plan.weeks.len();

    // Header.
    if plan.goal != r.goal {
        add(Rule::Header, None, None, format!("goal {} instead of {}", plan.goal, r.goal));
    }
    if plan.level != r.level {
        add(Rule::Header, None, None, format!("level {:?} instead of {:?}", plan.level, r.level));
    }
    if plan.sessions_per_week != r.sessions {
        add(Rule::Header, None, None, format!("{} sessions/week instead of {}", plan.sessions_per_week, r.sessions));
    }
    if plan.start_date != r.plan_start {
        add(Rule::Header, None, None, format!("starts {} instead of {}", plan.start_date, r.plan_start));
    }
    if plan.race_date != r.race_date {
        add(Rule::Header, None, None, format!("race date {:?} instead of {:?}", plan.race_date, r.race_date));
    }
    let vdot_ok = match (plan.vdot, r.vdot) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b.value()).abs() < 0.05,
        _ => false,
    };
    if !vdot_ok {
        add(Rule::Header, None, None, format!("VDOT {:?} does not match the request", plan.vdot));
    }

    // Weeks and structure.
    if n != r.weeks {
        let what = match req.length {
            PlanLength::Weeks(w) => format!("{w} weeks requested"),
            PlanLength::RaceDate(d) => format!("{} whole weeks up to {d}", r.weeks),
        };
        add(Rule::WeekCount, None, None, format!("{n} weeks planned, {what}"));
    }
    let mut last_date: Option<NaiveDate> = None;
    for (i, w) in plan.weeks.iter().enumerate() {
        let wk = Some(w.index);
        if usize::from(w.index) != i + 1 {
            add(Rule::Structure, wk, None, format!("week at position {} has index {}", i + 1, w.index));
        }
        let ws = r.plan_start + Duration::weeks(i as i64);
        let we = ws + Duration::days(6);
        let mut run_days: Vec<NaiveDate> = Vec::new();
        for x in &w.workouts {
            if x.date < ws || x.date > we {
                add(Rule::Structure, wk, Some(x.date), format!("workout on {} outside its week {ws}–{we}", x.date));
            }
            if last_date.is_some_and(|d| x.date < d) {
                add(Rule::Structure, wk, Some(x.date), "workouts are not in date order".into());
            }
            last_date = Some(x.date);
            if x.kind.is_running() {
                if x.duration_min == 0 {
                    add(Rule::Structure, wk, Some(x.date), "running workout of 0 minutes".into());
                }
                if run_days.contains(&x.date) {
                    add(Rule::Structure, wk, Some(x.date), "two running sessions on the same day".into());
                }
                run_days.push(x.date);
            }
        }
        let sum: u32 = w.workouts.iter().filter(|x| x.kind.is_running()).map(|x| x.duration_min).sum();
        if sum != w.planned_minutes {
            add(
                Rule::Structure,
                wk,
                None,
                format!("planned_minutes {} but workouts add up to {sum}", w.planned_minutes),
            );
        }
        let is_race_week = r.event_date.is_some() && i + 1 == r.weeks;
        let count = w.running_sessions();
        if (is_race_week && !(1..=s).contains(&count)) || (!is_race_week && count != s) {
            add(Rule::SessionsPerWeek, wk, None, format!("{count} running sessions, {s} requested"));
        }
    }

    // Volume rules on training minutes.
    let tm: Vec<f64> = plan.weeks.iter().map(|w| f64::from(w.training_minutes())).collect();
    let week_no = |i: usize| Some(i as u16 + 1);
    for (i, pair) in tm.windows(2).enumerate() {
        if let [prev, cur] = pair
            && *cur > MAX_GROWTH * prev + EPS
        {
            let ok = is_reduction(&tm, i) && *cur <= MAX_GROWTH * reference_before(&tm, i) + EPS;
            if !ok {
                add(
                    Rule::Growth,
                    week_no(i + 1),
                    None,
                    format!("volume up {:.0} % ({prev} → {cur} min)", (cur / prev - 1.0) * 100.0),
                );
            }
        }
    }
    if n > 6 {
        for start in 0..=n - 4 {
            if !(start..start + 4).any(|j| is_reduction(&tm, j)) {
                add(
                    Rule::Cutback,
                    week_no(start),
                    None,
                    format!(
                        "no cutback week (≤ {:.0} % of the previous) in weeks {}–{}",
                        REDUCTION_MAX_SHARE * 100.0,
                        start + 1,
                        start + 4
                    ),
                );
            }
        }
    }
    if r.goal.is_race() {
        let t = taper_weeks(r.goal, n);
        let pre = n.saturating_sub(t);
        let peak = tm.iter().take(pre).copied().fold(0.0, f64::max);
        for (i, w) in plan.weeks.iter().enumerate().skip(pre) {
            let x = tm.get(i).copied().unwrap_or(0.0);
            if w.phase != Phase::Taper {
                add(Rule::Taper, week_no(i), None, format!("week should be a taper week, is {:?}", w.phase));
            }
            if i + 1 == n {
                if x > 0.6 * peak + EPS {
                    add(
                        Rule::Taper,
                        week_no(i),
                        None,
                        format!("race week runs {x} min, over 60 % of the {peak} min peak"),
                    );
                }
            } else if (x < 0.4 * peak - EPS && !adapted(w)) || x > 0.8 * peak + EPS {
                add(
                    Rule::Taper,
                    week_no(i),
                    None,
                    format!("taper week at {:.0} % of the peak (must be 40–80 %)", x / peak * 100.0),
                );
            }
        }
    }

    // Long run, hard sessions.
    let long_share = if s >= 4 { 0.35 } else { 0.50 };
    let max_hard = if plan.level == Level::Beginner { 1 } else { 2 };
    let mut hard_dates: Vec<NaiveDate> = Vec::new();
    for (i, w) in plan.weeks.iter().enumerate() {
        let week_min = tm.get(i).copied().unwrap_or(0.0);
        for x in w.workouts.iter().filter(|x| x.kind == WorkoutKind::Long) {
            let d = f64::from(x.duration_min);
            if x.duration_min > 180 {
                add(Rule::LongRun, week_no(i), Some(x.date), format!("long run of {} min (max 180)", x.duration_min));
            }
            if d > long_share * week_min + EPS && !adapted(w) {
                add(
                    Rule::LongRun,
                    week_no(i),
                    Some(x.date),
                    format!("long run is {:.0} % of the week (max {:.0} %)", d / week_min * 100.0, long_share * 100.0),
                );
            }
        }
        let hard: Vec<NaiveDate> = w.workouts.iter().filter(|x| x.kind.is_hard()).map(|x| x.date).collect();
        if hard.len() > max_hard {
            add(Rule::HardSessions, week_no(i), None, format!("{} hard sessions (max {max_hard})", hard.len()));
        }
        hard_dates.extend(hard);
    }
    hard_dates.sort();
    for pair in hard_dates.windows(2) {
        if let [a, b] = pair
            && (*b - *a).num_days() <= 1
        {
            add(Rule::HardConsecutive, None, Some(*b), format!("hard sessions on consecutive days {a} and {b}"));
        }
    }

    // First week vs history (as generated).
    if let (Some(h), Some(first), false) = (req.history.as_ref(), tm.first(), plan.weeks.first().is_some_and(adapted)) {
        let target = history_start(h.recent_weekly_minutes, r.sessions);
        if *first < 0.8 * target - EPS || *first > 1.2 * target + EPS {
            add(
                Rule::FirstWeekVolume,
                Some(1),
                None,
                format!("week 1 has {first} min, recent average is {target:.0} min (±20 %)"),
            );
        }
    }

    // Paces.
    let table = r.vdot.and_then(|v| PaceTable::new(r.goal, v, r.target.and_then(|t| t.pace_time_s)));
    for x in plan.workouts() {
        let want = table.and_then(|t| t.for_kind(x.kind, r.goal));
        let ok = match (x.pace_s_per_km, want) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                (a.min.s_per_km() - b.min.s_per_km()).abs() < 0.51 && (a.max.s_per_km() - b.max.s_per_km()).abs() < 0.51
            }
            _ => false,
        };
        if !ok {
            add(
                Rule::Pace,
                None,
                Some(x.date),
                format!("{} pace {:?} does not match the VDOT paces {:?}", x.kind.as_str(), x.pace_s_per_km, want),
            );
        }
    }

    // Race.
    let races: Vec<NaiveDate> = plan.workouts().filter(|x| x.kind == WorkoutKind::Race).map(|x| x.date).collect();
    match r.event_date {
        Some(event) => {
            if races != [event] {
                add(Rule::Race, None, None, format!("expected one race on {event}, found {races:?}"));
            }
            if plan.workouts().any(|x| x.date > event || (x.date == event && x.kind != WorkoutKind::Race)) {
                add(Rule::Race, None, Some(event), "the race must be the last workout".into());
            }
        }
        None => {
            if !races.is_empty() {
                add(Rule::Race, None, None, format!("no race expected for goal {}, found {races:?}", r.goal));
            }
        }
    }

    if out.is_empty() { Ok(()) } else { Err(out) }
}
