//! Reports' SQL: storing one, counting who questioned a listing's availability, the admin
//! list, and resolving.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::model::{ReportQuery, ReportReason, ReportState, ReportView, Resolution};
use crate::http::page::NewestFirstPage;

const REPORT_COLUMNS: &str = "r.id, r.listing_id, l.slug as listing_slug, l.display_name as listing_display_name,
    r.reason, r.details, r.created_at, r.resolved_at, r.resolved_by, r.resolution, r.resolution_note";

/// A report as stored: `reporter` is a keyed pseudonym of the client's network, never
/// the address itself.
pub struct NewReportRow<'a> {
    pub listing_id: Uuid,
    pub reason: ReportReason,
    pub details: Option<&'a str>,
    pub reporter: &'a str,
    pub now: OffsetDateTime,
}

/// Stores a report; its id.
pub async fn insert(conn: &mut PgConnection, report: &NewReportRow<'_>) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "insert into listing_report (id, listing_id, reason, details, reporter, created_at)
         values ($1, $2, $3, $4, $5, $6)",
        id,
        report.listing_id,
        report.reason as ReportReason,
        report.details,
        report.reporter,
        report.now
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// How many distinct reporters said the listing is unreachable or not taking clients since
/// `since`, in open reports the therapist's last confirmation has not answered.
pub async fn availability_reporters(
    db: impl PgExecutor<'_>,
    listing_id: Uuid,
    since: OffsetDateTime,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "select count(distinct reporter) as \"reporters!\" from listing_report
         where listing_id = $1 and resolved_at is null
           and reason in ('unreachable', 'not_accepting')
           and created_at > greatest($2, (select last_confirmed_at from listing where id = $1))",
        listing_id,
        since
    )
    .fetch_one(db)
    .await
}

/// Reports newest first, filtered as the query says (open ones by default).
pub async fn list(
    db: impl PgExecutor<'_>,
    query: &ReportQuery,
    page: NewestFirstPage,
) -> sqlx::Result<Vec<ReportView>> {
    let state = query.status.unwrap_or(ReportState::Open);
    let sql = format!(
        "select {REPORT_COLUMNS} from listing_report r join listing l on l.id = r.listing_id
         where ($1 = 'all' or ($1 = 'open') = (r.resolved_at is null))
           and ($2::uuid is null or r.listing_id = $2)
           and ($3::report_reason is null or r.reason = $3)
           and {}",
        NewestFirstPage::sql("r.created_at", "r.id", 4)
    );
    let query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(state.as_str())
        .bind(query.listing_id)
        .bind(query.reason);
    page.bind(query).fetch_all(db).await
}

pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<ReportView>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {REPORT_COLUMNS} from listing_report r join listing l on l.id = r.listing_id where r.id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Resolves the report if it is open; false when it was already resolved (or is none).
pub async fn resolve(
    conn: &mut PgConnection,
    id: Uuid,
    by: Uuid,
    resolution: Resolution,
    note: Option<&str>,
    now: OffsetDateTime,
) -> sqlx::Result<bool> {
    let updated = sqlx::query!("update listing_report set resolved_at = $2, resolved_by = $3, resolution = $4, resolution_note = $5
         where id = $1 and resolved_at is null", id, now, by, resolution.as_str(), note)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}
