//! The public directory: published listings as public profiles, and `directory_entry`, the
//! public representation of each listing that search reads (`search/`).

pub mod model;
pub mod routes;
pub mod store;
