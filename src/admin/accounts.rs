//! Accounts: search by email, suspend (sign-in refused, every token revoked, listing hidden
//! from the directory) and reinstate.

use actix_web::web::Data;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{ReasonBody, reason};
use crate::accounts::model::AccountSummary;
use crate::accounts::store;
use crate::audit::AuditEntry;
use crate::auth::{AccountStatus, AdminUser};
use crate::db::like_pattern;
use crate::error::{ApiError, ErrorCode};
use crate::http::cursor::CursorKey;
use crate::http::page::{NewestFirstPage, Page, page_limit};
use crate::http::{Db, Json, Query, Reply};

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

/// Accounts, newest first, optionally filtered by part of the email.
#[utoipa::path(
    operation_id = "admin_list_accounts",
    security(("bearer" = [])),
    params(AccountQuery),
    responses((status = 200, body = Page<AccountSummary>))
)]
#[get("/admin/accounts")]
pub async fn list_accounts(
    _admin: AdminUser,
    pool: Db,
    cursors: Data<CursorKey>,
    query: Query<AccountQuery>,
) -> Reply {
    let query = query.0;
    let limit = page_limit(query.limit)?;
    if query
        .email
        .as_ref()
        .is_some_and(|e| e.chars().count() > 254)
    {
        return Err(ApiError::parameter("email", "at most 254 characters"));
    }
    let page = NewestFirstPage::at(&cursors, limit, query.cursor.as_deref())?;
    let pattern = query.email.as_deref().map(like_pattern);
    let rows = store::list_summaries(pool.get_ref(), pattern, page).await?;
    Ok(HttpResponse::Ok().json(page.page(rows, &cursors, |r| (r.created_at, r.id))))
}

/// Moves the account to `to` and audits the change with the admin's reason; 409 when it
/// is there already. Suspending also signs the account out everywhere.
async fn change_status(
    admin: AdminUser,
    pool: &PgPool,
    id: Uuid,
    reason: String,
    to: AccountStatus,
) -> Reply {
    let mut tx = pool.begin().await?;
    // The acting admin's row is locked with the target's: two admins suspending each other
    // at once take turns, and the second finds itself suspended, so one admin is left.
    let actor = admin.0.account_id;
    let locked = store::lock_statuses(&mut tx, &[actor, id]).await?;
    let status_of = |who: Uuid| locked.iter().find(|(i, _)| *i == who).map(|(_, s)| *s);
    if status_of(actor) != Some(AccountStatus::Active) {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            "Your own account has been suspended; nothing was changed.",
        ));
    }
    let from = status_of(id).ok_or_else(ApiError::not_found)?;
    let (action, details) = match (from, to) {
        (AccountStatus::Suspended, AccountStatus::Suspended) => {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                "The account is already suspended.",
            ));
        }
        (AccountStatus::Active, AccountStatus::Active) => {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                "The account is not suspended.",
            ));
        }
        (_, AccountStatus::Suspended) => {
            store::suspend(&mut tx, id, &reason).await?;
            let revoked =
                store::revoke_all_sessions(&mut *tx, id, "account_suspended", None).await?;
            let details =
                json!({ "from": from, "to": to, "reason": reason, "sessions_revoked": revoked });
            ("account.suspended", details)
        }
        (_, AccountStatus::Active) => {
            store::reinstate(&mut tx, id).await?;
            (
                "account.reinstated",
                json!({ "from": from, "to": to, "reason": reason }),
            )
        }
    };
    AuditEntry::new(admin.0.actor(), action)
        .target("account", id)
        .details(details)
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    let account = store::summary(pool, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(account))
}

/// Suspends an account: sign-in is refused, every session and access token is revoked at
/// once, and its listing leaves the directory (the listing's own state is kept).
#[utoipa::path(
    operation_id = "admin_suspend_account",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReasonBody,
    responses(
        (status = 200, body = AccountSummary),
        (status = 409, description = "Already suspended, or your own account"),
    )
)]
#[post("/admin/accounts/{id}/suspend")]
pub async fn suspend_account(
    admin: AdminUser,
    pool: Db,
    id: web::Path<Uuid>,
    body: Json<ReasonBody>,
) -> Reply {
    let id = id.into_inner();
    let reason = reason(&body.0)?;
    if id == admin.0.account_id {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            "You cannot suspend your own account.",
        ));
    }
    change_status(admin, &pool, id, reason, AccountStatus::Suspended).await
}

/// Lifts an account suspension: sign-in works again and a published listing reappears.
#[utoipa::path(
    operation_id = "admin_reinstate_account",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = AccountSummary), (status = 409))
)]
#[post("/admin/accounts/{id}/reinstate")]
pub async fn reinstate_account(
    admin: AdminUser,
    pool: Db,
    id: web::Path<Uuid>,
    body: Json<ReasonBody>,
) -> Reply {
    let id = id.into_inner();
    let reason = reason(&body.0)?;
    change_status(admin, &pool, id, reason, AccountStatus::Active).await
}
