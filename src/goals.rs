//! A runner's goals with their progress, from the store and the history: the one place the chat,
//! the CLI and the weekly summary read goals from. A goal whose deadline passed is marked expired
//! (kept, as history); a race goal is measured against the current VDOT, a volume goal against
//! the running distance since it was set.

use chrono::NaiveDate;
use serde::Serialize;
use tracing::instrument;

use crate::domain::UserId;
use crate::goal::{self, GoalSpec, GoalTarget, Progress};
use crate::history;
use crate::i18n::{self, Lang};
use crate::plan::Plan;
use crate::plans;
use crate::science::{Vdot, format_duration, vdot_from_performance};
use crate::store::{GoalStatus, NewGoal, NewPlan, PlanStatus, Store, StoreResult};

/// A goal and how far it has come.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GoalView {
    pub id: i64,
    pub spec: GoalSpec,
    pub status: GoalStatus,
    /// The day it was set (a volume goal counts from there).
    pub start: NaiveDate,
    pub progress: Progress,
    /// The VDOT a race goal needs, and the current one.
    pub vdot_needed: Option<f64>,
    pub vdot_now: Option<f64>,
    /// The runner's active plan, when it was made for this goal.
    pub plan: Option<LinkedPlan>,
}

/// The active plan made for a race goal.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LinkedPlan {
    pub id: i64,
    pub end_date: NaiveDate,
}

/// Saves `plan` as the runner's active plan, made for their active race goal of the same distance
/// when they have one (the newest). The plan's id and the goal's.
#[instrument(skip_all, fields(user = %user))]
pub async fn save_plan(store: &dyn Store, user: UserId, plan: &Plan) -> StoreResult<(i64, Option<i64>)> {
    let goal_id = match plan.goal.race_distance() {
        Some(distance) => store
            .goals(user)
            .await?
            .iter()
            .filter(|g| g.status == GoalStatus::Active)
            .find(|g| {
                matches!(g.spec.target, GoalTarget::Race { distance_m, .. } if (distance_m - distance.metres()).abs() < 1.0)
            })
            .map(|g| g.id),
        None => None,
    };
    let record = NewPlan { goal_id, ..plans::record(plan)? };
    Ok((store.save_plan(user, &record).await?, goal_id))
}

#[instrument(skip_all, fields(user = %user))]
pub async fn add(store: &dyn Store, user: UserId, spec: GoalSpec) -> StoreResult<i64> {
    store.insert_goal(user, &NewGoal { spec, note: None }).await
}

/// The runner's goals (not the removed ones), active first, each with its progress on `today`.
#[instrument(skip_all, fields(user = %user))]
pub async fn list(store: &dyn Store, user: UserId, today: NaiveDate) -> StoreResult<Vec<GoalView>> {
    let records = store.goals(user).await?;
    if records.iter().all(|g| g.status == GoalStatus::Removed) {
        return Ok(Vec::new());
    }
    let (_, analysis) = history::analyze_user(store, user, today).await?;
    views_of(store, user, records, today, analysis.vdot.map(|v| v.vdot)).await
}

/// [`list`] for a caller that has just analysed the history (`/stats`): the runner's VDOT given.
#[instrument(skip_all, fields(user = %user))]
pub async fn list_with_vdot(
    store: &dyn Store,
    user: UserId,
    today: NaiveDate,
    vdot: Option<Vdot>,
) -> StoreResult<Vec<GoalView>> {
    let records = store.goals(user).await?;
    views_of(store, user, records, today, vdot).await
}

