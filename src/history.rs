//! The bridge between what the store keeps and what the science reads: stored activities and
//! profiles become [`ActivityInput`] and [`RunnerProfile`], and a runner's history is analysed.

use chrono::{Datelike, NaiveDate};

use crate::domain::{Sex, User, UserId};
use crate::science::{self, ActivityInput, HistoryAnalysis, RunnerProfile};
use crate::store::{ActivityRecord, NewActivity, Store, StoreResult};

/// The science's view of a stored activity.
#[must_use]
pub fn activity_input(r: &ActivityRecord) -> ActivityInput {
    ActivityInput {
        start: r.start_time,
        kind: r.sport,
        duration_s: r.duration_s,
        moving_s: r.moving_s,
        distance_m: r.distance_m.unwrap_or(0.0),
        avg_hr: r.avg_hr,
        max_hr: r.max_hr,
        device_load: r.training_load,
        hr_zone_s: zones(r.hr_zones_s.as_deref()),
        fastest_1000_s: fastest_1000(r.best_efforts.as_ref()),
        elevation_gain_m: r.elevation_gain_m,
    }
}

/// The science's view of an activity about to be stored (a fresh import).
#[must_use]
pub fn new_activity_input(a: &NewActivity) -> ActivityInput {
    ActivityInput {
        start: a.start_time,
        kind: a.sport,
        duration_s: a.duration_s,
        moving_s: a.moving_s,
        distance_m: a.distance_m.unwrap_or(0.0),
        avg_hr: a.avg_hr,
        max_hr: a.max_hr,
        device_load: a.training_load,
        hr_zone_s: zones(a.hr_zones_s.as_deref()),
        fastest_1000_s: fastest_1000(a.best_efforts.as_ref()),
        elevation_gain_m: a.elevation_gain_m,
    }
}

fn zones(z: Option<&[f64]>) -> Option<[f64; 5]> {
    z.and_then(|z| <[f64; 5]>::try_from(z).ok())
}

fn fastest_1000(best: Option<&serde_json::Value>) -> Option<f64> {
    best.and_then(|b| b.get("1000")).and_then(serde_json::Value::as_f64)
}

/// The science's view of a runner's profile in `year`.
#[must_use]
pub fn runner_profile(user: &User, year: i32) -> RunnerProfile {
    let p = &user.profile;
    RunnerProfile {
        age: p.birth_year.and_then(|b| u8::try_from(b.age_in(year)).ok()),
        sex: p.sex.and_then(|s| match s {
            Sex::Female => Some(science::Sex::Female),
            Sex::Male => Some(science::Sex::Male),
            Sex::Other => None,
        }),
        max_hr: p.max_hr.map(|h| f64::from(h.bpm())),
        resting_hr: p.resting_hr.map(|h| f64::from(h.bpm())),
        six_minute_test_m: None,
    }
}

/// Analyses everything stored for a runner, as of `today`.
pub async fn analyze_user(store: &dyn Store, id: UserId, today: NaiveDate) -> StoreResult<(User, HistoryAnalysis)> {
    let user = store.get_user(id).await?;
    let inputs: Vec<ActivityInput> = store.activities(id, None).await?.iter().map(activity_input).collect();
    let analysis = science::analyze(&inputs, &runner_profile(&user, today.year()), today);
    Ok((user, analysis))
}

/// Analyses a runner's stored history, optionally only the last `days` days.
pub async fn analyze_user_since(
    store: &dyn Store,
    id: UserId,
    today: NaiveDate,
    days: Option<u32>,
) -> StoreResult<(User, HistoryAnalysis)> {
    let user = store.get_user(id).await?;
    let since =
        days.and_then(|d| (today - chrono::Duration::days(i64::from(d) - 1)).and_hms_opt(0, 0, 0)).map(|t| t.and_utc());
    let inputs: Vec<ActivityInput> = store.activities(id, since).await?.iter().map(activity_input).collect();
    let analysis = science::analyze(&inputs, &runner_profile(&user, today.year()), today);
    Ok((user, analysis))
}

/// The `runcoach stats --json` document (a published contract: keep the keys).
#[must_use]
pub fn stats_json(a: &HistoryAnalysis) -> serde_json::Value {
    use crate::science::RaceDistance;
    let round = |v: f64, d: i32| {
        let f = 10f64.powi(d);
        (v * f).round() / f
    };
    let predictions = (!a.predictions.is_empty()).then(|| {
        let mut m = serde_json::Map::new();
        for p in &a.predictions {
            let key = match p.distance {
                RaceDistance::FiveK => "5k",
                RaceDistance::TenK => "10k",
                RaceDistance::Half => "half",
                RaceDistance::Marathon => "marathon",
                RaceDistance::Metres(_) => continue,
            };
            m.insert(key.to_owned(), serde_json::json!(p.time_s.round()));
        }
        serde_json::Value::Object(m)
    });
    let weekly: Vec<f64> = a.weekly.iter().rev().take(4).rev().map(|w| round(w.km, 2)).collect();
    serde_json::json!({
        "activities": a.activity_count,
        "runs": a.run_count,
        "run_distance_km_avg": round(a.avg_run_km, 2),
        "run_duration_min_avg": round(a.avg_run_min, 1),
        "run_distance_km_max": round(a.max_run_km, 2),
        "run_hr_avg": a.avg_hr.map(|h| round(h, 0)),
        "weekly_km_last_4": weekly,
        "vdot": a.vdot.as_ref().map(|v| round(v.vdot.value(), 1)),
        "predictions_s": predictions,
        "load_7d": round(a.load_7d, 1),
        "load_28d": round(a.load_28d, 1),
        "acwr": a.acwr.map(|x| round(x, 2)),
        "level": a.level.level.label_en(),
        "fitness": {
            "ctl": round(a.fitness.ctl, 1),
            "atl": round(a.fitness.atl, 1),
            "tsb": round(a.fitness.tsb, 1),
        },
        "hr_zones": a.hr_zones.as_ref().map(|z| serde_json::json!({
            "method": serde_json::to_value(z.method).unwrap_or_default(),
            "max_hr": round(z.max_hr, 0),
            "resting_hr": z.resting_hr.map(|r| round(r, 0)),
            "zones": z.zones.iter().map(|x| serde_json::json!({
                "zone": x.zone,
                "min_bpm": round(x.min_bpm, 0),
                "max_bpm": round(x.max_bpm, 0),
            })).collect::<Vec<_>>(),
        })),
        "vdot_as_of": a.vdot.as_ref().map(|v| v.date),
        "form": serde_json::to_value(crate::science::form_reading(a.fitness).band).unwrap_or_default(),
        "returning": a.returning.as_ref().map(|r| serde_json::json!({
            "last_vdot": round(r.last_vdot.value(), 1),
            "last_vdot_date": r.last_vdot_date,
            "last_run": r.last_run,
            "days_off": r.days_off,
            "estimated_vdot": round(r.estimated_vdot.value(), 1),
        })),
    })
}
