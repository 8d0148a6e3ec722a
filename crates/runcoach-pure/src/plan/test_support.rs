//! Helpers shared by the plan tests.

use super::{Goal, HistorySummary, Level, PlanLength, PlanRequest};
use crate::science::Bilingual;
use chrono::NaiveDate;

pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub(crate) fn request(goal: Goal, level: Option<Level>, sessions: u8, length: PlanLength) -> PlanRequest {
    PlanRequest {
        goal,
        level,
        sessions_per_week: sessions,
        preferred_days: Vec::new(),
        start_date: date(2025, 3, 3),
        length,
        vdot: None,
        target_time_s: None,
        history: None,
    }
}

pub(crate) fn history(level: Level, minutes: f64, km: f64, vdot: Option<f64>) -> HistorySummary {
    HistorySummary {
        level,
        level_reason: Bilingual::new("historique", "history"),
        recent_weekly_minutes: minutes,
        recent_weekly_km: km,
        runs_per_week: 4.0,
        longest_run_km: 16.0,
        vdot,
    }
}
