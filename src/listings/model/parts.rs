//! A listing's parts as stored and shown: offices and offerings (licenses and
//! certifications differ between the owner's view and the public one: `view`,
//! `directory::model`), and an office ready to store.

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::vocab::{OfferingFormat, OfferingKind};
use crate::domain::{GeoPoint, Money, UsState, ZipCode};

// An office as stored and shown, to its owner and the public alike.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicOffice {
    pub id: Uuid,
    pub label: Option<String>,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub city: String,
    #[schema(example = "NC")]
    pub state: String,
    #[schema(example = "27601")]
    pub zip: String,
    pub latitude: f64,
    pub longitude: f64,
    pub wheelchair_accessible: bool,
}

// A session, workshop, retreat or course, as stored and shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicOffering {
    pub id: Uuid,
    pub kind: OfferingKind,
    pub title: String,
    pub description: Option<String>,
    pub format: OfferingFormat,
    pub price: Money,
    pub duration_minutes: i32,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub location: Option<String>,
}

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
