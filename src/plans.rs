//! The plans bridge: a runner's stored plan as the plan engine's [`Plan`], and back.
//!
//! Like [`crate::history`] for activities, this is the one place that reads and writes plans
//! through the store, so the chat, the agent's tools, the weekly summary and activity matching
//! all see a plan the same way. One policy for a stored plan document that no longer reads as a
//! [`Plan`] (written by an older version, edited by hand): it is logged and treated as no active
//! plan, everywhere. Nothing is deleted: the document stays in the store, and the runner's next
//! plan archives it like any other.

use tracing::instrument;

use crate::domain::UserId;
use crate::plan::{Plan, WorkoutStatus};
use crate::store::{NewPlan, NewPlannedWorkout, Store, StoreError, StoreResult, WorkoutRowStatus};

/// The runner's active plan with its id in the store.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivePlan {
    pub id: i64,
    pub plan: Plan,
}

/// The runner's active plan, if they have one that reads as a plan.
#[instrument(skip_all, fields(user = %user))]
pub async fn active(store: &dyn Store, user: UserId) -> StoreResult<Option<ActivePlan>> {
    let Some(stored) = store.active_plan(user).await? else {
        return Ok(None);
    };
    match serde_json::from_value::<Plan>(stored.plan) {
        Ok(plan) => Ok(Some(ActivePlan { id: stored.id, plan })),
        Err(e) => {
            tracing::warn!(plan = stored.id, error = %e, "the active plan does not read as a plan: treated as none");
            Ok(None)
        }
    }
}

/// Stores a new plan as the runner's active one (the previous one is archived); its id.
#[instrument(skip_all, fields(user = %user))]
pub async fn save_new(store: &dyn Store, user: UserId, plan: &Plan) -> StoreResult<i64> {
    store.save_plan(user, &record(plan)?).await
}

/// Replaces a stored plan with its adapted version (sessions done, moved, eased off).
#[instrument(skip_all, fields(user = %user))]
pub async fn update(store: &dyn Store, user: UserId, plan_id: i64, plan: &Plan) -> StoreResult<()> {
    store.update_plan(user, plan_id, &record(plan)?).await
}

/// Replaces a stored plan with what an automatic adaptation made of it, keeping `as_it_was` (the
/// plan without the adaptation) for the runner to choose instead.
#[instrument(skip_all, fields(user = %user))]
pub async fn adapt(
    store: &dyn Store,
    user: UserId,
    plan_id: i64,
    adapted: &Plan,
    as_it_was: &Plan,
    at: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    let kept = serde_json::to_value(as_it_was).map_err(StoreError::Encode)?;
    store.adapt_plan(user, plan_id, &record(adapted)?, &kept, at).await
}

/// What the store keeps of a plan: the document, the request it came from, one row per workout.
pub fn record(p: &Plan) -> StoreResult<NewPlan> {
    let to_json = |v: serde_json::Result<serde_json::Value>| v.map_err(StoreError::Encode);
    Ok(NewPlan {
        goal: p.goal,
        level: p.level,
        start_date: p.start_date,
        end_date: p.end_date(),
        race_date: p.race_date,
        sessions_per_week: i32::from(p.sessions_per_week),
        vdot: p.vdot,
        request: to_json(serde_json::to_value(&p.request))?,
        plan: to_json(serde_json::to_value(p))?,
        goal_id: None,
        workouts: p
            .weeks
            .iter()
            .flat_map(|week| week.workouts.iter().map(move |w| (week.index, w)))
            .map(|(index, w)| NewPlannedWorkout {
                week_index: i32::from(index),
                date: w.date,
                kind: w.kind.as_str().to_owned(),
                duration_min: f64::from(w.duration_min),
                distance_km: w.distance_km,
                pace_min_s: w.pace_s_per_km.map(|r| r.min.s_per_km()),
                pace_max_s: w.pace_s_per_km.map(|r| r.max.s_per_km()),
                hr_zone: w.hr_zone.map(i32::from),
                description_fr: w.description.fr.clone(),
                description_en: w.description.en.clone(),
                status: match w.status {
                    WorkoutStatus::Planned => WorkoutRowStatus::Planned,
                    WorkoutStatus::Done => WorkoutRowStatus::Done,
                    // The row keeps one "not done" state; the plan document tells them apart.
                    WorkoutStatus::Missed | WorkoutStatus::Skipped => WorkoutRowStatus::Skipped,
                    WorkoutStatus::Adjusted => WorkoutRowStatus::Moved,
                },
            })
            .collect(),
    })
}
