//! `runcoach week`: the week of a runner's active plan, each session with what became of it
//! (planned, done with the activity that ticked it off, missed, skipped, adjusted).

use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use runcoach_core::domain::UserId;
use runcoach_core::plan::WorkoutKind;
use runcoach_core::store::Store;
use runcoach_core::{i18n, plans, tracking};
use serde_json::json;

use crate::science_cmd::emit;

pub async fn run(store: &dyn Store, user: UserId, date: Option<NaiveDate>, as_json: bool) -> Result<ExitCode> {
    let runner = store.get_user(user).await?;
    let today = Utc::now().with_timezone(&runner.timezone.tz()).date_naive();
    // Days that ended since anyone looked are closed first, as the chat does.
    if let Some(yesterday) = today.pred_opt() {
        tracking::close_day(store, user, yesterday, Utc::now()).await.context("closing the past days")?;
    }
    let Some(active) = plans::active(store, user).await? else {
        eprintln!("runcoach week: this runner has no active plan (make one with `runcoach plan … --save` or /plan)");
        return Ok(ExitCode::from(2));
    };
    let day = date.unwrap_or(today);
    let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
    let sunday = monday + Duration::days(6);
    let activities =
        store.activities(user, monday.pred_opt().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())).await?;
    let lang = runner.lang;
    let sessions: Vec<_> = active
        .plan
        .workouts()
        .filter(|w| w.date >= monday && w.date <= sunday && w.kind != WorkoutKind::Rest)
        .map(|w| {
            let activity_id =
                w.completed.and_then(|c| activities.iter().find(|a| a.start_time == c.start)).map(|a| a.id);
            (w, activity_id)
        })
        .collect();
    if as_json {
        let doc = json!({
            "week_start": monday,
            "sessions": sessions.iter().map(|(w, activity_id)| json!({
                "date": w.date,
                "kind": w.kind.as_str(),
                "status": w.status.as_str(),
                "activity_id": activity_id,
                "duration_min": w.duration_min,
                "description": w.description.get(lang),
            })).collect::<Vec<_>>(),
        });
        emit(&format!("{doc}\n"));
        return Ok(ExitCode::SUCCESS);
    }
    emit(&format!("{} {monday}\n", lang.pick("Semaine du", "Week of")));
    if sessions.is_empty() {
        emit(lang.pick("  pas de séance cette semaine\n", "  no session this week\n"));
    }
    for (w, _) in &sessions {
        emit(&format!(
            "  {} {}  {:<9} {:>3} min  {}\n",
            i18n::weekday_short(lang, w.date.weekday()),
            w.date,
            w.status.as_str(),
            w.duration_min,
            w.description.get(lang)
        ));
    }
    Ok(ExitCode::SUCCESS)
}
