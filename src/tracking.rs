//! Plan tracking: the loop plan → run → match → adapt, whatever brought the run.
//!
//! One rule for every way an activity arrives (a Garmin sync, a file in the chat, `runcoach
//! import`): after activities are stored, [`tick_off`] matches the stored runs the plan has not
//! used yet with its sessions (same day ± 1, closest duration; [`plan::match_activities`]). It
//! reads the store, not the caller's list, so a sync that failed midway is caught up by the next
//! one and nothing is matched twice. At the end of a runner's day, [`close_day`] marks the
//! sessions nobody ran *missed*; a missed key session re-plans the rest through the adaptation
//! engine.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use tracing::instrument;

use crate::domain::UserId;
use crate::i18n::{self, Lang};
use crate::message::{Button, Reply};
use crate::plan::{self, Plan, WorkoutKind, WorkoutStatus};
use crate::science::Bilingual;
use crate::store::{Store, StoreResult};
use crate::{history, plans};

/// A session a run ticked off.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ticked {
    pub date: NaiveDate,
    pub kind: WorkoutKind,
    pub activity_start: DateTime<Utc>,
}

/// What the end of a day changed in the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayClosed {
    /// The sessions marked missed (their day ended without a matching run).
    pub missed: Vec<Missed>,
    /// What the adaptation engine changed, when a key session was missed.
    pub note: Option<Bilingual>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Missed {
    pub date: NaiveDate,
    pub kind: WorkoutKind,
    pub duration_min: u32,
}

