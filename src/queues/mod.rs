//! What waits for an admin, counted across features (the review queue, photos,
//! credentials, reports) for `GET /v1/admin/summary`.

pub mod model;
pub mod store;
