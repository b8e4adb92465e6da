//! Accounts: search by email, suspend (sign-in refused, every token revoked, listing hidden
//! from the directory) and reinstate.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::listings::{ReasonBody, like_pattern, reason};
use crate::audit::AuditEntry;
use crate::auth::{AdminUser, store as auth_store};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::http::cursor::CursorKey;
use crate::http::page::{Page, newest_first_after, page_limit};
use crate::http::{Json, Query};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// Part of the email address.
    #[param(max_length = 254)]
    email: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct AccountSummary {
    id: Uuid,
    email: String,
    role: String,
    status: String,
    email_verified: bool,
    listing_id: Option<Uuid>,
    suspended_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

const ACCOUNT_SQL: &str = "select a.id, a.email::text as email, a.role::text as role, a.status::text as status,
        a.email_verified_at is not null as email_verified, l.id as listing_id, a.suspended_reason, a.created_at
    from account a left join listing l on l.account_id = a.id";

/// Accounts, newest first, optionally filtered by part of the email.
#[utoipa::path(
    operation_id = "admin_list_accounts",
    tag = "admin",
    security(("bearer" = [])),
    params(AccountQuery),
    responses((status = 200, body = inline(Page<AccountSummary>)), (status = 400, body = Problem, content_type = "application/problem+json"))
)]
#[get("/admin/accounts")]
pub async fn list_accounts(
    _admin: AdminUser,
    pool: web::Data<PgPool>,
    cursors: web::Data<CursorKey>,
    query: Query<AccountQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let limit = page_limit(query.limit)?;
    if query
        .email
        .as_ref()
        .is_some_and(|e| e.chars().count() > 254)
    {
        return Err(ApiError::parameter("email", "at most 254 characters"));
    }
    let before = newest_first_after(&cursors, query.cursor.as_deref())?;
    let rows: Vec<AccountSummary> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ACCOUNT_SQL}
         where ($1::text is null or a.email::text ilike $1)
           and ($2::timestamptz is null or (a.created_at, a.id) < ($2, $3))
         order by a.created_at desc, a.id desc limit $4"
    )))
    .bind(query.email.as_deref().map(like_pattern))
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

async fn summary(pool: &PgPool, id: Uuid) -> Result<AccountSummary, ApiError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ACCOUNT_SQL} where a.id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(ApiError::not_found)
}

/// Suspends an account: sign-in is refused, every session and access token is revoked at
/// once, and its listing leaves the directory (the listing's own state is kept).
#[utoipa::path(
    operation_id = "admin_suspend_account",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReasonBody,
    responses(
        (status = 200, body = AccountSummary),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Already suspended, or your own account"),
    )
)]
#[post("/admin/accounts/{id}/suspend")]
pub async fn suspend_account(
    admin: AdminUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let reason = reason(&body.0)?;
    if id == admin.0.account_id {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            "You cannot suspend your own account.",
        ));
    }
    let mut tx = pool.begin().await?;
    let status: String =
        sqlx::query_scalar("select status::text from account where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(ApiError::not_found)?;
    if status == "suspended" {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            "The account is already suspended.",
        ));
    }
    sqlx::query(
        "update account set status = 'suspended', suspended_reason = $2, token_version = token_version + 1 where id = $1",
    )
    .bind(id)
    .bind(&reason)
    .execute(&mut *tx)
    .await?;
    let revoked = auth_store::revoke_all_sessions(&mut *tx, id, "account_suspended", None).await?;
    AuditEntry::new(admin.0.actor(), "account.suspended")
        .target("account", id)
        .details(json!({ "from": status, "to": "suspended", "reason": reason, "sessions_revoked": revoked }))
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(summary(&pool, id).await?))
}

/// Lifts an account suspension: sign-in works again and a published listing reappears.
#[utoipa::path(
    operation_id = "admin_reinstate_account",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = AccountSummary), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[post("/admin/accounts/{id}/reinstate")]
pub async fn reinstate_account(
    admin: AdminUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let reason = reason(&body.0)?;
    let mut tx = pool.begin().await?;
    let status: String =
        sqlx::query_scalar("select status::text from account where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(ApiError::not_found)?;
    if status != "suspended" {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            "The account is not suspended.",
        ));
    }
    sqlx::query("update account set status = 'active', suspended_reason = null where id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    AuditEntry::new(admin.0.actor(), "account.reinstated")
        .target("account", id)
        .details(json!({ "from": "suspended", "to": "active", "reason": reason }))
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(summary(&pool, id).await?))
}
