//! The bodies of a listing's parts (offices, licenses, certifications, offerings) and
//! their validation.

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use crate::listings::model::line;

/// A required single-line field: present, at most `max` characters, no control characters.
fn required(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) {
    if value.trim().is_empty() {
        errors.push(FieldError::new(field, FieldCode::Required, "required"));
    }
    line(field, &Some(value.to_owned()), max, errors);
}

/// Dates a credential or an offering carries: years 1900 to 2199. Nothing here is older,
/// and the database refuses the far past that the date parser accepts.
fn plausible_dates(dates: &[(&str, Option<Date>)], errors: &mut Vec<FieldError>) {
    for (field, date) in dates {
        if date.is_some_and(|d| !(1900..=2199).contains(&d.year())) {
            errors.push(FieldError::new(
                *field,
                FieldCode::OutOfRange,
                "a date in the years 1900 to 2199",
            ));
        }
    }
}

/// The body when nothing is at fault, else every fault.
fn checked<T>(body: T, errors: Vec<FieldError>) -> Result<T, Vec<FieldError>> {
    if errors.is_empty() {
        Ok(body)
    } else {
        Err(errors)
    }
}
use crate::domain::vocab::{OfferingFormat, OfferingKind};
use crate::domain::{GeoPoint, Money, UsState, ZipCode, at_most};
use crate::error::FieldCode;
use crate::error::FieldError;
use crate::listings::model::{OfficeInput, PublicOffering, PublicOffice};
use crate::listings::view::{Certification, License};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 80)]
    pub label: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub address_line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub address_line2: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub city: String,
    #[schema(example = "NC")]
    pub state: String,
    /// A known US ZIP code; without coordinates, the office is placed at its centroid.
    #[schema(example = "27601")]
    pub zip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub wheelchair_accessible: bool,
}

impl OfficeBody {
    pub fn validate(&self) -> Result<OfficeInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let label = line("label", &self.label, 80, &mut errors);
        if self.address_line1.trim().is_empty() {
            errors.push(FieldError::new(
                "address_line1",
                FieldCode::Required,
                "a street address is required",
            ));
        }
        line(
            "address_line1",
            &Some(self.address_line1.clone()),
            200,
            &mut errors,
        );
        let address_line2 = line("address_line2", &self.address_line2, 200, &mut errors);
        if self.city.trim().is_empty() {
            errors.push(FieldError::new(
                "city",
                FieldCode::Required,
                "a city is required",
            ));
        }
        line("city", &Some(self.city.clone()), 100, &mut errors);
        let state = UsState::parse(&self.state)
            .map_err(|e| errors.push(e.at("state")))
            .ok();
        let zip = ZipCode::parse(&self.zip)
            .map_err(|e| errors.push(e.at("zip")))
            .ok();
        if let (Some(state), Some(zip)) = (state, &zip)
            && zip.info().state != state.as_str()
        {
            errors.push(FieldError::new(
                "zip",
                FieldCode::ZipStateMismatch,
                format!(
                    "ZIP code {} is in {}, not {}",
                    zip.as_str(),
                    zip.info().state,
                    state.as_str()
                ),
            ));
        }
        let point = match (self.latitude, self.longitude) {
            (Some(lat), Some(lng)) => GeoPoint::new(lat, lng)
                .map_err(|e| errors.push(e.at("latitude")))
                .ok(),
            (None, None) => None,
            _ => {
                errors.push(FieldError::new(
                    "latitude",
                    FieldCode::Incomplete,
                    "give both latitude and longitude, or neither",
                ));
                None
            }
        };
        match (state, zip) {
            (Some(state), Some(zip)) if errors.is_empty() => Ok(OfficeInput {
                label,
                address_line1: self.address_line1.clone(),
                address_line2,
                city: self.city.clone(),
                state,
                zip,
                point,
                wheelchair_accessible: self.wheelchair_accessible,
            }),
            _ => Err(errors),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenseBody {
    /// e.g. LPC, LCSW, LMFT, Psychologist.
    #[serde(rename = "type")]
    #[schema(min_length = 1, max_length = 40)]
    pub license_type: String,
    #[schema(min_length = 1, max_length = 40)]
    pub number: String,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<Date>,
}

impl LicenseBody {
    pub fn validate(mut self) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        required("type", &self.license_type, 40, &mut errors);
        required("number", &self.number, 40, &mut errors);
        match UsState::parse(&self.state) {
            Ok(s) => self.state = s.as_str().to_owned(),
            Err(e) => errors.push(e.at("state")),
        }
        plausible_dates(&[("expires_on", self.expires_on)], &mut errors);
        checked(self, errors)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificationBody {
    #[schema(
        min_length = 1,
        max_length = 120,
        example = "Certified Imago Relationship Therapist"
    )]
    pub name: String,
    #[schema(
        min_length = 1,
        max_length = 120,
        example = "Imago International Training Institute"
    )]
    pub issuer: String,
    /// Modality slug the certification is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "imago")]
    pub modality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 80, example = "Clinical")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 80)]
    pub credential_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<Date>,
}

