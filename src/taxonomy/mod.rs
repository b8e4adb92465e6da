//! Modalities, specialties and insurers: the public lists and the lookups other features
//! use to turn slugs into ids.

pub mod routes;
pub mod store;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::vocab::SpecialtyCategory;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
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

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Insurer {
    #[schema(example = "aetna")]
    pub slug: String,
    pub name: String,
}
