//! A planned session as a structured workout file for a watch: FIT (Garmin's Flexible and
//! Interoperable Data Transfer format), file type "workout", which Garmin, Coros, Suunto and
//! Wahoo watches load.
//!
//! The encoder is ours and small (three messages): fitparser, already our decoder, only reads,
//! and the one Rust FIT writer on crates.io with a full profile (rustyfit) is a 65k-line port
//! of another SDK that calls itself a learning project. Tests decode every file with fitparser
//! and `scripts/check-fit` with Garmin's own SDK (garmin-fit-sdk, from PyPI).
//!
//! Message and field numbers, base types and scales are from the FIT profile (Profile.xlsx,
//! messages `file_id` 0, `workout` 26, `workout_step` 27).

use crate::i18n::Lang;
use crate::plan::{Block, Intensity, Length, Plan, Step, Target, Workout, WorkoutKind};
use chrono::{DateTime, NaiveDate, Utc};

/// Why a day cannot become a workout file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    #[error("rest day: no session to put on a watch")]
    RestDay,
    #[error("cross-training has no running steps")]
    NotRunning,
    #[error("the plan runs from {start} to {end}")]
    OutsidePlan { start: NaiveDate, end: NaiveDate },
}

impl WatchError {
    #[must_use]
    pub fn message(self, lang: Lang) -> String {
        let text = match self {
            WatchError::OutsidePlan { start, end } => {
                return match lang {
                    Lang::Fr => format!("Pas de séance ce jour-là : ton plan va du {start} au {end}."),
                    Lang::En => format!("No session that day: your plan runs from {start} to {end}."),
                };
            }
            WatchError::RestDay => lang.pick(
                "C'est un jour de repos : pas de séance à mettre sur la montre. Profite ! 😌",
                "It's a rest day: no session to put on the watch. Enjoy it! 😌",
            ),
            WatchError::NotRunning => lang.pick(
                "C'est une séance d'entraînement croisé (vélo, natation…), libre : pas d'étapes de course pour la montre.",
                "It's a cross-training session (bike, swim…), done freely: there are no running steps for the watch.",
            ),
        };
        text.to_owned()
    }
}

/// The running session planned on `date`: a day of the plan without one is a rest day.
pub fn session_on(plan: &Plan, date: NaiveDate) -> Result<&Workout, WatchError> {
    if date < plan.start_date || date > plan.end_date() {
        return Err(WatchError::OutsidePlan { start: plan.start_date, end: plan.end_date() });
    }
    if let Some(run) = plan.workouts().find(|w| w.date == date && w.kind.is_running()) {
        return Ok(run);
    }
    if plan.workouts().any(|w| w.date == date && w.kind == WorkoutKind::Cross) {
        return Err(WatchError::NotRunning);
    }
    Err(WatchError::RestDay)
}

/// Seconds from the Unix epoch to the FIT epoch (1989-12-31 00:00:00 UTC).
const FIT_EPOCH: i64 = 631_065_600;
/// The FIT profile version the file declares (21.32).
const PROFILE_VERSION: u16 = 2132;
/// The manufacturer id the FIT profile reserves for development.
const MANUFACTURER_DEVELOPMENT: u16 = 255;
/// Longest name written, in bytes (watches show about 15 characters anyway).
const MAX_NAME: usize = 32;

mod base {
    pub const ENUM: u8 = 0x00;
    pub const UINT16: u8 = 0x84;
    pub const UINT32: u8 = 0x86;
    pub const UINT32Z: u8 = 0x8C;
    pub const STRING: u8 = 0x07;
}

mod mesg {
    pub const FILE_ID: u16 = 0;
    pub const WORKOUT: u16 = 26;
    pub const WORKOUT_STEP: u16 = 27;
}

/// `duration_type` values.
mod duration {
    pub const TIME: u8 = 0;
    pub const DISTANCE: u8 = 1;
    pub const REPEAT_UNTIL_STEPS_COMPLETE: u8 = 6;
}

/// `wkt_step_target` values.
mod target {
    pub const SPEED: u8 = 0;
    pub const HEART_RATE: u8 = 1;
    pub const OPEN: u8 = 2;
}

/// One field of a data message: its number, base type and little-endian bytes.
struct Field {
    num: u8,
    base: u8,
    bytes: Vec<u8>,
}

