//! FIT activities with fitparser: chained files, developer fields and compressed timestamps are
//! handled by its stream processor; we drive it message by message so a damaged file still yields
//! what precedes the damage, and check each file's CRC ourselves (a bad CRC is a warning).

use chrono::{DateTime, TimeZone, Utc};
use fitparser::de::{DecodeOption, FitObject, FitStreamProcessor};
use fitparser::profile::MesgNum;
use fitparser::{FitDataRecord, Value};

use super::summary::{self, Point};
use super::{ImportError, ImportWarning, Imported, SOURCE_FILE, cadence_in_strides, stable_id};
use crate::domain::activity::{NewActivity, NewLap};
use crate::science::load::ActivityKind;

const FORMAT: &str = "FIT";
/// Field definitions whose size is not a multiple of their base type's, allowed per import.
/// fitparser reads such a field as bytes and prints a line on stderr for each, so a crafted file
/// of such definitions would flood the service's logs: past this many, the file is damaged.
const MAX_MALFORMED_FIELDS: usize = 64;
/// Seconds between the Unix epoch and the FIT epoch (1989-12-31T00:00:00Z).
const FIT_EPOCH_S: i64 = 631_065_600;
const SEMICIRCLE_TO_DEG: f64 = 180.0 / 2_147_483_648.0;

struct Decoded {
    /// The wanted messages but the records, which are already `points`.
    records: Vec<FitDataRecord>,
    /// The `record` messages, converted as they are decoded: they are most of a file, and keeping
    /// them whole until the end costs several times the memory and a fifth of the import time.
    points: Vec<Point>,
    warnings: Vec<ImportWarning>,
}

pub(super) fn import(bytes: &[u8]) -> Result<Vec<Imported>, ImportError> {
    // fitparser indexes slices from header fields: a malformed file must not take the service down.
    let decoded = std::panic::catch_unwind(|| decode(bytes))
        .map_err(|_| ImportError::Corrupt { format: FORMAT, detail: "decoder failure".into() })??;
    build(decoded)
}

/// FIT's CRC-16 (the SDK's nibble table).
fn fit_crc(bytes: &[u8]) -> u16 {
    const TABLE: [u16; 16] = [
        0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401, 0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01,
        0x8801, 0x4400,
    ];
    let step = |crc: u16, nibble: u16| {
        let tmp = TABLE.get(usize::from(crc & 0xF)).copied().unwrap_or(0);
        let crc = (crc >> 4) & 0x0FFF;
        crc ^ tmp ^ TABLE.get(usize::from(nibble & 0xF)).copied().unwrap_or(0)
    };
    bytes.iter().fold(0u16, |crc, &b| {
        let crc = step(crc, u16::from(b));
        step(crc, u16::from(b) >> 4)
    })
}

