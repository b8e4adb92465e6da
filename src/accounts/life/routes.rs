//! The account's own life: `PATCH /v1/me` (its name), `POST /v1/me/email` and
//! `POST /v1/auth/confirm-email-change` (its address), `GET /v1/me/export` (a copy of its
//! data) and `DELETE /v1/me` (its end).

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use serde_json::json;

use super::export::{self, AccountExport};
use super::model::{DeleteAccountRequest, EmailChangeRequest, NameRequest};
use super::store;
use crate::accounts::links::{self, Purpose};
use crate::accounts::mfa::model::SecretSeal;
use crate::accounts::mfa::routes::spend_or_refuse;
use crate::accounts::model::{Me, StatusBody, TokenRequest};
use crate::accounts::routes::TOKEN_LIMIT;
use crate::accounts::session::{self, email_key};
use crate::accounts::store as accounts;
use crate::audit::AuditEntry;
use crate::auth::password::Passwords;
use crate::auth::{AuthUser, Role};
use crate::clock::Clock;
use crate::domain::at_most;
use crate::error::{ApiError, ErrorCode, FieldCode};
use crate::http::client_ip::ClientIp;
use crate::http::rate_limit;
use crate::http::{Db, Json, Reply};
use crate::mail::{LinkMail, enqueue, templates};
use crate::photos::media::Media;

/// Changes the account's name.
#[utoipa::path(
    operation_id = "update_me",
    security(("bearer" = [])),
    request_body = NameRequest,
    responses((status = 200, body = Me))
)]
#[patch("/me")]
pub async fn update_me(user: AuthUser, pool: Db, ip: ClientIp, body: Json<NameRequest>) -> Reply {
    let name = body.0.parse()?;
    let mut tx = pool.begin().await?;
    store::set_full_name(&mut *tx, user.account_id, &name).await?;
    AuditEntry::new(user.actor(), "account.name_changed")
        .target("account", user.account_id)
        .ip(ip)
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    let account = session::signed_in_account(&pool, &user).await?;
    Ok(HttpResponse::Ok().json(Me::from(account)))
}

/// Asks to sign in with another address: a link goes to the new address and a notice to
/// the current one; the account moves only when the link is used.
///
/// The answer is the same whether or not another account has the new address (its owner
/// is told instead), so it reveals no account.
#[utoipa::path(
    operation_id = "change_my_email",
    security(("bearer" = [])),
    request_body = EmailChangeRequest,
    responses(
        (status = 202, body = StatusBody),
        (status = 422, description = "`validation_failed`: `new_email` is not an address or is already the account's, or `password` is not correct"),
        (status = 429, description = "`rate_limited`: too many wrong passwords, as for sign-in"),
    )
)]
#[post("/me/email")]
pub async fn change_email(
    user: AuthUser,
    pool: Db,
    ip: ClientIp,
    passwords: Data<Passwords>,
    mail: Data<LinkMail>,
    body: Json<EmailChangeRequest>,
) -> Reply {
    let body = body.0;
    let account = session::signed_in_account(&pool, &user).await?;
    let new_email = body.new_email(&account.email)?;
    session::confirm_password(&pool, &passwords, &account, ip, body.password, "password").await?;
    let mut tx = pool.begin().await?;
    if accounts::find_by_email(&mut *tx, new_email.as_str())
        .await?
        .is_some()
    {
        enqueue(
            &mut tx,
            &templates::account_exists(&mail.base, new_email.as_str()),
        )
        .await?;
    } else {
        let who = (
            account.id,
            account.email.as_str(),
            account.full_name.as_str(),
        );
        links::send_email_change(&mut tx, &mail, who, new_email.as_str()).await?;
    }
    AuditEntry::new(user.actor(), "account.email_change_requested")
        .target("account", account.id)
        .ip(ip)
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::Accepted().json(StatusBody {
        status: "email_change_link_sent",
    }))
}

