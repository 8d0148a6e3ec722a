//! The weekly summary: last week's runs, load and ACWR with a plain reading, plan adherence, next
//! week's key sessions and an 8-week distance chart. [`WeeklySummary::compute`] is pure (activities,
//! plan, week and "today" in, numbers out); [`render`], [`to_json`] and [`chart_png`] present it;
//! [`weekly_summary`] loads what it needs from the store.

mod chart;
mod digest;
mod render;
mod week;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

pub use crate::charts::ChartError;
pub use chart::{CHART_HEIGHT, CHART_WIDTH, chart_png};
pub use digest::{ClubDigest, DigestEntry, MIN_HIDDEN_IN_TOTALS, club_digest, member_name, render_digest};
pub use render::{render, replies, to_json};
pub use week::{InvalidWeek, IsoWeek};

use crate::domain::{User, UserId};
use crate::plan::{self, Plan, WorkoutKind, WorkoutStatus};
use crate::science::{
    self, ActivityInput, ActivityKind, Bilingual, HrContext, IntensityDistribution, RunnerProfile, WeekVolume,
};
use crate::store::{Store, StoreResult};
use crate::{history, plans};

/// Weeks shown on the chart (the summarised week last).
pub const CHART_WEEKS: u32 = 8;
/// Runs listed one by one in the text; more are summed up in one line.
pub const MAX_LISTED_RUNS: usize = 10;

/// One run of the week.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunLine {
    pub start: DateTime<Utc>,
    pub date: NaiveDate,
    pub kind: ActivityKind,
    pub distance_km: f64,
    pub duration_min: f64,
    /// Seconds per km, when the run has a distance.
    pub pace_s_per_km: Option<f64>,
}

/// What the ACWR says, in plain words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadReading {
    /// Fewer than 3 runs in 4 weeks, or no chronic load to compare with.
    NotEnoughData,
    /// ACWR < 0.8.
    Dropping,
    /// 0.8 ≤ ACWR ≤ 1.3.
    Steady,
    /// 1.3 < ACWR < 1.5.
    RisingFast,
    /// ACWR ≥ 1.5.
    Spike,
}

impl LoadReading {
    #[must_use]
    pub fn from_acwr(acwr: Option<f64>, runs_28d: u32) -> LoadReading {
        match acwr {
            _ if runs_28d < 3 => LoadReading::NotEnoughData,
            None => LoadReading::NotEnoughData,
            Some(r) if r >= 1.5 => LoadReading::Spike,
            Some(r) if r > 1.3 => LoadReading::RisingFast,
            Some(r) if r < 0.8 => LoadReading::Dropping,
            Some(_) => LoadReading::Steady,
        }
    }

    /// The advice for the coming week.
    #[must_use]
    pub fn advice(self) -> Bilingual {
        let (fr, en) = match self {
            LoadReading::NotEnoughData => (
                "pas encore assez de sorties pour juger ta charge : reste sur du facile",
                "not enough recent runs to read your load yet: keep it easy",
            ),
            LoadReading::Dropping => (
                "charge en baisse : remonte progressivement, +10 % par semaine au plus",
                "load dropping: build back gradually, +10 % a week at most",
            ),
            LoadReading::Steady => ("charge stable : entraîne-toi comme prévu", "load steady: train as planned"),
            LoadReading::RisingFast => {
                ("charge en hausse rapide : garde cette semaine facile", "load rising fast: keep this week easy")
            }
            LoadReading::Spike => (
                "pic de charge (risque de blessure) : semaine facile, avec un jour de repos de plus",
                "load spike (injury risk): make this week easy, with an extra rest day",
            ),
        };
        Bilingual::new(fr, en)
    }
}

/// Training load at the end of the week.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadSummary {
    /// Load of every activity of the week (device load, TRIMP or estimate).
    pub week_load: f64,
    pub acute_7d: f64,
    pub chronic_28d: f64,
    pub acwr: Option<f64>,
    pub reading: LoadReading,
}

/// The plan's sessions of the week and what became of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Adherence {
    /// Running sessions planned this week.
    pub planned: u32,
    /// Marked done, or matched with a run (same day ± 1).
    pub done: u32,
    /// Skipped by the runner (`/skip`).
    pub skipped: u32,
    /// Moved or changed by an adaptation.
    pub moved: u32,
    /// Past sessions neither done nor skipped (marked missed at the end of their day, or not yet).
    pub not_logged: u32,
    /// Sessions still ahead (a summary of the current week).
    pub upcoming: u32,
    pub planned_km: f64,
}

/// A key session of next week.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeySession {
    pub date: NaiveDate,
    pub kind: WorkoutKind,
    pub label: Bilingual,
    pub duration_min: u32,
    pub distance_km: Option<f64>,
    pub description: Bilingual,
}

