//! `bbox`, a map's view, as a search filters by it.

use crate::error::ApiError;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::parameter("bbox", message)
}

/// A map's view: `bbox=west,south,east,north` in degrees; west > east crosses the
/// antimeridian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

/// The widest box a search takes, in degrees of longitude.
pub const MAX_BBOX_DEGREES: f64 = 60.0;

impl BBox {
    pub fn parse(value: &str) -> Result<BBox, ApiError> {
        let numbers: Vec<f64> = value
            .split(',')
            .map(|n| n.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .ok()
            .filter(|n: &Vec<f64>| n.len() == 4 && n.iter().all(|v| v.is_finite()))
            .ok_or_else(|| bad("expected `west,south,east,north` in degrees"))?;
        let [west, south, east, north] = [numbers[0], numbers[1], numbers[2], numbers[3]];
        if ![west, east].iter().all(|l| (-180.0..=180.0).contains(l))
            || ![south, north].iter().all(|l| (-90.0..=90.0).contains(l))
        {
            return Err(bad(
                "longitudes between -180 and 180, latitudes between -90 and 90",
            ));
        }
        if south > north {
            return Err(bad("south must not be north of north"));
        }
        let bbox = BBox {
            west,
            south,
            east,
            north,
        };
        if bbox.width() > MAX_BBOX_DEGREES {
            return Err(bad(format!(
                "at most {MAX_BBOX_DEGREES} degrees wide; zoom in"
            )));
        }
        Ok(bbox)
    }

    /// Degrees of longitude, across the antimeridian when west > east.
    pub fn width(&self) -> f64 {
        if self.west <= self.east {
            self.east - self.west
        } else {
            self.east + 360.0 - self.west
        }
    }

    /// Whether the point is inside (edges included).
    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        (self.south..=self.north).contains(&latitude)
            && self
                .spans()
                .iter()
                .any(|(w, e)| (*w..=*e).contains(&longitude))
    }

    /// `(lng_min, lng_max)` spans without wrapping: two when the box crosses the antimeridian.
    pub fn spans(&self) -> Vec<(f64, f64)> {
        if self.west <= self.east {
            vec![(self.west, self.east)]
        } else {
            vec![(self.west, 180.0), (-180.0, self.east)]
        }
    }
}
