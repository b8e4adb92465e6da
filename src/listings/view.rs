//! The whole listing as its owner (and admins) see it: every field, including review notes
//! and each credential's verification status and note. Field names match what PATCH takes.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{ListingProfile, PublicOffering, PublicOffice};
use crate::domain::vocab::{ListingStatus, VerificationStatus};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct License {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub license_type: String,
    pub number: String,
    pub state: String,
    pub expires_on: Option<Date>,
    pub verification_status: VerificationStatus,
    /// The admin's note when verifying or rejecting.
    pub verification_note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Certification {
    pub id: Uuid,
    pub name: String,
    pub issuer: String,
    pub modality: Option<String>,
    pub level: Option<String>,
    pub credential_id: Option<String>,
    pub issued_on: Option<Date>,
    pub expires_on: Option<Date>,
    pub verification_status: VerificationStatus,
    pub verification_note: Option<String>,
}

/// A therapist's own listing.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct MyListing {
    pub id: Uuid,
    pub status: ListingStatus,
    pub slug: String,
    /// Why an admin rejected or suspended the listing, for the therapist to act on.
    pub review_note: Option<String>,
    /// Set while the listing waits for an admin (after submit, or after a material edit
    /// to a published listing, which stays published meanwhile).
    #[serde(with = "time::serde::rfc3339::option")]
    pub review_requested_at: Option<OffsetDateTime>,
    // Every field PATCH takes, as stored, so a client can send them back as they came.
    #[serde(flatten)]
    #[sqlx(flatten)]
    #[schema(inline)]
    pub profile: ListingProfile,
    #[sqlx(json)]
    pub offices: Vec<PublicOffice>,
    #[sqlx(json)]
    pub licenses: Vec<License>,
    #[sqlx(json)]
    pub certifications: Vec<Certification>,
    #[sqlx(json)]
    pub offerings: Vec<PublicOffering>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_confirmed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// Bumped by every change; the `ETag` is derived from it.
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}