/// One bar of the chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeekBar {
    pub week: IsoWeek,
    pub km: f64,
    pub runs: u32,
    /// The plan's distance for that week, when a plan covers it.
    pub target_km: Option<f64>,
}

/// Why the summary ends on an encouraging note, chosen from the week's facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cheer {
    QuietWeek,
    PlanComplete,
    LongestRun,
    MoreThanLastWeek,
    EasyWeekWise,
    KeepGoing,
}

impl Cheer {
    #[must_use]
    pub fn text(self) -> Bilingual {
        let (fr, en) = match self {
            Cheer::QuietWeek => (
                "Une semaine calme, ça arrive : une sortie facile cette semaine et c'est reparti ! 💪",
                "Quiet weeks happen: one easy run this week and you're back on track! 💪",
            ),
            Cheer::PlanComplete => (
                "Toutes les séances prévues sont faites : c'est cette régularité qui construit la forme. Bravo ! 🎉",
                "Every planned session done: that consistency is what builds fitness. Well done! 🎉",
            ),
            Cheer::LongestRun => (
                "Ta plus longue sortie depuis 8 semaines : belle progression ! 🚀",
                "Your longest run in 8 weeks: great progress! 🚀",
            ),
            Cheer::MoreThanLastWeek => (
                "Plus de kilomètres que la semaine d'avant : continue comme ça, en douceur. 👏",
                "More kilometres than the week before: keep it up, step by step. 👏",
            ),
            Cheer::EasyWeekWise => (
                "Lever le pied maintenant, c'est ce qui te permettra de progresser ensuite. 🙌",
                "Easing off now is what lets you keep progressing later. 🙌",
            ),
            Cheer::KeepGoing => ("Chaque sortie compte : continue ! 👟", "Every run counts: keep going! 👟"),
        };
        Bilingual::new(fr, en)
    }
}

/// Everything a weekly summary says, before it is put into words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeeklySummary {
    pub week: IsoWeek,
    pub week_start: NaiveDate,
    pub week_end: NaiveDate,
    /// The day the summary was made; activities after it are ignored.
    pub today: NaiveDate,
    /// The week is not over yet (`today` falls inside it).
    pub partial: bool,
    pub runs: Vec<RunLine>,
    pub run_count: u32,
    pub distance_km: f64,
    pub duration_min: f64,
    pub elevation_m: f64,
    /// Other sports of the week (count), which count in the load but not in the distance.
    pub other_activities: u32,
    pub long_run: Option<RunLine>,
    pub intensity: Option<IntensityDistribution>,
    pub load: LoadSummary,
    /// `None` when no plan covers the week.
    pub adherence: Option<Adherence>,
    pub next_week: Vec<KeySession>,
    pub has_plan: bool,
    /// The last [`CHART_WEEKS`] weeks, oldest first, the summarised week last.
    pub chart: Vec<WeekBar>,
    pub cheer: Cheer,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Heart-rate context and zones from the profile, else from the highest HR observed.
fn hr_setup(activities: &[ActivityInput], profile: &RunnerProfile) -> (HrContext, Option<science::HrZones>) {
    let observed = activities.iter().filter_map(|a| a.max_hr.or(a.avg_hr)).filter(|x| x.is_finite()).reduce(f64::max);
    let max_hr = science::resolve_max_hr(profile.max_hr, observed, profile.age);
    let zones = max_hr.and_then(|m| match profile.resting_hr {
        Some(r) => science::hr_zones_karvonen(m.bpm, r).or_else(|_| science::hr_zones_percent_max(m.bpm)).ok(),
        None => science::hr_zones_percent_max(m.bpm).ok(),
    });
    let ctx = HrContext {
        resting_hr: profile.resting_hr,
        max_hr: max_hr.map(|m| m.bpm),
        female: profile.sex == Some(science::Sex::Female),
    };
    (ctx, zones)
}

/// Planned km of each running workout: its distance, else its share of the week's estimate.
fn workout_km(week: &plan::PlanWeek, w: &plan::Workout) -> f64 {
    w.distance_km.unwrap_or_else(|| {
        if week.planned_minutes == 0 {
            0.0
        } else {
            week.planned_km * f64::from(w.duration_min) / f64::from(week.planned_minutes)
        }
    })
}

fn plan_km_in(plan: &Plan, week: IsoWeek) -> Option<f64> {
    let mut total = None;
    for pw in &plan.weeks {
        for w in pw.workouts.iter().filter(|w| w.kind.is_running() && week.contains(w.date)) {
            *total.get_or_insert(0.0) += workout_km(pw, w);
        }
    }
    total.map(round1)
}

