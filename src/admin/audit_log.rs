//! `GET /v1/admin/audit-log`: the append-only record, newest first, with filters. There is
//! deliberately no route that changes it (and the database refuses UPDATE and DELETE).

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::audit::store::{self, AuditFilter, AuditRecord};
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::http::Query;
use crate::http::cursor::CursorKey;
use crate::http::page::{NewestFirstPage, Page, page_limit};
use crate::http::{Db, Reply};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Account that acted.
    actor: Option<Uuid>,
    /// Account, listing, license … acted on.
    target: Option<Uuid>,
    /// Exact action (`listing.approved`) or a prefix ending in a dot (`auth.`).
    #[param(max_length = 80)]
    action: Option<String>,
    /// RFC 3339; inclusive.
    #[param(format = DateTime)]
    from: Option<String>,
    /// RFC 3339; exclusive.
    #[param(format = DateTime)]
    to: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    cursor: Option<String>,
}

impl AuditQuery {
    /// The filters, each checked (after `limit`, before `cursor`).
    fn filter(&self) -> Result<AuditFilter, ApiError> {
        let from = timestamp("from", &self.from)?;
        let to = timestamp("to", &self.to)?;
        if let Some(action) = &self.action
            && (action.len() > 80
                || !action
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.'))
        {
            return Err(ApiError::parameter(
                "action",
                "an action such as `listing.approved`, or a prefix such as `auth.`",
            ));
        }
        Ok(AuditFilter {
            actor: self.actor,
            target: self.target,
            action: self.action.clone(),
            from,
            to,
        })
    }
}

fn timestamp(name: &str, value: &Option<String>) -> Result<Option<OffsetDateTime>, ApiError> {
    value
        .as_deref()
        .map(|v| {
            OffsetDateTime::parse(v, &Rfc3339).map_err(|_| {
                ApiError::parameter(name, "an RFC 3339 timestamp such as 2026-11-26T00:00:00Z")
            })
        })
        .transpose()
}

/// Audit records, newest first.
#[utoipa::path(
    operation_id = "admin_list_audit_log",
    security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = Page<AuditRecord>))
)]
#[get("/admin/audit-log")]
pub async fn list_audit_log(
    _admin: AdminUser,
    pool: Db,
    cursors: Data<CursorKey>,
    query: Query<AuditQuery>,
) -> Reply {
    let query = query.0;
    let limit = page_limit(query.limit)?;
    let filter = query.filter()?;
    let page = NewestFirstPage::at(&cursors, limit, query.cursor.as_deref())?;
    let rows = store::list(pool.get_ref(), filter, page).await?;
    Ok(HttpResponse::Ok().json(page.page(rows, &cursors, |r| (r.occurred_at, r.id))))
}
