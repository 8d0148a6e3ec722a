//! `runcoach activities` and `runcoach activity`: a runner's activities from the command line,
//! newest first (JSON with `--json`). Another runner's id reads as not found (exit 2).

use std::process::ExitCode;

use anyhow::Result;
use runcoach_core::domain::UserId;
use runcoach_core::store::{ActivityRecord, Store};
use serde_json::{Value, json};

use crate::science_cmd::emit;

fn pace_s_per_km(distance_m: Option<f64>, seconds: f64) -> Option<f64> {
    let km = distance_m? / 1000.0;
    (km > 0.2).then(|| (seconds / km).round())
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

fn summary(a: &ActivityRecord, laps: usize) -> Value {
    json!({
        "id": a.id,
        "start": a.start_time,
        "sport": a.sport.as_str(),
        "distance_km": a.distance_m.map(|d| round(d / 1000.0, 2)),
        "duration_min": round(a.duration_s / 60.0, 1),
        "pace_s_per_km": pace_s_per_km(a.distance_m, a.moving_s.unwrap_or(a.duration_s)),
        "hr_avg": a.avg_hr.map(f64::round),
        "laps": laps,
    })
}

fn line(a: &ActivityRecord) -> String {
    let km = a.distance_m.map_or("–".to_owned(), |d| format!("{:.2} km", d / 1000.0));
    let pace = pace_s_per_km(a.distance_m, a.moving_s.unwrap_or(a.duration_s))
        .map(|p| format!("  {}:{:02} /km", p as i64 / 60, p as i64 % 60))
        .unwrap_or_default();
    let hr = a.avg_hr.map(|h| format!("  HR {h:.0}")).unwrap_or_default();
    format!(
        "#{:<5} {}  {:<9} {km:>9}  {}{pace}{hr}",
        a.id,
        a.start_time.format("%Y-%m-%d %H:%M"),
        a.sport.as_str(),
        runcoach_core::science::format_duration(a.duration_s)
    )
}

pub async fn list(store: &dyn Store, user: UserId, limit: Option<i64>, as_json: bool) -> Result<ExitCode> {
    let items = store.recent_activities(user, limit.unwrap_or(20).clamp(1, 1000)).await?;
    if as_json {
        let mut doc = Vec::with_capacity(items.len());
        for a in &items {
            doc.push(summary(a, store.activity_laps(user, a.id).await?.len()));
        }
        emit(&format!("{}\n", Value::Array(doc)));
    } else if items.is_empty() {
        emit("no activity yet\n");
    } else {
        for a in &items {
            emit(&format!("{}\n", line(a)));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn show(store: &dyn Store, user: UserId, id: i64, as_json: bool) -> Result<ExitCode> {
    let Some(a) = store.activity(user, id).await? else {
        eprintln!("runcoach activity: this runner has no activity {id} (runcoach activities lists them)");
        return Ok(ExitCode::from(2));
    };
    let laps = store.activity_laps(user, id).await?;
    let samples = store.activity_samples(user, id).await?.map_or(0, |s| s.points.len());
    if as_json {
        let Value::Object(mut doc) = summary(&a, laps.len()) else {
            anyhow::bail!("an activity summary is a JSON object");
        };
        let laps: Value = laps
            .iter()
            .enumerate()
            .map(|(i, l)| {
                json!({
                    "index": i + 1,
                    "distance_km": l.distance_m.map(|d| round(d / 1000.0, 3)),
                    "duration_s": round(l.duration_s, 1),
                    "pace_s_per_km": pace_s_per_km(l.distance_m, l.duration_s),
                    "hr_avg": l.avg_hr.map(f64::round),
                })
            })
            .collect();
        doc.insert("laps".into(), laps);
        doc.insert("hr_zones_s".into(), json!(a.hr_zones_s));
        doc.insert("elevation_gain_m".into(), json!(a.elevation_gain_m));
        doc.insert("samples".into(), json!(samples));
        emit(&format!("{}\n", Value::Object(doc)));
        return Ok(ExitCode::SUCCESS);
    }
    emit(&format!("{}\n", line(&a)));
    for (i, l) in laps.iter().enumerate() {
        let km = l.distance_m.map_or("–".to_owned(), |d| format!("{:.2} km", d / 1000.0));
        emit(&format!("  lap {:>2}  {km:>9}  {}\n", i + 1, runcoach_core::science::format_duration(l.duration_s)));
    }
    emit(&format!("  {samples} samples\n"));
    Ok(ExitCode::SUCCESS)
}
