//! The public directory: published listings only, as profiles and (later) search results.

pub mod facets;
pub mod gate;
pub mod index;
pub mod profile;
pub mod routes;
pub mod search;
