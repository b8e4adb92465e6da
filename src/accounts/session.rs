//! Signing in, shared by the password step (`auth::routes`) and the second-factor step
//! (`mfa::routes`): throttling by address, recording a failure, opening a session with its
//! first token pair, and the audit entry of a caller who is not signed in yet.

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use secrecy::SecretString;

use super::model::{DAILY_FAILURES, FailureOutcome, network_wait};
use super::model::{SignedInAccount, TokenPair};
use super::store::{self, AccountRow};
use crate::audit::{Actor, AuditEntry};
use crate::auth::AccountStatus;
use crate::auth::AuthUser;
use crate::auth::password::{Passwords, Verification};
use crate::auth::tokens::{ACCESS_TOKEN_TTL_SECS, TokenKeys};
use crate::domain::at_most;
use crate::error::FieldCode;
use crate::error::{ApiError, ErrorCode};
use crate::http::client_ip::ClientIp;
use crate::http::rate_limit::{self, Limit};

/// Sign-in attempts one network makes, passwords and codes together.
pub const LOGIN_LIMIT: Limit = Limit::new("login", 30, 300);

/// Throttling key for an address: its SHA-256, so unknown addresses are not kept in clear.
pub fn email_key(email: &str) -> Vec<u8> {
    Sha256::digest(email.trim().to_lowercase().as_bytes()).to_vec()
}

/// 429 when this network waits for this account, or when the account took its day's
/// failures and needs a password reset (a different message: waiting will not help).
pub async fn refuse_if_throttled(
    conn: &mut PgConnection,
    key: &[u8],
    network: &str,
) -> Result<(), ApiError> {
    if store::reset_required(&mut *conn, key).await? {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "Too many failed sign-ins for this account today: reset the password by email to sign in again.",
        )
        .with_retry_after(86_400));
    }
    if let Some(seconds) = store::locked_for(conn, key, network).await? {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "Too many failed sign-ins for this address from your network; try again later.",
        )
        .with_retry_after(seconds as u64));
    }
    Ok(())
}

/// Checks the signed-in account's password before a sensitive change, throttled and counted
/// like a sign-in (a stolen access token must not become a password oracle): 429 while this
/// network waits for this account, 422 naming `field` when the password is wrong.
pub async fn confirm_password(
    pool: &PgPool,
    passwords: &Passwords,
    account: &AccountRow,
    ip: ClientIp,
    password: String,
    field: &'static str,
) -> Result<(), ApiError> {
    at_most(&password, 128).map_err(|e| e.at(field))?;
    let key = email_key(&account.email);
    let network = ip.network_key();
    rate_limit::hit(pool, LOGIN_LIMIT, &network).await?;
    refuse_if_throttled(&mut *pool.acquire().await?, &key, &network).await?;
    let password = SecretString::from(password);
    let hash = Some(account.password_hash.as_str());
    if passwords.verify(&password, hash).await? == Verification::Mismatch {
        let failed = "auth.password_check_failed";
        password_failed(pool, &key, ip, Some(account.id), failed).await?;
        let what = field.replace('_', " ");
        return Err(ApiError::field(
            field,
            FieldCode::Incorrect,
            format!("the {what} is not correct"),
        ));
    }
    Ok(())
}

/// The signed-in account's row; 404 if it is gone.
pub async fn signed_in_account(pool: &PgPool, user: &AuthUser) -> Result<AccountRow, ApiError> {
    store::find_by_id(pool, user.account_id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The one answer to a wrong password, whether or not the address has an account.
pub fn invalid_credentials() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCredentials,
        "The email or password is incorrect.",
    )
}

/// Counts and audits (as `action`) a wrong password, and the lock-out it may start, in one
/// transaction. At sign-in the caller answers `invalid_credentials`, the same as for an
/// unknown address.
pub async fn password_failed(
    pool: &PgPool,
    key: &[u8],
    ip: ClientIp,
    account: Option<Uuid>,
    action: &'static str,
) -> Result<(), ApiError> {
    let mut tx = pool.begin().await?;
    let outcome = record_failure(&mut tx, key, ip, account, action).await?;
    if outcome.lock_seconds.is_some() || outcome.reset_now_required {
        anonymous("auth.lockout", account, ip)
            .details(json!({
                "network_wait_seconds": outcome.lock_seconds,
                "reset_required": outcome.reset_now_required,
            }))
            .record(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// After a correct password: a suspended or unverified account still may not sign in.
pub fn check_may_sign_in(account: &AccountRow) -> Result<(), ApiError> {
    if account.status == AccountStatus::Suspended {
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
    Ok(())
}

/// Counts a failed sign-in against the address from this network and audits it as
/// `action`, on the account when there is one. The caller commits.
pub async fn record_failure(
    tx: &mut PgConnection,
    key: &[u8],
    ip: ClientIp,
    account: Option<Uuid>,
    action: &str,
) -> Result<FailureOutcome, ApiError> {
    let network = ip.network_key();
    let failures = store::count_network_failure(tx, key, &network).await?;
    let lock_seconds = network_wait(failures);
    if let Some(seconds) = lock_seconds {
        store::lock_network(tx, key, &network, seconds).await?;
    }
    let (daily, already) = store::count_daily_failure(tx, key).await?;
    let reset_now_required = daily >= DAILY_FAILURES && !already;
    if reset_now_required {
        store::require_reset(tx, key).await?;
    }
    let outcome = FailureOutcome {
        lock_seconds,
        reset_now_required,
    };
    anonymous(action, account, ip)
        .details(json!({}))
        .record(tx)
        .await?;
    Ok(outcome)
}

/// An entry by nobody signed in, from `ip`, on `account` when there is one.
pub fn anonymous(action: &str, account: Option<Uuid>, ip: ClientIp) -> AuditEntry<'_> {
    let entry = AuditEntry::new(Actor::Anonymous, action).ip(ip);
    match account {
        Some(id) => entry.target("account", id),
        None => entry,
    }
}

/// Opens a session for a signed-in account (its password, and with `second_factor` its
/// code, checked), audits it as `auth.login`, commits, and returns its first token pair.
pub async fn open(
    mut tx: Transaction<'_, Postgres>,
    keys: &TokenKeys,
    account: &AccountRow,
    ip: ClientIp,
    second_factor: bool,
) -> Result<TokenPair, ApiError> {
    let (session, refresh_token) =
        store::create_session(&mut tx, account.id, second_factor).await?;
    AuditEntry::new(
        Actor::Account {
            id: account.id,
            role: account.role.as_str(),
        },
        "auth.login",
    )
    .target("account", account.id)
    .ip(ip)
    .details(json!({ "session_id": session, "second_factor": second_factor }))
    .record(&mut tx)
    .await?;
    let pair = issue_pair(keys, account, session, refresh_token)?;
    tx.commit().await?;
    Ok(pair)
}

/// A new access token for the session, with the refresh token that goes with it.
pub fn issue_pair(
    keys: &TokenKeys,
    account: &AccountRow,
    session: Uuid,
    refresh_token: String,
) -> Result<TokenPair, ApiError> {
    let access_token = keys.issue(
        account.id,
        account.role,
        session,
        account.token_version,
        OffsetDateTime::now_utc(),
    )?;
    Ok(TokenPair {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL_SECS,
        refresh_token,
        account: SignedInAccount {
            id: account.id,
            email: account.email.clone(),
            role: account.role,
        },
    })
}
