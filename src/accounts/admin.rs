//! Creating admin accounts: only from the command line (`create-admin`), never by a route
//! or a migration.

use anyhow::{Context, bail};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::store;
use crate::audit::{Actor, AuditEntry};
use crate::auth::Role;
use crate::auth::password::{NewPassword, Passwords};
use crate::domain::Email;

pub async fn create_admin(
    pool: &PgPool,
    passwords: &Passwords,
    email: &str,
    full_name: &str,
    password: &str,
) -> anyhow::Result<Uuid> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("email: {e}"))?;
    let password = NewPassword::parse(password, &[email.as_str(), full_name])
        .map_err(|e| anyhow::anyhow!("password: {e}"))?;
    let hash = passwords.hash(password.secret()).await?;
    let mut tx = pool.begin().await?;
    let id = Uuid::now_v7();
    let created = store::insert_account(
        &mut tx,
        id,
        email.as_str(),
        &hash,
        full_name,
        Role::Admin,
        true,
    )
    .await
    .context("creating the admin account")?;
    if !created {
        bail!(
            "an account with the email {} already exists",
            email.as_str()
        );
    }
    AuditEntry::new(Actor::System, "account.admin_created")
        .target("account", id)
        .details(json!({ "via": "create-admin" }))
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Recovers an admin who lost their second factor, from the server only (`create-admin
/// --email … --reset-mfa`): the factor and its recovery codes are removed and every
/// session ends, so the admin signs in with the password and enrols again before any admin
/// route answers. Audited.
pub async fn reset_admin_mfa(pool: &PgPool, email: &str) -> anyhow::Result<Uuid> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("email: {e}"))?;
    let mut tx = pool.begin().await?;
    let admin = store::find_by_email(&mut *tx, email.as_str())
        .await?
        .filter(|account| account.role == Role::Admin)
        .with_context(|| format!("no admin account has the email {}", email.as_str()))?;
    super::mfa::store::remove(&mut tx, admin.id).await?;
    let ended = store::revoke_all_sessions(&mut *tx, admin.id, "mfa_reset", None).await?;
    AuditEntry::new(Actor::System, "auth.mfa_reset")
        .target("account", admin.id)
        .details(json!({ "via": "create-admin --reset-mfa", "sessions_revoked": ended }))
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(admin.id)
}

/// Whether any admin account exists (start-up says how to create the first one).
pub async fn any_admin(pool: &PgPool) -> sqlx::Result<bool> {
    sqlx::query_scalar!("select exists (select 1 from account where role = 'admin') as \"exists!\"")
        .fetch_one(pool)
        .await
}
