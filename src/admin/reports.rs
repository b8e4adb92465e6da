//! Problem reports from the public: `GET /v1/admin/reports` (open ones by default) and
//! `POST /v1/admin/reports/{id}/resolve`. Reporters stay anonymous here too.

use actix_web::web::Data;
use actix_web::{HttpResponse, get, post, web};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::auth::AdminUser;
use crate::clock::Clock;
use crate::error::{ApiError, ErrorCode};
use crate::http::cursor::CursorKey;
use crate::http::page::{NewestFirstPage, Page};
use crate::http::{Db, Json, Query, Reply};
use crate::reports::model::{ReportQuery, ReportView, ResolveBody};
use crate::reports::store;

// The OpenAPI components and the contract tests name these types at this path.
pub use crate::reports::model::{ReportState, Resolution};

/// Reports, newest first.
#[utoipa::path(
    operation_id = "admin_list_reports",
    security(("bearer" = [])),
    params(ReportQuery),
    responses((status = 200, body = Page<ReportView>))
)]
#[get("/admin/reports")]
pub async fn list_reports(
    _admin: AdminUser,
    pool: Db,
    cursors: Data<CursorKey>,
    query: Query<ReportQuery>,
) -> Reply {
    let query = query.0;
    let page = NewestFirstPage::read(&cursors, query.limit, query.cursor.as_deref())?;
    let rows = store::list(pool.get_ref(), &query, page).await?;
    Ok(HttpResponse::Ok().json(page.page(rows, &cursors, |r| (r.created_at, r.id))))
}

/// Resolves an open report (409 `invalid_state` if it already is).
#[utoipa::path(
    operation_id = "admin_resolve_report",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ResolveBody,
    responses(
        (status = 200, body = ReportView),
        (status = 409, description = "`invalid_state`"),
    )
)]
#[post("/admin/reports/{id}/resolve")]
pub async fn resolve_report(
    admin: AdminUser,
    pool: Db,
    clock: Data<Clock>,
    id: web::Path<Uuid>,
    body: Json<ResolveBody>,
) -> Reply {
    let note = body.0.note()?;
    let resolution = body.0.resolution;
    let (id, by) = (id.into_inner(), admin.0.account_id);
    let mut tx = pool.begin().await?;
    let resolved =
        store::resolve(&mut tx, id, by, resolution, note.as_deref(), clock.now()).await?;
    let report = store::find(&mut *tx, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !resolved {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            "The report is already resolved.",
        ));
    }
    AuditEntry::new(admin.0.actor(), "report.resolved")
        .target("listing", report.listing_id)
        .details(json!({ "report_id": report.id, "resolution": resolution.as_str() }))
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(report))
}
