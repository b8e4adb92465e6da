//! The taxonomy's types: its three kinds, terms as the public and admins see them.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::vocab::SpecialtyCategory;
use crate::error::FieldCode;
use crate::error::FieldError;

/// The three taxonomies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Modality,
    Specialty,
    Insurer,
}

impl Kind {
    pub fn table(self) -> &'static str {
        match self {
            Kind::Modality => "modality",
            Kind::Specialty => "specialty",
            Kind::Insurer => "insurer",
        }
    }

    /// The collection's name, as in `/v1/modalities`.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Modality => "modalities",
            Kind::Specialty => "specialties",
            Kind::Insurer => "insurers",
        }
    }

    /// 422 detail for a slug that names no term of this kind (or a retired one).
    pub fn unknown(self, field: impl Into<String>, slug: &str) -> FieldError {
        FieldError::new(
            field,
            FieldCode::UnknownTerm,
            format!(
                "`{slug}` is not a known {} (see /v1/{})",
                self.table(),
                self.plural()
            ),
        )
    }
}

/// A term as admins see it, retired ones included.
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct AdminTerm {
    slug: String,
    name: String,
    /// The Spanish name; null when the English one stands in.
    name_es: Option<String>,
    description: Option<String>,
    /// Specialties only.
    #[schema(value_type = Option<crate::domain::vocab::SpecialtyCategory>)]
    category: Option<String>,
    retired: bool,
    /// Listings (and, for modalities, certifications) using it.
    in_use: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Modality {
    #[schema(example = "imago")]
    pub slug: String,
    #[schema(example = "Imago Relationship Therapy")]
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Specialty {
    #[schema(example = "trauma-ptsd")]
    pub slug: String,
    pub name: String,
    pub category: SpecialtyCategory,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Insurer {
    #[schema(example = "aetna")]
    pub slug: String,
    pub name: String,
}