fn decode(bytes: &[u8]) -> Result<Decoded, ImportError> {
    let mut processor = FitStreamProcessor::new();
    processor.add_option(DecodeOption::SkipHeaderCrcValidation);
    processor.add_option(DecodeOption::SkipDataCrcValidation);
    let mut records = Vec::new();
    let mut points = Vec::new();
    let mut warnings = Vec::new();
    let mut rest = bytes;
    let mut file_start = 0;
    let mut expect_header = true;
    // Where the current file's messages end, as its header says. A message running past it makes
    // fitparser read the next bytes as a chained file's header (without a CRC in between).
    let mut data_end = usize::MAX;
    let mut malformed = 0;
    while !rest.is_empty() {
        let offset = bytes.len() - rest.len();
        if (expect_header || offset > data_end) && !header_fits(rest) {
            if records.is_empty() && points.is_empty() {
                return Err(ImportError::Corrupt { format: FORMAT, detail: "bad file header".into() });
            }
            warnings.push(ImportWarning::Truncated);
            break;
        }
        if !expect_header {
            malformed += malformed_fields(rest);
            if malformed > MAX_MALFORMED_FIELDS {
                if records.is_empty() && points.is_empty() {
                    let detail = "too many malformed field definitions".into();
                    return Err(ImportError::Corrupt { format: FORMAT, detail });
                }
                warnings.push(ImportWarning::Truncated);
                break;
            }
        }
        let (next, object) = match processor.deserialize_next(rest) {
            Ok(step) => step,
            Err(e) if records.is_empty() && points.is_empty() => {
                return Err(ImportError::Corrupt { format: FORMAT, detail: e.to_string() });
            }
            Err(_) => {
                // Keep everything before the damage (a watch that died mid-run still recorded it).
                warnings.push(ImportWarning::Truncated);
                break;
            }
        };
        match object {
            FitObject::Header(header) => {
                file_start = offset;
                expect_header = false;
                data_end = offset
                    .saturating_add(usize::from(header.header_size()))
                    .saturating_add(usize::try_from(header.data_size()).unwrap_or(usize::MAX));
            }
            FitObject::Crc(crc) => {
                expect_header = true;
                let covered = bytes.get(file_start..offset).unwrap_or_default();
                if fit_crc(covered) != crc && !warnings.contains(&ImportWarning::BadChecksum) {
                    warnings.push(ImportWarning::BadChecksum);
                }
                // Chained files: each starts with fresh definitions and timestamp accumulators.
                processor.reset();
            }
            FitObject::DataMessage(msg) => match processor.decode_message(msg) {
                Ok(record) if record.kind() == MesgNum::Record => points.push(point(&record)),
                Ok(record) => {
                    if wanted(record.kind()) {
                        records.push(record);
                    }
                }
                Err(_) => {
                    warnings.push(ImportWarning::Truncated);
                    break;
                }
            },
            FitObject::DefinitionMessage(_) => {}
        }
        rest = next;
    }
    Ok(Decoded { records, points, warnings })
}

/// How many field definitions of the definition message `rest` starts with (none for any other
/// record) have a size that is not a multiple of their base type's size.
fn malformed_fields(rest: &[u8]) -> usize {
    // A normal record header (bit 7 clear) of a definition message (bit 6); then reserved,
    // architecture, global message number (2 bytes), the field count, and 3 bytes per field.
    match rest.first() {
        Some(&h) if h & 0x80 == 0 && h & 0x40 != 0 => {}
        _ => return 0,
    }
    let count = rest.get(5).map_or(0, |n| usize::from(*n));
    (0..count)
        .filter_map(|i| rest.get(6 + 3 * i..9 + 3 * i))
        .filter(|field| matches!(field, [_, size, base] if size % base_type_size(*base) != 0))
        .count()
}

/// The size of a FIT base type (bits 5 and 6 ignored, as fitparser does); unknown types are bytes.
fn base_type_size(base: u8) -> u8 {
    match base & 0x9f {
        0x83 | 0x84 | 0x8b => 2,
        0x85 | 0x86 | 0x88 | 0x8c => 4,
        0x89 | 0x8e | 0x8f | 0x90 => 8,
        _ => 1,
    }
}

/// Whether `rest` starts with a whole FIT file header. fitparser slices the input with the header's
/// size byte before checking it (found by fuzzing: an out-of-range slice, and an underflow on a
/// short header); the panics are caught, but a checked header never reaches them.
fn header_fits(rest: &[u8]) -> bool {
    let size = rest.first().map(|b| usize::from(*b)).unwrap_or(0);
    size >= 12 && rest.len() >= size && rest.get(8..12) == Some(b".FIT".as_slice())
}

fn wanted(kind: MesgNum) -> bool {
    matches!(
        kind,
        MesgNum::FileId | MesgNum::Session | MesgNum::Lap | MesgNum::Activity | MesgNum::Sport | MesgNum::DeviceInfo
    )
}

fn value<'a>(r: &'a FitDataRecord, name: &str) -> Option<&'a Value> {
    r.fields().iter().find(|f| f.name() == name).map(fitparser::FitDataField::value)
}

