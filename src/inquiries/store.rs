//! Inquiries' SQL: receiving one (with its emails and audit entry), and the inbox.

use serde_json::json;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use super::model::{Inquiry, InquiryStatus, ValidInquiry};
use crate::audit::{Actor, AuditEntry};
use crate::directory::store::PublicListingRef;
use crate::error::ApiError;
use crate::http::page::NewestFirstPage;
use crate::mail::enqueue_sensitive;
use crate::mail::templates::{self, InquiryEmail};

const INQUIRY_COLUMNS: &str = "i.id, i.listing_id, i.client_name as name, i.client_email as email, i.client_phone as phone,
    i.message, i.preferred_contact, i.status, i.created_at, i.read_at, i.responded_at, i.archived_at";

/// Stores an inquiry to `listing`, queues its email to the therapist (not for demo
/// listings) and the client's receipt, and audits its arrival; returns its id.
pub async fn receive(
    conn: &mut PgConnection,
    base: &Url,
    listing: &PublicListingRef,
    inquiry: &ValidInquiry,
    now: OffsetDateTime,
) -> Result<Uuid, ApiError> {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into inquiry (id, listing_id, client_name, client_email, client_phone, message, preferred_contact, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(listing.id)
    .bind(&inquiry.name)
    .bind(inquiry.email.as_str())
    .bind(&inquiry.phone)
    .bind(&inquiry.message)
    .bind(inquiry.preferred_contact.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if !listing.is_demo {
        let email = InquiryEmail {
            therapist_email: &listing.account_email,
            client_name: &inquiry.name,
            client_email: inquiry.email.as_str(),
            client_phone: inquiry.phone.as_deref(),
            preferred_contact: inquiry.preferred_contact.as_str(),
            message: &inquiry.message,
        };
        enqueue_sensitive(conn, &templates::inquiry_to_therapist(base, &email)).await?;
    }
    // The receipt names the client: it leaves the outbox as the inquiry's own email does.
    let receipt = templates::inquiry_receipt(inquiry.email.as_str(), &listing.display_name);
    enqueue_sensitive(conn, &receipt).await?;
    // The audit log says that an inquiry arrived, never what it says or who sent it.
    AuditEntry::new(Actor::Anonymous, "inquiry.received")
        .target("listing", listing.id)
        .details(json!({ "inquiry_id": id }))
        .record(conn)
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
    sqlx::query(
        "update inquiry set status = $2,
             read_at = coalesce(read_at, $3),
             responded_at = case when $2 = 'responded' then coalesce(responded_at, $3) else responded_at end,
             archived_at = case when $2 = 'archived' then coalesce(archived_at, $3) else archived_at end
         where id = $1",
    )
    .bind(current.id)
    .bind(status)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if let Some(seconds) = current.first_response_seconds(status, now) {
        sqlx::query(
            "insert into inquiry_response (inquiry_id, listing_id, responded_at, response_seconds)
             values ($1, $2, $3, $4) on conflict (inquiry_id) do nothing",
        )
        .bind(current.id)
        .bind(current.listing_id)
        .bind(now)
        .bind(seconds)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
