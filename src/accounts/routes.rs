//! Join the directory and directory login: `/v1/auth/*`, `/v1/me`, `/v1/me/password`.
//!
//! Enumeration: signup, resend-verification and password-reset answer the same whether or
//! not the address has an account (the last two no sooner than a fixed floor, so their time
//! does not tell either); login answers the same 401 for an unknown address and a
//! wrong password, after the same Argon2 work; throttling is keyed by address, not account,
//! so a lock-out reveals nothing either.

use std::time::Duration;

use actix_web::web::Data;
use actix_web::{HttpResponse, get, post};
use secrecy::SecretString;
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use tokio::time::{Instant, sleep_until};
use uuid::Uuid;

use super::links::{self, Purpose};
use super::model::{
    ChangePasswordRequest, EmailRequest, LoginRequest, Me, RefreshRequest, ResetConfirmRequest,
    SignupRequest, StatusBody, TokenPair, TokenRequest,
};
use super::session::{self, LOGIN_LIMIT, email_key, invalid_credentials};
use super::store::{self, AccountRow, Rotation};
use crate::audit::AuditEntry;
use crate::auth::AuthUser;
use crate::auth::password::{NewPassword, Passwords, Verification};
use crate::auth::tokens::TokenKeys;
use crate::auth::{AccountStatus, Role};
use crate::domain::{Email, at_most};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::http::Json;
use crate::http::client_ip::ClientIp;
use crate::http::rate_limit::{self, Limit};
use crate::http::{Db, Reply};
use crate::mail::LinkMail;
use crate::mail::{enqueue, templates};

const SIGNUP_LIMIT: Limit = Limit::new("signup", 10, 3600);
const EMAIL_LIMIT: Limit = Limit::new("email_request", 5, 3600);
/// Uses of emailed links per network (every link route shares it).
pub(crate) const TOKEN_LIMIT: Limit = Limit::new("token_use", 30, 600);
const REFRESH_LIMIT: Limit = Limit::new("refresh", 120, 300);

/// Records the entry and commits: the last step of every write here.
async fn audit_and_commit(
    mut tx: Transaction<'_, Postgres>,
    entry: AuditEntry<'_>,
) -> Result<(), ApiError> {
    entry.record(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Join the directory: creates a therapist account and its empty draft listing, and emails
/// a verification link (24 h). The answer is the same 202 whether or not the address is
/// already registered; its owner then gets a "you already have an account" email instead.
#[utoipa::path(
    request_body = SignupRequest,
    responses(
        (status = 202, body = StatusBody),
        (status = 422, description = "Invalid fields, each named in `errors`"),
        (status = 429),
    )
)]
#[post("/auth/signup")]
#[tracing::instrument(skip_all)]
pub async fn signup(
    pool: Db,
    ip: ClientIp,
    mail: Data<LinkMail>,
    passwords: Data<Passwords>,
    body: Json<SignupRequest>,
) -> Reply {
    let signup = body.0.validate()?;
    let (email, full_name) = (signup.email.as_str(), signup.full_name.as_str());
    rate_limit::hit(pool.get_ref(), SIGNUP_LIMIT, &ip.network_key()).await?;
    // Hashed whether or not the address is taken, so both paths take as long.
    let hash = passwords.hash(signup.password.secret()).await?;
    let mut tx = pool.begin().await?;
    let id = Uuid::now_v7();
    let created =
        store::insert_account(&mut tx, id, email, &hash, full_name, Role::Therapist, false).await?;
    let entry = if created {
        let listing_id = crate::listings::store::create_draft(&mut tx, id, full_name).await?;
        links::send_verification(&mut tx, &mail, id, email, full_name).await?;
        Some(
            session::anonymous("account.signed_up", Some(id), ip)
                .details(json!({ "listing_id": listing_id })),
        )
    } else {
        let exists = templates::account_exists(&mail.base, email);
        enqueue(&mut tx, &exists).await?;
        let existing = store::find_by_email(&mut *tx, email).await?;
        existing.map(|a| session::anonymous("account.signup_for_existing_email", Some(a.id), ip))
    };
    if let Some(entry) = entry {
        entry.record(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(accepted("verification_email_sent"))
}

fn accepted(status: &'static str) -> HttpResponse {
    HttpResponse::Accepted().json(StatusBody { status })
}

/// Confirms an email address with the token from the verification email.
#[utoipa::path(
    request_body = TokenRequest,
    responses(
        (status = 200, body = StatusBody),
        (status = 400, description = "`invalid_or_expired_token`"), (status = 429, body = Problem, content_type = "application/problem+json"))
)]
#[post("/auth/verify-email")]
#[tracing::instrument(skip_all)]
pub async fn verify_email(pool: Db, ip: ClientIp, body: Json<TokenRequest>) -> Reply {
    at_most(&body.0.token, 128).map_err(|e| e.at("token"))?;
    rate_limit::hit(pool.get_ref(), TOKEN_LIMIT, &ip.network_key()).await?;
    let mut tx = pool.begin().await?;
    let account = links::spend(&mut tx, body.0.token.trim(), Purpose::VerifyEmail).await?;
    store::mark_email_verified(&mut *tx, account).await?;
    audit_and_commit(
        tx,
        session::anonymous("account.email_verified", Some(account), ip),
    )
    .await?;
    Ok(HttpResponse::Ok().json(StatusBody {
        status: "email_verified",
    }))
}