async fn views_of(
    store: &dyn Store,
    user: UserId,
    records: Vec<crate::store::GoalRecord>,
    today: NaiveDate,
    vdot: Option<Vdot>,
) -> StoreResult<Vec<GoalView>> {
    let mut views = Vec::new();
    let linked: Vec<(i64, LinkedPlan)> = store
        .plans(user)
        .await?
        .iter()
        .filter(|p| p.status == PlanStatus::Active)
        .filter_map(|p| Some((p.goal_id?, LinkedPlan { id: p.id, end_date: p.end_date })))
        .collect();
    for g in records.into_iter().filter(|g| g.status != GoalStatus::Removed) {
        let mut status = g.status;
        if status == GoalStatus::Active && g.spec.deadline.is_some_and(|d| d < today) {
            store.set_goal_status(user, g.id, GoalStatus::Expired).await?;
            status = GoalStatus::Expired;
        }
        let start = g.created_at.date_naive();
        let (progress, vdot_needed) = match g.spec.target {
            GoalTarget::Race { distance_m, time_s } => (
                goal::race_progress(distance_m, time_s, vdot),
                vdot_from_performance(distance_m, time_s).ok().map(|v| round1(v.value())),
            ),
            GoalTarget::Volume { km } => {
                let end = g.spec.deadline.or_else(|| goal::end_of_year(start));
                let since = start.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
                let last = end.map_or(today, |e| e.min(today));
                let so_far: f64 = store
                    .activities(user, since)
                    .await?
                    .iter()
                    .filter(|a| a.sport.is_running() && a.start_time.date_naive() <= last)
                    .filter_map(|a| a.distance_m)
                    .sum::<f64>()
                    / 1000.0;
                (goal::volume_progress(km, so_far, start, end, today), None)
            }
        };
        views.push(GoalView {
            id: g.id,
            spec: g.spec,
            status,
            start,
            progress,
            vdot_needed,
            vdot_now: vdot.map(|v| round1(v.value())),
            plan: linked.iter().find(|(goal, _)| *goal == g.id).map(|(_, p)| *p),
        });
    }
    views.sort_by_key(|v| (v.status != GoalStatus::Active, std::cmp::Reverse(v.id)));
    Ok(views)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// One goal in a few lines: what, by when, where it stands and what it takes.
#[must_use]
pub fn describe(v: &GoalView, today: NaiveDate, lang: Lang) -> String {
    let icon = match v.spec.target {
        GoalTarget::Race { .. } => "🏁",
        GoalTarget::Volume { .. } => "📈",
    };
    let by = v
        .spec
        .deadline
        .map(|d| format!(" — {} {}", lang.pick("pour le", "by"), i18n::date_short(lang, d)))
        .unwrap_or_default();
    let mut out = format!("{icon} #{} {}{by}", v.id, goal::describe(&v.spec.target, lang));
    if v.status == GoalStatus::Expired {
        out.push_str(lang.pick(" (échéance passée)", " (deadline passed)"));
    }
    let p = &v.progress;
    let line = match v.spec.target {
        GoalTarget::Race { .. } => match (p.current, v.vdot_now, p.on_track) {
            (Some(predicted), Some(now), Some(true)) => match lang {
                Lang::Fr => format!(
                    "Prédiction actuelle {} (VDOT {}) : objectif à ta portée ✅",
                    format_duration(predicted),
                    i18n::number(lang, now, 1)
                ),
                Lang::En => format!(
                    "Predicted now {} (VDOT {}): within reach ✅",
                    format_duration(predicted),
                    i18n::number(lang, now, 1)
                ),
            },
            (Some(predicted), Some(now), _) => {
                let gap = format_duration(predicted - p.target);
                let needed = v.vdot_needed.map(|n| i18n::number(lang, n, 1)).unwrap_or_default();
                match lang {
                    Lang::Fr => format!(
                        "Prédiction actuelle {} (VDOT {}) : {gap} à gagner, il faut une VDOT de {needed} ⏳",
                        format_duration(predicted),
                        i18n::number(lang, now, 1)
                    ),
                    Lang::En => format!(
                        "Predicted now {} (VDOT {}): {gap} to find, it takes a VDOT of {needed} ⏳",
                        format_duration(predicted),
                        i18n::number(lang, now, 1)
                    ),
                }
            }
            _ => lang
                .pick(
                    "Pas encore de VDOT : une course ou une sortie soutenue d'au moins 3 km me la donnera.",
                    "No VDOT yet: a race or a hard run of 3 km or more will give me one.",
                )
                .to_owned(),
        },
        GoalTarget::Volume { km } => {
            let so_far = p.current.unwrap_or(0.0);
            let head = match lang {
                Lang::Fr => format!(
                    "{} km courus, {} km attendus à ce jour",
                    i18n::number(lang, so_far, 1),
                    i18n::number(lang, p.target, 1)
                ),
                Lang::En => format!(
                    "{} km run, {} km due by today",
                    i18n::number(lang, so_far, 1),
                    i18n::number(lang, p.target, 1)
                ),
            };
            let end = v.spec.deadline.or_else(|| goal::end_of_year(v.start));
            let weeks_left = end.map(|e| ((e - today).num_days().max(0) as f64 / 7.0).max(1.0));
            match (p.on_track, weeks_left) {
                (Some(true), _) => format!("{head} ✅"),
                (_, Some(weeks)) => {
                    let per_week = ((km - so_far).max(0.0) / weeks).ceil();
                    match lang {
                        Lang::Fr => {
                            format!("{head} : {} km/semaine d'ici l'échéance ⏳", i18n::number(lang, per_week, 0))
                        }
                        Lang::En => format!("{head}: {} km/week from now on ⏳", i18n::number(lang, per_week, 0)),
                    }
                }
                _ => format!("{head} ⏳"),
            }
        }
    };
    out.push_str(&format!("\n   {line}"));
    if let Some(p) = v.plan {
        out.push_str(&match lang {
            Lang::Fr => {
                format!("\n   📅 Ton plan en cours le prépare, jusqu'au {} (/week)", i18n::date_short(lang, p.end_date))
            }
            Lang::En => {
                format!("\n   📅 Your current plan trains for it, until {} (/week)", i18n::date_short(lang, p.end_date))
            }
        });
    }
    out
}

/// The goals' section of `/goals`, `/stats` and the weekly summary; empty without goals.
#[must_use]
pub fn render(views: &[GoalView], today: NaiveDate, lang: Lang) -> String {
    views.iter().map(|v| describe(v, today, lang)).collect::<Vec<_>>().join("\n")
}

/// The active goals as a message of their own (the weekly summary's last part); `None` without.
#[instrument(skip_all, fields(user = %user))]
pub async fn section(store: &dyn Store, user: UserId, today: NaiveDate, lang: Lang) -> StoreResult<Option<String>> {
    let active: Vec<GoalView> =
        list(store, user, today).await?.into_iter().filter(|v| v.status == GoalStatus::Active).collect();
    Ok((!active.is_empty())
        .then(|| format!("{}\n{}", lang.pick("🎯 **Objectifs**", "🎯 **Goals**"), render(&active, today, lang))))
}
