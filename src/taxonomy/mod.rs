//! Modalities, specialties and insurers: the public lists and the lookups other features
//! use to turn slugs into ids.

pub mod model;
pub mod routes;
pub mod store;

pub use model::{AdminTerm, Insurer, Kind, Modality, Specialty};
