//! Validated inputs for a listing's parts. Constructing one is the only way to reach the
//! store functions, so every write has been checked.

use crate::domain::{GeoPoint, UsState, ZipCode};

/// An office ready to store. Without coordinates, the ZIP code's centroid is used.
#[derive(Debug, Clone)]
pub struct OfficeInput {
    pub label: Option<String>,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub city: String,
    pub state: UsState,
    pub zip: ZipCode,
    pub point: Option<GeoPoint>,
    pub wheelchair_accessible: bool,
}

impl OfficeInput {
    /// Where the office is: the given coordinates, else the ZIP centroid from the offline dataset.
    pub fn location(&self) -> GeoPoint {
        self.point.unwrap_or(self.zip.info().point)
    }
}