fn adherence(plan: &Plan, week: IsoWeek, activities: &[ActivityInput], as_of: NaiveDate) -> Option<Adherence> {
    // Match the week's runs (and the days around it) against a copy of the plan.
    let mut matched = plan.clone();
    let near: Vec<ActivityInput> = activities
        .iter()
        .filter(|a| {
            a.date() >= week.monday() - Duration::days(1) && a.date() <= as_of.min(week.sunday() + Duration::days(1))
        })
        .cloned()
        .collect();
    plan::match_activities(&mut matched, &near, 1);
    let mut out = Adherence::default();
    for (pw, mw) in plan.weeks.iter().zip(&matched.weeks) {
        for (w, m) in pw.workouts.iter().zip(&mw.workouts) {
            if !w.kind.is_running() || !week.contains(w.date) {
                continue;
            }
            out.planned += 1;
            out.planned_km += workout_km(pw, w);
            let ran = w.status == WorkoutStatus::Done || m.status == WorkoutStatus::Done;
            match w.status {
                WorkoutStatus::Skipped => out.skipped += 1,
                WorkoutStatus::Missed if !ran => out.not_logged += 1,
                WorkoutStatus::Adjusted => {
                    out.moved += 1;
                    if ran {
                        out.done += 1;
                    }
                }
                _ if ran => out.done += 1,
                _ if w.date > as_of => out.upcoming += 1,
                _ => out.not_logged += 1,
            }
        }
    }
    out.planned_km = round1(out.planned_km);
    (out.planned > 0).then_some(out)
}

fn key_sessions(plan: &Plan, week: IsoWeek) -> Vec<KeySession> {
    let all: Vec<&plan::Workout> = plan
        .workouts()
        .filter(|w| w.kind.is_running() && week.contains(w.date) && w.status != WorkoutStatus::Done)
        .collect();
    let key = |w: &&&plan::Workout| w.kind.is_hard() || w.kind == WorkoutKind::Long;
    let mut picked: Vec<&plan::Workout> = all.iter().filter(key).copied().collect();
    if picked.is_empty() {
        picked = all.into_iter().take(2).collect();
    }
    picked.sort_by_key(|w| w.date);
    picked
        .into_iter()
        .map(|w| KeySession {
            date: w.date,
            kind: w.kind,
            label: w.kind.label(),
            duration_min: w.duration_min,
            distance_km: w.distance_km.map(round1),
            description: w.description.clone(),
        })
        .collect()
}

fn run_line(a: &ActivityInput) -> RunLine {
    let minutes = a.run_time_s() / 60.0;
    let km = a.distance_m / 1000.0;
    RunLine {
        start: a.start,
        date: a.date(),
        kind: a.kind,
        distance_km: round1(km),
        duration_min: round1(minutes),
        pace_s_per_km: (km >= 0.2 && minutes > 0.0).then(|| (a.run_time_s() / km).round()),
    }
}

impl WeeklySummary {
    /// The summary of `week` as of `today`, with no profile (HR zones from the highest HR seen).
    #[must_use]
    pub fn compute(activities: &[ActivityInput], plan: Option<&Plan>, week: IsoWeek, today: NaiveDate) -> Self {
        Self::compute_with_profile(activities, plan, week, today, &RunnerProfile::default())
    }

