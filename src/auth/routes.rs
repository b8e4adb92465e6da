//! Join the directory and directory login: `/v1/auth/*`, `/v1/me`, `/v1/me/password`.
//!
//! Enumeration: signup, resend-verification and password-reset answer the same whether or
//! not the address has an account; login answers the same 401 for an unknown address and a
//! wrong password, after the same Argon2 work; throttling is keyed by address, not account,
//! so a lock-out reveals nothing either.

use actix_web::{HttpResponse, get, post, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::AuthUser;
use super::password::{NewPassword, Passwords, Verification};
use super::store::{self, AccountRow, Rotation};
use super::tokens::{ACCESS_TOKEN_TTL_SECS, TokenKeys};
use crate::audit::{Actor, AuditEntry};
use crate::domain::{Email, Invalid};
use crate::error::{ApiError, ErrorCode, FieldError, Problem};
use crate::http::Json;
use crate::http::client_ip::ClientIp;
use crate::http::rate_limit::{self, Limit};
use crate::mail::PublicBaseUrl;
use crate::mail::{enqueue, enqueue_secret, templates};

const SIGNUP_LIMIT: Limit = Limit {
    bucket: "signup",
    max: 10,
    window_secs: 3600,
};
pub(crate) const LOGIN_LIMIT: Limit = Limit {
    bucket: "login",
    max: 30,
    window_secs: 300,
};
const EMAIL_LIMIT: Limit = Limit {
    bucket: "email_request",
    max: 5,
    window_secs: 3600,
};
const TOKEN_LIMIT: Limit = Limit {
    bucket: "token_use",
    max: 30,
    window_secs: 600,
};
const REFRESH_LIMIT: Limit = Limit {
    bucket: "refresh",
    max: 120,
    window_secs: 300,
};

const VERIFY_TTL: time::Duration = time::Duration::hours(24);
const RESET_TTL: time::Duration = time::Duration::minutes(30);

// --- Request and response bodies -----------------------------------------------------------

/// "Join the directory". Passwords: 12–128 characters, anything goes but common ones.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    #[schema(max_length = 254, example = "hailey@example.com")]
    email: String,
    #[schema(min_length = 12, max_length = 128)]
    password: String,
    #[schema(min_length = 1, max_length = 120, example = "Hailey Shafir")]
    full_name: String,
    /// Must be true.
    #[schema(schema_with = crate::http::json::must_be_true)]
    accept_terms: bool,
}

#[derive(Serialize, ToSchema)]
pub struct StatusBody {
    #[schema(example = "verification_email_sent")]
    status: &'static str,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(max_length = 128)]
    token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    #[schema(max_length = 254)]
    email: String,
}

impl EmailRequest {
    /// The answer is the same whether or not the address has an account, but an address
    /// longer than any address can be is refused as the document says (422), not accepted.
    fn check_length(&self) -> Result<(), ApiError> {
        if self.email.chars().count() > 254 {
            return Err(ApiError::field(
                "email",
                "too_long",
                "at most 254 characters",
            ));
        }
        Ok(())
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(max_length = 254)]
    email: String,
    #[schema(max_length = 128)]
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(max_length = 128)]
    refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmRequest {
    #[schema(max_length = 128)]
    token: String,
    #[schema(min_length = 12, max_length = 128)]
    new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(max_length = 128)]
    current_password: String,
    #[schema(min_length = 12, max_length = 128)]
    new_password: String,
}

