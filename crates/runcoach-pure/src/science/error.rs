//! Typed errors for the science module.

use thiserror::Error;

/// Why an input to a science function was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ScienceError {
    #[error("invalid time {input:?}: {reason} (expected [H:]MM:SS, e.g. 24:34 or 1:31:31)")]
    InvalidTime { input: String, reason: &'static str },
    #[error(
        "invalid distance {input:?}: expected 5k, 10k, half, marathon, a number of km (e.g. 15k) or of metres (e.g. 1500)"
    )]
    InvalidDistanceText { input: String },
    #[error("distance must be a finite positive number of metres (got {0})")]
    InvalidDistance(f64),
    #[error("duration must be a finite positive number of seconds (got {0})")]
    InvalidDuration(f64),
    #[error("distance {metres} m is outside the range the VDOT formula is valid for ({min}–{max} m)")]
    DistanceOutOfRange { metres: f64, min: f64, max: f64 },
    #[error("VDOT {value:.1} is outside the plausible range {min}–{max}")]
    VdotOutOfRange { value: f64, min: f64, max: f64 },
    #[error("this performance (VDOT {vdot:.1}) is far beyond world-record level; check the distance and time")]
    FasterThanWorldRecord { vdot: f64 },
    #[error("this performance (VDOT {vdot:.1}) is slower than a brisk walk; check the distance and time")]
    TooSlow { vdot: f64 },
    #[error("invalid pace {0} s/km: must be finite and positive")]
    InvalidPace(f64),
    #[error("invalid heart rate: {0}")]
    InvalidHeartRate(String),
    #[error("could not read Garmin activity: {0}")]
    Garmin(String),
}