/// How soon an email request (a new verification link, a password reset) is answered. The
/// work differs with whether the address has an account (a link and an email are written,
/// or nothing is); answering no sooner than this keeps the time from telling which.
const EMAIL_REQUEST_FLOOR: Duration = Duration::from_millis(250);

/// The account an email request names, with the transaction it was read in; `None` when
/// the address is not one or has no account (the caller answers the same either way).
async fn email_request(
    pool: &PgPool,
    ip: ClientIp,
    body: &EmailRequest,
) -> Result<Option<(Transaction<'static, Postgres>, AccountRow)>, ApiError> {
    body.check_length()?;
    rate_limit::hit(pool, EMAIL_LIMIT, &ip.network_key()).await?;
    let Ok(email) = Email::parse(&body.email) else {
        return Ok(None);
    };
    let mut tx = pool.begin().await?;
    let account = store::find_by_email(&mut *tx, email.as_str()).await?;
    Ok(account.map(|account| (tx, account)))
}

/// Sends a new verification link if the address has an unverified account. Always 202.
#[utoipa::path(
    request_body = EmailRequest,
    responses((status = 202, body = StatusBody), (status = 429))
)]
#[post("/auth/resend-verification")]
#[tracing::instrument(skip_all)]
pub async fn resend_verification(
    pool: Db,
    ip: ClientIp,
    mail: Data<LinkMail>,
    body: Json<EmailRequest>,
) -> Reply {
    let answer_at = Instant::now() + EMAIL_REQUEST_FLOOR;
    if let Some((mut tx, account)) = email_request(&pool, ip, &body.0).await?
        && account.email_verified_at.is_none()
        && account.role == Role::Therapist
    {
        let (id, name) = (account.id, &account.full_name);
        links::send_verification(&mut tx, &mail, id, &account.email, name).await?;
        tx.commit().await?;
    }
    sleep_until(answer_at).await;
    Ok(accepted("verification_email_sent"))
}

