//! A compact, column-packed encoding of an activity's time series: one blob per activity instead of
//! one row per point (a 2-hour run at 1 Hz is ~7,200 points, ~25 bytes each here).
//!
//! Layout (little endian): `RCS1`, u32 point count, u8 column mask, then each present column in
//! mask order. Missing values use a sentinel per column (i32::MIN, 0 or NaN).

use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 4] = b"RCS1";
pub const FORMAT_V1: i32 = 1;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SamplePoint {
    /// Milliseconds since the activity's start.
    pub t_ms: u32,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub hr: Option<u8>,
    pub speed_mps: Option<f32>,
    pub cadence: Option<u16>,
    pub altitude_m: Option<f32>,
    pub distance_m: Option<f32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleSeries {
    pub points: Vec<SamplePoint>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SamplesError {
    #[error("not a sample blob")]
    BadMagic,
    #[error("sample blob truncated")]
    Truncated,
    #[error("too many points")]
    TooLarge,
}

const COL_POS: u8 = 1;
const COL_HR: u8 = 2;
const COL_SPEED: u8 = 4;
const COL_CADENCE: u8 = 8;
const COL_ALT: u8 = 16;
const COL_DIST: u8 = 32;

/// 1e-7 degree (about 1 cm) fixed point, as FIT files and GPS chips report positions.
const DEG_SCALE: f64 = 1e7;

#[allow(clippy::cast_possible_truncation)]
fn deg_to_fixed(v: Option<f64>) -> i32 {
    match v {
        Some(d) if d.is_finite() && d.abs() <= 180.0 => (d * DEG_SCALE).round() as i32,
        _ => i32::MIN,
    }
}

fn fixed_to_deg(v: i32) -> Option<f64> {
    (v != i32::MIN).then(|| f64::from(v) / DEG_SCALE)
}

fn f32_or_nan(v: Option<f32>) -> f32 {
    v.filter(|x| x.is_finite()).unwrap_or(f32::NAN)
}

fn nan_to_none(v: f32) -> Option<f32> {
    (!v.is_nan()).then_some(v)
}

impl SampleSeries {
    #[must_use]
    pub fn len(&self) -> usize {
        self.points.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    fn mask(&self) -> u8 {
        let mut mask = 0;
        for p in &self.points {
            if p.lat.is_some() && p.lon.is_some() {
                mask |= COL_POS;
            }
            if p.hr.is_some_and(|h| h > 0) {
                mask |= COL_HR;
            }
            if p.speed_mps.is_some() {
                mask |= COL_SPEED;
            }
            if p.cadence.is_some_and(|c| c > 0) {
                mask |= COL_CADENCE;
            }
            if p.altitude_m.is_some() {
                mask |= COL_ALT;
            }
            if p.distance_m.is_some() {
                mask |= COL_DIST;
            }
        }
        mask
    }

    pub fn encode(&self) -> Result<Vec<u8>, SamplesError> {
        let n = u32::try_from(self.points.len()).map_err(|_| SamplesError::TooLarge)?;
        let mask = self.mask();
        let mut out = Vec::with_capacity(9 + self.points.len() * 27);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&n.to_le_bytes());
        out.push(mask);
        for p in &self.points {
            out.extend_from_slice(&p.t_ms.to_le_bytes());
        }
        if mask & COL_POS != 0 {
            for p in &self.points {
                let (lat, lon) = match (p.lat, p.lon) {
                    (Some(a), Some(b)) => (deg_to_fixed(Some(a)), deg_to_fixed(Some(b))),
                    _ => (i32::MIN, i32::MIN),
                };
                out.extend_from_slice(&lat.to_le_bytes());
                out.extend_from_slice(&lon.to_le_bytes());
            }
        }
        if mask & COL_HR != 0 {
            out.extend(self.points.iter().map(|p| p.hr.unwrap_or(0)));
        }
        if mask & COL_SPEED != 0 {
            for p in &self.points {
                out.extend_from_slice(&f32_or_nan(p.speed_mps).to_le_bytes());
            }
        }
        if mask & COL_CADENCE != 0 {
            for p in &self.points {
                out.extend_from_slice(&p.cadence.unwrap_or(0).to_le_bytes());
            }
        }
        if mask & COL_ALT != 0 {
            for p in &self.points {
                out.extend_from_slice(&f32_or_nan(p.altitude_m).to_le_bytes());
            }
        }
        if mask & COL_DIST != 0 {
            for p in &self.points {
                out.extend_from_slice(&f32_or_nan(p.distance_m).to_le_bytes());
            }
        }
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<SampleSeries, SamplesError> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(4)? != MAGIC {
            return Err(SamplesError::BadMagic);
        }
        let n = usize::try_from(r.u32()?).map_err(|_| SamplesError::TooLarge)?;
        let mask = r.u8()?;
        // Each point needs at least its 4-byte time: refuse counts the blob cannot hold.
        if n.saturating_mul(4) > bytes.len() {
            return Err(SamplesError::Truncated);
        }
        let mut points = Vec::with_capacity(n);
        for _ in 0..n {
            points.push(SamplePoint { t_ms: r.u32()?, ..SamplePoint::default() });
        }
        if mask & COL_POS != 0 {
            for p in &mut points {
                let (lat, lon) = (fixed_to_deg(r.i32()?), fixed_to_deg(r.i32()?));
                if lat.is_some() && lon.is_some() {
                    p.lat = lat;
                    p.lon = lon;
                }
            }
        }
        if mask & COL_HR != 0 {
            for p in &mut points {
                p.hr = Some(r.u8()?).filter(|&h| h > 0);
            }
        }
        if mask & COL_SPEED != 0 {
            for p in &mut points {
                p.speed_mps = nan_to_none(r.f32()?);
            }
        }
        if mask & COL_CADENCE != 0 {
            for p in &mut points {
                p.cadence = Some(r.u16()?).filter(|&c| c > 0);
            }
        }
        if mask & COL_ALT != 0 {
            for p in &mut points {
                p.altitude_m = nan_to_none(r.f32()?);
            }
        }
        if mask & COL_DIST != 0 {
            for p in &mut points {
                p.distance_m = nan_to_none(r.f32()?);
            }
        }
        Ok(SampleSeries { points })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SamplesError> {
        let end = self.pos.checked_add(n).ok_or(SamplesError::Truncated)?;
        let s = self.bytes.get(self.pos..end).ok_or(SamplesError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SamplesError> {
        self.take(N)?.try_into().map_err(|_| SamplesError::Truncated)
    }

    fn u8(&mut self) -> Result<u8, SamplesError> {
        Ok(u8::from_le_bytes(self.array()?))
    }
    fn u16(&mut self) -> Result<u16, SamplesError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, SamplesError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn i32(&mut self) -> Result<i32, SamplesError> {
        Ok(i32::from_le_bytes(self.array()?))
    }
    fn f32(&mut self) -> Result<f32, SamplesError> {
        Ok(f32::from_le_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn point() -> impl Strategy<Value = SamplePoint> {
        (
            any::<u32>(),
            proptest::option::of((-90.0f64..90.0, -180.0f64..180.0)),
            proptest::option::of(1u8..=255),
            proptest::option::of(0.0f32..15.0),
            proptest::option::of(1u16..400),
            proptest::option::of(-400.0f32..9000.0),
            proptest::option::of(0.0f32..300_000.0),
        )
            .prop_map(|(t_ms, pos, hr, speed, cad, alt, dist)| SamplePoint {
                t_ms,
                lat: pos.map(|p| p.0),
                lon: pos.map(|p| p.1),
                hr,
                speed_mps: speed,
                cadence: cad,
                altitude_m: alt,
                distance_m: dist,
            })
    }

    proptest! {
        #[test]
        fn round_trips(points in proptest::collection::vec(point(), 0..300)) {
            let series = SampleSeries { points };
            let blob = series.encode().unwrap();
            let back = SampleSeries::decode(&blob).unwrap();
            prop_assert_eq!(back.points.len(), series.points.len());
            for (a, b) in series.points.iter().zip(&back.points) {
                prop_assert_eq!(a.t_ms, b.t_ms);
                prop_assert_eq!(a.hr, b.hr);
                prop_assert_eq!(a.cadence, b.cadence);
                prop_assert_eq!(a.speed_mps, b.speed_mps);
                prop_assert_eq!(a.altitude_m, b.altitude_m);
                prop_assert_eq!(a.distance_m, b.distance_m);
                match (a.lat, b.lat) {
                    (Some(x), Some(y)) => prop_assert!((x - y).abs() < 1e-6),
                    (x, y) => prop_assert_eq!(x.is_some(), y.is_some()),
                }
            }
        }

        #[test]
        fn truncated_blobs_are_refused_not_panicking(points in proptest::collection::vec(point(), 1..50), cut in 0usize..100) {
            let blob = SampleSeries { points }.encode().unwrap();
            let cut = cut.min(blob.len() - 1);
            prop_assert!(SampleSeries::decode(&blob[..cut]).is_err());
        }
    }

    #[test]
    fn a_long_run_packs_small() {
        let points = (0..7200u32)
            .map(|i| SamplePoint {
                t_ms: i * 1000,
                lat: Some(48.85 + f64::from(i) * 1e-5),
                lon: Some(2.35),
                hr: Some(150),
                speed_mps: Some(3.0),
                cadence: Some(170),
                altitude_m: Some(35.0),
                distance_m: Some(i as f32 * 3.0),
            })
            .collect();
        let blob = SampleSeries { points }.encode().unwrap();
        assert!(blob.len() < 7200 * 28, "{} bytes", blob.len());
        assert_eq!(SampleSeries::decode(b"XXXX").unwrap_err(), SamplesError::BadMagic);
        // A forged huge count is refused instead of allocating.
        let mut forged = b"RCS1".to_vec();
        forged.extend_from_slice(&u32::MAX.to_le_bytes());
        forged.push(0);
        assert_eq!(SampleSeries::decode(&forged).unwrap_err(), SamplesError::Truncated);
    }
}
