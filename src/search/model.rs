//! What a search answers, as the OpenAPI document describes it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub use super::summary::{Summary, SummaryFees, SummaryOffice};

/// A search result: the listing's summary (see `directory_entry.summary`).
// `item` writes it from the index's cards, key for key (its test compares the two).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchItem {
    #[serde(flatten)]
    #[schema(inline)]
    pub summary: Summary,
    /// Kilometres to the nearest office, with `near`; null for online-only matches.
    #[schema(required = false)]
    pub distance_km: Option<f64>,
    /// Where to pin the listing on a map: its office nearest to `near`, else its first
    /// office; null when it has no office (online only).
    #[schema(example = 30.2672, required = true)]
    pub latitude: Option<f64>,
    #[schema(example = -97.7431, required = true)]
    pub longitude: Option<f64>,
    /// The approved photo in every size; null without one (`photo_url` is its `w400`).
    #[schema(required = true)]
    pub photo: Option<crate::photos::model::Photo>,
    /// When the listing last changed (a client caching profiles can tell it is stale).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: time::OffsetDateTime,
    /// Not confirmed by the therapist for 90 days (only with `include_stale=true`).
    pub stale: bool,
    /// False after repeated reports that the therapist is unreachable or not taking
    /// clients, until the therapist confirms the listing again.
    pub availability_confirmed: bool,
}

/// How many matches carry one facet value.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct FacetCount {
    /// A taxonomy slug, or a vocabulary value for `delivery` and `session_format`.
    slug: String,
    #[schema(minimum = 1)]
    count: i64,
    /// The value's name in the answer's language (`Accept-Language: es` for Spanish).
    name: String,
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
    #[schema(value_type = Vec<SearchItem>)]
    pub items: Box<serde_json::value::RawValue>,
    /// The listings `items` shows, in its order (for the statistics; not sent).
    #[serde(skip)]
    pub listings: Vec<uuid::Uuid>,
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
    #[schema(required = false, nullable = false)]
    pub query_words_used: Option<Vec<String>>,
    /// What `near` resolved to, or the place `q` named; null without either.
    #[schema(required = true)]
    pub place: Option<crate::domain::place::Place>,
    /// With `q`: what it was read as (filters, a place, the remaining free text), for a
    /// frontend to show as removable chips; null without `q`.
    #[schema(required = true)]
    pub interpreted: Option<super::interpret::Interpreted>,
}

/// What a suggestion would search for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    /// A city or a state: send `value` as `near`.
    Place,
    /// Send `value` as `modality`.
    Modality,
    /// Send `value` as `specialty`.
    Specialty,
    /// Send `value` as `insurer`.
    Insurer,
    /// Send `value` as `language`.
    Language,
    /// Send `value` as `offering`.
    Offering,
    /// A published listing: `value` is its slug (`GET /v1/therapists/{value}`).
    Therapist,
}

/// One thing a search box can offer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestion {
    pub kind: SuggestionKind,
    /// What to show.
    #[schema(example = "Austin, TX")]
    pub label: String,
    /// What to send back: a place name for `near`, a slug or code for a filter, a listing's
    /// slug for a therapist.
    #[schema(example = "Austin, TX")]
    pub value: String,
    /// Published listings it would find, exactly (for a place, as `near` with the default
    /// radius); null for a therapist.
    #[schema(minimum = 0, required = true)]
    pub count: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    /// Best first: how well the text matches, then `count`.
    pub items: Vec<Suggestion>,
}
