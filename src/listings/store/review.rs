//! SQL for the admin side of listings: the review queue, the owner an admin writes to, and
//! the verification of credentials.

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::parts::Part;
use crate::auth::AccountStatus;
use crate::listings::lifecycle::ListingStatus;

#[derive(Serialize, ToSchema)]
pub struct ListingSummary {
    pub id: Uuid,
    slug: String,
    display_name: String,
    status: ListingStatus,
    account_id: Uuid,
    account_email: String,
    account_status: AccountStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    review_requested_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    /// Where the listing stands in the queue (the cursor's key).
    #[serde(skip)]
    pub queued_at: OffsetDateTime,
}

/// Which listings the review queue shows, and where the page starts.
#[derive(Debug)]
pub struct QueueFilter<'a> {
    pub status: Option<ListingStatus>,
    pub needs_review: Option<bool>,
    /// A LIKE pattern for the name or email, and the exact text for the slug.
    pub q: Option<(String, &'a str)>,
    pub after: Option<(OffsetDateTime, Uuid)>,
    pub limit: i64,
}

/// The review queue and every other listing, oldest first (by when review was requested,
/// else when the listing was created); one more row than `limit` tells a next page exists.
#[tracing::instrument(skip(db))]
pub async fn review_queue(
    db: impl PgExecutor<'_>,
    filter: QueueFilter<'_>,
) -> sqlx::Result<Vec<ListingSummary>> {
    sqlx::query_as!(
        ListingSummary,
        r#"select l.id, l.slug, l.display_name, l.status as "status: ListingStatus",
                a.id as account_id, a.email::text as "account_email!",
                a.status as "account_status: AccountStatus", l.review_requested_at,
                l.updated_at, coalesce(l.review_requested_at, l.created_at) as "queued_at!"
         from listing l join account a on a.id = l.account_id
         where ($1::listing_status is null or l.status = $1)
           and ($2::bool is null or $2 = (l.review_requested_at is not null))
           and ($3::text is null or l.display_name ilike $3 or a.email::text ilike $3 or l.slug = $4)
           and ($5::timestamptz is null or (coalesce(l.review_requested_at, l.created_at), l.id) > ($5, $6))
         order by coalesce(l.review_requested_at, l.created_at), l.id
         limit $7"#,
        filter.status as Option<ListingStatus>,
        filter.needs_review,
        filter.q.as_ref().map(|(pattern, _)| pattern.as_str()),
        filter.q.as_ref().map(|(_, exact)| *exact),
        filter.after.map(|(t, _)| t),
        filter.after.map(|(_, id)| id),
        filter.limit + 1
    )
    .fetch_all(db)
    .await
}

/// The account behind a listing, as admins see it.
#[derive(Debug)]
pub struct Owner {
    pub account_id: Uuid,
    pub email: String,
    pub status: AccountStatus,
}

#[tracing::instrument(skip(db))]
pub async fn owner(db: impl PgExecutor<'_>, listing_id: Uuid) -> sqlx::Result<Owner> {
    sqlx::query_as!(
        Owner,
        r#"select a.id as account_id, a.email::text as "email!", a.status as "status: AccountStatus"
         from account a join listing l on l.account_id = a.id where l.id = $1"#,
        listing_id
    )
    .fetch_one(db)
    .await
}

#[tracing::instrument(skip(db))]
pub async fn slug_of(db: impl PgExecutor<'_>, listing_id: Uuid) -> sqlx::Result<String> {
    sqlx::query_scalar!("select slug from listing where id = $1", listing_id)
        .fetch_one(db)
        .await
}

/// The listing a license or certification belongs to, if it exists.
#[tracing::instrument(skip(db))]
pub async fn credential_listing(
    db: impl PgExecutor<'_>,
    part: Part,
    id: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    let sql = format!("select listing_id from {} where id = $1", part.table());
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Records an admin's verdict on a license or certification (`verified` or `rejected`);
/// returns its listing, or `None` when it is gone.
#[tracing::instrument(skip(conn, note))]
pub async fn set_verification(
    conn: &mut PgConnection,
    part: Part,
    id: Uuid,
    status: &str,
    note: Option<&str>,
    admin_id: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    let sql = format!(
        "update {} set verification_status = $2::verification_status, verification_note = $3,
             verified_by = $4, verified_at = now()
         where id = $1 returning listing_id",
        part.table()
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(status)
        .bind(note)
        .bind(admin_id)
        .fetch_optional(conn)
        .await
}