    /// The summary of `week` as of `today`. Activities after `today` or after the week are ignored.
    #[must_use]
    pub fn compute_with_profile(
        activities: &[ActivityInput],
        plan: Option<&Plan>,
        week: IsoWeek,
        today: NaiveDate,
        profile: &RunnerProfile,
    ) -> Self {
        let (start, end) = (week.monday(), week.sunday());
        let as_of = end.min(today).max(start - Duration::days(1));
        let past: Vec<ActivityInput> = activities.iter().filter(|a| a.date() <= as_of).cloned().collect();
        let (ctx, zones) = hr_setup(&past, profile);

        let this_week: Vec<&ActivityInput> = past.iter().filter(|a| a.date() >= start).collect();
        let mut runs: Vec<&ActivityInput> = this_week.iter().copied().filter(|a| a.kind.is_running()).collect();
        runs.sort_by_key(|a| a.start);
        let run_lines: Vec<RunLine> = runs.iter().map(|a| run_line(a)).collect();
        let distance_km = runs.iter().map(|a| a.distance_m / 1000.0).sum::<f64>();
        let duration_min = runs.iter().map(|a| a.run_time_s() / 60.0).sum::<f64>();
        let elevation_m = runs.iter().filter_map(|a| a.elevation_gain_m).filter(|x| x.is_finite()).sum::<f64>();
        let long_run = runs
            .iter()
            .max_by(|a, b| a.distance_m.total_cmp(&b.distance_m))
            .filter(|a| a.distance_m > 0.0)
            .map(|a| run_line(a));
        let week_runs: Vec<ActivityInput> = runs.iter().map(|a| (*a).clone()).collect();
        let intensity = science::intensity_distribution(&week_runs, zones.as_ref());

        // Load and ACWR at the end of the week (or today, for the current week).
        let daily = science::daily_loads(&past, &ctx, as_of - Duration::days(27), as_of);
        let acute: f64 = daily.iter().rev().take(7).sum();
        let chronic: f64 = daily.iter().sum();
        let acwr = science::acwr(acute, chronic).map(|r| (r * 100.0).round() / 100.0);
        let runs_28d = past.iter().filter(|a| a.kind.is_running() && a.date() > as_of - Duration::days(28)).count();
        let week_load: f64 = this_week.iter().map(|a| science::activity_load(a, &ctx).value).sum();
        let load = LoadSummary {
            week_load: week_load.round(),
            acute_7d: acute.round(),
            chronic_28d: chronic.round(),
            acwr,
            reading: LoadReading::from_acwr(acwr, u32::try_from(runs_28d).unwrap_or(u32::MAX)),
        };

        let volumes: Vec<WeekVolume> = science::weekly_volumes(&past, &ctx, as_of, CHART_WEEKS);
        let chart: Vec<WeekBar> = volumes
            .iter()
            .map(|v| {
                let w = IsoWeek::of(v.week_start);
                WeekBar { week: w, km: round1(v.km), runs: v.runs, target_km: plan.and_then(|p| plan_km_in(p, w)) }
            })
            .collect();

        let adherence = plan.and_then(|p| adherence(p, week, &past, as_of));
        let next_week = plan.map(|p| key_sessions(p, week.offset(1))).unwrap_or_default();

        let previous_km = chart.iter().rev().nth(1).map_or(0.0, |b| b.km);
        let longest_before = past
            .iter()
            .filter(|a| a.kind.is_running() && a.date() < start && a.date() >= start - Duration::weeks(7))
            .map(|a| a.distance_m)
            .fold(0.0, f64::max);
        let cheer = if runs.is_empty() {
            Cheer::QuietWeek
        } else if adherence.as_ref().is_some_and(|a| a.planned > 0 && a.done >= a.planned) {
            Cheer::PlanComplete
        } else if matches!(load.reading, LoadReading::RisingFast | LoadReading::Spike) {
            Cheer::EasyWeekWise
        } else if long_run
            .as_ref()
            .is_some_and(|l| longest_before > 0.0 && l.distance_km * 1000.0 > longest_before + 50.0)
        {
            Cheer::LongestRun
        } else if previous_km > 0.0 && distance_km > previous_km + 0.5 {
            Cheer::MoreThanLastWeek
        } else {
            Cheer::KeepGoing
        };

        WeeklySummary {
            week,
            week_start: start,
            week_end: end,
            today,
            partial: today < end,
            run_count: u32::try_from(runs.len()).unwrap_or(u32::MAX),
            runs: run_lines,
            distance_km: round1(distance_km),
            duration_min: round1(duration_min),
            elevation_m: elevation_m.round(),
            other_activities: u32::try_from(this_week.len() - runs.len().min(this_week.len())).unwrap_or(0),
            long_run,
            intensity,
            load,
            adherence,
            next_week,
            has_plan: plan.is_some(),
            chart,
            cheer,
        }
    }
}

/// How far back a summary reads: 8 chart weeks, and 28 days of load before the week's end.
#[must_use]
pub fn history_start(week: IsoWeek) -> NaiveDate {
    week.monday() - Duration::weeks(i64::from(CHART_WEEKS) - 1)
}

/// Loads a runner's activities and active plan and computes the summary of `week`.
pub async fn weekly_summary(
    store: &dyn Store,
    id: UserId,
    week: IsoWeek,
    today: NaiveDate,
) -> StoreResult<WeeklySummary> {
    let user = store.get_user(id).await?;
    weekly_summary_for(store, &user, week, today).await
}

/// Same as [`weekly_summary`] for a runner already read.
pub async fn weekly_summary_for(
    store: &dyn Store,
    user: &User,
    week: IsoWeek,
    today: NaiveDate,
) -> StoreResult<WeeklySummary> {
    // A day of margin either side: activity dates are UTC dates.
    let since = history_start(week) - Duration::days(1);
    let since = since.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let records = store.activities(user.id, Some(since)).await?;
    let inputs: Vec<ActivityInput> = records.iter().map(history::activity_input).collect();
    let plan = plans::active(store, user.id).await?.map(|a| a.plan);
    let profile = history::runner_profile(user, today.year());
    Ok(WeeklySummary::compute_with_profile(&inputs, plan.as_ref(), week, today, &profile))
}