/// Directory login. After five wrong passwords in a row for an address, it is locked
/// (429 with `Retry-After`) for a minute, doubling up to an hour.
#[utoipa::path(
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "`invalid_credentials`, the same for unknown addresses and wrong passwords"),
        (status = 403, description = "`email_not_verified` or `account_suspended`, only after a correct password"),
        (status = 429, description = "`rate_limited`, with `Retry-After`"),
    )
)]
#[post("/auth/login")]
#[tracing::instrument(skip_all)]
pub async fn login(
    pool: Db,
    ip: ClientIp,
    passwords: Data<Passwords>,
    keys: Data<TokenKeys>,
    body: Json<LoginRequest>,
) -> Reply {
    body.0.check_lengths()?;
    let LoginRequest { email, password } = body.0;
    let network = ip.network_key();
    rate_limit::hit(pool.get_ref(), LOGIN_LIMIT, &network).await?;
    let key = email_key(&email);
    let account = match Email::parse(&email) {
        Ok(email) => store::find_by_email(pool.get_ref(), email.as_str()).await?,
        Err(_) => None,
    };
    let attempt = session::reserve_attempt(&pool, &key, ip, account.as_ref().map(|a| a.id)).await?;
    let password = SecretString::from(password);
    // An unknown address is checked against a dummy hash, so it takes as long.
    let hash = account.as_ref().map(|a| a.password_hash.as_str());
    let Verification::Match { needs_rehash } = passwords.verify(&password, hash).await? else {
        let account = account.map(|a| a.id);
        session::attempt_failed(&pool, &key, ip, (account, attempt), "auth.login_failed").await?;
        return Err(invalid_credentials());
    };
    // A correct password means an account exists.
    let mut account = account.ok_or_else(invalid_credentials)?;
    // With a second factor the sign-in is complete only with the code, and wrong codes
    // count as failures: they are cleared then, not on the password alone.
    let second_factor = super::mfa::store::enabled(pool.get_ref(), account.id).await?;
    session::attempt_succeeded(&pool, &key, ip, second_factor).await?;
    session::check_may_sign_in(&account)?;
    let mut tx = pool.begin().await?;
    if needs_rehash {
        let upgraded = passwords.hash(&password).await?;
        store::set_password(&mut tx, account.id, &upgraded, false).await?;
        account.password_hash = upgraded;
    }
    // With a second factor, the password only earns a short-lived challenge.
    if second_factor {
        let challenge = super::mfa::store::create_challenge(&mut tx, account.id).await?;
        tx.commit().await?;
        return Err(ApiError::mfa_required(challenge));
    }
    let pair = session::open(tx, &keys, &account, ip, false).await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Exchanges a refresh token for a new pair. Each refresh token works once: presenting one
/// again revokes its whole session (every token issued from the same login).
#[utoipa::path(
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "`invalid_token`"), (status = 429, body = Problem, content_type = "application/problem+json"))
)]
#[post("/auth/refresh")]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    pool: Db,
    ip: ClientIp,
    keys: Data<TokenKeys>,
    body: Json<RefreshRequest>,
) -> Reply {
    at_most(&body.0.refresh_token, 128).map_err(|e| e.at("refresh_token"))?;
    rate_limit::hit(pool.get_ref(), REFRESH_LIMIT, &ip.network_key()).await?;
    let invalid = || {
        ApiError::new(
            ErrorCode::InvalidToken,
            "The refresh token is invalid, expired or revoked.",
        )
    };
    let mut tx = pool.begin().await?;
    match store::rotate_refresh_token(&mut tx, body.0.refresh_token.trim()).await? {
        Rotation::Rotated {
            account_id,
            session_id,
            refresh_token,
        } => {
            let account = store::find_by_id(&mut *tx, account_id)
                .await?
                .ok_or_else(invalid)?;
            if account.status != AccountStatus::Active {
                return Err(invalid());
            }
            tx.commit().await?;
            let pair = session::issue_pair(&keys, &account, session_id, refresh_token)?;
            Ok(HttpResponse::Ok().json(pair))
        }
        Rotation::Reused {
            account_id,
            session_id,
        } => {
            store::revoke_session(&mut *tx, session_id, "reuse_detected").await?;
            let entry = session::anonymous("auth.refresh_reuse_detected", Some(account_id), ip)
                .details(json!({ "session_id": session_id }));
            audit_and_commit(tx, entry).await?;
            Err(invalid())
        }
        Rotation::Invalid => Err(invalid()),
    }
}

