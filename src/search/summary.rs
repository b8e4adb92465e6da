//! A listing as a search item shows it: `directory_entry.summary`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::Money;
use crate::domain::vocab::{Accepting, Delivery, SessionFormat};

/// What `directory_entry.summary` holds for a published listing. Its one SQL definition
/// is `directory_rebuild` (migration 0021, called by 0023's `directory_refresh`); the demo
/// seed writes the same object from Rust (`demo::entry`). `tests/api/search/item.rs` keeps
/// the SQL and this type equal: a stored summary parses into it (no key it lacks) and
/// writes back the same object (no key the SQL leaves out).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub id: Uuid,
    #[schema(value_type = crate::domain::Slug)]
    pub slug: String,
    pub display_name: String,
    pub pronouns: Option<String>,
    pub credentials: Option<String>,
    pub professional_title: Option<String>,
    #[schema(format = "uri")]
    pub photo_url: Option<String>,
    pub accepting: Accepting,
    pub free_consultation: bool,
    pub fees: SummaryFees,
    /// Modality slugs.
    pub modalities: Vec<String>,
    /// Slugs of the (at most three) specialties the therapist marked as top.
    pub top_specialties: Vec<String>,
    pub delivery: Vec<Delivery>,
    pub session_formats: Vec<SessionFormat>,
    /// ISO 639 codes.
    pub languages: Vec<String>,
    /// Two-letter state codes.
    pub telehealth_states: Vec<String>,
    pub offices: Vec<SummaryOffice>,
    pub license_verified: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_confirmed_at: Option<time::OffsetDateTime>,
}

/// Fees in a search result; every amount is null when not stated.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryFees {
    pub min: Option<Money>,
    pub max: Option<Money>,
    pub sliding_scale_min: Option<Money>,
    pub insurance_only: bool,
}

/// Where an office is, as a search result shows it (the street is on the profile).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryOffice {
    pub city: String,
    #[schema(pattern = "^[A-Z]{2}$")]
    pub state: String,
    #[schema(pattern = "^[0-9]{5}$")]
    pub zip: String,
}
