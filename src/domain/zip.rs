//! US ZIP codes and their centroids, from the offline dataset embedded by the `zipcodes`
//! crate. The crate searches linearly; this builds a hash index once, on first use.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Serialize;
use utoipa::ToSchema;

use super::Invalid;
use crate::error::FieldCode;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

impl GeoPoint {
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, Invalid> {
        if !(-90.0..=90.0).contains(&latitude) || !latitude.is_finite() {
            return Err(Invalid::new(
                FieldCode::OutOfRange,
                "latitude must be between -90 and 90",
            ));
        }
        if !(-180.0..=180.0).contains(&longitude) || !longitude.is_finite() {
            return Err(Invalid::new(
                FieldCode::OutOfRange,
                "longitude must be between -180 and 180",
            ));
        }
        Ok(GeoPoint {
            latitude,
            longitude,
        })
    }

    /// Great-circle distance in kilometres (haversine, mean Earth radius).
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.longitude - self.longitude).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * 6371.0088 * a.sqrt().asin()
    }
}

/// What the dataset knows about a ZIP code.
#[derive(Debug, Clone)]
pub struct ZipInfo {
    pub zip: String,
    pub city: String,
    pub state: String,
    pub point: GeoPoint,
    /// STANDARD, PO BOX, UNIQUE or MILITARY.
    pub kind: String,
}

static INDEX: LazyLock<HashMap<String, ZipInfo>> = LazyLock::new(|| {
    zipcodes::database()
        .iter()
        .filter_map(|z| {
            let point = GeoPoint::new(z.lat.parse().ok()?, z.long.parse().ok()?).ok()?;
            Some((
                z.zip_code.clone(),
                ZipInfo {
                    zip: z.zip_code.clone(),
                    city: z.city.clone(),
                    state: z.state.clone(),
                    point,
                    kind: z.zip_code_type.clone(),
                },
            ))
        })
        .collect()
});

/// Every ZIP code with coordinates, sorted, for generating demo data.
pub fn all() -> Vec<&'static ZipInfo> {
    let mut all: Vec<_> = INDEX.values().collect();
    all.sort_by(|a, b| a.zip.cmp(&b.zip));
    all
}

/// Loads the dataset now (it takes a moment) instead of on the first request that needs it.
pub fn warm_up() {
    LazyLock::force(&INDEX);
}

/// A five-digit US ZIP code that exists in the dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipCode(String);

impl ZipCode {
    /// Accepts `27601` or ZIP+4 (`27601-1234`, stored as the first five digits).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        let five = match raw.len() {
            5 => raw,
            10 if raw.as_bytes()[5] == b'-' && raw[6..].bytes().all(|b| b.is_ascii_digit()) => {
                &raw[..5]
            }
            _ => {
                return Err(Invalid::new(
                    FieldCode::InvalidZip,
                    "a US ZIP code has 5 digits",
                ));
            }
        };
        if !five.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new(
                FieldCode::InvalidZip,
                "a US ZIP code has 5 digits",
            ));
        }
        if !INDEX.contains_key(five) {
            return Err(Invalid::new(
                FieldCode::UnknownZip,
                format!("ZIP code {five} is not a known US ZIP code"),
            ));
        }
        Ok(ZipCode(five.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn info(&self) -> &'static ZipInfo {
        // Parsing guarantees the entry exists; the map is never modified.
        &INDEX[&self.0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_zip_has_coordinates_and_state() {
        let raleigh = ZipCode::parse("27601").unwrap();
        let info = raleigh.info();
        assert_eq!(info.state, "NC");
        assert!((info.point.latitude - 35.77).abs() < 0.2, "{info:?}");
        assert!((info.point.longitude + 78.63).abs() < 0.2, "{info:?}");
        assert_eq!(ZipCode::parse("27601-1234").unwrap(), raleigh);
    }

    #[test]
    fn bad_zips_are_refused() {
        assert_eq!(ZipCode::parse("00000").unwrap_err().code, "unknown_zip");
        for bad in ["", "2760", "276011", "2760a", "27601-12"] {
            assert_eq!(
                ZipCode::parse(bad).unwrap_err().code,
                "invalid_zip",
                "{bad}"
            );
        }
    }

    #[test]
    fn distances() {
        let nyc = GeoPoint::new(40.7128, -74.0060).unwrap();
        let la = GeoPoint::new(34.0522, -118.2437).unwrap();
        let d = nyc.distance_km(&la);
        assert!((3930.0..3950.0).contains(&d), "{d}");
        assert!(GeoPoint::new(91.0, 0.0).is_err());
        assert!(GeoPoint::new(0.0, f64::NAN).is_err());
    }

    proptest! {
        #[test]
        fn any_five_digits_parse_iff_known(zip in "[0-9]{5}") {
            prop_assert_eq!(ZipCode::parse(&zip).is_ok(), INDEX.contains_key(&zip));
        }

        #[test]
        fn non_digit_input_never_parses(zip in "[^0-9]{5}") {
            prop_assert!(ZipCode::parse(&zip).is_err());
        }
    }
}
