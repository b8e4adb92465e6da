//! Inquiries' SQL: storing one, the inbox, and retention.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::model::{Inquiry, InquiryStatus, ValidInquiry};
use crate::http::page::NewestFirstPage;

const INQUIRY_COLUMNS: &str = "i.id, i.listing_id, i.client_name as name, i.client_email as email, i.client_phone as phone,
    i.message, i.preferred_contact, i.status, i.created_at, i.read_at, i.responded_at, i.archived_at";

/// Stores an inquiry to the listing `listing_id`; its id.
pub async fn insert(
    conn: &mut PgConnection,
    listing_id: Uuid,
    inquiry: &ValidInquiry,
    now: OffsetDateTime,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!("insert into inquiry (id, listing_id, client_name, client_email, client_phone, message, preferred_contact, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)", id, listing_id, &inquiry.name, inquiry.email.as_str(), inquiry.phone.as_deref(), &inquiry.message, inquiry.preferred_contact.as_str(), now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// The inbox of the account's listing, newest first: inquiries in `status`, or all but
/// the archived ones.
pub async fn list_mine(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    status: Option<InquiryStatus>,
    page: NewestFirstPage,
) -> sqlx::Result<Vec<Inquiry>> {
    let query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {INQUIRY_COLUMNS} from inquiry i join listing l on l.id = i.listing_id
         where l.account_id = $1
           and (case when $2::inquiry_status is null then i.status <> 'archived' else i.status = $2 end)
           and {}",
        NewestFirstPage::sql("i.created_at", "i.id", 3)
    )))
    .bind(account_id)
    .bind(status);
    page.bind(query).fetch_all(db).await
}

/// Every inquiry the account's listing received, archived ones too, newest first (the
/// account's export).
pub async fn all_mine(db: impl PgExecutor<'_>, account_id: Uuid) -> sqlx::Result<Vec<Inquiry>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {INQUIRY_COLUMNS} from inquiry i join listing l on l.id = i.listing_id
         where l.account_id = $1 order by i.created_at desc, i.id desc"
    )))
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// One inquiry of the account's listing; another listing's is `None`.
pub async fn find_mine(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<Inquiry>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {INQUIRY_COLUMNS} from inquiry i join listing l on l.id = i.listing_id
         where i.id = $1 and l.account_id = $2"
    )))
    .bind(id)
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// Moves the inquiry to `status` at `now`. Each state's time is kept from the first time
/// it was set, and a first answer is counted towards the listing's response time.
pub async fn set_status(
    conn: &mut PgConnection,
    current: &Inquiry,
    status: InquiryStatus,
    now: OffsetDateTime,
) -> sqlx::Result<()> {
    sqlx::query!("update inquiry set status = $2,
             read_at = coalesce(read_at, $3),
             responded_at = case when $2 = 'responded'::inquiry_status then coalesce(responded_at, $3) else responded_at end,
             archived_at = case when $2 = 'archived'::inquiry_status then coalesce(archived_at, $3) else archived_at end
         where id = $1", current.id, status as InquiryStatus, now)
    .execute(&mut *conn)
    .await?;
    if let Some(seconds) = current.first_response_seconds(status, now) {
        sqlx::query!(
            "insert into inquiry_response (inquiry_id, listing_id, responded_at, response_seconds)
             values ($1, $2, $3, $4) on conflict (inquiry_id) do nothing",
            current.id,
            current.listing_id,
            now,
            seconds
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Deletes up to `limit` inquiries received before `cutoff` (retention); how many.
pub async fn delete_received_before(
    conn: &mut PgConnection,
    cutoff: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        "delete from inquiry where id in (select id from inquiry where created_at < $1 limit $2)",
        cutoff,
        limit
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}
