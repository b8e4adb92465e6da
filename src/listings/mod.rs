//! A therapist's own listing: its states and version, the editable body and its
//! validation, the private view, SQL, and the `/v1/me/listing` routes.

pub mod body;
pub mod lifecycle;
pub mod model;
pub mod parts;
pub mod routes;
pub mod store;
pub mod view;