#[derive(Serialize, ToSchema)]
// Named apart from the admin list's `AccountSummary`: utoipa keys schemas by name, and
// the second of two same-named types silently replaces the first in the document.
#[schema(as = SignedInAccount)]
pub struct AccountSummary {
    id: Uuid,
    email: String,
    /// `therapist` or `admin`.
    role: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenPair {
    /// A JWT for `Authorization: Bearer`, valid for `expires_in` seconds.
    access_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    #[schema(example = 900)]
    expires_in: i64,
    /// Opaque; exchange it at /v1/auth/refresh for a new pair. Single use.
    refresh_token: String,
    account: AccountSummary,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    id: Uuid,
    email: String,
    role: String,
    /// `active` or `suspended`.
    status: String,
    full_name: String,
    email_verified: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

// --- Helpers -------------------------------------------------------------------------------

/// Throttling key for an address: its SHA-256, so unknown addresses are not kept in clear.
pub(crate) fn email_key(email: &str) -> Vec<u8> {
    Sha256::digest(email.trim().to_lowercase().as_bytes()).to_vec()
}

fn check_length(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) {
    if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
}

/// 429 when this network waits for this account, or when the account took its day's
/// failures and needs a password reset (a different message: waiting will not help).
pub(crate) async fn refuse_if_throttled(
    pool: &PgPool,
    key: &[u8],
    network: &str,
) -> Result<(), ApiError> {
    if store::reset_required(pool, key).await? {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "Too many failed sign-ins for this account today: reset the password by email to sign in again.",
        )
        .with_retry_after(86_400));
    }
    if let Some(seconds) = store::locked_for(pool, key, network).await? {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "Too many failed sign-ins for this address from your network; try again later.",
        )
        .with_retry_after(seconds as u64));
    }
    Ok(())
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCredentials,
        "The email or password is incorrect.",
    )
}

fn parse_full_name(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Invalid::new("required", "your name is required"));
    }
    if name.chars().count() > 120 {
        return Err(Invalid::new("too_long", "at most 120 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid::new(
            "invalid_characters",
            "control characters are not allowed",
        ));
    }
    Ok(name.to_owned())
}

async fn issue_pair(
    keys: &TokenKeys,
    account: &AccountRow,
    session: Uuid,
    refresh_token: String,
) -> Result<TokenPair, ApiError> {
    let access_token = keys.issue(
        account.id,
        &account.role,
        session,
        account.token_version,
        OffsetDateTime::now_utc(),
    )?;
    Ok(TokenPair {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL_SECS,
        refresh_token,
        account: AccountSummary {
            id: account.id,
            email: account.email.clone(),
            role: account.role.clone(),
        },
    })
}

// --- Handlers ------------------------------------------------------------------------------

