//! TCX (Garmin Training Center) activities, read with quick-xml: one activity per `<Activity>`,
//! laps from `<Lap>` totals, samples from `<Trackpoint>` (with the `ns3:TPX` speed/cadence extension).
//! A file of `<Courses>` only is a route and is refused.

use chrono::{DateTime, Utc};

use super::summary::{self, Point};
use super::xml::{self, Node};
use super::{ImportError, ImportWarning, Imported, SOURCE_FILE, cadence_in_strides, kind_from_label, stable_id};
use crate::domain::activity::{NewActivity, NewLap};

const FORMAT: &str = "TCX";

#[derive(Default)]
struct LapAcc {
    start: Option<DateTime<Utc>>,
    time_s: Option<f64>,
    distance_m: Option<f64>,
    max_speed: Option<f64>,
    calories: Option<f64>,
    avg_hr: Option<f64>,
    max_hr: Option<f64>,
    cadence: Option<f64>,
    max_cadence: Option<f64>,
    avg_speed: Option<f64>,
    intensity: Option<String>,
}

#[derive(Default)]
struct ActivityAcc {
    sport: Option<String>,
    id: Option<DateTime<Utc>>,
    laps: Vec<LapAcc>,
    points: Vec<Point>,
    device: Option<String>,
}

#[derive(Default)]
struct State {
    activities: Vec<ActivityAcc>,
    current: Option<ActivityAcc>,
    lap: Option<LapAcc>,
    point: Option<Point>,
    course_points: usize,
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.with_timezone(&Utc))
}

fn parent(path: &[String], up: usize) -> Option<&str> {
    path.len().checked_sub(1 + up).and_then(|i| path.get(i)).map(String::as_str)
}

pub(super) fn import(bytes: &[u8]) -> Result<Vec<Imported>, ImportError> {
    let mut st = State::default();
    xml::walk(bytes, FORMAT, |path, node| {
        let name = path.last().map(String::as_str).unwrap_or_default();
        match node {
            Node::Open { attrs } => match name {
                "Activity" => {
                    let sport = attrs.iter().find(|(k, _)| k == "Sport").map(|(_, v)| v.clone());
                    st.current = Some(ActivityAcc { sport, ..ActivityAcc::default() });
                }
                "Lap" if st.current.is_some() => {
                    let start = attrs.iter().find(|(k, _)| k == "StartTime").and_then(|(_, v)| time(v));
                    st.lap = Some(LapAcc { start, ..LapAcc::default() });
                }
                "Trackpoint" if st.current.is_some() => st.point = Some(Point::default()),
                "Trackpoint" => st.course_points += 1,
                _ => {}
            },
            Node::Close { text } => close(&mut st, path, name, text),
        }
        Ok(())
    })?;
    if st.activities.is_empty() {
        return Err(if st.course_points > 0 { ImportError::RouteWithoutTimes } else { ImportError::NothingFound });
    }
    let mut out = Vec::new();
    let mut last_error = None;
    for acc in st.activities {
        match build(acc) {
            Ok(one) => out.push(one),
            Err(e) => last_error = Some(e),
        }
    }
    match (out.is_empty(), last_error) {
        (true, Some(e)) => Err(e),
        (true, None) => Err(ImportError::NothingFound),
        (false, _) => Ok(out),
    }
}

fn close(st: &mut State, path: &[String], name: &str, text: &str) {
    if let Some(p) = st.point.as_mut() {
        match name {
            "Trackpoint" => {
                if let (Some(p), Some(a)) = (st.point.take(), st.current.as_mut()) {
                    a.points.push(p);
                }
            }
            "Time" => p.t = time(text),
            "LatitudeDegrees" => p.lat = num(text),
            "LongitudeDegrees" => p.lon = num(text),
            "AltitudeMeters" => p.alt = num(text),
            "DistanceMeters" => p.dist = num(text),
            "Value" if parent(path, 1) == Some("HeartRateBpm") => p.hr = num(text),
            "Cadence" | "RunCadence" => p.cadence = num(text),
            "Speed" => p.speed = num(text),
            _ => {}
        }
        return;
    }
    if let Some(lap) = st.lap.as_mut() {
        match name {
            "Lap" => {
                if let (Some(lap), Some(a)) = (st.lap.take(), st.current.as_mut()) {
                    a.laps.push(lap);
                }
            }
            "TotalTimeSeconds" => lap.time_s = num(text),
            "DistanceMeters" => lap.distance_m = num(text),
            "MaximumSpeed" => lap.max_speed = num(text),
            "Calories" => lap.calories = num(text),
            "Value" if parent(path, 1) == Some("AverageHeartRateBpm") => lap.avg_hr = num(text),
            "Value" if parent(path, 1) == Some("MaximumHeartRateBpm") => lap.max_hr = num(text),
            "Cadence" | "AvgRunCadence" => lap.cadence = num(text),
            "MaxRunCadence" | "MaxBikeCadence" => lap.max_cadence = num(text),
            "AvgSpeed" => lap.avg_speed = num(text),
            "Intensity" => lap.intensity = Some(text.to_ascii_lowercase()),
            _ => {}
        }
        return;
    }
    if let Some(a) = st.current.as_mut() {
        match name {
            "Activity" => {
                if let Some(a) = st.current.take() {
                    st.activities.push(a);
                }
            }
            "Id" if parent(path, 1) == Some("Activity") => a.id = time(text),
            "Name" if parent(path, 1) == Some("Creator") => a.device = Some(text.to_owned()),
            _ => {}
        }
    }
}

