//! Garmin Connect activity JSON into [`NewActivity`]: an item of the activity list
//! (`activitylist-service/activities/search/activities`) or an `activity-service/activity/{id}` body.
//! Used by file import (a saved list) and by the Garmin sync, so both dedupe on `garmin` + activityId.

use chrono::{NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use super::{ImportError, ImportWarning, Imported};
use crate::domain::activity::{NewActivity, NewLap};
use crate::science::load::ActivityKind;

/// Source name of activities from Garmin Connect.
pub const SOURCE_GARMIN: &str = "garmin";

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64).filter(|x| x.is_finite())
}

fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

fn invalid(detail: &str) -> ImportError {
    ImportError::GarminJson { detail: detail.to_owned() }
}

/// The activity's Garmin id as text (the list gives a number, some bodies a string).
#[must_use]
pub fn activity_id(v: &Value) -> Option<String> {
    match v.get("activityId")? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// The kind of a Garmin Connect activity, from its type key.
#[must_use]
pub fn activity_kind(v: &Value) -> ActivityKind {
    let type_key = v
        .get("activityType")
        .or_else(|| v.get("activityTypeDTO"))
        .and_then(|t| t.get("typeKey"))
        .and_then(Value::as_str)
        .unwrap_or("other");
    ActivityKind::from_garmin_type_key(type_key)
}

/// Maps one Garmin Connect activity to a new activity with source `garmin` and the activityId as
/// external id.
pub fn activity_from_garmin(v: &Value) -> Result<NewActivity, ImportError> {
    let summary = v.get("summaryDTO").unwrap_or(v);
    let id = activity_id(v).ok_or_else(|| invalid("missing activityId"))?;
    let gmt = v
        .get("startTimeGMT")
        .or_else(|| summary.get("startTimeGMT"))
        .and_then(Value::as_str)
        .and_then(parse_naive)
        .map(|n| Utc.from_utc_datetime(&n));
    let start = gmt
        .or_else(|| num(v, "beginTimestamp").and_then(|ms| Utc.timestamp_millis_opt(ms as i64).single()))
        .ok_or_else(|| invalid("missing startTimeGMT"))?;
    let local = v.get("startTimeLocal").or_else(|| summary.get("startTimeLocal")).and_then(Value::as_str);
    let utc_offset_s = local
        .and_then(parse_naive)
        .map(|l| (l - start.naive_utc()).num_seconds())
        .map(|s| (s as f64 / 900.0).round() as i64 * 900)
        .filter(|s| s.abs() <= 14 * 3600)
        .and_then(|s| i32::try_from(s).ok())
        .unwrap_or(0);
    let kind = activity_kind(v);
    let duration_s = num(summary, "duration")
        .or_else(|| num(summary, "elapsedDuration"))
        .filter(|d| *d >= 0.0)
        .ok_or_else(|| invalid("missing duration"))?;
    let positive = |key: &str| num(summary, key).filter(|x| *x > 0.0);
    let zones: Vec<Option<f64>> = (1..=5).map(|i| num(summary, &format!("hrTimeInZone_{i}"))).collect();
    let hr_zones_s = zones.iter().any(Option::is_some).then(|| zones.iter().map(|z| z.unwrap_or(0.0)).collect());
    let mut best = Map::new();
    for meters in ["1000", "1609", "5000", "10000"] {
        if let Some(s) = num(summary, &format!("fastestSplit_{meters}")).filter(|s| *s > 0.0) {
            best.insert(meters.to_owned(), Value::from(s));
        }
    }
    Ok(NewActivity {
        source: SOURCE_GARMIN.to_owned(),
        external_id: Some(id),
        sport: kind,
        name: v.get("activityName").and_then(Value::as_str).map(str::to_owned),
        start_time: start,
        utc_offset_s,
        duration_s,
        moving_s: positive("movingDuration"),
        distance_m: num(summary, "distance").filter(|d| *d >= 0.0),
        elevation_gain_m: num(summary, "elevationGain"),
        elevation_loss_m: num(summary, "elevationLoss"),
        avg_hr: positive("averageHR"),
        max_hr: positive("maxHR"),
        avg_cadence: positive("averageRunningCadenceInStepsPerMinute")
            .or_else(|| positive("averageRunCadence"))
            .or_else(|| positive("averageBikingCadenceInRevPerMinute")),
        max_cadence: positive("maxRunningCadenceInStepsPerMinute")
            .or_else(|| positive("maxRunCadence"))
            .or_else(|| positive("maxBikingCadenceInRevPerMinute")),
        avg_speed_mps: positive("averageSpeed"),
        max_speed_mps: positive("maxSpeed"),
        calories: positive("calories"),
        training_load: positive("activityTrainingLoad"),
        aerobic_te: num(summary, "aerobicTrainingEffect").or_else(|| num(summary, "trainingEffect")),
        anaerobic_te: num(summary, "anaerobicTrainingEffect"),
        vo2max: positive("vO2MaxValue"),
        hr_zones_s,
        best_efforts: (!best.is_empty()).then_some(Value::Object(best)),
        device: v.get("manufacturer").and_then(Value::as_str).map(str::to_owned),
        laps: Vec::new(),
        samples: None,
    })
}

/// The laps of an `activity-service/activity/{id}/splits` body (`lapDTOs`), in lap order. Laps
/// without a start time or duration are left out; running cadence there is already in steps/min.
#[must_use]
pub fn laps_from_garmin_splits(v: &Value) -> Vec<NewLap> {
    let Some(items) = v.get("lapDTOs").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut laps: Vec<(i64, NewLap)> = items
        .iter()
        .enumerate()
        .filter_map(|(position, lap)| {
            let start_time = lap.get("startTimeGMT").and_then(Value::as_str).and_then(parse_naive)?;
            let duration_s = num(lap, "duration").filter(|d| *d >= 0.0)?;
            let positive = |key: &str| num(lap, key).filter(|x| *x > 0.0);
            // Garmin numbers laps from 1; the position keeps the order when the index is missing.
            let index = lap.get("lapIndex").and_then(Value::as_i64).unwrap_or(position as i64);
            Some((
                index,
                NewLap {
                    start_time: Utc.from_utc_datetime(&start_time),
                    duration_s,
                    distance_m: num(lap, "distance").filter(|d| *d >= 0.0),
                    avg_hr: positive("averageHR"),
                    max_hr: positive("maxHR"),
                    avg_cadence: positive("averageRunCadence"),
                    avg_speed_mps: positive("averageSpeed"),
                    // Same spelling as the FIT and TCX readers ("active", "rest"...).
                    intensity: lap.get("intensityType").and_then(Value::as_str).map(str::to_ascii_lowercase),
                },
            ))
        })
        .collect();
    laps.sort_by_key(|(index, _)| *index);
    laps.into_iter().map(|(_, lap)| lap).collect()
}

/// A saved Garmin JSON file: a list of activities, one activity, or a recorded response whose
/// `body` is one of those.
pub(super) fn import_json(bytes: &[u8]) -> Result<Vec<Imported>, ImportError> {
    let root: Value = serde_json::from_slice(super::strip_bom(bytes))
        .map_err(|e| ImportError::Corrupt { format: "JSON", detail: e.to_string() })?;
    let root = match root.get("body") {
        Some(body @ (Value::Array(_) | Value::Object(_))) => body,
        _ => &root,
    };
    let items: Vec<&Value> = match root {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) if root.get("activityId").is_some() => vec![root],
        _ => return Err(ImportError::UnknownFormat),
    };
    let mut out: Vec<Imported> = Vec::new();
    let mut skipped = Vec::new();
    let mut last_error = None;
    for (index, item) in items.iter().enumerate() {
        match activity_from_garmin(item) {
            Ok(activity) => out.push(Imported { activity, warnings: Vec::new() }),
            Err(e) => {
                let label = activity_id(item).unwrap_or_else(|| format!("#{}", index + 1));
                skipped.push(ImportWarning::Skipped { item: label, code: e.code() });
                last_error = Some(e);
            }
        }
    }
    if let Some(first) = out.first_mut() {
        first.warnings.extend(skipped);
        return Ok(out);
    }
    Err(last_error.unwrap_or(ImportError::NothingFound))
}