/// Join the directory: creates a therapist account and its empty draft listing, and emails
/// a verification link (24 h). The answer is the same 202 whether or not the address is
/// already registered; its owner then gets a "you already have an account" email instead.
#[utoipa::path(
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 202, body = StatusBody),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Invalid fields, each named in `errors`"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/signup")]
#[tracing::instrument(skip_all)]
pub async fn signup(
    pool: web::Data<PgPool>,
    ip: ClientIp,
    public_base_url: web::Data<PublicBaseUrl>,
    passwords: web::Data<Passwords>,
    body: Json<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = Vec::new();
    let email = Email::parse(&body.email)
        .map_err(|e| errors.push(e.at("email")))
        .ok();
    let full_name = parse_full_name(&body.full_name)
        .map_err(|e| errors.push(e.at("full_name")))
        .ok();
    let password = NewPassword::parse(&body.password, &[body.email.trim(), body.full_name.trim()])
        .map_err(|e| errors.push(e.at("password")))
        .ok();
    if !body.accept_terms {
        errors.push(FieldError::new(
            "accept_terms",
            "must_accept",
            "the terms must be accepted",
        ));
    }
    let (Some(email), Some(full_name), Some(password)) = (email, full_name, password) else {
        return Err(ApiError::validation(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    rate_limit::hit(pool.get_ref(), SIGNUP_LIMIT, &ip.network_key()).await?;

    // Hashed whether or not the address is taken, so both paths take as long.
    let hash = passwords.hash(password.secret()).await?;
    let mut tx = pool.begin().await?;
    let account_id = Uuid::now_v7();
    let created = store::insert_account(
        &mut tx,
        account_id,
        email.as_str(),
        &hash,
        &full_name,
        "therapist",
        false,
    )
    .await?;
    if created {
        let listing_id = store::create_draft_listing(&mut tx, account_id, &full_name).await?;
        let token =
            store::create_email_token(&mut tx, account_id, "verify_email", VERIFY_TTL).await?;
        enqueue_secret(
            &mut tx,
            &templates::verify_email(&public_base_url, email.as_str(), &full_name, &token),
            VERIFY_TTL,
        )
        .await?;
        AuditEntry::new(Actor::Anonymous, "account.signed_up")
            .target("account", account_id)
            .ip(ip)
            .details(json!({ "listing_id": listing_id }))
            .record(&mut tx)
            .await?;
    } else {
        enqueue(
            &mut tx,
            &templates::account_exists(&public_base_url, email.as_str()),
        )
        .await?;
        if let Some(existing) = store::find_by_email(&mut *tx, email.as_str()).await? {
            AuditEntry::new(Actor::Anonymous, "account.signup_for_existing_email")
                .target("account", existing.id)
                .ip(ip)
                .record(&mut tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(HttpResponse::Accepted().json(StatusBody {
        status: "verification_email_sent",
    }))
}

/// Confirms an email address with the token from the verification email.
#[utoipa::path(
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, body = StatusBody),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "`invalid_or_expired_token`"), (status = 429, body = Problem, content_type = "application/problem+json"))
)]
#[post("/auth/verify-email")]
#[tracing::instrument(skip_all)]
pub async fn verify_email(
    pool: web::Data<PgPool>,
    ip: ClientIp,
    body: Json<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    rate_limit::hit(pool.get_ref(), TOKEN_LIMIT, &ip.network_key()).await?;
    let mut tx = pool.begin().await?;
    let account = store::consume_email_token(&mut tx, body.0.token.trim(), "verify_email")
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidOrExpiredToken,
                "The link is invalid, used or expired; ask for a new one.",
            )
        })?;
    sqlx::query(
        "update account set email_verified_at = coalesce(email_verified_at, now()) where id = $1",
    )
    .bind(account)
    .execute(&mut *tx)
    .await?;
    AuditEntry::new(Actor::Anonymous, "account.email_verified")
        .target("account", account)
        .ip(ip)
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(StatusBody {
        status: "email_verified",
    }))
}

