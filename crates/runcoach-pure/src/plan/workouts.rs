//! Workout builders: durations, paces (Daniels, from VDOT) or HR zones, and
//! precise bilingual descriptions.

use super::steps::{Block, Intensity, Length, Step, StepName, Target, steady_name, target};
use super::{Goal, Level, Workout, WorkoutKind, WorkoutStatus};
use crate::science::{Bilingual, Pace, PaceRange, TrainingPaces, Vdot, format_duration, training_paces, vdot::predict};
use chrono::NaiveDate;

/// All pace bands a plan needs, rounded to whole seconds, computed once per plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PaceTable {
    pub paces: TrainingPaces,
    pub tempo: PaceRange,
    /// Goal race pace ±1 % (race goals only).
    pub race: Option<PaceRange>,
    pub race_time_s: Option<f64>,
}

impl PaceTable {
    /// Training paces from the current `vdot`; the race band from `race_time_s` (a checked
    /// target) when given, else from the time `vdot` predicts.
    pub fn new(goal: Goal, vdot: Vdot, race_time_s: Option<f64>) -> Option<PaceTable> {
        let p = training_paces(vdot).ok()?;
        let paces = TrainingPaces {
            recovery: p.recovery.rounded(),
            easy: p.easy.rounded(),
            marathon: p.marathon.rounded(),
            threshold: p.threshold.rounded(),
            interval: p.interval.rounded(),
            repetition: p.repetition.rounded(),
        };
        let time_s = match (goal.race_distance(), race_time_s) {
            (Some(_), Some(t)) => Some(t),
            (Some(d), None) => predict(vdot, d).ok().map(|p| p.time_s),
            (None, _) => None,
        };
        let race = goal.race_distance().zip(time_s).and_then(|(d, t)| {
            let s = t / (d.metres() / 1000.0);
            Some(PaceRange::new(Pace::new(s * 0.99).ok()?, Pace::new(s * 1.01).ok()?).rounded())
        });
        Some(PaceTable { paces, tempo: p.tempo().rounded(), race, race_time_s: time_s })
    }

    /// The pace band a workout of `kind` must carry. Hills and fartlek are run
    /// by effort (gradient and terrain make a pace meaningless).
    pub fn for_kind(&self, kind: WorkoutKind, goal: Goal) -> Option<PaceRange> {
        let p = &self.paces;
        match kind {
            WorkoutKind::Easy | WorkoutKind::Long | WorkoutKind::Strides => Some(p.easy),
            WorkoutKind::Recovery => Some(p.recovery),
            WorkoutKind::Tempo => Some(self.tempo),
            WorkoutKind::Threshold => Some(p.threshold),
            // Speed plans use short repetitions (R pace); others VO2max intervals (I pace).
            WorkoutKind::Intervals if goal == Goal::Speed => Some(p.repetition),
            WorkoutKind::Intervals => Some(p.interval),
            WorkoutKind::RacePace | WorkoutKind::Race => self.race,
            WorkoutKind::Hills | WorkoutKind::Fartlek | WorkoutKind::Rest | WorkoutKind::Cross => None,
        }
    }
}

/// The pace band a workout of `kind` should have for `goal` at `vdot`
/// (`None` without a valid VDOT, or for effort-based kinds).
pub fn expected_pace(kind: WorkoutKind, goal: Goal, vdot: Option<f64>) -> Option<PaceRange> {
    let v = Vdot::new(vdot?).ok()?;
    PaceTable::new(goal, v, None)?.for_kind(kind, goal)
}

/// HR zone (1–5) a workout targets; used as the guide when paces are unknown.
pub(crate) fn hr_zone(kind: WorkoutKind, goal: Goal) -> Option<u8> {
    Some(match kind {
        WorkoutKind::Recovery | WorkoutKind::Cross => 1,
        WorkoutKind::Easy | WorkoutKind::Long | WorkoutKind::Strides => 2,
        WorkoutKind::Tempo => 3,
        WorkoutKind::Threshold | WorkoutKind::Fartlek => 4,
        WorkoutKind::Intervals | WorkoutKind::Hills => 5,
        WorkoutKind::RacePace | WorkoutKind::Race => match goal {
            Goal::Marathon => 3,
            Goal::Half | Goal::TenK => 4,
            _ => 5,
        },
        WorkoutKind::Rest => return None,
    })
}

/// What the builders need to know about the plan.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx {
    pub goal: Goal,
    pub level: Level,
    pub table: Option<PaceTable>,
}

pub(crate) fn dur_en(m: u32) -> String {
    match (m / 60, m % 60) {
        (0, mm) => format!("{mm} min"),
        (h, 0) => format!("{h} h"),
        (h, mm) => format!("{h} h {mm:02} min"),
    }
}

