//! The counts of what waits for an admin.

use serde::Serialize;
use utoipa::ToSchema;

/// What waits for an admin.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminSummary {
    /// Listings in the review queue (`GET /v1/admin/listings?needs_review=true`).
    pub pending_review: i64,
    /// Photos waiting for review (`GET /v1/admin/photos`).
    pub pending_photos: i64,
    /// Licenses and certifications no admin has verified or rejected yet.
    pub unverified_credentials: i64,
    /// Reports not resolved yet (`GET /v1/admin/reports`).
    pub open_reports: i64,
}
