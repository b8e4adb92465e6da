//! `GET /v1/admin/audit-log`: the append-only record, newest first, with filters. There is
//! deliberately no route that changes it (and the database refuses UPDATE and DELETE).

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AdminUser;
use crate::error::{ApiError, Problem};
use crate::http::Query;
use crate::http::cursor::CursorKey;
use crate::http::page::{Page, newest_first_after, page_limit};

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

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditRecord {
    id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    occurred_at: OffsetDateTime,
    actor_id: Option<Uuid>,
    actor_role: Option<String>,
    action: String,
    target_type: Option<String>,
    target_id: Option<Uuid>,
    client_ip: Option<String>,
    #[schema(value_type = Object)]
    details: serde_json::Value,
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
    tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = inline(Page<AuditRecord>)), (status = 400, body = Problem, content_type = "application/problem+json"))
)]
#[get("/admin/audit-log")]
pub async fn list_audit_log(
    _admin: AdminUser,
    pool: web::Data<PgPool>,
    cursors: web::Data<CursorKey>,
    query: Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let limit = page_limit(query.limit)?;
    let from = timestamp("from", &query.from)?;
    let to = timestamp("to", &query.to)?;
    if let Some(action) = &query.action
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
    let (exact, prefix) = match &query.action {
        Some(a) if a.ends_with('.') => (None, Some(format!("{a}%"))),
        Some(a) => (Some(a.clone()), None),
        None => (None, None),
    };
    let before = newest_first_after(&cursors, query.cursor.as_deref())?;
    let rows: Vec<AuditRecord> = sqlx::query_as(
        "select id, occurred_at, actor_id, actor_role, action, target_type, target_id, host(client_ip) as client_ip, details
         from audit_log
         where ($1::uuid is null or actor_id = $1)
           and ($2::uuid is null or target_id = $2)
           and ($3::text is null or action = $3)
           and ($4::text is null or action like $4)
           and ($5::timestamptz is null or occurred_at >= $5)
           and ($6::timestamptz is null or occurred_at < $6)
           and ($7::timestamptz is null or (occurred_at, id) < ($7, $8))
         order by occurred_at desc, id desc
         limit $9",
    )
    .bind(query.actor)
    .bind(query.target)
    .bind(exact)
    .bind(prefix)
    .bind(from)
    .bind(to)
    .bind(before.map(|(t, _)| t))
    .bind(before.map(|(_, id)| id))
    .bind(limit + 1)
    .fetch_all(pool.get_ref())
    .await?;
    Ok(
        HttpResponse::Ok().json(Page::newest_first(rows, limit, &cursors, |r| {
            (r.occurred_at, r.id)
        })),
    )
}
