//! Pure training science: VDOT (Daniels–Gilbert), race equivalents, training
//! paces, VMA, heart-rate zones, training load (ACWR, CTL/ATL/TSB) and the
//! analysis of a runner's history.
//!
//! Everything here is a pure function of its inputs: no I/O, no clock, no
//! randomness. "Today" is always passed in by the caller so that results are
//! reproducible and testable.

pub mod analysis;
pub mod error;
pub mod form;
pub mod hr;
pub mod load;
pub mod text;
pub mod units;
pub mod vdot;
pub mod weather;

pub use analysis::{
    HistoryAnalysis, Level, LevelAssessment, Readiness, ReadinessCode, RunnerProfile, Sex, VdotEstimate, analyze,
    assess_level, readiness,
};
pub use error::ScienceError;
pub use form::{FormBand, FormReading, Returning, fitness_kept_after, fitness_series, form_reading, returning};
pub use hr::{
    HrZone, HrZones, MaxHr, MaxHrSource, VmaEstimate, VmaSource, ZoneMethod, estimate_vma, hr_zones_karvonen,
    hr_zones_percent_max, resolve_max_hr, tanaka_max_hr, vma_from_fastest_1000, vma_from_six_minutes, vma_from_vdot,
};
pub use load::{
    ActivityInput, ActivityKind, ActivityLoad, FitnessState, HrContext, IntensityDistribution, IntensitySource,
    LoadSource, WeekVolume, activity_load, acwr, banister_trimp, daily_loads, fitness_state, intensity_distribution,
    weekly_volumes,
};
pub use text::Bilingual;
pub use units::{Pace, PaceRange, RaceDistance, VDOT_MAX, VDOT_MIN, Vdot, format_duration, parse_race_time};
pub use vdot::{
    RacePrediction, TrainingPaces, predict, race_equivalents, race_time_s, riegel, training_paces,
    vdot_from_performance,
};
