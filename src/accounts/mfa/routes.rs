//! Second-factor HTTP: enrol, confirm, remove (`/v1/me/mfa/totp`), and the second step of
//! signing in (`/v1/auth/login/mfa`).

use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpResponse, delete, post};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{
    self, CodeBody, MfaLoginRequest, PasswordBody, RecoveryCodes, RemoveTotpBody, SecretSeal,
    TotpEnrolment, current_step, is_totp_code,
};
use super::store;
use crate::accounts::links::send_factor_notice;
use crate::accounts::model::TokenPair;
use crate::accounts::session::{self, LOGIN_LIMIT, email_key, refuse_if_network_waits};
use crate::accounts::store as account_store;
use crate::audit::AuditEntry;
use crate::auth::password::Passwords;
use crate::auth::tokens::TokenKeys;
use crate::auth::{AuthUser, Role};
use crate::clock::Clock;
use crate::error::FieldCode;
use crate::error::{ApiError, ErrorCode};
use crate::http::Json;
use crate::http::client_ip::ClientIp;
use crate::http::rate_limit;
use crate::http::{Db, Reply};
use crate::mail::LinkMail;

/// The sign-in this code was to complete is over: expired, done, or spent by wrong codes.
fn sign_in_expired() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidOrExpiredToken,
        "The sign-in has expired or was already completed; sign in with your password again.",
    )
}

/// Starts enrolling a TOTP authenticator: a new secret, not in use until this session
/// confirms it. It takes the password (checked and throttled as a sign-in is): a stolen
/// access token alone cannot put a factor on the account. Starting again before confirming
/// replaces it; with one confirmed already it is 409 (remove it first).
#[utoipa::path(
    security(("bearer" = [])),
    request_body = PasswordBody,
    responses(
        (status = 201, body = TotpEnrolment),
        (status = 409, description = "`conflict`: a confirmed authenticator exists"),
        (status = 422, description = "`validation_failed`: the password is not correct"),
        (status = 429, description = "`rate_limited`: too many wrong passwords, as for sign-in"),
    )
)]
#[post("/me/mfa/totp")]
pub async fn start_my_totp(
    user: AuthUser,
    pool: Db,
    ip: ClientIp,
    passwords: Data<Passwords>,
    seal: Data<SecretSeal>,
    body: Json<PasswordBody>,
) -> Reply {
    let account = session::signed_in_account(&pool, &user).await?;
    session::confirm_password(&pool, &passwords, &account, ip, body.0.password, "password").await?;
    if store::enabled(pool.get_ref(), account.id).await? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "An authenticator is already enrolled; remove it first to enrol another.",
        ));
    }
    let secret = model::new_secret();
    let totp = model::totp(&secret, &account.email)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("could not build a TOTP")))?;
    store::start(
        pool.get_ref(),
        account.id,
        &seal.seal(&secret),
        user.session_id,
    )
    .await?;
    let enrolment = TotpEnrolment {
        secret: totp.secret().to_base32(),
        otpauth_uri: totp
            .to_url()
            .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?,
    };
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/v1/me/mfa/totp"))
        .json(enrolment))
}

