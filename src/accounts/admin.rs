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

/// Whether any admin account exists (start-up says how to create the first one).
pub async fn any_admin(pool: &PgPool) -> sqlx::Result<bool> {
    sqlx::query_scalar!("select exists (select 1 from account where role = 'admin') as \"exists!\"")
        .fetch_one(pool)
        .await
}
