//! "Report a problem" with a listing: `POST /v1/therapists/{id_or_slug}/reports`. Admins
//! work through the reports in `admin::reports`, through this feature's store.
//!
//! Reports are how the directory learns that a listing is wrong before its therapist says
//! so. Three unresolved reports that the therapist is unreachable or not accepting clients,
//! from three different clients within 30 days, mark the listing's availability as
//! unconfirmed on its profile and ask the therapist to reconfirm it.

pub mod model;
pub mod routes;
pub mod store;

// The contract tests name the vocabulary here, at the feature's top.
pub use model::ReportReason;