impl Field {
    fn enum8(num: u8, v: u8) -> Field {
        Field { num, base: base::ENUM, bytes: vec![v] }
    }
    fn u16(num: u8, v: u16) -> Field {
        Field { num, base: base::UINT16, bytes: v.to_le_bytes().to_vec() }
    }
    fn u32(num: u8, v: u32) -> Field {
        Field { num, base: base::UINT32, bytes: v.to_le_bytes().to_vec() }
    }
    fn u32z(num: u8, v: u32) -> Field {
        Field { num, base: base::UINT32Z, bytes: v.to_le_bytes().to_vec() }
    }
    /// A null-terminated UTF-8 string, cut on a character boundary.
    fn string(num: u8, s: &str) -> Field {
        let mut end = s.len().min(MAX_NAME);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = s.get(..end).unwrap_or_default().as_bytes().to_vec();
        bytes.push(0);
        Field { num, base: base::STRING, bytes }
    }
}

/// The records of a FIT file, each message preceded by its definition (local type 0 is
/// redefined every time, which every decoder accepts and keeps string sizes exact).
#[derive(Default)]
struct Records(Vec<u8>);

impl Records {
    fn message(&mut self, global: u16, fields: &[Field]) {
        let out = &mut self.0;
        // Definition: header (definition bit, local type 0), reserved, little-endian, global
        // message number, number of fields, then (number, size, base type) for each.
        out.extend_from_slice(&[0x40, 0, 0]);
        out.extend_from_slice(&global.to_le_bytes());
        out.push(fields.len() as u8);
        for f in fields {
            out.extend_from_slice(&[f.num, f.bytes.len() as u8, f.base]);
        }
        out.push(0x00);
        for f in fields {
            out.extend_from_slice(&f.bytes);
        }
    }
}

/// The FIT CRC-16 (the profile's nibble table).
fn crc16(bytes: &[u8]) -> u16 {
    const TABLE: [u16; 16] = [
        0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401, 0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01,
        0x8801, 0x4400,
    ];
    // Indices are nibbles (< 16): the lookups cannot miss.
    let at = |i: u16| TABLE.get(usize::from(i & 0x0F)).copied().unwrap_or(0);
    let mut crc: u16 = 0;
    for &b in bytes {
        for nibble in [b & 0x0F, b >> 4] {
            crc = ((crc >> 4) & 0x0FFF) ^ at(crc) ^ at(u16::from(nibble));
        }
    }
    crc
}

/// What the step's target is, for its note on the watch.
fn target_note(t: Target, lang: Lang) -> Option<String> {
    match t {
        Target::Open => None,
        Target::Pace(p) => Some(p.to_string()),
        Target::HrZone(z) => Some(format!("{} {z}", lang.pick("Zone FC", "HR zone"))),
    }
}

fn step_fields(index: u16, step: &Step, lang: Lang) -> Vec<Field> {
    let mut f = vec![Field::u16(254, index), Field::string(0, step.name.get(lang))];
    match step.length {
        // duration_time: scale 1000 (ms); duration_distance: scale 100 (cm).
        Length::Seconds(s) => {
            f.push(Field::enum8(1, duration::TIME));
            f.push(Field::u32(2, s.saturating_mul(1000)));
        }
        Length::Metres(m) => {
            f.push(Field::enum8(1, duration::DISTANCE));
            f.push(Field::u32(2, m.saturating_mul(100)));
        }
    }
    match step.target {
        Target::Open => {
            f.push(Field::enum8(3, target::OPEN));
            f.push(Field::u32(4, 0));
        }
        Target::Pace(p) => {
            // A custom speed range (target_value 0): custom_target_speed_low/high, scale 1000
            // (mm/s); the slow end of the pace band is the low speed.
            let speed = |s_per_km: f64| (1_000_000.0 / s_per_km).round() as u32;
            f.push(Field::enum8(3, target::SPEED));
            f.push(Field::u32(4, 0));
            f.push(Field::u32(5, speed(p.max.s_per_km())));
            f.push(Field::u32(6, speed(p.min.s_per_km())));
        }
        Target::HrZone(z) => {
            f.push(Field::enum8(3, target::HEART_RATE));
            f.push(Field::u32(4, u32::from(z.clamp(1, 5))));
        }
    }
    let intensity = match step.intensity {
        Intensity::Active => 0,
        Intensity::WarmUp => 2,
        Intensity::CoolDown => 3,
        Intensity::Recovery => 4,
    };
    f.push(Field::enum8(7, intensity));
    if let Some(note) = target_note(step.target, lang) {
        f.push(Field::string(8, &note));
    }
    f
}

