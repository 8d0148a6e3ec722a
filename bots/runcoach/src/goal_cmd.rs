//! `runcoach goal add` and `runcoach goals`: a runner's goals from the command line (JSON with
//! `--json`, the same text as the chat without).

use std::process::ExitCode;

use anyhow::Result;
use chrono::{NaiveDate, Utc};
use runcoach_core::domain::UserId;
use runcoach_core::goal::{self, GoalTarget};
use runcoach_core::goals;
use runcoach_core::i18n::Lang;
use runcoach_core::science::RaceDistance;
use runcoach_core::store::Store;
use serde_json::{Value, json};

use crate::science_cmd::emit;

async fn today_of(store: &dyn Store, user: UserId) -> Result<(NaiveDate, Lang)> {
    let runner = store.get_user(user).await?;
    Ok((Utc::now().with_timezone(&runner.timezone.tz()).date_naive(), runner.lang))
}

/// `runcoach goal add --user NAME race 10k 50:00 [--by D]`: exit 2 with the reason when the goal
/// makes no sense.
pub async fn add(store: &dyn Store, user: UserId, target: &[String], by: Option<NaiveDate>) -> Result<ExitCode> {
    let (today, _) = today_of(store, user).await?;
    let text = match by {
        Some(d) => format!("{} by {d}", target.join(" ")),
        None => target.join(" "),
    };
    let spec = match goal::parse(&text, today) {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("runcoach goal: {} ({})", e.explain(Lang::En).lines().next().unwrap_or_default(), e.code());
            return Ok(ExitCode::from(2));
        }
    };
    let id = goals::add(store, user, spec).await?;
    emit(&format!("{}\n", json!({ "id": id, "kind": spec.target.kind() })));
    Ok(ExitCode::SUCCESS)
}

/// "5k", "10k", "half", "marathon", or kilometres ("15k").
fn distance_name(metres: f64) -> String {
    [RaceDistance::FiveK, RaceDistance::TenK, RaceDistance::Half, RaceDistance::Marathon]
        .into_iter()
        .zip(["5k", "10k", "half", "marathon"])
        .find(|(d, _)| (d.metres() - metres).abs() < 1.0)
        .map_or_else(|| format!("{}k", metres / 1000.0), |(_, name)| name.to_owned())
}

pub async fn list(store: &dyn Store, user: UserId, as_json: bool, lang: Option<Lang>) -> Result<ExitCode> {
    let (today, own) = today_of(store, user).await?;
    let views = goals::list(store, user, today).await?;
    if as_json {
        let doc: Vec<Value> = views
            .iter()
            .map(|v| {
                let target = match v.spec.target {
                    GoalTarget::Race { distance_m, time_s } => {
                        json!({ "distance": distance_name(distance_m), "time_s": time_s.round() })
                    }
                    GoalTarget::Volume { km } => json!({ "km": km }),
                };
                json!({
                    "id": v.id,
                    "kind": v.spec.target.kind(),
                    "target": target,
                    "deadline": v.spec.deadline,
                    "status": v.status.as_str(),
                    "plan_id": v.plan.map(|p| p.id),
                    "progress": {
                        "current": v.progress.current,
                        "target": v.progress.target,
                        "pct": v.progress.pct,
                        "on_track": v.progress.on_track,
                    },
                })
            })
            .collect();
        emit(&format!("{}\n", Value::Array(doc)));
        return Ok(ExitCode::SUCCESS);
    }
    let lang = lang.unwrap_or(own);
    if views.is_empty() {
        emit(lang.pick("Pas encore d'objectif.\n", "No goal yet.\n"));
    } else {
        emit(&format!("{}\n", goals::render(&views, today, lang)));
    }
    Ok(ExitCode::SUCCESS)
}
