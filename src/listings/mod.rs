//! A therapist's own listing: its model (validated inputs) and SQL.

pub mod model;
pub mod store;