/// Sends a new verification link if the address has an unverified account. Always 202.
#[utoipa::path(
    tag = "auth",
    request_body = EmailRequest,
    responses((status = 202, body = StatusBody), (status = 429, body = Problem, content_type = "application/problem+json"))
)]
#[post("/auth/resend-verification")]
#[tracing::instrument(skip_all)]
pub async fn resend_verification(
    pool: web::Data<PgPool>,
    ip: ClientIp,
    public_base_url: web::Data<PublicBaseUrl>,
    body: Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    body.0.check_length()?;
    rate_limit::hit(pool.get_ref(), EMAIL_LIMIT, &ip.network_key()).await?;
    if let Ok(email) = Email::parse(&body.0.email) {
        let mut tx = pool.begin().await?;
        if let Some(account) = store::find_by_email(&mut *tx, email.as_str()).await?
            && account.email_verified_at.is_none()
            && account.role == "therapist"
        {
            let token =
                store::create_email_token(&mut tx, account.id, "verify_email", VERIFY_TTL).await?;
            enqueue_secret(
                &mut tx,
                &templates::verify_email(
                    &public_base_url,
                    &account.email,
                    &account.full_name,
                    &token,
                ),
                VERIFY_TTL,
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(HttpResponse::Accepted().json(StatusBody {
        status: "verification_email_sent",
    }))
}

/// Directory login. After five wrong passwords in a row for an address, it is locked
/// (429 with `Retry-After`) for a minute, doubling up to an hour.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "`invalid_credentials`, the same for unknown addresses and wrong passwords"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`email_not_verified` or `account_suspended`, only after a correct password"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "`rate_limited`, with `Retry-After`"),
    )
)]
#[post("/auth/login")]
#[tracing::instrument(skip_all)]
pub async fn login(
    pool: web::Data<PgPool>,
    ip: ClientIp,
    passwords: web::Data<Passwords>,
    keys: web::Data<TokenKeys>,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.0;
    let mut errors = Vec::new();
    check_length("email", &email, 254, &mut errors);
    check_length("password", &password, 128, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let network = ip.network_key();
    rate_limit::hit(pool.get_ref(), LOGIN_LIMIT, &network).await?;
    let key = email_key(&email);
    refuse_if_throttled(pool.get_ref(), &key, &network).await?;

    let account = match Email::parse(&email) {
        Ok(email) => store::find_by_email(pool.get_ref(), email.as_str()).await?,
        Err(_) => None,
    };
    let password = SecretString::from(password);
    let verification = passwords
        .verify(
            &password,
            account.as_ref().map(|a| a.password_hash.as_str()),
        )
        .await?;
    let Verification::Match { needs_rehash } = verification else {
        let mut tx = pool.begin().await?;
        let outcome = store::record_failure(&mut tx, &key, &network).await?;
        let mut entry = AuditEntry::new(Actor::Anonymous, "auth.login_failed").ip(ip);
        if let Some(account) = &account {
            entry = entry.target("account", account.id);
        }
        entry.record(&mut tx).await?;
        if outcome.lock_seconds.is_some() || outcome.reset_now_required {
            let mut entry = AuditEntry::new(Actor::Anonymous, "auth.lockout")
                .ip(ip)
                .details(json!({
                    "network_wait_seconds": outcome.lock_seconds,
                    "reset_required": outcome.reset_now_required,
                }));
            if let Some(account) = &account {
                entry = entry.target("account", account.id);
            }
            entry.record(&mut tx).await?;
        }
        tx.commit().await?;
        return Err(invalid_credentials());
    };
    // A correct password means an account exists.
    let mut account = account.ok_or_else(invalid_credentials)?;
    store::clear_failures(pool.get_ref(), &key, &network).await?;
    if account.status == "suspended" {
        return Err(ApiError::new(
            ErrorCode::AccountSuspended,
            "This account is suspended.",
        ));
    }
    if account.email_verified_at.is_none() {
        return Err(ApiError::new(
            ErrorCode::EmailNotVerified,
            "Confirm your email address first; you can ask for a new link.",
        ));
    }
    let mut tx = pool.begin().await?;
    if needs_rehash {
        let upgraded = passwords.hash(&password).await?;
        store::set_password(&mut tx, account.id, &upgraded, false).await?;
        account.password_hash = upgraded;
    }
    // With a second factor, the password only earns a short-lived challenge.
    if crate::mfa::store::enabled(&mut *tx, account.id).await? {
        let challenge = crate::mfa::store::create_challenge(&mut tx, account.id).await?;
        tx.commit().await?;
        return Err(ApiError::mfa_required(challenge));
    }
    let pair = open_session(&mut tx, &keys, &account, ip.0, false, "auth.login").await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Opens a session for a signed-in account (its password, and with `second_factor` its
/// code, checked), audits it as `action`, and returns its first token pair. The caller
/// commits.
pub(crate) async fn open_session(
    tx: &mut PgConnection,
    keys: &TokenKeys,
    account: &AccountRow,
    ip: std::net::IpAddr,
    second_factor: bool,
    action: &str,
) -> Result<TokenPair, ApiError> {
    let (session, refresh_token) = store::create_session(tx, account.id, second_factor).await?;
    let role = if account.role == "admin" {
        "admin"
    } else {
        "therapist"
    };
    AuditEntry::new(
        Actor::Account {
            id: account.id,
            role,
        },
        action,
    )
    .target("account", account.id)
    .ip(ip)
    .details(json!({ "session_id": session, "second_factor": second_factor }))
    .record(tx)
    .await?;
    issue_pair(keys, account, session, refresh_token).await
}

/// Exchanges a refresh token for a new pair. Each refresh token works once: presenting one
/// again revokes its whole session (every token issued from the same login).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "`invalid_token`"), (status = 429, body = Problem, content_type = "application/problem+json"))
)]
#[post("/auth/refresh")]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    pool: web::Data<PgPool>,
    ip: ClientIp,
    keys: web::Data<TokenKeys>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
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
            if account.status != "active" {
                return Err(invalid());
            }
            tx.commit().await?;
            Ok(HttpResponse::Ok()
                .json(issue_pair(&keys, &account, session_id, refresh_token).await?))
        }
        Rotation::Reused {
            account_id,
            session_id,
        } => {
            store::revoke_session(&mut *tx, session_id, "reuse_detected").await?;
            AuditEntry::new(Actor::Anonymous, "auth.refresh_reuse_detected")
                .target("account", account_id)
                .ip(ip)
                .details(json!({ "session_id": session_id }))
                .record(&mut tx)
                .await?;
            tx.commit().await?;
            Err(invalid())
        }
        Rotation::Invalid => Err(invalid()),
    }
}