/// Moves the account to the address the link was sent to. Sessions stay signed in; the
/// old address no longer signs in, and links sent to it stop working.
#[utoipa::path(
    operation_id = "confirm_email_change",
    request_body = TokenRequest,
    responses(
        (status = 200, body = Me),
        (status = 400, description = "`invalid_or_expired_token`"),
        (status = 409, description = "`conflict`: another account signs in with that address now"),
        (status = 429),
    )
)]
#[post("/auth/confirm-email-change")]
pub async fn confirm_email_change(pool: Db, ip: ClientIp, body: Json<TokenRequest>) -> Reply {
    let token = body.0.token;
    at_most(&token, 128).map_err(|e| e.at("token"))?;
    rate_limit::hit(pool.get_ref(), TOKEN_LIMIT, &ip.network_key()).await?;
    let mut tx = pool.begin().await?;
    let (account_id, new_email) = links::spend_email_change(&mut tx, token.trim()).await?;
    let Some(old_email) = store::move_address(&mut tx, account_id, &new_email).await? else {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "Another account signs in with that address now.",
        ));
    };
    store::move_known_networks(&mut tx, &email_key(&old_email), &email_key(&new_email)).await?;
    // A link in the old mailbox would act for an account that mailbox no longer controls.
    for purpose in [
        Purpose::VerifyEmail,
        Purpose::ResetPassword,
        Purpose::SecureAccount,
    ] {
        accounts::spend_email_tokens(&mut tx, account_id, purpose.as_str()).await?;
    }
    enqueue(&mut tx, &templates::email_changed(&old_email)).await?;
    session::anonymous("account.email_changed", Some(account_id), ip)
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    let account = accounts::find_by_id(pool.get_ref(), account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(Me::from(account)))
}

/// Everything stored about the account, as one JSON document: the account, its listing
/// with every part, photos, inquiries received, sessions and audit entries. No hash,
/// token or secret is in it.
#[utoipa::path(
    operation_id = "export_me",
    security(("bearer" = [])),
    responses((status = 200, body = AccountExport))
)]
#[get("/me/export")]
pub async fn export_me(user: AuthUser, pool: Db, media: Data<Media>, clock: Data<Clock>) -> Reply {
    let account = session::signed_in_account(&pool, &user).await?;
    let mut conn = pool.acquire().await?;
    let document = export::gather(&mut conn, &media, account, clock.now()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"directory-account.json\"",
        ))
        .json(document))
}

/// Deletes the account with the password (and a current code when two-step sign-in is
/// on): the account, its listing, photos, inquiries, sessions and sign-in records are
/// erased at once and the listing leaves search on every process; audit entries keep
/// only the account's id, which nothing resolves any more. The address can sign up again.
#[utoipa::path(
    operation_id = "delete_me",
    security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "`conflict`: the last active admin cannot leave"),
        (status = 422, description = "`validation_failed`: the password or the code is not correct, or the code is missing"),
        (status = 429, description = "`rate_limited`: too many wrong passwords, as for sign-in"),
    )
)]
#[delete("/me")]
pub async fn delete_me(
    user: AuthUser,
    pool: Db,
    ip: ClientIp,
    passwords: Data<Passwords>,
    checks: (Data<SecretSeal>, Data<Clock>),
    media: Data<Media>,
    body: Json<DeleteAccountRequest>,
) -> Reply {
    let body = body.0;
    body.check_lengths()?;
    let account = session::signed_in_account(&pool, &user).await?;
    session::confirm_password(&pool, &passwords, &account, ip, body.password, "password").await?;
    let mut tx = pool.begin().await?;
    let factor = crate::accounts::mfa::store::enrolment(&mut *tx, account.id).await?;
    if let Some(enrolment) = factor.filter(|e| e.confirmed) {
        let code = body.code.as_deref().map(str::trim).unwrap_or_default();
        if code.is_empty() {
            let message = "two-step sign-in is on: a code is required";
            return Err(ApiError::field("code", FieldCode::Required, message));
        }
        let checks = (checks.0.get_ref(), checks.1.get_ref());
        tx = spend_or_refuse(tx, &enrolment, &account, ip, code, checks).await?;
    }
    if account.role == Role::Admin && store::is_last_active_admin(&mut tx, account.id).await? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "The last active admin cannot delete their account: make another admin first.",
        ));
    }
    let key = email_key(&account.email);
    let photos = store::erase(&mut tx, account.id, &account.email, &key).await?;
    AuditEntry::new(user.actor(), "account.deleted")
        .target("account", account.id)
        .ip(ip)
        .details(json!({ "role": account.role.as_str() }))
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    crate::photos::routes::delete_objects(&pool, &media, photos).await;
    Ok(HttpResponse::NoContent().finish())
}
