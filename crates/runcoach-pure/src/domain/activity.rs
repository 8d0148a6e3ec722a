//! Activities as the core knows them, whatever they came from (a FIT/GPX/TCX file, Garmin
//! Connect, a manual entry). Pure data: the store persists them, importers produce them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::samples::SampleSeries;
use crate::science::ActivityKind;

/// A lap of a new activity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NewLap {
    pub start_time: DateTime<Utc>,
    pub duration_s: f64,
    pub distance_m: Option<f64>,
    pub avg_hr: Option<f64>,
    pub max_hr: Option<f64>,
    pub avg_cadence: Option<f64>,
    pub avg_speed_mps: Option<f64>,
    pub intensity: Option<String>,
}

/// An activity to store, from a file, Garmin or by hand.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NewActivity {
    pub source: String,
    pub external_id: Option<String>,
    pub sport: ActivityKind,
    pub name: Option<String>,
    pub start_time: DateTime<Utc>,
    pub utc_offset_s: i32,
    pub duration_s: f64,
    pub moving_s: Option<f64>,
    pub distance_m: Option<f64>,
    pub elevation_gain_m: Option<f64>,
    pub elevation_loss_m: Option<f64>,
    pub avg_hr: Option<f64>,
    pub max_hr: Option<f64>,
    pub avg_cadence: Option<f64>,
    pub max_cadence: Option<f64>,
    pub avg_speed_mps: Option<f64>,
    pub max_speed_mps: Option<f64>,
    pub calories: Option<f64>,
    pub training_load: Option<f64>,
    pub aerobic_te: Option<f64>,
    pub anaerobic_te: Option<f64>,
    pub vo2max: Option<f64>,
    pub hr_zones_s: Option<Vec<f64>>,
    pub best_efforts: Option<serde_json::Value>,
    pub device: Option<String>,
    pub laps: Vec<NewLap>,
    pub samples: Option<SampleSeries>,
}
