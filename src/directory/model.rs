//! The public profile of a published listing as clients see it. It carries only what the
//! therapist chose to publish: no account email, no review notes, no verification notes, no
//! rejected credentials.

use serde::{Deserialize, Serialize};

use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::photos::media::Media;
use crate::photos::model::Photo;

use crate::domain::Money;
use crate::domain::vocab::{
    Accepting, AgeGroup, Community, Delivery, Faith, Gender, PaymentMethod, SessionFormat,
    SpecialtyCategory, VerificationStatus,
};
use crate::listings::model::ListingProfile;
pub use crate::listings::model::{PublicOffering, PublicOffice};

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

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
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
    /// The approved photo's 400 px WebP (`photo.w400`); kept for clients written before
    /// `photo`.
    #[schema(format = "uri", required = true)]
    pub photo_url: Option<String>,
    /// The approved photo in every size; null without one.
    #[schema(required = true)]
    pub photo: Option<Photo>,
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
    /// When the listing last changed (its profile or any of its parts).
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A published listing as the directory reads it: the therapist's profile, and what the
/// public profile adds to it (term names, public parts, freshness, response time).
#[derive(sqlx::FromRow)]
pub struct PublishedListing {
    pub id: Uuid,
    pub slug: String,
    #[sqlx(flatten)]
    pub profile: ListingProfile,
    pub last_confirmed_at: Option<OffsetDateTime>,
    pub published_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
    pub stale: bool,
    pub availability_unconfirmed: bool,
    pub response_samples: i64,
    pub response_median_seconds: Option<f64>,
    /// The approved photo's object names.
    pub photo: Option<sqlx::types::Json<Photo>>,
    #[sqlx(json)]
    pub modality_terms: Vec<TermRef>,
    #[sqlx(json)]
    pub specialty_terms: Vec<SpecialtyRef>,
    #[sqlx(json)]
    pub insurer_terms: Vec<TermRef>,
    #[sqlx(json)]
    pub offices: Vec<PublicOffice>,
    #[sqlx(json)]
    pub licenses: Vec<PublicLicense>,
    #[sqlx(json)]
    pub certifications: Vec<PublicCertification>,
    #[sqlx(json)]
    pub offerings: Vec<PublicOffering>,
}

impl PublicProfile {
    /// The photo's object names made URLs clients fetch.
    pub fn with_media(mut self, media: &Media) -> Self {
        self.photo = self.photo.map(|p| p.map(|name| media.url(&name)));
        self.photo_url = self.photo.as_ref().map(|p| p.w400.clone());
        self
    }
}

/// What the public sees of a profile: every field but the review notes and private parts,
/// with availability and fees grouped and terms named.
impl From<PublishedListing> for PublicProfile {
    fn from(l: PublishedListing) -> Self {
        let p = l.profile;
        PublicProfile {
            id: l.id,
            slug: l.slug,
            display_name: p.display_name,
            pronouns: p.pronouns,
            credentials: p.credentials,
            professional_title: p.professional_title,
            statement: p.statement,
            photo_url: None,
            photo: l.photo.map(|p| p.0),
            website_url: p.website_url,
            phone: p.phone,
            contact_email: p.contact_email,
            gender: p.gender,
            languages: p.languages,
            age_groups: p.age_groups,
            communities: p.communities,
            faith: p.faith,
            session_formats: p.session_formats,
            delivery: p.delivery,
            availability: Availability {
                accepting: p.accepting,
                free_consultation: p.free_consultation,
                confirmed: !l.availability_unconfirmed,
            },
            fees: Fees {
                min: p.fee_min,
                max: p.fee_max,
                sliding_scale_min: p.sliding_scale_min,
                insurance_only: p.insurance_only,
                payment_methods: p.payment_methods,
                hsa_fsa: p.hsa_fsa,
            },
            insurers: l.insurer_terms,
            modalities: l.modality_terms,
            specialties: l.specialty_terms,
            npi: p.npi,
            taxonomy_code: p.taxonomy_code,
            years_in_practice: p.years_in_practice,
            telehealth_states: p.telehealth_states,
            offices: l.offices,
            licenses: l.licenses,
            certifications: l.certifications,
            offerings: l.offerings,
            last_confirmed_at: l.last_confirmed_at,
            stale: l.stale,
            response_time: ResponseTime::from_samples(
                l.response_samples,
                l.response_median_seconds,
            ),
            published_at: l.published_at,
            updated_at: l.updated_at,
        }
    }
}
