//! Shared by the file readers: timestamped points, and the totals computed from them when a file
//! has no summary (or lacks a field).

use chrono::{DateTime, Utc};

use crate::domain::activity::NewActivity;
use crate::domain::samples::{SamplePoint, SampleSeries};

/// One recorded point, in absolute time, as every reader produces it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Point {
    pub t: Option<DateTime<Utc>>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub hr: Option<f64>,
    pub cadence: Option<f64>,
    pub speed: Option<f64>,
    pub alt: Option<f64>,
    pub dist: Option<f64>,
}

/// Below this speed a runner is standing still (GPS drift included).
const MOVING_MPS: f64 = 0.5;
/// Altitude changes under this are noise (GPS altitude wanders by metres).
const CLIMB_HYSTERESIS_M: f64 = 3.0;
const EARTH_RADIUS_M: f64 = 6_371_008.8;

pub(super) fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

fn valid_pos(p: &Point) -> Option<(f64, f64)> {
    match (p.lat, p.lon) {
        (Some(a), Some(b)) if a.is_finite() && b.is_finite() && a.abs() <= 90.0 && b.abs() <= 180.0 => Some((a, b)),
        _ => None,
    }
}

/// Fills cumulative distances from GPS when the file carries none.
pub(super) fn fill_distance(points: &mut [Point]) {
    if points.iter().any(|p| p.dist.is_some()) {
        return;
    }
    let mut total = 0.0;
    let mut last: Option<(f64, f64)> = None;
    let mut any = false;
    for p in points.iter_mut() {
        if let Some(pos) = valid_pos(p) {
            if let Some(prev) = last {
                total += haversine_m(prev.0, prev.1, pos.0, pos.1);
            }
            last = Some(pos);
            any = true;
        }
        if any {
            p.dist = Some(total);
        }
    }
}

/// Totals computed from points.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Computed {
    pub duration_s: f64,
    pub moving_s: Option<f64>,
    pub distance_m: Option<f64>,
    pub gain_m: Option<f64>,
    pub loss_m: Option<f64>,
    pub avg_hr: Option<f64>,
    pub max_hr: Option<f64>,
    pub avg_cadence: Option<f64>,
    pub max_cadence: Option<f64>,
    pub max_speed: Option<f64>,
}

fn mean_max(values: impl Iterator<Item = f64>) -> (Option<f64>, Option<f64>) {
    let (mut sum, mut n, mut max) = (0.0, 0.0, f64::MIN);
    for v in values.filter(|v| v.is_finite() && *v > 0.0) {
        sum += v;
        n += 1.0;
        max = max.max(v);
    }
    if n > 0.0 { (Some(sum / n), Some(max)) } else { (None, None) }
}

/// Points must be sorted by time and all timed.
pub(super) fn compute(points: &[Point]) -> Computed {
    let times: Vec<DateTime<Utc>> = points.iter().filter_map(|p| p.t).collect();
    let duration_s = match (times.first(), times.last()) {
        (Some(a), Some(b)) => secs(*b - *a),
        _ => 0.0,
    };
    let dists: Vec<(DateTime<Utc>, f64)> =
        points.iter().filter_map(|p| Some((p.t?, p.dist?))).filter(|(_, d)| d.is_finite()).collect();
    let distance_m = match (dists.first(), dists.last()) {
        (Some(a), Some(b)) => Some((b.1 - a.1).max(0.0)),
        _ => None,
    };
    let mut moving = 0.0;
    let mut max_speed: Option<f64> = None;
    for w in dists.windows(2) {
        if let [(t1, d1), (t2, d2)] = w {
            let dt = secs(*t2 - *t1);
            if dt > 0.0 {
                let v = (d2 - d1) / dt;
                if v >= MOVING_MPS {
                    moving += dt;
                }
                // Speeds over single short gaps are GPS jumps; only trust a few seconds' average.
                if dt >= 1.0 && v.is_finite() && v < 60.0 {
                    max_speed = Some(max_speed.map_or(v, |m| m.max(v)));
                }
            }
        }
    }
    let recorded_speed = points
        .iter()
        .filter_map(|p| p.speed)
        .filter(|v| v.is_finite())
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let (mut gain, mut loss, mut reference, mut any_alt) = (0.0, 0.0, None::<f64>, false);
    for alt in points.iter().filter_map(|p| p.alt).filter(|a| a.is_finite()) {
        any_alt = true;
        match reference {
            None => reference = Some(alt),
            Some(r) if alt - r >= CLIMB_HYSTERESIS_M => {
                gain += alt - r;
                reference = Some(alt);
            }
            Some(r) if r - alt >= CLIMB_HYSTERESIS_M => {
                loss += r - alt;
                reference = Some(alt);
            }
            Some(_) => {}
        }
    }
    let (avg_hr, max_hr) = mean_max(points.iter().filter_map(|p| p.hr));
    let (avg_cadence, max_cadence) = mean_max(points.iter().filter_map(|p| p.cadence));
    Computed {
        duration_s,
        moving_s: distance_m.map(|_| moving),
        distance_m,
        gain_m: any_alt.then_some(gain),
        loss_m: any_alt.then_some(loss),
        avg_hr,
        max_hr,
        avg_cadence,
        max_cadence,
        max_speed: recorded_speed.or(max_speed),
    }
}