fn positive(v: Option<f64>) -> Option<f64> {
    v.filter(|x| *x > 0.0)
}

fn build(acc: ActivityAcc) -> Result<Imported, ImportError> {
    let ActivityAcc { sport, id, laps, mut points, device } = acc;
    let mut warnings = Vec::new();
    let kind = sport.as_deref().map_or(crate::science::load::ActivityKind::Other, kind_from_label);
    let strides = cadence_in_strides(kind);
    let double = |c: Option<f64>| if strides { c.map(|c| c * 2.0) } else { c };
    let dropped = summary::keep_timed(&mut points);
    if dropped > 0 {
        warnings.push(ImportWarning::PointsDropped { count: dropped });
    }
    for p in &mut points {
        p.cadence = double(p.cadence);
    }
    summary::fill_distance(&mut points);
    let start = id
        .or_else(|| laps.first().and_then(|l| l.start))
        .or_else(|| points.first().and_then(|p| p.t))
        .ok_or(ImportError::RouteWithoutTimes)?;
    if laps.is_empty() && points.is_empty() {
        return Err(ImportError::NoTrackPoints);
    }
    let new_laps: Vec<NewLap> = laps
        .iter()
        .filter_map(|l| {
            let duration_s = l.time_s?;
            Some(NewLap {
                start_time: l.start.unwrap_or(start),
                duration_s,
                distance_m: l.distance_m,
                avg_hr: positive(l.avg_hr),
                max_hr: positive(l.max_hr),
                avg_cadence: positive(double(l.cadence)),
                avg_speed_mps: positive(l.avg_speed)
                    .or_else(|| l.distance_m.filter(|_| duration_s > 0.0).map(|d| d / duration_s)),
                intensity: l.intensity.clone(),
            })
        })
        .collect();
    let sum = |f: fn(&LapAcc) -> Option<f64>| -> Option<f64> {
        let values: Vec<f64> = laps.iter().filter_map(f).collect();
        (!values.is_empty()).then(|| values.iter().sum())
    };
    let total_time = sum(|l| l.time_s).unwrap_or(0.0);
    // Lap averages weighted by lap time.
    let weighted = |f: fn(&LapAcc) -> Option<f64>| -> Option<f64> {
        let (mut s, mut w) = (0.0, 0.0);
        for l in &laps {
            if let (Some(v), Some(t)) = (f(l).filter(|v| *v > 0.0), l.time_s) {
                s += v * t;
                w += t;
            }
        }
        (w > 0.0).then(|| s / w)
    };
    let max = |f: fn(&LapAcc) -> Option<f64>| laps.iter().filter_map(f).filter(|v| *v > 0.0).reduce(f64::max);
    let mut activity = NewActivity {
        source: SOURCE_FILE.to_owned(),
        external_id: Some(stable_id("tcx", start)),
        sport: kind,
        start_time: start,
        duration_s: total_time,
        distance_m: sum(|l| l.distance_m).filter(|d| *d > 0.0),
        calories: sum(|l| l.calories),
        avg_hr: weighted(|l| l.avg_hr),
        max_hr: max(|l| l.max_hr),
        avg_cadence: double(weighted(|l| l.cadence)),
        max_cadence: double(max(|l| l.max_cadence)),
        max_speed_mps: max(|l| l.max_speed),
        device,
        laps: new_laps,
        samples: summary::samples(&points, start),
        ..NewActivity::default()
    };
    if laps.is_empty() {
        warnings.push(ImportWarning::SummaryFromSamples);
    }
    summary::fill_missing(&mut activity, &summary::compute(&points));
    Ok(Imported { activity, warnings })
}
