//! GPX 1.0 and 1.1 tracks, with the Garmin TrackPointExtension (`gpxtpx:hr`, `ns3:cad`…) and the
//! common `heartrate`/`cadence`/`speed` extension names. Read with quick-xml: the gpx crate refuses a
//! missing `version` attribute or a BOM, and drops the extensions.

use chrono::{DateTime, Utc};

use super::summary::{self, Point};
use super::xml::{self, Node};
use super::{ImportError, ImportWarning, Imported, SOURCE_FILE, cadence_in_strides, kind_from_label, stable_id};
use crate::domain::activity::NewActivity;
use crate::science::load::ActivityKind;

const FORMAT: &str = "GPX";

#[derive(Default)]
struct State {
    points: Vec<Point>,
    current: Option<Point>,
    route_points: usize,
    name: Option<String>,
    kind: Option<String>,
    creator: Option<String>,
}

fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.with_timezone(&Utc)).or_else(|| {
        // Some exporters leave out the zone: GPX times are UTC.
        chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f").ok().map(|n| n.and_utc())
    })
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

pub(super) fn import(bytes: &[u8]) -> Result<Imported, ImportError> {
    let mut st = State::default();
    xml::walk(bytes, FORMAT, |path, node| {
        let name = path.last().map(String::as_str).unwrap_or_default();
        let parent = path.len().checked_sub(2).and_then(|i| path.get(i)).map(String::as_str);
        match node {
            Node::Open { attrs } => match name {
                "gpx" if path.len() == 1 => st.creator = attr(attrs, "creator").map(str::to_owned),
                "trkpt" => {
                    st.current = Some(Point {
                        lat: attr(attrs, "lat").and_then(num),
                        lon: attr(attrs, "lon").and_then(num),
                        ..Point::default()
                    });
                }
                "rtept" => st.route_points += 1,
                _ => {}
            },
            Node::Close { text } => {
                if name == "trkpt" {
                    if let Some(p) = st.current.take() {
                        st.points.push(p);
                    }
                } else if let Some(p) = st.current.as_mut() {
                    match name {
                        "time" => p.t = parse_time(text),
                        "ele" => p.alt = num(text),
                        "hr" | "heartrate" => p.hr = num(text),
                        "cad" | "cadence" => p.cadence = num(text),
                        "speed" => p.speed = num(text),
                        // GPX 1.0 has <speed> directly; 1.1 puts it in extensions. Both land above.
                        _ => {}
                    }
                } else if parent == Some("trk") {
                    match name {
                        "name" if !text.is_empty() => st.name = Some(text.to_owned()),
                        "type" if !text.is_empty() => st.kind = Some(text.to_owned()),
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    })?;
    build(st)
}

fn build(st: State) -> Result<Imported, ImportError> {
    let State { mut points, route_points, name, kind, creator, .. } = st;
    if points.is_empty() {
        return Err(if route_points > 0 { ImportError::RouteWithoutTimes } else { ImportError::NoTrackPoints });
    }
    let total = points.len();
    let timed = points.iter().filter(|p| p.t.is_some()).count();
    // A track with only a few timed points is a route someone drew, not a recorded activity.
    if timed < 2 || timed * 2 < total {
        return Err(ImportError::RouteWithoutTimes);
    }
    let mut warnings = Vec::new();
    let dropped = summary::keep_timed(&mut points);
    if dropped > 0 {
        warnings.push(ImportWarning::PointsDropped { count: dropped });
    }
    let kind = kind.as_deref().map_or(ActivityKind::Other, kind_from_label);
    if cadence_in_strides(kind) {
        for p in &mut points {
            p.cadence = p.cadence.map(|c| c * 2.0);
        }
    }
    summary::fill_distance(&mut points);
    let start = points.first().and_then(|p| p.t).ok_or(ImportError::NoTrackPoints)?;
    let computed = summary::compute(&points);
    let mut activity = NewActivity {
        source: SOURCE_FILE.to_owned(),
        external_id: Some(stable_id("gpx", start)),
        sport: kind,
        name,
        start_time: start,
        device: creator,
        samples: summary::samples(&points, start),
        ..NewActivity::default()
    };
    // GPX has no summary: every total comes from the points.
    summary::fill_missing(&mut activity, &computed);
    Ok(Imported { activity, warnings })
}
