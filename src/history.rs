//! The bridge between what the store keeps and what the science reads: stored activities and
//! profiles become [`ActivityInput`] and [`RunnerProfile`], and a runner's history is analysed.

use chrono::{Datelike, NaiveDate};

use crate::domain::{Sex, User, UserId};
use crate::science::{self, ActivityInput, ActivityKind, HistoryAnalysis, RunnerProfile};
use crate::store::{ActivityRecord, Store, StoreResult};

/// The science's view of a stored activity.
#[must_use]
pub fn activity_input(r: &ActivityRecord) -> ActivityInput {
    // Our sport names are ActivityKind's serde names; older rows may hold Garmin type keys.
    let kind = serde_json::from_value::<ActivityKind>(serde_json::Value::String(r.sport.clone()))
        .unwrap_or_else(|_| ActivityKind::from_garmin_type_key(&r.sport));
    let zones = r.hr_zones_s.as_deref().and_then(|z| <[f64; 5]>::try_from(z).ok());
    let fastest_1000_s = r.best_efforts.as_ref().and_then(|b| b.get("1000")).and_then(serde_json::Value::as_f64);
    ActivityInput {
        start: r.start_time,
        kind,
        duration_s: r.duration_s,
        moving_s: r.moving_s,
        distance_m: r.distance_m.unwrap_or(0.0),
        avg_hr: r.avg_hr,
        max_hr: r.max_hr,
        device_load: r.training_load,
        hr_zone_s: zones,
        fastest_1000_s,
        elevation_gain_m: r.elevation_gain_m,
    }
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
