//! Database plumbing: the pool, migrations, readiness, and the embedded private cluster.

pub mod copy;
pub mod embedded;
pub mod opened;
pub mod read;

use std::str::FromStr;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Acquire, PgPool, Postgres, Transaction};

use crate::config::DatabaseSettings;

/// Every migration, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Opens the pool. Every connection carries the statement timeout, so one slow query cannot
/// hold a connection for long.
pub async fn connect(url: &SecretString, settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    pool_options(settings)
        .connect_with(connect_options(url, settings)?)
        .await
        .context("could not connect to the database")
}

/// A transaction for bulk work (index builds, entry refreshes, demo loads): the statement
/// timeout every connection carries is sized for requests and does not apply inside it.
pub async fn begin_bulk<'c>(
    db: impl Acquire<'c, Database = Postgres>,
) -> sqlx::Result<Transaction<'c, Postgres>> {
    let mut tx = db.begin().await?;
    sqlx::query!("set local statement_timeout = 0")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// As `connect`, without connecting yet: for a read replica that may be down at start.
pub fn connect_lazy(url: &SecretString, settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    Ok(pool_options(settings).connect_lazy_with(connect_options(url, settings)?))
}

fn connect_options(
    url: &SecretString,
    settings: &DatabaseSettings,
) -> anyhow::Result<PgConnectOptions> {
    let timeout_ms = settings.statement_timeout.as_millis().to_string();
    let options = PgConnectOptions::from_str(url.expose_secret())
        .context("DATABASE_URL is not a valid PostgreSQL URL")?
        .application_name("therapist-directory")
        // JIT compilation costs hundreds of milliseconds on statements whose estimated cost
        // crosses its threshold, for statements that run in a few: off.
        .options([
            ("statement_timeout", timeout_ms.as_str()),
            ("jit", "off"),
            // The directory's tables and indexes are meant to stay in memory, where a random
            // read costs about what a sequential one does.
            ("random_page_cost", "1.1"),
            // Requests run side by side on every core already; a parallel plan for one of
            // them takes cores from the others.
            ("max_parallel_workers_per_gather", "0"),
        ]);
    Ok(options)
}

fn pool_options(settings: &DatabaseSettings) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(settings.pool_size)
        .acquire_timeout(settings.acquire_timeout)
        // Skipping the ping before each acquire saves a round trip per request; a dead
        // connection fails its query instead and is discarded by the pool.
        .test_before_acquire(false)
}

/// Applies pending migrations. A database migrated ahead of this binary is accepted as it
/// is: migrations are additive (README, "Rolling deploys"), so the previous release runs on
/// the next one's schema during a rolling deploy.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    // Nothing to apply: done without touching the schema, so the service's own role (which
    // may not create anything, not even sqlx's bookkeeping table) starts on a database the
    // owner migrated.
    if check_ready(pool).await.is_ok() {
        return Ok(());
    }
    match MIGRATOR.run(pool).await {
        Ok(()) => Ok(()),
        Err(MigrateError::VersionMissing(version)) => anyhow::bail!(
            "the database has migration {version} applied, which this binary does not know \
             (it knows up to {}): the database is ahead of the binary; run a newer release",
            latest_migration()
        ),
        Err(MigrateError::VersionMismatch(version)) => anyhow::bail!(
            "migration {version} differs from the one applied to the database; \
             migrations must never be edited once applied"
        ),
        Err(err) => Err(err).context("applying migrations failed"),
    }
}

pub fn latest_migration() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Ready means: the database answers and every migration this binary knows is applied.
pub async fn check_ready(pool: &PgPool) -> anyhow::Result<()> {
    let applied: Option<i64> =
        sqlx::query_scalar!("select max(version) from _sqlx_migrations where success")
            .fetch_one(pool)
            .await
            .context("database did not answer")?;
    let expected = latest_migration();
    match applied {
        Some(v) if v >= expected => Ok(()),
        other => {
            anyhow::bail!("migrations not applied (database at {other:?}, binary at {expected})")
        }
    }
}

/// PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802, RFC 7677), as `psql`'s
/// `\password` computes it: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
pub fn scram_sha_256_verifier(password: &str, salt: &[u8]) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    const ITERATIONS: u32 = 4096;
    let hmac = |key: &[u8], data: &[u8]| {
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        mac.update(data);
        mac.finalize().into_bytes()
    };
    // PBKDF2-HMAC-SHA256 with one block: the output is one hash long.
    let mut block = hmac(password.as_bytes(), &[salt, &1u32.to_be_bytes()].concat());
    let mut salted = block;
    for _ in 1..ITERATIONS {
        block = hmac(password.as_bytes(), &block);
        for (s, b) in salted.iter_mut().zip(block.iter()) {
            *s ^= b;
        }
    }
    let stored_key = Sha256::digest(hmac(&salted, b"Client Key"));
    let server_key = hmac(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${ITERATIONS}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(stored_key),
        STANDARD.encode(server_key)
    )
}

/// The group role migration 0019 grants what the service needs (rows, no DDL, an
/// append-only audit log).
pub const SERVICE_GROUP: &str = "directory_service";

/// Creates (or re-passwords) login role `role` as a member of `SERVICE_GROUP`, for the
/// embedded default; run by the owning role after migrations. `password` is generated by
/// the service (URL-safe base64), never user input.
pub async fn ensure_service_login(
    owner: &PgPool,
    role: &str,
    password: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        role.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            && password
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "unexpected characters in the service role or its password"
    );
    let exists: bool = sqlx::query_scalar!(
        "select exists (select 1 from pg_roles where rolname = $1) as \"exists!\"",
        role
    )
    .fetch_one(owner)
    .await?;
    let verb = if exists { "alter" } else { "create" };
    // The server is sent the password's SCRAM verifier, not the password: a statement's text
    // can reach a log (sqlx logs slow ones, the server may log them all) and
    // `pg_stat_activity`.
    let verifier = scram_sha_256_verifier(password, &rand::random::<[u8; 16]>());
    let sql = format!("{verb} role {role} with login password '{verifier}'");
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(owner).await?;
    let grant = format!("grant {SERVICE_GROUP} to {role}");
    sqlx::query(sqlx::AssertSqlSafe(grant))
        .execute(owner)
        .await?;
    Ok(())
}

/// Escapes LIKE wildcards so `q` matches literally.
pub fn like_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against Python's `hashlib.pbkdf2_hmac` and `hmac`, computed apart from this code.
    #[test]
    fn scram_verifier_matches_an_independent_computation() {
        let salt: Vec<u8> = (0..16).collect();
        assert_eq!(
            scram_sha_256_verifier("pencil", &salt),
            "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE="
        );
    }
}