pub(crate) fn as_f64(v: &Value) -> Option<f64> {
    let x = match v {
        Value::Byte(x) | Value::Enum(x) | Value::UInt8(x) | Value::UInt8z(x) => f64::from(*x),
        Value::SInt8(x) => f64::from(*x),
        Value::SInt16(x) => f64::from(*x),
        Value::UInt16(x) | Value::UInt16z(x) => f64::from(*x),
        Value::SInt32(x) => f64::from(*x),
        Value::UInt32(x) | Value::UInt32z(x) => f64::from(*x),
        Value::SInt64(x) => *x as f64,
        Value::UInt64(x) | Value::UInt64z(x) => *x as f64,
        Value::Float32(x) => f64::from(*x),
        Value::Float64(x) => *x,
        Value::Timestamp(_) | Value::String(_) | Value::Array(_) | Value::Invalid => return None,
    };
    x.is_finite().then_some(x)
}

fn num(r: &FitDataRecord, name: &str) -> Option<f64> {
    value(r, name).and_then(as_f64)
}

fn time(r: &FitDataRecord, name: &str) -> Option<DateTime<Utc>> {
    match value(r, name)? {
        Value::Timestamp(t) => Some(t.with_timezone(&Utc)),
        other => Utc.timestamp_opt(FIT_EPOCH_S + as_f64(other)? as i64, 0).single(),
    }
}

fn text(r: &FitDataRecord, name: &str) -> Option<String> {
    match value(r, name)? {
        Value::String(s) => Some(s.clone()),
        Value::Invalid => None,
        other => Some(other.to_string()),
    }
}

fn first_of(r: &FitDataRecord, names: &[&str]) -> Option<f64> {
    names.iter().find_map(|n| num(r, n))
}

fn kind_of(sport: Option<&str>, sub: Option<&str>) -> ActivityKind {
    match (sport.unwrap_or_default(), sub.unwrap_or_default()) {
        ("running", "treadmill") | ("fitness_equipment", "treadmill") => ActivityKind::Treadmill,
        ("running", "trail") => ActivityKind::Trail,
        ("running", "track") => ActivityKind::Track,
        ("running", "indoor_running") => ActivityKind::Indoor,
        ("running", "virtual_activity") => ActivityKind::Virtual,
        ("running", _) => ActivityKind::Running,
        ("cycling", _) => ActivityKind::Cycling,
        ("swimming", _) => ActivityKind::Swimming,
        ("walking" | "hiking", _) => ActivityKind::Walking,
        ("training", "strength_training") => ActivityKind::Strength,
        _ => ActivityKind::Other,
    }
}

fn point(r: &FitDataRecord) -> Point {
    let deg = |name: &str| num(r, name).map(|v| v * SEMICIRCLE_TO_DEG).filter(|d| d.abs() <= 180.0);
    Point {
        t: time(r, "timestamp"),
        lat: deg("position_lat"),
        lon: deg("position_long"),
        hr: num(r, "heart_rate"),
        cadence: num(r, "cadence").map(|c| c + num(r, "fractional_cadence").unwrap_or(0.0)),
        speed: first_of(r, &["enhanced_speed", "speed"]),
        alt: first_of(r, &["enhanced_altitude", "altitude"]),
        dist: num(r, "distance"),
    }
}

/// A session's time window: records and laps inside it belong to it.
fn window(session: &FitDataRecord) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = time(session, "start_time")?;
    let end = time(session, "timestamp").or_else(|| {
        let elapsed = num(session, "total_elapsed_time")?;
        Some(start + chrono::Duration::milliseconds((elapsed * 1000.0) as i64))
    })?;
    Some((start, end.max(start)))
}