/// The watch's name for the session: its kind and date ("Seuil 07/12", "Threshold 12/07").
#[must_use]
pub fn workout_name(w: &Workout, lang: Lang) -> String {
    let date = match lang {
        Lang::Fr => w.date.format("%d/%m"),
        Lang::En => w.date.format("%m/%d"),
    };
    format!("{} {date}", w.kind.label().get(lang))
}

/// The file's name: `runcoach-2026-12-07-threshold.fit`.
#[must_use]
pub fn file_name(w: &Workout) -> String {
    format!("runcoach-{}-{}.fit", w.date, w.kind.as_str())
}

/// The session as a FIT workout file, names and notes in `lang`, stamped `created`.
pub fn workout_fit(w: &Workout, lang: Lang, created: DateTime<Utc>) -> Result<Vec<u8>, WatchError> {
    match w.kind {
        WorkoutKind::Rest => return Err(WatchError::RestDay),
        WorkoutKind::Cross => return Err(WatchError::NotRunning),
        _ => {}
    }
    let blocks = w.blocks();
    let mut steps: Vec<Vec<Field>> = Vec::new();
    for block in &blocks {
        match block {
            Block::Step(s) => steps.push(step_fields(steps.len() as u16, s, lang)),
            Block::Repeat { times, steps: inner } => {
                let first = steps.len() as u16;
                for s in inner {
                    steps.push(step_fields(steps.len() as u16, s, lang));
                }
                // "Repeat from step `first` until done `times` times": duration_step (the
                // index to go back to) and repeat_steps (the count).
                steps.push(vec![
                    Field::u16(254, steps.len() as u16),
                    Field::enum8(1, duration::REPEAT_UNTIL_STEPS_COMPLETE),
                    Field::u32(2, u32::from(first)),
                    Field::u32(4, *times),
                ]);
            }
        }
    }
    let stamp = u32::try_from(created.timestamp() - FIT_EPOCH).unwrap_or(0);
    let mut records = Records::default();
    records.message(
        mesg::FILE_ID,
        &[
            Field::enum8(0, 5), // type: workout
            Field::u16(1, MANUFACTURER_DEVELOPMENT),
            Field::u16(2, 0),
            // serial_number: any non-zero number, the same for a session so files compare.
            Field::u32z(3, w.date.format("%Y%m%d").to_string().parse().unwrap_or(1)),
            Field::u32(4, stamp),
            Field::string(8, "runcoach"),
        ],
    );
    records.message(
        mesg::WORKOUT,
        &[
            Field::string(8, &workout_name(w, lang)),
            Field::enum8(4, 1),  // sport: running
            Field::enum8(11, 0), // sub_sport: generic
            Field::u16(6, steps.len() as u16),
        ],
    );
    for fields in &steps {
        records.message(mesg::WORKOUT_STEP, fields);
    }
    let data = records.0;
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&[14, 0x20]);
    out.extend_from_slice(&PROFILE_VERSION.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(b".FIT");
    let header_crc = crc16(&out);
    out.extend_from_slice(&header_crc.to_le_bytes());
    out.extend_from_slice(&data);
    let file_crc = crc16(&out);
    out.extend_from_slice(&file_crc.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_profiles_check_value() {
        // The FIT CRC is CRC-16/ARC: "123456789" → 0xBB3D.
        assert_eq!(crc16(b"123456789"), 0xBB3D);
        assert_eq!(crc16(&[]), 0);
    }

    #[test]
    fn strings_are_cut_on_a_character_boundary() {
        let f = Field::string(0, &"é".repeat(40));
        assert_eq!(f.bytes.len(), MAX_NAME + 1);
        assert!(std::str::from_utf8(&f.bytes[..f.bytes.len() - 1]).is_ok());
        assert_eq!(f.bytes.last(), Some(&0));
    }

    use crate::plan::test_support::{history, request};
    use crate::plan::{Goal, Level, PlanLength, generate};
    use chrono::TimeZone;

    /// One decoded workout step, as fitparser (an independent decoder) reads it.
    #[derive(Debug, PartialEq)]
    enum Decoded {
        Step { name: String, intensity: String, seconds: Option<f64>, metres: Option<f64>, target: String },
        Repeat { from: u32, times: u32 },
    }

    fn decode(bytes: &[u8]) -> (String, Vec<Decoded>) {
        let records = fitparser::from_bytes(bytes).expect("fitparser reads the file (header and CRCs valid)");
        let mut out = Vec::new();
        let mut file_type = String::new();
        for r in &records {
            let get = |n: &str| r.fields().iter().find(|f| f.name() == n).map(|f| f.value().clone());
            let text = |n: &str| get(n).map(|v| v.to_string()).unwrap_or_default();
            let num = |n: &str| get(n).as_ref().and_then(crate::import::fit::as_f64);
            match r.kind() {
                fitparser::profile::MesgNum::FileId => file_type = text("type"),
                fitparser::profile::MesgNum::WorkoutStep if text("duration_type") == "repeat_until_steps_cmplt" => {
                    out.push(Decoded::Repeat {
                        from: num("duration_step").unwrap_or(-1.0) as u32,
                        times: num("repeat_steps").unwrap_or(-1.0) as u32,
                    });
                }
                fitparser::profile::MesgNum::WorkoutStep => {
                    let target = match text("target_type").as_str() {
                        "speed" => format!(
                            "speed {:.3}-{:.3}",
                            num("custom_target_speed_low").unwrap_or(0.0),
                            num("custom_target_speed_high").unwrap_or(0.0)
                        ),
                        "heart_rate" => format!("hr zone {}", num("target_hr_zone").unwrap_or(0.0)),
                        other => other.to_owned(),
                    };
                    out.push(Decoded::Step {
                        name: text("wkt_step_name"),
                        intensity: text("intensity"),
                        seconds: num("duration_time"),
                        metres: num("duration_distance"),
                        target,
                    });
                }
                _ => {}
            }
        }
        (file_type, out)
    }

    /// What the file should hold for `blocks`, written independently of the encoder.
    fn expected(blocks: &[Block], lang: Lang) -> Vec<Decoded> {
        let step = |s: &Step| {
            let (seconds, metres) = match s.length {
                Length::Seconds(x) => (Some(f64::from(x)), None),
                Length::Metres(m) => (None, Some(f64::from(m))),
            };
            let target = match s.target {
                Target::Open => "open".to_owned(),
                Target::Pace(p) => {
                    format!("speed {:.3}-{:.3}", 1000.0 / p.max.s_per_km(), 1000.0 / p.min.s_per_km())
                }
                Target::HrZone(z) => format!("hr zone {z}"),
            };
            let intensity = match s.intensity {
                Intensity::Active => "active",
                Intensity::WarmUp => "warmup",
                Intensity::CoolDown => "cooldown",
                Intensity::Recovery => "recovery",
            };
            Decoded::Step {
                name: s.name.get(lang).to_owned(),
                intensity: intensity.to_owned(),
                seconds,
                metres,
                target,
            }
        };
        let mut out = Vec::new();
        for b in blocks {
            match b {
                Block::Step(s) => out.push(step(s)),
                Block::Repeat { times, steps } => {
                    let from = out.len() as u32;
                    out.extend(steps.iter().map(step));
                    out.push(Decoded::Repeat { from, times: *times });
                }
            }
        }
        out
    }

    fn stamp() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 8, 0, 0).unwrap()
    }

    #[test]
    fn every_session_of_every_plan_decodes_step_for_step() {
        let mut kinds = std::collections::BTreeSet::new();
        for goal in Goal::ALL {
            for vdot in [None, Some(38.0), Some(55.0)] {
                let mut r = request(goal, Some(Level::Intermediate), 4, PlanLength::Weeks(16));
                r.vdot = vdot;
                r.history = Some(history(Level::Intermediate, 240.0, 40.0, vdot));
                let p = generate(&r).unwrap();
                for w in p.weeks.iter().flat_map(|wk| &wk.workouts).filter(|w| w.kind.is_running()) {
                    // Every session the engine writes carries its steps, and they add up to it.
                    assert!(!w.steps.is_empty(), "{:?} on {} has no steps", w.kind, w.date);
                    assert_eq!(
                        w.blocks(),
                        w.steps,
                        "{:?} {}: steps do not add up to {} min",
                        w.kind,
                        w.date,
                        w.duration_min
                    );
                    for lang in [Lang::Fr, Lang::En] {
                        let bytes = workout_fit(w, lang, stamp()).unwrap();
                        let (file_type, steps) = decode(&bytes);
                        assert_eq!(file_type, "workout");
                        assert_eq!(steps, expected(&w.steps, lang), "{:?} {}", w.kind, w.description.en);
                    }
                    kinds.insert(w.kind.as_str());
                }
            }
        }
        for k in ["easy", "long", "strides", "tempo", "threshold", "intervals", "hills", "fartlek", "race_pace", "race"]
        {
            assert!(kinds.contains(k), "no {k} session was checked: {kinds:?}");
        }
    }

    #[test]
    fn threshold_reps_are_structured_from_the_same_numbers_as_the_text() {
        let mut r = request(Goal::TenK, Some(Level::Intermediate), 4, PlanLength::Weeks(12));
        r.vdot = Some(50.0);
        r.history = Some(history(Level::Intermediate, 300.0, 50.0, Some(50.0)));
        let p = generate(&r).unwrap();
        let w = p
            .weeks
            .iter()
            .flat_map(|wk| &wk.workouts)
            .find(|w| w.kind == WorkoutKind::Threshold && w.description.en.contains(" × "))
            .expect("a threshold session with repeats");
        let (_, steps) = decode(&workout_fit(w, Lang::En, stamp()).unwrap());
        let Some(Decoded::Step { name, intensity, .. }) = steps.first() else { panic!("{steps:?}") };
        assert_eq!((name.as_str(), intensity.as_str()), ("Warm-up", "warmup"));
        let Some(Decoded::Step { name, intensity, .. }) = steps.last() else { panic!("{steps:?}") };
        assert_eq!((name.as_str(), intensity.as_str()), ("Cool-down", "cooldown"));
        // "3 × 10 min …" is a repeat of (work, jog) then the last work: 3 works in all.
        let works =
            steps.iter().filter(|s| matches!(s, Decoded::Step { name, .. } if name == "Threshold")).count() as u32;
        let repeats: u32 =
            steps.iter().filter_map(|s| if let Decoded::Repeat { times, .. } = s { Some(*times) } else { None }).sum();
        let said: u32 =
            w.description.en.split(" × ").next().and_then(|x| x.rsplit(' ').next()).unwrap().parse().unwrap();
        assert_eq!(works - 1 + repeats, said, "{}", w.description.en);
        let pace = w.pace_s_per_km.unwrap();
        assert!(steps.iter().any(
            |s| matches!(s, Decoded::Step { name, target, .. } if name == "Threshold" && target == &format!("speed {:.3}-{:.3}", 1000.0 / pace.max.s_per_km(), 1000.0 / pace.min.s_per_km()))
        ));
    }

    #[test]
    fn rest_and_cross_training_are_refused_with_a_reason() {
        let p = generate(&request(Goal::Fitness, Some(Level::Beginner), 3, PlanLength::Weeks(8))).unwrap();
        let mut w = p.weeks[0].workouts[0].clone();
        w.kind = WorkoutKind::Rest;
        assert_eq!(workout_fit(&w, Lang::Fr, stamp()), Err(WatchError::RestDay));
        assert!(WatchError::RestDay.message(Lang::Fr).contains("repos"));
        w.kind = WorkoutKind::Cross;
        assert_eq!(workout_fit(&w, Lang::En, stamp()), Err(WatchError::NotRunning));

        let run = p.weeks[0].workouts[0].date;
        assert_eq!(session_on(&p, run).map(|w| w.date), Ok(run));
        let rest = (0..7)
            .map(|d| p.start_date + chrono::Duration::days(d))
            .find(|d| p.workouts().all(|w| w.date != *d))
            .expect("a day without a session in the first week");
        assert_eq!(session_on(&p, rest).map(|w| w.date), Err(WatchError::RestDay));
        let after = p.end_date() + chrono::Duration::days(1);
        assert_eq!(
            session_on(&p, after).map(|w| w.date),
            Err(WatchError::OutsidePlan { start: p.start_date, end: p.end_date() })
        );
        assert!(
            WatchError::OutsidePlan { start: p.start_date, end: p.end_date() }.message(Lang::En).contains("runs from")
        );
    }

    #[test]
    fn a_stored_session_without_steps_is_one_step_at_its_target() {
        let p = generate(&request(Goal::Fitness, Some(Level::Beginner), 3, PlanLength::Weeks(8))).unwrap();
        let mut w = p.weeks[0].workouts[0].clone();
        w.steps.clear();
        let (_, steps) = decode(&workout_fit(&w, Lang::Fr, stamp()).unwrap());
        assert_eq!(steps.len(), 1);
        let Decoded::Step { seconds, target, .. } = &steps[0] else { panic!("{steps:?}") };
        assert_eq!(*seconds, Some(f64::from(w.duration_min * 60)));
        assert_eq!(target, &format!("hr zone {}", w.hr_zone.unwrap()), "no VDOT: the heart-rate zone");
        // A session whose length changed without its steps falls back the same way.
        let mut changed = p.weeks[0].workouts[0].clone();
        changed.duration_min += 30;
        assert_eq!(changed.blocks().len(), 1);
        assert_ne!(changed.blocks(), changed.steps);
    }
}