/// Confirms the enrolment with a current code. From then on signing in needs a code, and
/// this session counts as one opened with it. Answers the ten recovery codes, once.
#[utoipa::path(
    security(("bearer" = [])),
    request_body = CodeBody,
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 409, description = "`conflict`: nothing to confirm"),
        (status = 422, description = "`validation_failed`: the code is not the current one"),
    )
)]
#[post("/me/mfa/totp/confirm")]
pub async fn confirm_my_totp(
    user: AuthUser,
    pool: Db,
    (seal, clock): (Data<SecretSeal>, Data<Clock>),
    links: Data<LinkMail>,
    body: Json<CodeBody>,
) -> Reply {
    let account = session::signed_in_account(&pool, &user).await?;
    let mut tx = pool.begin().await?;
    let enrolment = store::enrolment(&mut *tx, user.account_id)
        .await?
        .filter(|e| !e.confirmed && e.started_session == Some(user.session_id))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Conflict,
                "There is no enrolment this session started waiting for confirmation; start one first.",
            )
        })?;
    let step = current_step(&seal, &enrolment.secret_sealed, body.0.code.trim(), &clock)?
        .ok_or_else(|| {
            ApiError::field(
                "code",
                FieldCode::Incorrect,
                "not the code the app shows now",
            )
        })?;
    let codes = model::new_recovery_codes();
    let hashes: Vec<Vec<u8>> = codes
        .iter()
        .map(|c| model::recovery_code_hash(user.account_id, c))
        .collect();
    store::confirm(&mut tx, user.account_id, step, &hashes).await?;
    store::mark_session(&mut tx, user.session_id).await?;
    send_factor_notice(&mut tx, &links, account.id, &account.email, true).await?;
    AuditEntry::new(user.actor(), "auth.mfa_enabled")
        .target("account", user.account_id)
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Removes the authenticator and its recovery codes. It takes the password and a current
/// code (a TOTP or recovery code): a session opened before the factor, plus the password,
/// is not enough. Wrong codes are counted as wrong passwords are. Admin accounts keep
/// theirs (an operator resets a lost one: `create-admin --reset-mfa`).
#[utoipa::path(
    security(("bearer" = [])),
    request_body = RemoveTotpBody,
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "`forbidden`: an admin account keeps its second factor"),
        (status = 409, description = "`conflict`: no authenticator is enrolled"),
        (status = 422, description = "`validation_failed`: the password or the code is not correct"),
        (status = 429, description = "`rate_limited`: too many wrong passwords, as for sign-in"),
    )
)]
#[delete("/me/mfa/totp")]
pub async fn remove_my_totp(
    user: AuthUser,
    pool: Db,
    ip: ClientIp,
    passwords: Data<Passwords>,
    checks: (Data<SecretSeal>, Data<Clock>),
    links: Data<LinkMail>,
    body: Json<RemoveTotpBody>,
) -> Reply {
    if user.role == Role::Admin {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "An admin account keeps its second factor: every admin route needs it.",
        ));
    }
    let RemoveTotpBody { password, code } = body.0;
    let account = session::signed_in_account(&pool, &user).await?;
    session::confirm_password(&pool, &passwords, &account, ip, password, "password").await?;
    let mut tx = pool.begin().await?;
    let enrolment = store::enrolment(&mut *tx, account.id)
        .await?
        .filter(|e| e.confirmed)
        .ok_or_else(|| ApiError::new(ErrorCode::Conflict, "No authenticator is enrolled."))?;
    let (seal, clock) = (checks.0.get_ref(), checks.1.get_ref());
    let mut tx = spend_or_refuse(tx, &enrolment, &account, ip, code.trim(), (seal, clock)).await?;
    store::remove(&mut tx, account.id).await?;
    send_factor_notice(&mut tx, &links, account.id, &account.email, false).await?;
    AuditEntry::new(user.actor(), "auth.mfa_disabled")
        .target("account", account.id)
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The second step of signing in with a second factor: the `mfa_token` of the
/// `mfa_required` answer and a TOTP code (each accepted once) or a recovery code (single
/// use). Wrong codes are throttled like passwords; five spend the `mfa_token`.
#[utoipa::path(
    request_body = MfaLoginRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 400, description = "`invalid_or_expired_token`: the mfa_token is unknown, used or older than 5 minutes"),
        (status = 401, description = "`invalid_credentials`: the code is not correct"),
        (status = 403, description = "`account_suspended` or `email_not_verified`, as at the password step"),
        (status = 429),
    )
)]
#[post("/auth/login/mfa")]
#[tracing::instrument(skip_all)]
pub async fn login_mfa(
    pool: Db,
    ip: ClientIp,
    keys: Data<TokenKeys>,
    seal: Data<SecretSeal>,
    clock: Data<Clock>,
    body: Json<MfaLoginRequest>,
) -> Reply {
    let MfaLoginRequest { mfa_token, code } = body.0;
    if mfa_token.len() > 128 || code.chars().count() > 32 {
        return Err(ApiError::field(
            "code",
            FieldCode::TooLong,
            "the token or code is too long",
        ));
    }
    let network = ip.network_key();
    rate_limit::hit(pool.get_ref(), LOGIN_LIMIT, &network).await?;
    let (mfa_token, code) = (mfa_token.trim(), code.trim());
    let mut tx = pool.begin().await?;
    let account_id = store::challenge(&mut tx, mfa_token)
        .await?
        .ok_or_else(sign_in_expired)?;
    let account = account_store::find_by_id(&mut *tx, account_id)
        .await?
        .ok_or_else(sign_in_expired)?;
    let key = email_key(&account.email);
    // On the transaction's own connection: a step that waited for a second one while
    // holding this one could, three at once, take the whole pool.
    refuse_if_network_waits(&mut tx, &key, &network).await?;
    let enrolment = store::enrolment(&mut *tx, account.id)
        .await?
        .filter(|e| e.confirmed)
        .ok_or_else(sign_in_expired)?;
    let checks = (seal.get_ref(), clock.get_ref());
    if !spend_code(&mut tx, &enrolment, account.id, code, checks).await? {
        store::challenge_failed(&mut tx, mfa_token).await?;
        session::record_failure(&mut tx, &key, ip, Some(account.id), "auth.mfa_failed").await?;
        tx.commit().await?;
        return Err(ApiError::new(
            ErrorCode::InvalidCredentials,
            "The code is not correct.",
        ));
    }
    store::challenge_used(&mut tx, mfa_token).await?;
    account_store::clear_failures(&mut *tx, &key, &network).await?;
    account_store::remember_network(&mut tx, &key, &network).await?;
    // Suspended (or otherwise barred) since the password step: the same answer as there.
    session::check_may_sign_in(&account)?;
    let pair = session::open(tx, &keys, &account, ip, true).await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Spends `code` of the account's confirmed `enrolment` and hands the transaction back; or
/// counts a wrong code as a wrong password is counted (committed) and answers 422 naming
/// `code`.
pub(crate) async fn spend_or_refuse<'t>(
    mut tx: sqlx::Transaction<'t, sqlx::Postgres>,
    enrolment: &store::Enrolment,
    account: &account_store::AccountRow,
    ip: ClientIp,
    code: &str,
    checks: (&SecretSeal, &Clock),
) -> Result<sqlx::Transaction<'t, sqlx::Postgres>, ApiError> {
    if spend_code(&mut tx, enrolment, account.id, code, checks).await? {
        return Ok(tx);
    }
    let key = email_key(&account.email);
    session::record_failure(&mut tx, &key, ip, Some(account.id), "auth.mfa_failed").await?;
    tx.commit().await?;
    Err(ApiError::field(
        "code",
        FieldCode::Incorrect,
        "not a code the authenticator shows now, nor an unused recovery code",
    ))
}

/// Spends a second-factor code of the account: a TOTP code at most once per time step (its
/// secret moved to the current master on the way), a recovery code once ever. False when
/// the code is not one of its good codes.
async fn spend_code(
    conn: &mut PgConnection,
    enrolment: &store::Enrolment,
    account_id: Uuid,
    code: &str,
    (seal, clock): (&SecretSeal, &Clock),
) -> Result<bool, ApiError> {
    if !is_totp_code(code) {
        let hashes = [
            model::recovery_code_hash(account_id, code),
            model::unsalted_recovery_code_hash(code),
        ];
        return Ok(store::use_recovery_code(conn, account_id, &hashes).await?);
    }
    let Some(step) = current_step(seal, &enrolment.secret_sealed, code, clock)? else {
        return Ok(false);
    };
    store::reseal(&mut *conn, seal, account_id, &enrolment.secret_sealed).await?;
    Ok(store::use_step(conn, account_id, step).await?)
}
