//! The counts, each from its queue's partial index.

use sqlx::PgExecutor;

use super::model::AdminSummary;

/// What waits for an admin, counted (the partial indexes of each queue answer).
pub async fn summary(db: impl PgExecutor<'_>) -> sqlx::Result<AdminSummary> {
    sqlx::query_as!(
        AdminSummary,
        r#"select
            (select count(*) from listing where review_requested_at is not null) as "pending_review!",
            (select count(*) from listing_photo where status = 'pending_review') as "pending_photos!",
            (select count(*) from license where verification_status = 'unverified')
              + (select count(*) from certification where verification_status = 'unverified')
              as "unverified_credentials!",
            (select count(*) from listing_report where resolved_at is null) as "open_reports!""#
    )
    .fetch_one(db)
    .await
}