/// Ends the session the refresh token belongs to: it and every access token issued from it
/// stop working. Always 204.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses((status = 204, description = "Signed out"), (status = 429, body = Problem, content_type = "application/problem+json")))]
#[post("/auth/logout")]
#[tracing::instrument(skip_all)]
pub async fn logout(
    pool: web::Data<PgPool>,
    ip: ClientIp,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    if body.0.refresh_token.chars().count() > 128 {
        return Err(ApiError::field(
            "refresh_token",
            "too_long",
            "at most 128 characters",
        ));
    }
    rate_limit::hit(pool.get_ref(), REFRESH_LIMIT, &ip.network_key()).await?;
    let mut tx = pool.begin().await?;
    if let Some((session, account)) =
        store::session_of_refresh_token(&mut *tx, body.0.refresh_token.trim()).await?
    {
        store::revoke_session(&mut *tx, session, "logout").await?;
        AuditEntry::new(Actor::Anonymous, "auth.logout")
            .target("account", account)
            .ip(ip)
            .details(json!({ "session_id": session }))
            .record(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Emails a password-reset link (30 min) if the address has an account. Always 202.
#[utoipa::path(
    tag = "auth",
    request_body = EmailRequest,
    responses((status = 202, body = StatusBody), (status = 429, body = Problem, content_type = "application/problem+json"))
)]
#[post("/auth/password-reset")]
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(
    pool: web::Data<PgPool>,
    ip: ClientIp,
    public_base_url: web::Data<PublicBaseUrl>,
    body: Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    body.0.check_length()?;
    rate_limit::hit(pool.get_ref(), EMAIL_LIMIT, &ip.network_key()).await?;
    if let Ok(email) = Email::parse(&body.0.email) {
        let mut tx = pool.begin().await?;
        if let Some(account) = store::find_by_email(&mut *tx, email.as_str()).await?
            && account.password_hash.starts_with("$argon2")
        {
            let token =
                store::create_email_token(&mut tx, account.id, "reset_password", RESET_TTL).await?;
            enqueue_secret(
                &mut tx,
                &templates::password_reset(&public_base_url, &account.email, &token),
                RESET_TTL,
            )
            .await?;
            AuditEntry::new(Actor::Anonymous, "auth.password_reset_requested")
                .target("account", account.id)
                .ip(ip)
                .record(&mut tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(HttpResponse::Accepted().json(StatusBody {
        status: "password_reset_email_sent",
    }))
}

/// Sets a new password with the token from the reset email. Signs the account out
/// everywhere (every session and access token is revoked).
#[utoipa::path(
    tag = "auth",
    request_body = ResetConfirmRequest,
    responses(
        (status = 204, description = "Password changed; all sessions revoked"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "`invalid_or_expired_token`"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"))
)]
#[post("/auth/password-reset/confirm")]
#[tracing::instrument(skip_all)]
pub async fn confirm_password_reset(
    pool: web::Data<PgPool>,
    ip: ClientIp,
    passwords: web::Data<Passwords>,
    body: Json<ResetConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    // The policy is checked before the token is spent, so a weak password costs no new email.
    let password = NewPassword::parse(&body.new_password, &[])
        .map_err(|e| ApiError::validation(vec![e.at("new_password")]))?;
    rate_limit::hit(pool.get_ref(), TOKEN_LIMIT, &ip.network_key()).await?;
    let hash = passwords.hash(password.secret()).await?;
    let mut tx = pool.begin().await?;
    let account_id = store::consume_email_token(&mut tx, body.token.trim(), "reset_password")
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidOrExpiredToken,
                "The link is invalid, used or expired; ask for a new one.",
            )
        })?;
    store::set_password(&mut tx, account_id, &hash, true).await?;
    // Proving control of the mailbox also verifies it.
    let email: String = sqlx::query_scalar(
        "update account set email_verified_at = coalesce(email_verified_at, now()) where id = $1 returning email::text",
    )
    .bind(account_id)
    .fetch_one(&mut *tx)
    .await?;
    store::revoke_all_sessions(&mut *tx, account_id, "password_reset", None).await?;
    store::clear_all_failures(&mut tx, &email_key(&email)).await?;
    enqueue(&mut tx, &templates::password_changed(&email)).await?;
    AuditEntry::new(Actor::Anonymous, "auth.password_reset")
        .target("account", account_id)
        .ip(ip)
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in account.
#[utoipa::path(
    operation_id = "get_me",
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
#[get("/me")]
pub async fn me(user: AuthUser, pool: web::Data<PgPool>) -> Result<HttpResponse, ApiError> {
    let account = store::find_by_id(pool.get_ref(), user.account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(Me {
            id: account.id,
            email: account.email,
            role: account.role,
            status: account.status,
            full_name: account.full_name,
            email_verified: account.email_verified_at.is_some(),
            created_at: account.created_at,
        }))
}

/// Changes the password (the current one is required). Other sessions are signed out; this
/// one stays signed in.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed; other sessions revoked"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`current_password` incorrect, or `new_password` refused by the policy"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/password")]
#[tracing::instrument(skip_all)]
pub async fn change_password(
    user: AuthUser,
    pool: web::Data<PgPool>,
    ip: ClientIp,
    passwords: web::Data<Passwords>,
    body: Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let account = store::find_by_id(pool.get_ref(), user.account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let new_password = NewPassword::parse(
        &body.new_password,
        &[account.email.as_str(), account.full_name.as_str()],
    )
    .map_err(|e| ApiError::validation(vec![e.at("new_password")]))?;
    let key = email_key(&account.email);
    let network = ip.network_key();
    refuse_if_throttled(pool.get_ref(), &key, &network).await?;
    let current = SecretString::from(body.current_password);
    if passwords
        .verify(&current, Some(&account.password_hash))
        .await?
        == Verification::Mismatch
    {
        let mut conn = pool.acquire().await?;
        store::record_failure(&mut conn, &key, &network).await?;
        return Err(ApiError::field(
            "current_password",
            "incorrect",
            "the current password is not correct",
        ));
    }
    let hash = passwords.hash(new_password.secret()).await?;
    let mut tx = pool.begin().await?;
    store::set_password(&mut tx, account.id, &hash, false).await?;
    let revoked = store::revoke_all_sessions(
        &mut *tx,
        account.id,
        "password_changed",
        Some(user.session_id),
    )
    .await?;
    enqueue(&mut tx, &templates::password_changed(&account.email)).await?;
    AuditEntry::new(user.actor(), "auth.password_changed")
        .target("account", account.id)
        .ip(ip)
        .details(json!({ "sessions_revoked": revoked }))
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