pub(crate) fn dur_fr(m: u32) -> String {
    match (m / 60, m % 60) {
        (0, mm) => format!("{mm} min"),
        (h, 0) => format!("{h} h"),
        (h, mm) => format!("{h} h {mm:02}"),
    }
}

fn paren(p: Option<PaceRange>) -> String {
    p.map_or(String::new(), |p| format!(" ({p})"))
}

fn zone_en(z: Option<u8>) -> String {
    z.map_or(String::new(), |z| format!(" (HR zone {z})"))
}

fn zone_fr(z: Option<u8>) -> String {
    z.map_or(String::new(), |z| format!(" (zone FC {z})"))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn km_at(minutes: f64, pace: Option<PaceRange>) -> Option<f64> {
    pace.map(|p| minutes * 60.0 / p.mid().s_per_km())
}

fn workout(
    ctx: &Ctx,
    date: NaiveDate,
    kind: WorkoutKind,
    minutes: u32,
    km: Option<f64>,
    description: Bilingual,
    steps: Vec<Block>,
) -> Workout {
    Workout {
        date,
        kind,
        duration_min: minutes,
        distance_km: km.map(round1),
        pace_s_per_km: ctx.table.and_then(|t| t.for_kind(kind, ctx.goal)),
        hr_zone: hr_zone(kind, ctx.goal),
        description,
        status: WorkoutStatus::Planned,
        completed: None,
        steps,
    }
}

/// Easy, long or recovery run.
pub(crate) fn steady(ctx: &Ctx, date: NaiveDate, kind: WorkoutKind, minutes: u32) -> Workout {
    let pace = ctx.table.and_then(|t| t.for_kind(kind, ctx.goal));
    let z = if pace.is_none() { hr_zone(kind, ctx.goal) } else { None };
    let (p, zen, zfr) = (paren(pace), zone_en(z), zone_fr(z));
    let (fr, en) = match kind {
        WorkoutKind::Long => (
            format!("Sortie longue : {} en endurance{p}{zfr}, régulière, à allure de conversation", dur_fr(minutes)),
            format!("Long run: {} at easy pace{p}{zen}, steady and conversational", dur_en(minutes)),
        ),
        WorkoutKind::Recovery => (
            format!("{} de footing de récupération très facile{p}{zfr}", dur_fr(minutes)),
            format!("{} very easy recovery jog{p}{zen}", dur_en(minutes)),
        ),
        _ => (
            format!("{} en endurance fondamentale{p}{zfr}, à allure de conversation", dur_fr(minutes)),
            format!("{} easy{p}{zen}, conversational pace", dur_en(minutes)),
        ),
    };
    let step = Step::minutes(steady_name(kind), Intensity::Active, f64::from(minutes), target(pace, z));
    workout(ctx, date, kind, minutes, km_at(f64::from(minutes), pace), Bilingual { fr, en }, vec![Block::Step(step)])
}

/// Easy run finished with strides (short relaxed accelerations, not a hard session).
pub(crate) fn strides(ctx: &Ctx, date: NaiveDate, minutes: u32) -> Workout {
    let n = match ctx.level {
        Level::Beginner => 4,
        Level::Intermediate => 6,
        Level::Advanced => 8,
    };
    let pace = ctx.table.map(|t| t.paces.easy);
    let z = if pace.is_none() { Some(2) } else { None };
    let p = paren(pace);
    let fr = format!(
        "{} en endurance{p}{}, dont {n} lignes droites de 20 s en fin de séance (vite mais relâché, retour au pas ou en trottinant)",
        dur_fr(minutes),
        zone_fr(z)
    );
    let en = format!(
        "{} easy{p}{}, finishing with {n} × 20 s strides (fast but relaxed, walk or jog back)",
        dur_en(minutes),
        zone_en(z)
    );
    // The strides close the run: 20 s fast, 40 s to walk or jog back, each.
    let easy = Step::minutes(StepName::Easy, Intensity::Active, f64::from(minutes) - f64::from(n), target(pace, z));
    let steps = vec![
        Block::Step(easy),
        Block::Repeat {
            times: n,
            steps: vec![
                Step::new(StepName::Stride, Intensity::Active, Length::Seconds(20), Target::Open),
                Step::new(StepName::Jog, Intensity::Recovery, Length::Seconds(40), Target::Open),
            ],
        },
    ];
    workout(ctx, date, WorkoutKind::Strides, minutes, km_at(f64::from(minutes), pace), Bilingual { fr, en }, steps)
}

/// A main set: text plus minutes of work (at the session's pace) and of recovery jog.
struct MainSet {
    fr: String,
    en: String,
    work_min: f64,
    recovery_min: f64,
    /// The same set, step by step.
    blocks: Vec<Block>,
}

/// `times` × (work, recovery jog).
fn reps(times: u32, work: Step, recovery: Step) -> Vec<Block> {
    vec![Block::Repeat { times, steps: vec![work, recovery] }]
}

fn jog(minutes: f64) -> Step {
    Step::minutes(StepName::Jog, Intensity::Recovery, minutes, Target::Open)
}

/// Work, recovery, work…: `times` works with a recovery between each (none after the last).
fn reps_between(times: u32, work: Step, recovery: Step) -> Vec<Block> {
    match times {
        0 => Vec::new(),
        1 => vec![Block::Step(work)],
        n => vec![Block::Repeat { times: n - 1, steps: vec![work, recovery] }, Block::Step(work)],
    }
}

impl MainSet {
    fn total(&self) -> u32 {
        (self.work_min + self.recovery_min).ceil() as u32
    }
}

fn clampf(x: f64, lo: f64, hi: f64) -> f64 {
    x.max(lo).min(hi)
}

fn level_factor(level: Level) -> f64 {
    match level {
        Level::Beginner => 0.75,
        Level::Intermediate => 0.9,
        Level::Advanced => 1.0,
    }
}

/// Candidate main sets for a quality session, biggest first.
fn candidates(
    ctx: &Ctx,
    kind: WorkoutKind,
    week_minutes: f64,
    progress: f64,
    variant: usize,
    sharpen: f64,
) -> Vec<MainSet> {
    let lf = level_factor(ctx.level) * sharpen;
    let pace = ctx.table.and_then(|t| t.for_kind(kind, ctx.goal));
    let p = paren(pace);
    let mut out = Vec::new();
    match kind {
        WorkoutKind::Intervals if ctx.goal == Goal::Speed => {
            // Daniels R: ≤ 5 % of weekly volume, short reps with full recovery.
            let budget = clampf(0.05 * week_minutes * lf, 4.0, 10.0);
            let (metres, default_s) = if variant.is_multiple_of(2) { (200.0, 40.0) } else { (400.0, 85.0) };
            let rep_s = pace.map_or(default_s, |p| p.mid().s_per_km() * metres / 1000.0);
            let max = clampf((budget * 60.0 / rep_s).round(), 4.0, if metres < 300.0 { 12.0 } else { 8.0 }) as u32;
            for r in (4..=max).rev() {
                let rf = f64::from(r);
                let (fr, en) = if pace.is_some() {
                    (
                        format!("{r} × {metres} m à allure R{p}, récupération {metres} m en trottinant"),
                        format!("{r} × {metres} m at repetition pace{p}, {metres} m jog recovery"),
                    )
                } else {
                    (
                        format!("{r} × {default_s} s vite, relâché et puissant (zone FC 5), récupération {} s en trottinant", 2.0 * default_s),
                        format!("{r} × {default_s} s fast, relaxed and powerful (HR zone 5), {} s jog recovery", 2.0 * default_s),
                    )
                };
                let blocks = match pace {
                    Some(p) => reps(
                        r,
                        Step::new(StepName::Repetition, Intensity::Active, Length::Metres(metres as u32), Target::Pace(p)),
                        Step::new(StepName::Jog, Intensity::Recovery, Length::Metres(metres as u32), Target::Open),
                    ),
                    None => reps(
                        r,
                        Step::minutes(StepName::Fast, Intensity::Active, default_s / 60.0, Target::HrZone(5)),
                        jog(2.0 * default_s / 60.0),
                    ),
                };
                out.push(MainSet {
                    fr,
                    en,
                    work_min: rf * rep_s / 60.0,
                    recovery_min: rf * rep_s * 2.0 / 60.0,
                    blocks,
                });
            }
        }
        WorkoutKind::Intervals => {
            // Daniels I: ≤ 8 % of weekly volume.
            let budget = clampf(0.08 * week_minutes * lf, 6.0, 24.0);
            let vma = ctx.table.map(|t| format!(" (≈ {} /km)", t.paces.interval.min)).unwrap_or_default();
            match variant % 3 {
                0 => {
                    // 30/30 at 100 % VMA, in sets.
                    let sets = if budget >= 15.0 { 3 } else if budget >= 8.0 { 2 } else { 1 };
                    let max = clampf((budget * 2.0 / f64::from(sets)).round(), 6.0, 10.0) as u32;
                    for s in (1..=sets).rev() {
                        for r in (6..=max).rev() {
                            let n = f64::from(s * r);
                            let (fr, en) = if s > 1 {
                                (
                                    format!("{s} × ({r} × 30/30) à 100 % VMA{vma} (30 s vite / 30 s trot), 3 min de trot entre les séries"),
                                    format!("{s} × ({r} × 30/30) at 100 % VMA{vma} (30 s fast / 30 s jog), 3 min jog between sets"),
                                )
                            } else {
                                (
                                    format!("{r} × 30/30 à 100 % VMA{vma} (30 s vite / 30 s trot)"),
                                    format!("{r} × 30/30 at 100 % VMA{vma} (30 s fast / 30 s jog)"),
                                )
                            };
                            let vma_target = target(ctx.table.map(|t| t.paces.interval), Some(5));
                            let set = Block::Repeat {
                                times: r,
                                steps: vec![
                                    Step::minutes(StepName::Fast, Intensity::Active, 0.5, vma_target),
                                    jog(0.5),
                                ],
                            };
                            let mut blocks = vec![set.clone()];
                            for _ in 1..s {
                                blocks.push(Block::Step(jog(3.0)));
                                blocks.push(set.clone());
                            }
                            out.push(MainSet {
                                fr,
                                en,
                                work_min: n * 0.5,
                                recovery_min: n * 0.5 + f64::from(s - 1) * 3.0,
                                blocks,
                            });
                        }
                    }
                }
                1 => {
                    let max = clampf((budget / 3.0).round(), 3.0, 6.0) as u32;
                    for r in (3..=max).rev() {
                        let rf = f64::from(r);
                        out.push(MainSet {
                            fr: format!("{r} × 3 min à allure I (95–100 % VMA){p}, récupération 2 min en trottinant"),
                            en: format!("{r} × 3 min at interval pace (95–100 % VMA){p}, 2 min jog recovery"),
                            work_min: rf * 3.0,
                            recovery_min: (rf - 1.0) * 2.0,
                            blocks: reps_between(
                                r,
                                Step::minutes(StepName::Interval, Intensity::Active, 3.0, target(pace, Some(5))),
                                jog(2.0),
                            ),
                        });
                    }
                }
                _ => {
                    let rep_min = pace.map_or(4.0, |p| p.mid().s_per_km() / 60.0);
                    let max = clampf((budget / rep_min).round(), 3.0, 6.0) as u32;
                    for r in (3..=max).rev() {
                        let rf = f64::from(r);
                        let (fr, en) = if pace.is_some() {
                            (
                                format!("{r} × 1000 m à allure I{p}, récupération 400 m en trottinant"),
                                format!("{r} × 1000 m at interval pace{p}, 400 m jog recovery"),
                            )
                        } else {
                            (
                                format!("{r} × 4 min à 95–100 % VMA (zone FC 5), récupération 2 min 30 en trottinant"),
                                format!("{r} × 4 min at 95–100 % VMA (HR zone 5), 2 min 30 s jog recovery"),
                            )
                        };
                        let blocks = match pace {
                            Some(p) => reps_between(
                                r,
                                Step::new(StepName::Interval, Intensity::Active, Length::Metres(1000), Target::Pace(p)),
                                Step::new(StepName::Jog, Intensity::Recovery, Length::Metres(400), Target::Open),
                            ),
                            None => reps_between(
                                r,
                                Step::minutes(StepName::Interval, Intensity::Active, 4.0, Target::HrZone(5)),
                                jog(2.5),
                            ),
                        };
                        out.push(MainSet { fr, en, work_min: rf * rep_min, recovery_min: (rf - 1.0) * 2.5, blocks });
                    }
                }
            }
        }
        WorkoutKind::Threshold => {
            // Daniels T: ≤ 10 % of weekly volume, cruise intervals.
            let budget = clampf(0.10 * week_minutes * lf, 10.0, 40.0);
            let first = [10u32, 8, 12, 5].get(variant % 4).copied().unwrap_or(10);
            let z = if pace.is_none() { " (zone FC 4, « confortablement difficile »)" } else { "" };
            let ze = if pace.is_none() { " (HR zone 4, comfortably hard)" } else { "" };
            for len in [first, 5] {
                let lf64 = f64::from(len);
                let rec = if len <= 5 { 1.0 } else { 2.0 };
                let max = ((budget / lf64).floor() as u32).clamp(1, 6);
                let min = if len <= 5 { 2 } else { 1 };
                for r in (min..=max.max(min)).rev() {
                    let rf = f64::from(r);
                    let (fr, en) = if r == 1 {
                        (
                            format!("{len} min en continu à allure seuil{p}{z}"),
                            format!("{len} min continuous at threshold pace{p}{ze}"),
                        )
                    } else {
                        (
                            format!("{r} × {len} min à allure seuil{p}{z}, récupération {rec} min en trottinant"),
                            format!("{r} × {len} min at threshold pace{p}{ze}, {rec} min jog recovery"),
                        )
                    };
                    let work = Step::minutes(StepName::Threshold, Intensity::Active, lf64, target(pace, Some(4)));
                    let blocks = reps_between(r, work, jog(rec));
                    out.push(MainSet { fr, en, work_min: rf * lf64, recovery_min: (rf - 1.0) * rec, blocks });
                }
            }
        }
        WorkoutKind::Tempo => {
            let top = (clampf(0.10 * week_minutes * lf * (1.0 + 0.5 * progress), 15.0, 40.0) / 5.0).round() as u32 * 5;
            let z = if pace.is_none() { " (zone FC 3)" } else { "" };
            let ze = if pace.is_none() { " (HR zone 3)" } else { "" };
            for x in (2..=top / 5).rev().map(|k| k * 5) {
                out.push(MainSet {
                    fr: format!("{x} min en continu à allure tempo{p}{z}"),
                    en: format!("{x} min continuous at tempo pace{p}{ze}"),
                    work_min: f64::from(x),
                    recovery_min: 0.0,
                    blocks: vec![Block::Step(Step::minutes(
                        StepName::Tempo,
                        Intensity::Active,
                        f64::from(x),
                        target(pace, Some(3)),
                    ))],
                });
            }
        }
        WorkoutKind::Hills => {
            let cap = if ctx.level == Level::Beginner { 8.0 } else { 12.0 };
            if variant.is_multiple_of(2) {
                let max = clampf((6.0 + 6.0 * progress * sharpen).round(), 6.0, cap) as u32;
                for r in (4..=max).rev() {
                    let rf = f64::from(r);
                    out.push(MainSet {
                        fr: format!("{r} × 45 s en côte à effort soutenu (≈ effort 5 km, zone FC 5), retour en trottinant en descente"),
                        en: format!("{r} × 45 s uphill at a strong effort (≈ 5K effort, HR zone 5), jog back down"),
                        work_min: rf * 0.75,
                        recovery_min: rf * 1.5,
                        blocks: reps(
                            r,
                            Step::minutes(StepName::Uphill, Intensity::Active, 0.75, Target::HrZone(5)),
                            jog(1.5),
                        ),
                    });
                }
            } else {
                let max = clampf((4.0 + 4.0 * progress * sharpen).round(), 4.0, cap * 2.0 / 3.0) as u32;
                for r in (3..=max).rev() {
                    let rf = f64::from(r);
                    out.push(MainSet {
                        fr: format!("{r} × 90 s en côte à effort soutenu (≈ effort 10 km, zone FC 4–5), retour en trottinant en descente"),
                        en: format!("{r} × 90 s uphill at a strong effort (≈ 10K effort, HR zone 4–5), jog back down"),
                        work_min: rf * 1.5,
                        recovery_min: rf * 2.5,
                        blocks: reps(
                            r,
                            Step::minutes(StepName::Uphill, Intensity::Active, 1.5, Target::HrZone(4)),
                            jog(2.5),
                        ),
                    });
                }
            }
        }
        WorkoutKind::Fartlek => match variant % 3 {
            2 if ctx.level != Level::Beginner => out.push(MainSet {
                fr: "fartlek pyramide 1-2-3-2-1 min vite (≈ effort 10 km, zone FC 4), récupération en trottinant d'égale durée".into(),
                en: "pyramid fartlek 1-2-3-2-1 min fast (≈ 10K effort, HR zone 4), equal-time jog recoveries".into(),
                work_min: 9.0,
                recovery_min: 8.0,
                blocks: {
                    let fast = |m: f64| Block::Step(Step::minutes(StepName::Fast, Intensity::Active, m, Target::HrZone(4)));
                    vec![
                        fast(1.0),
                        Block::Step(jog(1.0)),
                        fast(2.0),
                        Block::Step(jog(2.0)),
                        fast(3.0),
                        Block::Step(jog(3.0)),
                        fast(2.0),
                        Block::Step(jog(2.0)),
                        fast(1.0),
                    ]
                },
            }),
            1 => {
                let max = clampf((4.0 + 4.0 * progress * sharpen).round(), 3.0, 8.0) as u32;
                for r in (3..=max).rev() {
                    let rf = f64::from(r);
                    out.push(MainSet {
                        fr: format!("fartlek {r} × (2 min vite / 1 min trot) (≈ effort 10 km, zone FC 4)"),
                        en: format!("fartlek {r} × (2 min fast / 1 min jog) (≈ 10K effort, HR zone 4)"),
                        work_min: rf * 2.0,
                        recovery_min: rf,
                        blocks: reps(
                            r,
                            Step::minutes(StepName::Fast, Intensity::Active, 2.0, Target::HrZone(4)),
                            jog(1.0),
                        ),
                    });
                }
            }
            _ => {
                let max = clampf((6.0 + 6.0 * progress * sharpen).round(), 4.0, 12.0) as u32;
                for r in (4..=max).rev() {
                    let rf = f64::from(r);
                    out.push(MainSet {
                        fr: format!("fartlek {r} × (1 min vite / 1 min trot) (≈ effort 5–10 km, zone FC 4)"),
                        en: format!("fartlek {r} × (1 min fast / 1 min jog) (≈ 5–10K effort, HR zone 4)"),
                        work_min: rf,
                        recovery_min: rf,
                        blocks: reps(
                            r,
                            Step::minutes(StepName::Fast, Intensity::Active, 1.0, Target::HrZone(4)),
                            jog(1.0),
                        ),
                    });
                }
            }
        },
        WorkoutKind::RacePace => {
            let label = ctx.goal.label();
            let (share, lo, hi, rep_km, rep_default, rec) = match ctx.goal {
                Goal::FiveK => (0.07, 10.0, 20.0, 1.0, 4.0, 2.0),
                Goal::TenK => (0.09, 12.0, 30.0, 2.0, 8.0, 1.5),
                Goal::Half => (0.12, 15.0, 40.0, 3.0, 12.0, 2.0),
                _ => (0.15, 20.0, 60.0, 0.0, 0.0, 0.0),
            };
            let budget = clampf(share * week_minutes * lf * (0.8 + 0.4 * progress), lo * sharpen.min(1.0), hi);
            let z = if pace.is_none() { hr_zone(kind, ctx.goal) } else { None };
            let (zf, ze) = (zone_fr(z), zone_en(z));
            let rec_txt = if rec < 2.0 { format!("{} s", (rec * 60.0_f64).round()) } else { format!("{rec} min") };
            if rep_km > 0.0 {
                let rep_min = pace.map_or(rep_default, |p| rep_km * p.mid().s_per_km() / 60.0);
                let max = ((budget / rep_min).round() as u32).clamp(2, 6);
                for r in (2..=max).rev() {
                    let rf = f64::from(r);
                    let (fr, en) = if pace.is_some() {
                        (
                            format!("{r} × {rep_km} km à allure {}{p}, récupération {rec_txt} en trottinant", label.fr),
                            format!("{r} × {rep_km} km at {} race pace{p}, {rec_txt} jog recovery", label.en),
                        )
                    } else {
                        (
                            format!("{r} × {rep_default} min à allure {} visée{zf}, récupération {rec_txt} en trottinant", label.fr),
                            format!("{r} × {rep_default} min at goal {} effort{ze}, {rec_txt} jog recovery", label.en),
                        )
                    };
                    let work = match pace {
                        Some(p) => Step::new(
                            StepName::RacePace,
                            Intensity::Active,
                            Length::Metres((rep_km * 1000.0) as u32),
                            Target::Pace(p),
                        ),
                        None => Step::minutes(StepName::RacePace, Intensity::Active, rep_default, target(None, z)),
                    };
                    let blocks = reps_between(r, work, jog(rec));
                    out.push(MainSet { fr, en, work_min: rf * rep_min, recovery_min: (rf - 1.0) * rec, blocks });
                }
            } else {
                let top = ((budget / 5.0).round() as u32).max(3) * 5;
                for x in (3..=top / 5).rev().map(|k| k * 5) {
                    let (fr, en) = if x >= 40 {
                        (
                            format!("2 × {} min à allure marathon{p}{zf}, 5 min faciles entre les deux", x / 2),
                            format!("2 × {} min at marathon pace{p}{ze}, 5 min easy in between", x / 2),
                        )
                    } else {
                        (
                            format!("{x} min en continu à allure marathon{p}{zf}"),
                            format!("{x} min continuous at marathon pace{p}{ze}"),
                        )
                    };
                    let rec = if x >= 40 { 5.0 } else { 0.0 };
                    let mp = target(pace, z);
                    let blocks = if x >= 40 {
                        let half = Step::minutes(StepName::MarathonPace, Intensity::Active, f64::from(x / 2), mp);
                        let easy = Step::minutes(StepName::Easy, Intensity::Recovery, 5.0, target(ctx.table.map(|t| t.paces.easy), Some(2)));
                        vec![Block::Step(half), Block::Step(easy), Block::Step(half)]
                    } else {
                        vec![Block::Step(Step::minutes(StepName::MarathonPace, Intensity::Active, f64::from(x), mp))]
                    };
                    out.push(MainSet { fr, en, work_min: f64::from(x), recovery_min: rec, blocks });
                }
            }
        }
        _ => {}
    }
    out
}

/// What a quality session should be.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QualitySpec {
    pub kind: WorkoutKind,
    /// Total minutes, warm-up and cool-down included.
    pub minutes: u32,
    /// The week's training minutes (sizes the main set, Daniels' % caps).
    pub week_minutes: u32,
    /// 0 at the start of the plan, 1 at the peak.
    pub progress: f64,
    /// Rotates between variants of the same kind.
    pub variant: usize,
    /// Race-week sharpening: a smaller main set.
    pub sharpen: bool,
}

