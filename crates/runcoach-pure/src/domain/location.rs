//! Where a runner runs: coordinates rounded to 0.01° (about 1 km) before anything keeps them,
//! and the place's name when it came from a search.

use serde::{Deserialize, Serialize};

/// A runner's area. Built only through [`Location::new`], so stored coordinates are always
/// valid and never more precise than about a kilometre.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Location {
    lat: f64,
    lon: f64,
    name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("latitude must be between -90 and 90")]
    Latitude,
    #[error("longitude must be between -180 and 180")]
    Longitude,
}

/// Hundredths of a degree: about 1.1 km of latitude.
fn round(x: f64) -> f64 {
    let r = (x * 100.0).round() / 100.0;
    // No "-0.00" for a runner on the equator or the meridian.
    if r == 0.0 { 0.0 } else { r }
}

impl Location {
    pub fn new(lat: f64, lon: f64, name: Option<&str>) -> Result<Location, LocationError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(LocationError::Latitude);
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(LocationError::Longitude);
        }
        let name = name.map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(80).collect());
        Ok(Location { lat: round(lat), lon: round(lon), name })
    }

    #[must_use]
    pub fn lat(&self) -> f64 {
        self.lat
    }

    #[must_use]
    pub fn lon(&self) -> f64 {
        self.lon
    }

    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The key forecasts are cached under: every runner of the same ~1 km square shares it.
    #[must_use]
    pub fn area(&self) -> String {
        format!("{:.2},{:.2}", self.lat, self.lon)
    }

    /// The name when there is one, else the coordinates.
    #[must_use]
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.area())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn coordinates_are_rounded_to_about_a_kilometre_and_checked() {
        let l = Location::new(45.764_043, 4.835_659, Some(" Lyon ")).unwrap();
        assert_eq!((l.lat(), l.lon(), l.name()), (45.76, 4.84, Some("Lyon")));
        assert_eq!(l.area(), "45.76,4.84");
        assert_eq!(Location::new(-0.001, 0.004, None).unwrap().area(), "0.00,0.00");
        assert_eq!(Location::new(91.0, 0.0, None), Err(LocationError::Latitude));
        assert_eq!(Location::new(0.0, -180.5, None), Err(LocationError::Longitude));
        assert_eq!(Location::new(f64::NAN, 0.0, None), Err(LocationError::Latitude));
    }

    proptest! {
        #[test]
        fn a_stored_location_is_never_more_than_a_kilometre_off(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0) {
            let l = Location::new(lat, lon, None).unwrap();
            prop_assert!((l.lat() - lat).abs() <= 0.005 + 1e-9);
            prop_assert!((l.lon() - lon).abs() <= 0.005 + 1e-9);
            prop_assert_eq!(Location::new(l.lat(), l.lon(), None).unwrap(), l);
        }
    }
}