/// Runs stored before a plan's first day (a day of slack for time zones) never tick it off.
fn window_start(p: &Plan) -> Option<DateTime<Utc>> {
    (p.start_date - Duration::days(2)).and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

/// Matches the runner's stored runs that the active plan has not used yet with its sessions,
/// and stores the plan when one was ticked off. The sessions ticked off, oldest first.
#[instrument(skip_all, fields(user = %user))]
pub async fn tick_off(store: &dyn Store, user: UserId) -> StoreResult<Vec<Ticked>> {
    let Some(mut active) = plans::active(store, user).await? else {
        return Ok(Vec::new());
    };
    let used: HashSet<DateTime<Utc>> = active.plan.workouts().filter_map(|w| w.completed.map(|c| c.start)).collect();
    let runs: Vec<_> = store
        .activities(user, window_start(&active.plan))
        .await?
        .iter()
        .map(history::activity_input)
        .filter(|a| a.kind.is_running() && !used.contains(&a.start))
        .collect();
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let report = plan::match_activities(&mut active.plan, &runs, 1);
    if report.matched.is_empty() {
        return Ok(Vec::new());
    }
    plans::update(store, user, active.id, &active.plan).await?;
    let mut ticked: Vec<Ticked> = report
        .matched
        .iter()
        .filter_map(|m| {
            let w = active.plan.workouts().find(|w| w.completed.is_some_and(|c| c.start == m.activity_start))?;
            Some(Ticked { date: w.date, kind: w.kind, activity_start: m.activity_start })
        })
        .collect();
    ticked.sort_by_key(|t| t.date);
    Ok(ticked)
}

/// Ends `date` for the runner: late runs are matched first, then every running session up to
/// that day that is neither done nor dropped is marked missed. A missed key session (quality or
/// long run) re-plans the rest of the plan; the engine's note says what changed. `None` when
/// nothing changed. Running it twice for a day changes nothing the second time.
#[instrument(skip_all, fields(user = %user, %date))]
pub async fn close_day(
    store: &dyn Store,
    user: UserId,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> StoreResult<Option<DayClosed>> {
    tick_off(store, user).await?;
    let Some(active) = plans::active(store, user).await? else {
        return Ok(None);
    };
    let missed: Vec<Missed> = active
        .plan
        .workouts()
        .filter(|w| {
            w.date <= date
                && w.kind.is_running()
                && w.completed.is_none()
                && matches!(w.status, WorkoutStatus::Planned | WorkoutStatus::Adjusted)
        })
        .map(|w| Missed { date: w.date, kind: w.kind, duration_min: w.duration_min })
        .collect();
    if missed.is_empty() {
        return Ok(None);
    }
    let dates: Vec<NaiveDate> = missed.iter().map(|m| m.date).collect();
    let key = missed.iter().any(|m| m.kind.is_hard() || m.kind == WorkoutKind::Long);
    let replan = if key { plan::replan_after_missed(&active.plan, date, &dates).ok() } else { None };
    // The plan as it was: the same sessions, the missed ones marked missed.
    let mut as_it_was = active.plan.clone();
    for w in as_it_was.weeks.iter_mut().flat_map(|wk| wk.workouts.iter_mut()) {
        if dates.contains(&w.date) && w.kind.is_running() && w.completed.is_none() {
            w.status = WorkoutStatus::Missed;
        }
    }
    let note = match replan {
        Some(r) => {
            plans::adapt(store, user, active.id, &r.plan, &as_it_was, now).await?;
            Some(r.note)
        }
        None => {
            plans::update(store, user, active.id, &as_it_was).await?;
            None
        }
    };
    Ok(Some(DayClosed { missed, note }))
}

/// The button that keeps the plan as it was before an automatic adaptation.
pub const KEEP_BUTTON: &str = "plan:keep";

/// How long after an adaptation the runner may still keep the plan as it was: after a week the
/// weeks it would bring back have moved on.
pub const KEEP_FOR: Duration = Duration::days(7);

/// The button offered under an adaptation's note.
#[must_use]
pub fn keep_button(lang: Lang) -> Button {
    Button::new(lang.pick("↩️ Garder le plan tel quel", "↩️ Keep the plan as it was"), KEEP_BUTTON)
}

/// What pressing [`KEEP_BUTTON`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Kept {
    /// The plan as it was is back (runs since then ticked off again).
    Restored(Box<Plan>),
    /// Nothing to go back to: no adaptation kept one, it was used, or the plan was replaced.
    Nothing,
    /// The adaptation is older than [`KEEP_FOR`].
    TooLate,
}

/// Puts back the runner's active plan as it was before its last automatic adaptation.
#[instrument(skip_all, fields(user = %user))]
pub async fn keep_as_it_was(store: &dyn Store, user: UserId, now: DateTime<Utc>) -> StoreResult<Kept> {
    let Some(active) = plans::active(store, user).await? else {
        return Ok(Kept::Nothing);
    };
    let Some((value, adapted_at)) = store.take_plan_as_it_was(user, active.id).await? else {
        return Ok(Kept::Nothing);
    };
    if now - adapted_at > KEEP_FOR {
        return Ok(Kept::TooLate);
    }
    let Ok(plan) = serde_json::from_value::<Plan>(value) else {
        tracing::warn!(plan = active.id, "the kept plan does not read as a plan: not restored");
        return Ok(Kept::Nothing);
    };
    plans::update(store, user, active.id, &plan).await?;
    // Runs that ticked off sessions of the adapted plan tick off this one.
    tick_off(store, user).await?;
    let restored = plans::active(store, user).await?.map_or(plan, |a| a.plan);
    Ok(Kept::Restored(Box::new(restored)))
}

fn session_name(kind: WorkoutKind, lang: Lang) -> String {
    kind.label().get(lang).to_lowercase()
}

/// One line per session ticked off: "✅ Done, Tue 1 Dec: easy" / "✅ Séance validée, mar. 01/12 :
/// footing".
#[must_use]
pub fn ticked_lines(ticked: &[Ticked], lang: Lang) -> Vec<String> {
    ticked
        .iter()
        .map(|t| {
            let day = i18n::date_short(lang, t.date);
            match lang {
                Lang::Fr => format!("✅ Séance validée, {day} : {}", session_name(t.kind, lang)),
                Lang::En => format!("✅ Done, {day}: {}", session_name(t.kind, lang)),
            }
        })
        .collect()
}

/// [`day_closed_text`] as a message, with the button that keeps the plan as it was when the
/// plan was adapted.
#[must_use]
pub fn day_closed_reply(closed: &DayClosed, lang: Lang) -> Reply {
    let reply = Reply::text(day_closed_text(closed, lang));
    if closed.note.is_some() { reply.with_buttons(vec![vec![keep_button(lang)]]) } else { reply }
}

/// The message for a closed day: the missed sessions, and what the plan became.
#[must_use]
pub fn day_closed_text(closed: &DayClosed, lang: Lang) -> String {
    let mut lines: Vec<String> = closed
        .missed
        .iter()
        .map(|m| {
            let day = i18n::date_short(lang, m.date);
            match lang {
                Lang::Fr => {
                    format!("❌ Séance manquée, {day} : {} ({} min)", session_name(m.kind, lang), m.duration_min)
                }
                Lang::En => format!("❌ Missed, {day}: {} ({} min)", session_name(m.kind, lang), m.duration_min),
            }
        })
        .collect();
    match &closed.note {
        Some(note) => lines.push(format!("\n🔧 {}", note.get(lang))),
        None => lines.push(
            lang.pick(
                "\nPas de rattrapage : on reprend le plan là où il en est. /week pour la semaine.",
                "\nNo need to make it up: the plan carries on from here. /week for the week.",
            )
            .to_owned(),
        ),
    }
    lines.join("\n")
}