pub(super) fn secs(d: chrono::TimeDelta) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

/// Fills the activity's missing totals from computed ones.
pub(super) fn fill_missing(a: &mut NewActivity, c: &Computed) {
    if a.duration_s <= 0.0 {
        a.duration_s = c.duration_s;
    }
    // Moving time comes from point gaps; it never exceeds the timer time.
    a.moving_s = a.moving_s.or(c.moving_s).map(|m| if a.duration_s > 0.0 { m.min(a.duration_s) } else { m });
    a.distance_m = a.distance_m.or(c.distance_m);
    a.elevation_gain_m = a.elevation_gain_m.or(c.gain_m);
    a.elevation_loss_m = a.elevation_loss_m.or(c.loss_m);
    a.avg_hr = a.avg_hr.or(c.avg_hr);
    a.max_hr = a.max_hr.or(c.max_hr);
    a.avg_cadence = a.avg_cadence.or(c.avg_cadence);
    a.max_cadence = a.max_cadence.or(c.max_cadence);
    a.max_speed_mps = a.max_speed_mps.or(c.max_speed);
    if a.avg_speed_mps.is_none() {
        let time = a.moving_s.filter(|m| *m > 0.0).unwrap_or(a.duration_s);
        a.avg_speed_mps = a.distance_m.filter(|_| time > 0.0).map(|d| d / time);
    }
}

fn to_u8(v: Option<f64>) -> Option<u8> {
    v.filter(|x| x.is_finite() && *x >= 1.0 && *x <= 255.0).map(|x| x.round() as u8)
}

fn to_u16(v: Option<f64>) -> Option<u16> {
    v.filter(|x| x.is_finite() && *x >= 1.0 && *x <= 65_535.0).map(|x| x.round() as u16)
}

fn to_f32(v: Option<f64>) -> Option<f32> {
    v.filter(|x| x.is_finite() && x.abs() < 1e9).map(|x| x as f32)
}

/// The sample series of timed points relative to `start` (points before it are left out).
pub(super) fn samples(points: &[Point], start: DateTime<Utc>) -> Option<SampleSeries> {
    let out: Vec<SamplePoint> = points
        .iter()
        .filter_map(|p| {
            let ms = (p.t? - start).num_milliseconds();
            let t_ms = u32::try_from(ms).ok()?;
            let pos = valid_pos(p);
            Some(SamplePoint {
                t_ms,
                lat: pos.map(|p| p.0),
                lon: pos.map(|p| p.1),
                hr: to_u8(p.hr),
                speed_mps: to_f32(p.speed),
                cadence: to_u16(p.cadence),
                altitude_m: to_f32(p.alt),
                distance_m: to_f32(p.dist),
            })
        })
        .collect();
    (!out.is_empty()).then_some(SampleSeries { points: out })
}

/// Sorts timed points and drops untimed or duplicate-time ones; returns how many were dropped.
pub(super) fn keep_timed(points: &mut Vec<Point>) -> usize {
    let before = points.len();
    points.retain(|p| p.t.is_some());
    points.sort_by_key(|p| p.t);
    points.dedup_by_key(|p| p.t);
    before - points.len()
}
