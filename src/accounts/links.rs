//! The single-use links the service emails: one that verifies an address (24 h), one that
//! resets a password (30 min), one that takes an account back after its second factor
//! changed (7 days) and one that moves an account to a new address (24 h). Only their hashes are stored; the email waits in the
//! outbox sealed, and outlives its link there by no more than the link's lifetime.

use sqlx::PgConnection;
use uuid::Uuid;

use super::store;
use crate::error::{ApiError, ErrorCode};
use crate::mail::{LinkMail, enqueue, enqueue_secret, templates};

const VERIFY_TTL: time::Duration = time::Duration::hours(24);
const RESET_TTL: time::Duration = time::Duration::minutes(30);
const SECURE_TTL: time::Duration = time::Duration::days(7);
const CHANGE_TTL: time::Duration = time::Duration::hours(24);

/// What a link is for (`email_token_purpose`); a link works only for its own purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    /// In the notice of a second factor turned on or off: takes the account back.
    SecureAccount,
    /// Sent to the address an account moves to: the move happens when it is used.
    ChangeEmail,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::SecureAccount => "secure_account",
            Purpose::ChangeEmail => "change_email",
        }
    }
}

/// Emails the account a link that verifies its address.
pub async fn send_verification(
    tx: &mut PgConnection,
    links: &LinkMail,
    account_id: Uuid,
    email: &str,
    full_name: &str,
) -> Result<(), ApiError> {
    let token = store::create_email_token(
        tx,
        account_id,
        Purpose::VerifyEmail.as_str(),
        VERIFY_TTL,
        None,
    )
    .await?;
    let message = templates::verify_email(&links.base, email, full_name, &token);
    enqueue_secret(tx, &links.seal, &message, VERIFY_TTL).await?;
    Ok(())
}

/// Emails the account a link that sets a new password.
pub async fn send_password_reset(
    tx: &mut PgConnection,
    links: &LinkMail,
    account_id: Uuid,
    email: &str,
) -> Result<(), ApiError> {
    let token = store::create_email_token(
        tx,
        account_id,
        Purpose::ResetPassword.as_str(),
        RESET_TTL,
        None,
    )
    .await?;
    let message = templates::password_reset(&links.base, email, &token);
    enqueue_secret(tx, &links.seal, &message, RESET_TTL).await?;
    Ok(())
}

/// Tells the account its second factor was turned on (`enabled`) or off, with a link that
/// takes the account back if that was not its owner: the reset page, where the link also
/// removes the factor.
pub async fn send_factor_notice(
    tx: &mut PgConnection,
    links: &LinkMail,
    account_id: Uuid,
    email: &str,
    enabled: bool,
) -> Result<(), ApiError> {
    let token = store::create_email_token(
        tx,
        account_id,
        Purpose::SecureAccount.as_str(),
        SECURE_TTL,
        None,
    )
    .await?;
    let message = templates::second_factor_changed(&links.base, email, enabled, &token);
    enqueue_secret(tx, &links.seal, &message, SECURE_TTL).await?;
    Ok(())
}

/// Uses a link of one of `purposes` once: the account it was sent to and what it was for,
/// or 400 `invalid_or_expired_token`.
pub async fn spend_any(
    tx: &mut PgConnection,
    secret: &str,
    purposes: &[Purpose],
) -> Result<(Uuid, Purpose), ApiError> {
    for purpose in purposes {
        if let Some(spent) = store::consume_email_token(tx, secret, purpose.as_str()).await? {
            return Ok((spent.account_id, *purpose));
        }
    }
    Err(invalid_link())
}

fn invalid_link() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidOrExpiredToken,
        "The link is invalid, used or expired; ask for a new one.",
    )
}

/// Uses a link once: the account it was sent to, or 400 `invalid_or_expired_token`.
pub async fn spend(
    tx: &mut PgConnection,
    secret: &str,
    purpose: Purpose,
) -> Result<Uuid, ApiError> {
    store::consume_email_token(tx, secret, purpose.as_str())
        .await?
        .map(|spent| spent.account_id)
        .ok_or_else(invalid_link)
}

/// Uses an email-change link once: the account and the address it moves to, or 400
/// `invalid_or_expired_token`.
pub async fn spend_email_change(
    tx: &mut PgConnection,
    secret: &str,
) -> Result<(Uuid, String), ApiError> {
    let spent = store::consume_email_token(tx, secret, Purpose::ChangeEmail.as_str()).await?;
    spent
        .and_then(|s| s.new_email.map(|address| (s.account_id, address)))
        .ok_or_else(invalid_link)
}

/// Emails `new_email` the link that moves the account there (earlier such links stop
/// working), and the account's current address a notice of the request.
pub async fn send_email_change(
    tx: &mut PgConnection,
    links: &LinkMail,
    account: (Uuid, &str, &str),
    new_email: &str,
) -> Result<(), ApiError> {
    let (account_id, email, full_name) = account;
    let purpose = Purpose::ChangeEmail.as_str();
    store::spend_email_tokens(tx, account_id, purpose).await?;
    let token =
        store::create_email_token(tx, account_id, purpose, CHANGE_TTL, Some(new_email)).await?;
    let message = templates::email_change_link(&links.base, new_email, full_name, &token);
    enqueue_secret(tx, &links.seal, &message, CHANGE_TTL).await?;
    enqueue(
        tx,
        &templates::email_change_requested(&links.base, email, new_email),
    )
    .await?;
    Ok(())
}
