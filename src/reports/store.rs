//! Reports' SQL: receiving one (and what enough of them set off), the admin list, and
//! resolving.

use serde_json::json;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use super::model::{
    AVAILABILITY_REPORTS, AVAILABILITY_WINDOW, ReportQuery, ReportReason, ReportState, ReportView,
    Resolution,
};
use crate::audit::{Actor, AuditEntry};
use crate::error::ApiError;
use crate::http::page::NewestFirstPage;
use crate::mail::{enqueue, templates};

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

/// Stores the report and audits it; an availability report may then put the listing's
/// availability in doubt (`mark_if_unreachable`).
pub async fn receive(
    conn: &mut PgConnection,
    base: &Url,
    report: NewReportRow<'_>,
) -> Result<(), ApiError> {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into listing_report (id, listing_id, reason, details, reporter, created_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(report.listing_id)
    .bind(report.reason)
    .bind(report.details)
    .bind(report.reporter)
    .bind(report.now)
    .execute(&mut *conn)
    .await?;
    AuditEntry::new(Actor::Anonymous, "report.received")
        .target("listing", report.listing_id)
        .details(json!({ "report_id": id, "reason": report.reason.as_str() }))
        .record(conn)
        .await?;
    if report.reason.questions_availability() {
        mark_if_unreachable(conn, base, report.listing_id, report.now).await?;
    }
    Ok(())
}

/// With enough distinct recent availability reports, marks the listing's availability
/// unconfirmed (once, until the therapist confirms) and asks the therapist to reconfirm.
/// Reports from before the therapist's last confirmation are answered by it and do not
/// count again.
async fn mark_if_unreachable(
    conn: &mut PgConnection,
    base: &Url,
    listing_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), ApiError> {
    let reporters: i64 = sqlx::query_scalar(
        "select count(distinct reporter) from listing_report
         where listing_id = $1 and resolved_at is null
           and reason in ('unreachable', 'not_accepting')
           and created_at > greatest($2, (select last_confirmed_at from listing where id = $1))",
    )
    .bind(listing_id)
    .bind(now - AVAILABILITY_WINDOW)
    .fetch_one(&mut *conn)
    .await?;
    if reporters < AVAILABILITY_REPORTS {
        return Ok(());
    }
    let marked: Option<(String, bool, String)> = sqlx::query_as(
        "update listing l set availability_unconfirmed_at = $2
         from account a
         where l.id = $1 and a.id = l.account_id and l.availability_unconfirmed_at is null
         returning a.email::text, a.is_demo, l.display_name",
    )
    .bind(listing_id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((email, is_demo, display_name)) = marked {
        if !is_demo {
            let message = templates::reconfirm_availability(base, &email, &display_name);
            enqueue(&mut *conn, &message).await?;
        }
        AuditEntry::new(Actor::System, "listing.availability_unconfirmed")
            .target("listing", listing_id)
            .details(json!({ "reporters": reporters }))
            .record(conn)
            .await?;
    }
    Ok(())
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
    let updated = sqlx::query(
        "update listing_report set resolved_at = $2, resolved_by = $3, resolution = $4, resolution_note = $5
         where id = $1 and resolved_at is null",
    )
    .bind(id)
    .bind(now)
    .bind(by)
    .bind(resolution.as_str())
    .bind(note)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}