/// A quality session of exactly `spec.minutes`, warm-up and cool-down included.
/// `None` when even the smallest main set does not fit with 10 min of
/// warm-up and 10 min of cool-down (the caller then plans an easy run).
pub(crate) fn quality(ctx: &Ctx, date: NaiveDate, spec: QualitySpec) -> Option<Workout> {
    let QualitySpec { kind, minutes, week_minutes, progress, variant, sharpen } = spec;
    let s = if sharpen { 0.6 } else { 1.0 };
    let set = candidates(ctx, kind, f64::from(week_minutes), progress.clamp(0.0, 1.0), variant, s)
        .into_iter()
        .find(|m| m.total() + 20 <= minutes)?;
    let around = minutes - set.total();
    let wu = (around / 2).min(20);
    let cd = around - wu;
    let work_pace = ctx.table.and_then(|t| t.for_kind(kind, ctx.goal).or(Some(t.paces.threshold)));
    let easy = ctx.table.map(|t| t.paces.easy);
    let km = match (work_pace, easy) {
        (Some(w), Some(e)) => Some(
            set.work_min * 60.0 / w.mid().s_per_km() + (f64::from(minutes) - set.work_min) * 60.0 / e.mid().s_per_km(),
        ),
        _ => None,
    };
    let cd_fr =
        if cd > 20 { format!("{cd} min de footing facile pour finir") } else { format!("{cd} min de retour au calme") };
    let cd_en = if cd > 20 { format!("{cd} min easy to finish") } else { format!("{cd} min cool-down") };
    let fr = format!("{wu} min d'échauffement, {}, {cd_fr}", set.fr);
    let en = format!("{wu} min warm-up, {}, {cd_en}", set.en);
    let easy = target(easy, Some(2));
    let mut steps = vec![Block::Step(Step::minutes(StepName::WarmUp, Intensity::WarmUp, f64::from(wu), easy))];
    steps.extend(set.blocks);
    steps.push(Block::Step(Step::minutes(StepName::CoolDown, Intensity::CoolDown, f64::from(cd), easy)));
    Some(workout(ctx, date, kind, minutes, km, Bilingual { fr, en }, steps))
}

