//! Admin routes: the review queue and decisions, credential verification, accounts, the
//! taxonomy and the audit log. Everything under `/v1/admin` requires an admin token (the
//! path guard in `auth::extract` enforces it before any handler runs).

pub mod accounts;
pub mod audit_log;
pub mod credentials;
pub mod insights;
pub mod listings;
mod reason;
pub mod reports;
pub mod summary;
pub mod taxonomy;

pub use crate::http::page::{Page, page_limit};
pub use reason::{ReasonBody, reason};
