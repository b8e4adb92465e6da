//! The public profile of a published listing as clients see it. It carries only what the
//! therapist chose to publish: no account email, no review notes, no verification notes, no
//! rejected credentials.

use serde::{Deserialize, Serialize};

use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::Money;
use crate::domain::vocab::{
    Accepting, AgeGroup, Community, Delivery, Faith, Gender, OfferingFormat, OfferingKind,
    PaymentMethod, SessionFormat, SpecialtyCategory, VerificationStatus,
};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TermRef {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SpecialtyRef {
    pub slug: String,
    pub name: String,
    pub category: SpecialtyCategory,
    /// One of the therapist's (at most three) top specialties.
    pub top: bool,
}

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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicLicense {
    pub id: Uuid,
    /// e.g. LPC, LMFT, LCSW, LCAS.
    #[serde(rename = "type")]
    pub license_type: String,
    pub number: String,
    pub state: String,
    pub expires_on: Option<Date>,
    /// `verified` or `unverified`: licenses an admin rejected are not shown.
    pub verification_status: VerificationStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicCertification {
    pub id: Uuid,
    pub name: String,
    pub issuer: String,
    /// Slug of the modality the certification is in, if any.
    pub modality: Option<String>,
    pub level: Option<String>,
    pub credential_id: Option<String>,
    pub issued_on: Option<Date>,
    pub expires_on: Option<Date>,
    /// Always `verified`: only verified certifications are public.
    pub verification_status: VerificationStatus,
}

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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Availability {
    pub accepting: Accepting,
    pub free_consultation: bool,
    /// False after three different clients reported within 30 days that the therapist is
    /// unreachable or not taking clients, until the therapist confirms the listing again.
    pub confirmed: bool,
}

/// How quickly the therapist answers inquiries: the median of their latest responses
/// (at most 20), shown once there are at least 3.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResponseTime {
    #[schema(example = 5.5)]
    pub median_hours: f64,
    /// "within an hour", "within a few hours", "within a day", "within a few days",
    /// "within a week" or "in more than a week".
    #[schema(example = "within a few hours")]
    pub label: &'static str,
    /// Responses the figure is based on.
    pub based_on: i64,
}

/// Fewer responses than this show no figure.
pub const RESPONSE_TIME_MIN_SAMPLES: i64 = 3;

impl ResponseTime {
    pub fn from_samples(count: i64, median_seconds: Option<f64>) -> Option<Self> {
        let seconds = median_seconds.filter(|_| count >= RESPONSE_TIME_MIN_SAMPLES)?;
        let hours = seconds / 3600.0;
        let label = match hours {
            h if h <= 1.0 => "within an hour",
            h if h <= 6.0 => "within a few hours",
            h if h <= 24.0 => "within a day",
            h if h <= 72.0 => "within a few days",
            h if h <= 168.0 => "within a week",
            _ => "in more than a week",
        };
        Some(ResponseTime {
            median_hours: (hours * 10.0).round() / 10.0,
            label,
            based_on: count,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Fees {
    /// Lowest standard fee per session.
    pub min: Option<Money>,
    /// Highest standard fee per session.
    pub max: Option<Money>,
    /// The lowest a sliding scale goes, when the therapist offers one.
    pub sliding_scale_min: Option<Money>,
    pub insurance_only: bool,
    pub payment_methods: Vec<PaymentMethod>,
    /// Accepts HSA/FSA cards.
    pub hsa_fsa: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicProfile {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub pronouns: Option<String>,
    /// Credentials suffix, e.g. "LPCS, LCAS".
    pub credentials: Option<String>,
    pub professional_title: Option<String>,
    /// Plain text, as the therapist wrote it; render it escaped.
    pub statement: Option<String>,
    pub photo_url: Option<String>,
    pub website_url: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    /// The public contact address the therapist chose (never the account email).
    pub contact_email: Option<String>,
    pub gender: Option<Gender>,
    /// ISO 639 codes.
    pub languages: Vec<String>,
    pub age_groups: Vec<AgeGroup>,
    pub communities: Vec<Community>,
    pub faith: Option<Faith>,
    pub session_formats: Vec<SessionFormat>,
    pub delivery: Vec<Delivery>,
    pub availability: Availability,
    pub fees: Fees,
    pub insurers: Vec<TermRef>,
    pub modalities: Vec<TermRef>,
    pub specialties: Vec<SpecialtyRef>,
    pub npi: Option<String>,
    pub taxonomy_code: Option<String>,
    pub years_in_practice: Option<i16>,
    /// States where the therapist offers telehealth.
    pub telehealth_states: Vec<String>,
    pub offices: Vec<PublicOffice>,
    pub licenses: Vec<PublicLicense>,
    pub certifications: Vec<PublicCertification>,
    pub offerings: Vec<PublicOffering>,
    /// When the therapist last confirmed the listing is current.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_confirmed_at: Option<OffsetDateTime>,
    /// Not confirmed for 90 days: out of default search until the therapist confirms it.
    pub stale: bool,
    /// Null until the therapist has marked at least 3 inquiries responded.
    pub response_time: Option<ResponseTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
}