/// Fallback pace (s/km) to estimate distances when the VDOT is unknown.
pub(crate) fn typical_pace(level: Level) -> f64 {
    match level {
        Level::Beginner => 420.0,
        Level::Intermediate => 360.0,
        Level::Advanced => 310.0,
    }
}

/// The goal race, on race day.
pub(crate) fn race(ctx: &Ctx, date: NaiveDate, planned_race: bool) -> Option<Workout> {
    let dist = ctx.goal.race_distance()?;
    let km = dist.metres() / 1000.0;
    let (fr_what, en_what) = (dist.label_fr(), dist.label_en());
    let head_fr = if planned_race {
        format!("Jour de course : {fr_what}.")
    } else {
        format!("Course objectif ou test chrono : {fr_what}.")
    };
    let head_en =
        if planned_race { format!("Race day: {en_what}.") } else { format!("Goal race or time trial: {en_what}.") };
    let (minutes, fr, en) = match (ctx.table.and_then(|t| t.race_time_s), ctx.table.and_then(|t| t.race)) {
        (Some(t), Some(p)) => (
            (t / 60.0).ceil() as u32,
            format!(
                "{head_fr} Temps visé {} ({p}) : pars à l'allure cible, pas plus vite, et accélère dans le dernier quart si tu te sens bien. Échauffement 10–15 min avec quelques lignes droites.",
                format_duration(t)
            ),
            format!(
                "{head_en} Target {} ({p}): start at goal pace, no faster, and push in the last quarter if you feel good. Warm up 10–15 min with a few strides.",
                format_duration(t)
            ),
        ),
        _ => (
            (km * typical_pace(ctx.level) / 60.0).ceil() as u32,
            format!(
                "{head_fr} Cours aux sensations : première moitié contrôlée, seconde moitié plus forte. Échauffement 10–15 min avec quelques lignes droites."
            ),
            format!(
                "{head_en} Run by feel: first half controlled, second half stronger. Warm up 10–15 min with a few strides."
            ),
        ),
    };
    let step = Step::new(
        StepName::Race,
        Intensity::Active,
        Length::Metres(dist.metres().round() as u32),
        target(ctx.table.and_then(|t| t.race), None),
    );
    Some(workout(ctx, date, WorkoutKind::Race, minutes, Some(km), Bilingual { fr, en }, vec![Block::Step(step)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, 4).unwrap()
    }

    fn ctx(goal: Goal, vdot: Option<f64>) -> Ctx {
        Ctx {
            goal,
            level: Level::Intermediate,
            table: vdot.and_then(|v| PaceTable::new(goal, Vdot::new(v).unwrap(), None)),
        }
    }

    #[test]
    fn threshold_description_with_paces() {
        let c = ctx(Goal::TenK, Some(50.0));
        let w = quality(
            &c,
            d(),
            QualitySpec {
                kind: WorkoutKind::Threshold,
                minutes: 60,
                week_minutes: 340,
                progress: 0.5,
                variant: 0,
                sharpen: false,
            },
        )
        .unwrap();
        assert_eq!(w.duration_min, 60);
        assert_eq!(w.kind, WorkoutKind::Threshold);
        let t = c.table.unwrap().paces.threshold;
        assert_eq!(w.pace_s_per_km, Some(t));
        assert!(
            w.description.en.contains(&format!("3 × 10 min at threshold pace ({t}), 2 min jog recovery")),
            "{}",
            w.description.en
        );
        assert!(w.description.fr.contains("3 × 10 min à allure seuil"), "{}", w.description.fr);
        assert!(w.description.en.starts_with("13 min warm-up"), "{}", w.description.en);
        assert!(w.description.en.ends_with("13 min cool-down"), "{}", w.description.en);
        assert!(w.distance_km.unwrap() > 11.0 && w.distance_km.unwrap() < 15.0);
    }

    #[test]
    fn vma_intervals_without_vdot() {
        let c = ctx(Goal::FiveK, None);
        let w = quality(
            &c,
            d(),
            QualitySpec {
                kind: WorkoutKind::Intervals,
                minutes: 50,
                week_minutes: 115,
                progress: 0.5,
                variant: 0,
                sharpen: false,
            },
        )
        .unwrap();
        assert!(w.description.en.contains("2 × (8 × 30/30) at 100 % VMA"), "{}", w.description.en);
        assert!(w.description.fr.contains("2 × (8 × 30/30) à 100 % VMA"), "{}", w.description.fr);
        assert_eq!(w.pace_s_per_km, None);
        assert_eq!(w.hr_zone, Some(5));
        assert_eq!(w.distance_km, None);
    }

    #[test]
    fn quality_shrinks_to_fit_or_gives_up() {
        let c = ctx(Goal::TenK, Some(45.0));
        let w = quality(
            &c,
            d(),
            QualitySpec {
                kind: WorkoutKind::Threshold,
                minutes: 35,
                week_minutes: 400,
                progress: 1.0,
                variant: 0,
                sharpen: false,
            },
        )
        .unwrap();
        assert_eq!(w.duration_min, 35);
        assert!(
            quality(
                &c,
                d(),
                QualitySpec {
                    kind: WorkoutKind::Threshold,
                    minutes: 25,
                    week_minutes: 400,
                    progress: 1.0,
                    variant: 0,
                    sharpen: false
                }
            )
            .is_none()
        );
    }

    #[test]
    fn every_kind_builds_and_fits() {
        for goal in Goal::ALL {
            for vdot in [None, Some(35.0), Some(60.0)] {
                let c = ctx(goal, vdot);
                for kind in [
                    WorkoutKind::Intervals,
                    WorkoutKind::Threshold,
                    WorkoutKind::Tempo,
                    WorkoutKind::Hills,
                    WorkoutKind::Fartlek,
                ] {
                    for v in 0..4 {
                        let w = quality(
                            &c,
                            d(),
                            QualitySpec {
                                kind,
                                minutes: 70,
                                week_minutes: 300,
                                progress: 0.7,
                                variant: v,
                                sharpen: false,
                            },
                        )
                        .unwrap();
                        assert_eq!(w.duration_min, 70);
                        assert!(!w.description.en.is_empty() && !w.description.fr.is_empty());
                        assert_eq!(w.pace_s_per_km, c.table.and_then(|t| t.for_kind(kind, goal)));
                    }
                }
                if goal.is_race() {
                    let w = quality(
                        &c,
                        d(),
                        QualitySpec {
                            kind: WorkoutKind::RacePace,
                            minutes: 70,
                            week_minutes: 300,
                            progress: 0.7,
                            variant: 0,
                            sharpen: false,
                        },
                    )
                    .unwrap();
                    assert_eq!(w.pace_s_per_km.is_some(), vdot.is_some());
                    let r = race(&c, d(), true).unwrap();
                    assert_eq!(r.kind, WorkoutKind::Race);
                    assert!(r.description.en.starts_with("Race day"));
                } else {
                    assert!(race(&c, d(), true).is_none());
                }
            }
        }
    }

    #[test]
    fn race_workout_uses_prediction() {
        let c = ctx(Goal::Marathon, Some(50.0));
        let r = race(&c, d(), true).unwrap();
        assert_eq!(r.duration_min, 191); // 3:10:4x
        assert!(r.description.en.contains("3:10:4"), "{}", r.description.en);
        assert_eq!(r.distance_km, Some(42.2));
        assert_eq!(expected_pace(WorkoutKind::Race, Goal::Marathon, Some(50.0)), r.pace_s_per_km);
        assert_eq!(expected_pace(WorkoutKind::Hills, Goal::Marathon, Some(50.0)), None);
        assert_eq!(expected_pace(WorkoutKind::Easy, Goal::Marathon, Some(99.0)), None);
    }

    #[test]
    fn durations_text() {
        assert_eq!(dur_en(45), "45 min");
        assert_eq!(dur_en(100), "1 h 40 min");
        assert_eq!(dur_fr(100), "1 h 40");
        assert_eq!(dur_en(120), "2 h");
    }
}
