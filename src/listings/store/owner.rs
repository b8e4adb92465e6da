//! The owner's view of a listing ([`MyListing`]) read in one round trip, its parts
//! aggregated as JSON by PostgreSQL.

use std::sync::LazyLock;

use sqlx::PgExecutor;
use uuid::Uuid;

use super::{PROFILE_COLUMNS, Reader, parts_json};
use crate::listings::view::MyListing;

/// Every column of the owner's view; the caller adds the `where`.
static LISTING_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
select l.id, l.status, l.slug, l.review_note, l.review_requested_at, {PROFILE_COLUMNS},
    {parts}, l.last_confirmed_at, l.published_at, l.version, l.updated_at
from listing l
"#,
        parts = parts_json(Reader::Owner)
    )
});

pub async fn my_listing(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> sqlx::Result<Option<MyListing>> {
    one_where(db, "l.account_id", account_id).await
}

pub async fn listing_by_id(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<MyListing>> {
    one_where(db, "l.id", id).await
}

/// The listing whose `column` (a column name, never input) is `id`.
async fn one_where(
    db: impl PgExecutor<'_>,
    column: &'static str,
    id: Uuid,
) -> sqlx::Result<Option<MyListing>> {
    let sql = format!("{} where {column} = $1", *LISTING_SQL);
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await
}
