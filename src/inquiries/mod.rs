//! Client inquiries: a message from someone looking for a therapist, delivered to the
//! therapist by email (reply-to the client) and kept in the therapist's inbox.
//!
//! Inquiries are health-related personal data. Only the listing's own therapist can read
//! them (no admin route returns them, and the audit log records only that one arrived), the
//! emails that quote them are deleted from the outbox once delivered, and the maintenance
//! job deletes them at the end of the retention period (`APP_INQUIRY_RETENTION_DAYS`).

pub mod model;
pub mod routes;
pub mod store;

// The contract tests name the vocabulary here, at the feature's top.
pub use model::PreferredContact;
