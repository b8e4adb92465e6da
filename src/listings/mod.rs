//! A therapist's own listing: the editable body and its validation, the private view,
//! SQL, and the `/v1/me/listing` routes.

pub mod body;
pub mod model;
pub mod routes;
pub mod store;
pub mod view;