/// Ends the session the refresh token belongs to: it and every access token issued from it
/// stop working. Always 204.
#[utoipa::path(request_body = RefreshRequest, responses((status = 204, description = "Signed out"), (status = 429)))]
#[post("/auth/logout")]
#[tracing::instrument(skip_all)]
pub async fn logout(pool: Db, ip: ClientIp, body: Json<RefreshRequest>) -> Reply {
    at_most(&body.0.refresh_token, 128).map_err(|e| e.at("refresh_token"))?;
    rate_limit::hit(pool.get_ref(), REFRESH_LIMIT, &ip.network_key()).await?;
    let mut tx = pool.begin().await?;
    if let Some((session, account)) =
        store::session_of_refresh_token(&mut *tx, body.0.refresh_token.trim()).await?
    {
        store::revoke_session(&mut *tx, session, "logout").await?;
        session::anonymous("auth.logout", Some(account), ip)
            .details(json!({ "session_id": session }))
            .record(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Emails a password-reset link (30 min) if the address has an account. Always 202.
#[utoipa::path(
    request_body = EmailRequest,
    responses((status = 202, body = StatusBody), (status = 429))
)]
#[post("/auth/password-reset")]
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(
    pool: Db,
    ip: ClientIp,
    mail: Data<LinkMail>,
    body: Json<EmailRequest>,
) -> Reply {
    let answer_at = Instant::now() + EMAIL_REQUEST_FLOOR;
    if let Some((mut tx, account)) = email_request(&pool, ip, &body.0).await?
        && account.password_hash.starts_with("$argon2")
    {
        links::send_password_reset(&mut tx, &mail, account.id, &account.email).await?;
        let entry = session::anonymous("auth.password_reset_requested", Some(account.id), ip);
        audit_and_commit(tx, entry).await?;
    }
    sleep_until(answer_at).await;
    Ok(accepted("password_reset_email_sent"))
}

/// Sets a new password with the token from the reset email. Signs the account out
/// everywhere (every session and access token is revoked).
#[utoipa::path(
    request_body = ResetConfirmRequest,
    responses(
        (status = 204, description = "Password changed; all sessions revoked"),
        (status = 400, description = "`invalid_or_expired_token`"),
        (status = 429))
)]
#[post("/auth/password-reset/confirm")]
#[tracing::instrument(skip_all)]
pub async fn confirm_password_reset(
    pool: Db,
    ip: ClientIp,
    passwords: Data<Passwords>,
    body: Json<ResetConfirmRequest>,
) -> Reply {
    let body = body.0;
    at_most(&body.token, 128).map_err(|e| e.at("token"))?;
    // The policy is checked before the token is spent, so a weak password costs no new email.
    let password = NewPassword::parse(&body.new_password, &[])
        .map_err(|e| ApiError::validation(vec![e.at("new_password")]))?;
    rate_limit::hit(pool.get_ref(), TOKEN_LIMIT, &ip.network_key()).await?;
    let hash = passwords.hash(password.secret()).await?;
    let mut tx = pool.begin().await?;
    // A reset link, or the link of a second factor's notice, which also takes the factor.
    let purposes = [Purpose::ResetPassword, Purpose::SecureAccount];
    let (account_id, purpose) = links::spend_any(&mut tx, body.token.trim(), &purposes).await?;
    let took_back = purpose == Purpose::SecureAccount;
    if took_back {
        super::mfa::store::remove(&mut tx, account_id).await?;
    }
    // Now that the account is known, its own email and name are refused as passwords too;
    // refusing rolls back, so the link still works.
    if let Some(account) = store::find_by_id(&mut *tx, account_id).await? {
        NewPassword::parse(
            &body.new_password,
            &[account.email.as_str(), account.full_name.as_str()],
        )
        .map_err(|e| ApiError::validation(vec![e.at("new_password")]))?;
    }
    store::set_password(&mut tx, account_id, &hash, true).await?;
    // Taking the account back also cancels a move to another address asked for meanwhile.
    store::spend_email_tokens(&mut tx, account_id, Purpose::ChangeEmail.as_str()).await?;
    // Proving control of the mailbox also verifies it.
    let email = store::mark_email_verified(&mut *tx, account_id).await?;
    store::revoke_all_sessions(&mut *tx, account_id, "password_reset", None).await?;
    store::clear_all_failures(&mut tx, &email_key(&email)).await?;
    enqueue(&mut tx, &templates::password_changed(&email)).await?;
    let action = match took_back {
        true => "auth.account_taken_back",
        false => "auth.password_reset",
    };
    audit_and_commit(tx, session::anonymous(action, Some(account_id), ip)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in account.
#[utoipa::path(
    operation_id = "get_me",
    security(("bearer" = [])),
    responses((status = 200, body = Me))
)]
#[get("/me")]
pub async fn me(user: AuthUser, pool: Db) -> Reply {
    let account = session::signed_in_account(&pool, &user).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(Me::from(account)))
}

/// Changes the password (the current one is required). Other sessions are signed out; this
/// one stays signed in.
#[utoipa::path(
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed; other sessions revoked"),
        (status = 422, description = "`current_password` incorrect, or `new_password` refused by the policy"),
        (status = 429),
    )
)]
#[post("/me/password")]
#[tracing::instrument(skip_all)]
pub async fn change_my_password(
    user: AuthUser,
    pool: Db,
    ip: ClientIp,
    passwords: Data<Passwords>,
    body: Json<ChangePasswordRequest>,
) -> Reply {
    let body = body.0;
    let account = session::signed_in_account(&pool, &user).await?;
    let new_password = NewPassword::parse(
        &body.new_password,
        &[account.email.as_str(), account.full_name.as_str()],
    )
    .map_err(|e| ApiError::validation(vec![e.at("new_password")]))?;
    let current = body.current_password;
    session::confirm_password(&pool, &passwords, &account, ip, current, "current_password").await?;
    let hash = passwords.hash(new_password.secret()).await?;
    let mut tx = pool.begin().await?;
    store::set_password(&mut tx, account.id, &hash, false).await?;
    // A reset link sent before the change would undo it: the new password spends them.
    store::spend_email_tokens(&mut tx, account.id, Purpose::ResetPassword.as_str()).await?;
    store::spend_email_tokens(&mut tx, account.id, Purpose::ChangeEmail.as_str()).await?;
    let keep = Some(user.session_id);
    let revoked =
        store::revoke_all_sessions(&mut *tx, account.id, "password_changed", keep).await?;
    enqueue(&mut tx, &templates::password_changed(&account.email)).await?;
    let entry = AuditEntry::new(user.actor(), "auth.password_changed")
        .target("account", account.id)
        .ip(ip)
        .details(json!({ "sessions_revoked": revoked }));
    audit_and_commit(tx, entry).await?;
    Ok(HttpResponse::NoContent().finish())
}