impl CertificationBody {
    pub fn validate(mut self) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        required("name", &self.name, 120, &mut errors);
        required("issuer", &self.issuer, 120, &mut errors);
        self.level = line("level", &self.level, 80, &mut errors);
        self.credential_id = line("credential_id", &self.credential_id, 80, &mut errors);
        let dates = [
            ("issued_on", self.issued_on),
            ("expires_on", self.expires_on),
        ];
        plausible_dates(&dates, &mut errors);
        if let (Some(issued), Some(expires)) = (self.issued_on, self.expires_on)
            && expires < issued
        {
            errors.push(FieldError::new(
                "expires_on",
                FieldCode::BeforeIssued,
                "must not be before issued_on",
            ));
        }
        checked(self, errors)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferingBody {
    pub kind: OfferingKind,
    #[schema(min_length = 1, max_length = 120)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    pub format: OfferingFormat,
    pub price: Money,
    /// From 5 minutes to 30 days (43200).
    #[schema(minimum = 5, maximum = 43200)]
    pub duration_minutes: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub location: Option<String>,
}

impl OfferingBody {
    pub fn validate(mut self) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        required("title", &self.title, 120, &mut errors);
        if let Some(Err(invalid)) = self.description.as_deref().map(|d| at_most(d, 2000)) {
            errors.push(invalid.at("description"));
        }
        self.location = line("location", &self.location, 200, &mut errors);
        if let Err(e) = self.price.validated() {
            errors.push(e.at("price.amount_cents"));
        }
        if !(5..=43_200).contains(&self.duration_minutes) {
            errors.push(FieldError::new(
                "duration_minutes",
                FieldCode::OutOfRange,
                "between 5 and 43200 minutes",
            ));
        }
        let dates = [("starts_on", self.starts_on), ("ends_on", self.ends_on)];
        plausible_dates(&dates, &mut errors);
        if let (Some(start), Some(end)) = (self.starts_on, self.ends_on)
            && end < start
        {
            errors.push(FieldError::new(
                "ends_on",
                FieldCode::BeforeStart,
                "must not be before starts_on",
            ));
        }
        checked(self, errors)
    }
}

impl From<&PublicOffice> for OfficeBody {
    fn from(o: &PublicOffice) -> Self {
        OfficeBody {
            label: o.label.clone(),
            address_line1: o.address_line1.clone(),
            address_line2: o.address_line2.clone(),
            city: o.city.clone(),
            state: o.state.clone(),
            zip: o.zip.clone(),
            latitude: Some(o.latitude),
            longitude: Some(o.longitude),
            wheelchair_accessible: o.wheelchair_accessible,
        }
    }
}

impl From<&License> for LicenseBody {
    fn from(l: &License) -> Self {
        LicenseBody {
            license_type: l.license_type.clone(),
            number: l.number.clone(),
            state: l.state.clone(),
            expires_on: l.expires_on,
        }
    }
}

impl From<&Certification> for CertificationBody {
    fn from(c: &Certification) -> Self {
        CertificationBody {
            name: c.name.clone(),
            issuer: c.issuer.clone(),
            modality: c.modality.clone(),
            level: c.level.clone(),
            credential_id: c.credential_id.clone(),
            issued_on: c.issued_on,
            expires_on: c.expires_on,
        }
    }
}

impl From<&PublicOffering> for OfferingBody {
    fn from(o: &PublicOffering) -> Self {
        OfferingBody {
            kind: o.kind,
            title: o.title.clone(),
            description: o.description.clone(),
            format: o.format,
            price: Money::from_db(o.price.amount_cents),
            duration_minutes: o.duration_minutes,
            starts_on: o.starts_on,
            ends_on: o.ends_on,
            location: o.location.clone(),
        }
    }
}
