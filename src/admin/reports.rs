//! Problem reports from the public: `GET /v1/admin/reports` (open ones by default) and
//! `POST /v1/admin/reports/{id}/resolve`. Reporters stay anonymous here too.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::auth::AdminUser;
use crate::clock::Clock;
use crate::error::{ApiError, ErrorCode, FieldError, Problem};
use crate::http::cursor::CursorKey;
use crate::http::page::{Page, newest_first_after, page_limit};
use crate::http::{Json, Query};
use crate::reports::ReportReason;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    Open,
    Resolved,
    All,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `open` (default), `resolved` or `all`.
    status: Option<ReportState>,
    listing_id: Option<Uuid>,
    reason: Option<ReportReason>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct ReportView {
    id: Uuid,
    listing_id: Uuid,
    listing_slug: String,
    listing_display_name: String,
    /// unreachable, not_accepting, inaccurate_info, not_licensed, other
    reason: String,
    details: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    resolved_at: Option<OffsetDateTime>,
    resolved_by: Option<Uuid>,
    /// `fixed` or `dismissed` once resolved.
    resolution: Option<String>,
    resolution_note: Option<String>,
}

const REPORT_COLUMNS: &str = "r.id, r.listing_id, l.slug as listing_slug, l.display_name as listing_display_name,
    r.reason::text as reason, r.details, r.created_at, r.resolved_at, r.resolved_by, r.resolution, r.resolution_note";

/// Reports, newest first.
#[utoipa::path(
    operation_id = "admin_list_reports",
    tag = "admin",
    security(("bearer" = [])),
    params(ReportQuery),
    responses((status = 200, body = inline(Page<ReportView>)), (status = 400, body = Problem, content_type = "application/problem+json"))
)]
#[get("/admin/reports")]
pub async fn list_reports(
    _admin: AdminUser,
    pool: web::Data<PgPool>,
    cursors: web::Data<CursorKey>,
    query: Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let limit = page_limit(query.limit)?;
    let before = newest_first_after(&cursors, query.cursor.as_deref())?;
    let state = match query.status.unwrap_or(ReportState::Open) {
        ReportState::Open => "open",
        ReportState::Resolved => "resolved",
        ReportState::All => "all",
    };
    let rows: Vec<ReportView> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {REPORT_COLUMNS} from listing_report r join listing l on l.id = r.listing_id
         where ($1 = 'all' or ($1 = 'open') = (r.resolved_at is null))
           and ($2::uuid is null or r.listing_id = $2)
           and ($3::text is null or r.reason::text = $3)
           and ($4::timestamptz is null or (r.created_at, r.id) < ($4, $5))
         order by r.created_at desc, r.id desc
         limit $6"
    )))
    .bind(state)
    .bind(query.listing_id)
    .bind(query.reason.map(ReportReason::as_str))
    .bind(before.map(|(t, _)| t))
    .bind(before.map(|(_, id)| id))
    .bind(limit + 1)
    .fetch_all(pool.get_ref())
    .await?;
    Ok(
        HttpResponse::Ok().json(Page::newest_first(rows, limit, &cursors, |r| {
            (r.created_at, r.id)
        })),
    )
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The listing was corrected (or the therapist was reached).
    Fixed,
    /// Nothing was wrong.
    Dismissed,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    resolution: Resolution,
    #[schema(max_length = 2000)]
    note: Option<String>,
}

async fn find(conn: &mut PgConnection, id: Uuid) -> Result<ReportView, ApiError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {REPORT_COLUMNS} from listing_report r join listing l on l.id = r.listing_id where r.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(ApiError::not_found)
}

/// Resolves an open report (409 `invalid_state` if it already is).
#[utoipa::path(
    operation_id = "admin_resolve_report",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ResolveBody,
    responses(
        (status = 200, body = ReportView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`invalid_state`"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/reports/{id}/resolve")]
pub async fn resolve_report(
    admin: AdminUser,
    pool: web::Data<PgPool>,
    clock: web::Data<Clock>,
    id: web::Path<Uuid>,
    body: Json<ResolveBody>,
) -> Result<HttpResponse, ApiError> {
    let note = match body.0.note.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) if n.chars().count() > 2000 => {
            return Err(ApiError::validation(vec![FieldError::new(
                "note",
                "too_long",
                "at most 2000 characters",
            )]));
        }
        Some(n) => Some(n.to_owned()),
    };
    let resolution = match body.0.resolution {
        Resolution::Fixed => "fixed",
        Resolution::Dismissed => "dismissed",
    };
    let mut tx = pool.begin().await?;
    let updated = sqlx::query(
        "update listing_report set resolved_at = $2, resolved_by = $3, resolution = $4, resolution_note = $5
         where id = $1 and resolved_at is null",
    )
    .bind(*id)
    .bind(clock.now())
    .bind(admin.0.account_id)
    .bind(resolution)
    .bind(&note)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let report = find(&mut tx, *id).await?;
    if updated == 0 {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            "The report is already resolved.",
        ));
    }
    AuditEntry::new(admin.0.actor(), "report.resolved")
        .target("listing", report.listing_id)
        .details(json!({ "report_id": report.id, "resolution": resolution }))
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(report))
}
