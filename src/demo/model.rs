//! One demo listing as generated, in the shape the COPY statements load.

use uuid::Uuid;

use crate::listings::model::ListingProfile;

pub struct DemoOffice {
    pub id: Uuid,
    pub label: Option<&'static str>,
    pub address_line1: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub latitude: f64,
    pub longitude: f64,
    pub wheelchair_accessible: bool,
}

pub struct DemoLicense {
    pub id: Uuid,
    pub license_type: &'static str,
    pub number: String,
    pub state: String,
    pub expires_on: String,
    pub verified: bool,
}

pub struct DemoCertification {
    pub id: Uuid,
    pub name: &'static str,
    pub issuer: &'static str,
    pub modality_id: Option<i32>,
    pub level: Option<&'static str>,
    pub credential_id: String,
    pub issued_on: String,
    pub verified: bool,
}

pub struct DemoOffering {
    pub id: Uuid,
    pub kind: &'static str,
    pub title: String,
    pub format: &'static str,
    pub price_cents: i32,
    pub duration_minutes: i32,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub location: Option<String>,
}

pub struct DemoListing {
    pub account_id: Uuid,
    pub listing_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub slug: String,
    /// The listing's fields as a therapist would have written them.
    pub profile: ListingProfile,
    /// Days before now that the therapist last confirmed the listing.
    pub confirmed_days_ago: u32,
    pub modality_ids: Vec<i32>,
    /// (specialty id, is top)
    pub specialties: Vec<(i32, bool)>,
    pub insurer_ids: Vec<i32>,
    pub offices: Vec<DemoOffice>,
    pub licenses: Vec<DemoLicense>,
    pub certifications: Vec<DemoCertification>,
    pub offerings: Vec<DemoOffering>,
}
