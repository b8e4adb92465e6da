//! What a search answers, as the OpenAPI document describes it.

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::Money;
use crate::domain::vocab::{Accepting, Delivery, SessionFormat};

/// A taxonomy term's slug, as search parameters name modalities, specialties and insurers.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(value_type = String, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 80, example = "cbt")]
pub struct TermSlug(String);

// The schema of what the database's `directory_entry.summary` holds. Items travel as JSON
// text built by the database, so these types exist for the OpenAPI document only; the
// integration tests validate every search response against them.

/// A search result: the listing's summary (see `directory_entry.summary`).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct SearchItem {
    id: Uuid,
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 80)]
    slug: String,
    display_name: String,
    pronouns: Option<String>,
    credentials: Option<String>,
    professional_title: Option<String>,
    #[schema(format = "uri")]
    photo_url: Option<String>,
    accepting: Accepting,
    free_consultation: bool,
    fees: SummaryFees,
    /// Modality slugs.
    modalities: Vec<String>,
    /// Slugs of the (at most three) specialties the therapist marked as top.
    top_specialties: Vec<String>,
    delivery: Vec<Delivery>,
    session_formats: Vec<SessionFormat>,
    /// ISO 639-1 codes.
    languages: Vec<String>,
    /// Two-letter state codes.
    telehealth_states: Vec<String>,
    offices: Vec<SummaryOffice>,
    license_verified: bool,
    last_confirmed_at: Option<time::OffsetDateTime>,
    /// Kilometres to the nearest office, with `near`; null for online-only matches.
    #[schema(required = false)]
    distance_km: Option<f64>,
    /// Not confirmed by the therapist for 90 days (only with `include_stale=true`).
    stale: bool,
    /// False after repeated reports that the therapist is unreachable or not taking
    /// clients, until the therapist confirms the listing again.
    availability_confirmed: bool,
}

/// Fees in a search result; every amount is null when not stated.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct SummaryFees {
    min: Option<Money>,
    max: Option<Money>,
    sliding_scale_min: Option<Money>,
    insurance_only: bool,
}

/// Where an office is, as a search result shows it (the street is on the profile).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct SummaryOffice {
    city: String,
    #[schema(pattern = "^[A-Z]{2}$")]
    state: String,
    #[schema(pattern = "^[0-9]{5}$")]
    zip: String,
}

/// How many matches carry one facet value.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct FacetCount {
    /// A taxonomy slug, or a vocabulary value for `delivery` and `session_format`.
    slug: String,
    #[schema(minimum = 1)]
    count: i64,
}

/// Counts for the facets named in `facets=`; only those keys are present, each list by
/// count, highest first.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct Facets {
    #[schema(required = false)]
    modality: Vec<FacetCount>,
    #[schema(required = false)]
    specialty: Vec<FacetCount>,
    #[schema(required = false)]
    insurer: Vec<FacetCount>,
    #[schema(required = false)]
    delivery: Vec<FacetCount>,
    #[schema(required = false)]
    session_format: Vec<FacetCount>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    // Each item as the database built it (`summary` and the search's own fields), passed
    // through as JSON text: parsing and re-serialising them would be most of the service's
    // own CPU time per search.
    #[schema(value_type = Vec<SearchItem>)]
    pub items: Vec<Box<RawValue>>,
    /// Pass it back as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// How many listings match, exactly.
    #[schema(minimum = 0)]
    pub total: u64,
    /// Always true: totals are exact.
    #[deprecated(note = "always true; totals are exact")]
    #[schema(deprecated)]
    pub total_is_exact: bool,
    /// Counts for each requested facet over every match (retired terms excluded).
    #[schema(value_type = Facets)]
    pub facets: Value,
    /// Always true: facet counts are exact.
    #[deprecated(note = "always true; facet counts are exact")]
    #[schema(deprecated)]
    pub facets_are_exact: bool,
    /// With `q`: the words of `q` that every result matches. When no listing matches every
    /// word, the last words are dropped one by one until some do (words that match no
    /// listing at all, and words such as "therapist" or "near", are left out first). Absent
    /// without `q`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub query_words_used: Option<Vec<String>>,
}
