//! The public directory: published listings as public profiles, and `directory_entry`, the
//! public representation of each listing that profiles-to-be and search read (`search/`).

pub mod entries;
pub mod profile;
pub mod routes;
