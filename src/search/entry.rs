//! What the index reads of the directory: one listing's `directory_entry` with its offices,
//! and the taxonomy's terms, with the fields, flags and weights it files them under.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::card::Card;

/// What the index reads of one `directory_entry` (and its offices).
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub listing_id: Uuid,
    pub display_name: String,
    pub credentials: Option<String>,
    pub professional_title: Option<String>,
    pub statement: String,
    pub offering_titles: String,
    pub cities: Vec<String>,
    pub accepting: bool,
    pub free_consultation: bool,
    pub fee_floor_cents: Option<i32>,
    pub sliding_scale: bool,
    pub gender: Option<String>,
    pub faith: Option<String>,
    pub languages: Vec<String>,
    pub age_groups: Vec<String>,
    pub communities: Vec<String>,
    pub session_formats: Vec<String>,
    pub delivery: Vec<String>,
    pub states: Vec<String>,
    pub telehealth_states: Vec<String>,
    pub modality_ids: Vec<i32>,
    pub specialty_ids: Vec<i32>,
    pub insurer_ids: Vec<i32>,
    pub certified_modality_ids: Vec<i32>,
    pub license_verified: bool,
    pub offering_kinds: Vec<String>,
    pub last_confirmed_at: Option<OffsetDateTime>,
    pub stale: bool,
    /// (latitude, longitude) of each office.
    pub offices: Vec<(f64, f64)>,
    /// What a search item shows; `None` only in tests of the index that show no items.
    pub card: Option<Card>,
}

/// Fields whose values are words of a fixed vocabulary (or codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Language,
    /// Office states and telehealth states.
    State,
    /// Telehealth states of listings with no office that offer video or phone: found by a
    /// ZIP search in their state.
    OnlineState,
    AgeGroup,
    Community,
    Faith,
    Gender,
    SessionFormat,
    Delivery,
    OfferingKind,
}

impl Field {
    pub const COUNT: usize = 10;

    pub fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "age_group" => Field::AgeGroup,
            "community" => Field::Community,
            "faith" => Field::Faith,
            "gender" => Field::Gender,
            "session_format" => Field::SessionFormat,
            "delivery" => Field::Delivery,
            "offering_kind" => Field::OfferingKind,
            "language" => Field::Language,
            "state" => Field::State,
            _ => return None,
        })
    }
}

/// Taxonomy-valued fields (term ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Modality,
    Specialty,
    Insurer,
    /// Modalities with a verified certification.
    Certified,
}

/// Yes/no fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Stale,
    Accepting,
    FreeConsultation,
    SlidingScale,
    LicenseVerified,
}

/// Where a word was found, from the heaviest: the name, then what describes the practice
/// (title, credentials, specialties, offerings, places), then the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Weight {
    Name = 0,
    Practice = 1,
    Statement = 2,
}

/// The facets, as tags of `Index::facet_codes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FacetTag {
    Modality = 0,
    Specialty = 1,
    Insurer = 2,
    Delivery = 3,
    SessionFormat = 4,
}

/// A taxonomy term as the index knows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Term {
    pub id: i32,
    pub slug: String,
    pub name: String,
    /// The Spanish name; the English one stands in when there is none.
    pub name_es: Option<String>,
    pub retired: bool,
}

impl Term {
    /// The name in Spanish or English.
    pub fn label(&self, spanish: bool) -> &str {
        match (&self.name_es, spanish) {
            (Some(es), true) => es,
            _ => &self.name,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Taxonomy {
    pub modality: Vec<Term>,
    pub specialty: Vec<Term>,
    pub insurer: Vec<Term>,
}

impl Taxonomy {
    pub fn terms(&self, kind: Kind) -> &[Term] {
        match kind {
            Kind::Modality | Kind::Certified => &self.modality,
            Kind::Specialty => &self.specialty,
            Kind::Insurer => &self.insurer,
        }
    }
}
