//! Signing in, shared by the password step (`auth::routes`) and the second-factor step
//! (`mfa::routes`): throttling by address, recording a failure, opening a session with its
//! first token pair, and the audit entry of a caller who is not signed in yet.

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use secrecy::SecretString;

use super::model::{DAILY_FAILURES, FREE_FAILURES, FailureOutcome, network_wait};
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

fn reset_required() -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        "Too many failed sign-ins for this account today: reset the password by email to sign in again.",
    )
    .with_retry_after(86_400)
}

fn network_waits(seconds: i64) -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        "Too many failed sign-ins for this address from your network; try again later.",
    )
    .with_retry_after(seconds.max(1) as u64)
}

/// A password check counted before it runs: its number among the network's consecutive
/// failures and among the account's failures of the day.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    network: i32,
    day: i32,
}

/// Reserves a password check for the address `key` from this network, before the password
/// is verified, so attempts sent together are counted one by one: the network's allowance
/// (`FREE_FAILURES` in a row) and the account's day (`DAILY_FAILURES`) hold exactly under
/// any concurrency. 429 while the network waits, or once the day needs a password reset.
pub async fn reserve_attempt(
    pool: &PgPool,
    key: &[u8],
    ip: ClientIp,
    account: Option<Uuid>,
) -> Result<Attempt, ApiError> {
    let network = ip.network_key();
    let mut tx = pool.begin().await?;
    let Some(in_a_row) = store::reserve_network_attempt(&mut tx, key, &network).await? else {
        let wait = store::locked_for(&mut *tx, key, &network).await?;
        return Err(network_waits(wait.unwrap_or(1)));
    };
    if in_a_row > FREE_FAILURES {
        // Sent together with the ones that used the allowance: it waits as they would.
        let seconds = network_wait(in_a_row - 1).unwrap_or(60);
        store::lock_network(&mut tx, key, &network, seconds).await?;
        tx.commit().await?;
        return Err(network_waits(seconds));
    }
    let day = match store::reserve_daily_attempt(&mut tx, key).await? {
        Some(day) if day <= DAILY_FAILURES => day,
        over => {
            if over.is_some() {
                // This attempt is the one past the day's cap.
                store::require_reset(&mut tx, key).await?;
                anonymous("auth.lockout", account, ip)
                    .details(json!({ "network_wait_seconds": null, "reset_required": true }))
                    .record(&mut tx)
                    .await?;
            }
            // The cap stops guessing, not the owner: from a network it signed in from before,
            // or with its second factor, it still comes in (and takes nothing from the day).
            let known = store::is_known_network(&mut *tx, key, &network).await?;
            let second_factor = match account {
                Some(id) => super::mfa::store::enabled(&mut *tx, id).await?,
                None => false,
            };
            tx.commit().await?;
            if known || second_factor {
                return Ok(Attempt {
                    network: in_a_row,
                    day: 0,
                });
            }
            return Err(reset_required());
        }
    };
    tx.commit().await?;
    Ok(Attempt {
        network: in_a_row,
        day,
    })
}

/// A reserved attempt's password was wrong: it stays counted; the network waits once it
/// used its allowance, and the account needs a reset once its day is spent. Audited as
/// `action`, with the lock-out it starts.
pub async fn attempt_failed(
    pool: &PgPool,
    key: &[u8],
    ip: ClientIp,
    (account, attempt): (Option<Uuid>, Attempt),
    action: &'static str,
) -> Result<(), ApiError> {
    let mut tx = pool.begin().await?;
    let outcome = settle_failure(&mut tx, key, ip, (account, attempt), action).await?;
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

/// What a failure counted as `attempt` sets off: the network waits once it used its
/// allowance, the account needs a reset once its day is spent. Audited as `action`.
async fn settle_failure(
    tx: &mut PgConnection,
    key: &[u8],
    ip: ClientIp,
    (account, attempt): (Option<Uuid>, Attempt),
    action: &str,
) -> Result<FailureOutcome, ApiError> {
    let lock_seconds = network_wait(attempt.network);
    if let Some(seconds) = lock_seconds {
        store::lock_network(tx, key, &ip.network_key(), seconds).await?;
    }
    let reset_now_required = attempt.day >= DAILY_FAILURES;
    if reset_now_required {
        store::require_reset(tx, key).await?;
    }
    anonymous(action, account, ip)
        .details(json!({}))
        .record(tx)
        .await?;
    Ok(FailureOutcome {
        lock_seconds,
        reset_now_required,
    })
}

/// A reserved attempt's password was right: the day gets it back, and the network's
/// failures are forgotten, unless a second factor is still to come (then only this
/// attempt is given back: wrong codes stay counted until a right one).
pub async fn attempt_succeeded(
    pool: &PgPool,
    key: &[u8],
    ip: ClientIp,
    second_factor_pending: bool,
) -> Result<(), ApiError> {
    let mut tx = pool.begin().await?;
    store::refund_daily_attempt(&mut tx, key).await?;
    let network = ip.network_key();
    if second_factor_pending {
        store::refund_network_attempt(&mut tx, key, &network).await?;
    } else {
        store::clear_failures(&mut *tx, key, &network).await?;
        store::remember_network(&mut tx, key, &network).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// 429 while this network waits for this account. (A day's cap spent by others does not
/// stop a second step: the owner's second factor is what lets it in.)
pub async fn refuse_if_network_waits(
    conn: &mut PgConnection,
    key: &[u8],
    network: &str,
) -> Result<(), ApiError> {
    if let Some(seconds) = store::locked_for(conn, key, network).await? {
        return Err(network_waits(seconds));
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
    rate_limit::hit(pool, LOGIN_LIMIT, &ip.network_key()).await?;
    let attempt = reserve_attempt(pool, &key, ip, Some(account.id)).await?;
    let password = SecretString::from(password);
    let hash = Some(account.password_hash.as_str());
    if passwords.verify(&password, hash).await? == Verification::Mismatch {
        let failed = "auth.password_check_failed";
        attempt_failed(pool, &key, ip, (Some(account.id), attempt), failed).await?;
        let what = field.replace('_', " ");
        return Err(ApiError::field(
            field,
            FieldCode::Incorrect,
            format!("the {what} is not correct"),
        ));
    }
    attempt_succeeded(pool, &key, ip, false).await
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
    let (daily, already) = store::count_daily_failure(tx, key).await?;
    // A day whose reset is already required is not required again.
    let day = if already { 0 } else { daily };
    let attempt = Attempt {
        network: failures,
        day,
    };
    settle_failure(tx, key, ip, (account, attempt), action).await
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