fn build(decoded: Decoded) -> Result<Vec<Imported>, ImportError> {
    let Decoded { records, mut points, warnings } = decoded;
    let of = |k: MesgNum| records.iter().filter(move |r| r.kind() == k);
    let file_types: Vec<String> = of(MesgNum::FileId).filter_map(|r| text(r, "type")).collect();
    if !file_types.is_empty() && !file_types.iter().any(|t| t == "activity") {
        let kind = file_types.first().cloned().unwrap_or_default();
        return Err(ImportError::NotAnActivity { kind });
    }
    let file_id = of(MesgNum::FileId).next();
    let serial = file_id.and_then(|r| text(r, "serial_number"));
    let created = file_id.and_then(|r| time(r, "time_created"));
    let device = file_id.and_then(|r| {
        let maker = text(r, "manufacturer")?;
        Some(match text(r, "garmin_product").or_else(|| text(r, "product")) {
            Some(product) => format!("{maker} {product}"),
            None => maker,
        })
    });
    let utc_offset_s = of(MesgNum::Activity)
        .find_map(|r| {
            let utc = match value(r, "timestamp")? {
                Value::Timestamp(t) => t.naive_utc(),
                _ => return None,
            };
            let local = match value(r, "local_timestamp")? {
                Value::Timestamp(t) => t.naive_local(),
                _ => return None,
            };
            let offset = (local - utc).num_seconds();
            // Offsets are whole quarter hours within ±14 h; anything else is a broken clock.
            let rounded = (offset as f64 / 900.0).round() as i64 * 900;
            (rounded.abs() <= 14 * 3600).then(|| i32::try_from(rounded).ok()).flatten()
        })
        .unwrap_or(0);

    let dropped = summary::keep_timed(&mut points);
    let laps: Vec<&FitDataRecord> = of(MesgNum::Lap).collect();
    let sessions: Vec<&FitDataRecord> = of(MesgNum::Session).collect();
    let mut base_warnings = warnings;
    if dropped > 0 {
        base_warnings.push(ImportWarning::PointsDropped { count: dropped });
    }

    let mut out = Vec::new();
    if sessions.is_empty() {
        // No session (often a file cut short): one activity from the records alone.
        let sport = of(MesgNum::Sport).next();
        let kind = kind_of(
            sport.and_then(|s| text(s, "sport")).as_deref(),
            sport.and_then(|s| text(s, "sub_sport")).as_deref(),
        );
        let Some(start) = points.first().and_then(|p| p.t) else {
            return Err(ImportError::NoTrackPoints);
        };
        let mut pts = points;
        let mut activity = base(kind, start, &serial, created, device, utc_offset_s, &mut pts);
        activity.laps = laps.iter().filter_map(|l| lap(l, kind)).collect();
        let mut warnings = base_warnings;
        warnings.push(ImportWarning::SummaryFromSamples);
        out.push(Imported { activity, warnings });
        return Ok(out);
    }
    let single = sessions.len() == 1;
    for session in sessions {
        let kind = kind_of(text(session, "sport").as_deref(), text(session, "sub_sport").as_deref());
        if text(session, "sport").as_deref() == Some("transition") {
            continue;
        }
        let Some((start, end)) = window(session).or_else(|| {
            let start = points.first().and_then(|p| p.t)?;
            Some((start, points.last().and_then(|p| p.t).unwrap_or(start)))
        }) else {
            continue;
        };
        let inside = |t: Option<DateTime<Utc>>| single || t.is_some_and(|t| t >= start && t <= end);
        let mut pts: Vec<Point> = points.iter().filter(|p| inside(p.t)).copied().collect();
        let mut activity = base(kind, start, &serial, created, device.clone(), utc_offset_s, &mut pts);
        let strides = cadence_in_strides(kind);
        let cadence = |avg: &str, frac: &str| {
            num(session, avg).filter(|c| *c > 0.0).map(|c| {
                let c = c + num(session, frac).unwrap_or(0.0);
                if strides { c * 2.0 } else { c }
            })
        };
        let summary_values = NewActivity {
            duration_s: first_of(session, &["total_timer_time", "total_elapsed_time"]).unwrap_or(0.0),
            moving_s: num(session, "total_moving_time"),
            distance_m: num(session, "total_distance"),
            elevation_gain_m: num(session, "total_ascent"),
            elevation_loss_m: num(session, "total_descent"),
            avg_hr: num(session, "avg_heart_rate").filter(|h| *h > 0.0),
            max_hr: num(session, "max_heart_rate").filter(|h| *h > 0.0),
            avg_cadence: cadence("avg_cadence", "avg_fractional_cadence"),
            max_cadence: cadence("max_cadence", "max_fractional_cadence"),
            avg_speed_mps: first_of(session, &["enhanced_avg_speed", "avg_speed"]),
            max_speed_mps: first_of(session, &["enhanced_max_speed", "max_speed"]),
            calories: num(session, "total_calories"),
            aerobic_te: num(session, "total_training_effect"),
            anaerobic_te: num(session, "total_anaerobic_training_effect"),
            ..NewActivity::default()
        };
        let computed = summary::compute(&pts);
        activity.duration_s = summary_values.duration_s;
        activity.moving_s = summary_values.moving_s;
        activity.distance_m = summary_values.distance_m;
        activity.elevation_gain_m = summary_values.elevation_gain_m;
        activity.elevation_loss_m = summary_values.elevation_loss_m;
        activity.avg_hr = summary_values.avg_hr;
        activity.max_hr = summary_values.max_hr;
        activity.avg_cadence = summary_values.avg_cadence;
        activity.max_cadence = summary_values.max_cadence;
        activity.avg_speed_mps = summary_values.avg_speed_mps;
        activity.max_speed_mps = summary_values.max_speed_mps;
        activity.calories = summary_values.calories;
        activity.aerobic_te = summary_values.aerobic_te;
        activity.anaerobic_te = summary_values.anaerobic_te;
        summary::fill_missing(&mut activity, &computed);
        activity.laps =
            laps.iter().filter(|l| single || inside(time(l, "start_time"))).filter_map(|l| lap(l, kind)).collect();
        out.push(Imported { activity, warnings: base_warnings.clone() });
    }
    if out.is_empty() {
        return Err(ImportError::NothingFound);
    }
    Ok(out)
}

/// The activity skeleton and its samples; totals are computed from the points and overridden by
/// the session's own when it has them.
fn base(
    kind: ActivityKind,
    start: DateTime<Utc>,
    serial: &Option<String>,
    created: Option<DateTime<Utc>>,
    device: Option<String>,
    utc_offset_s: i32,
    points: &mut [Point],
) -> NewActivity {
    if cadence_in_strides(kind) {
        for p in points.iter_mut() {
            p.cadence = p.cadence.map(|c| c * 2.0);
        }
    }
    summary::fill_distance(points);
    let external_id = match (serial, created) {
        (Some(serial), Some(created)) => format!("fit-{serial}-{}-{}", created.timestamp(), start.timestamp()),
        _ => stable_id("fit", start),
    };
    let mut activity = NewActivity {
        source: SOURCE_FILE.to_owned(),
        external_id: Some(external_id),
        sport: kind,
        start_time: start,
        utc_offset_s,
        device,
        samples: summary::samples(points, start),
        ..NewActivity::default()
    };
    summary::fill_missing(&mut activity, &summary::compute(points));
    activity
}

fn lap(r: &FitDataRecord, kind: ActivityKind) -> Option<NewLap> {
    let start_time = time(r, "start_time").or_else(|| time(r, "timestamp"))?;
    let duration_s = first_of(r, &["total_timer_time", "total_elapsed_time"])?;
    let strides = cadence_in_strides(kind);
    Some(NewLap {
        start_time,
        duration_s,
        distance_m: num(r, "total_distance"),
        avg_hr: num(r, "avg_heart_rate").filter(|h| *h > 0.0),
        max_hr: num(r, "max_heart_rate").filter(|h| *h > 0.0),
        avg_cadence: num(r, "avg_cadence")
            .filter(|c| *c > 0.0)
            .map(|c| c + num(r, "avg_fractional_cadence").unwrap_or(0.0))
            .map(|c| if strides { c * 2.0 } else { c }),
        avg_speed_mps: first_of(r, &["enhanced_avg_speed", "avg_speed"]),
        intensity: text(r, "intensity"),
    })
}
