//! Database plumbing: the pool, migrations, readiness, and the embedded private cluster.

pub mod embedded;

use std::str::FromStr;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::DatabaseSettings;

/// Every migration, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Opens the pool. Every connection carries the statement timeout, so one slow query cannot
/// hold a connection for long.
pub async fn connect(url: &SecretString, settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    let timeout_ms = settings.statement_timeout.as_millis().to_string();
    let options = PgConnectOptions::from_str(url.expose_secret())
        .context("DATABASE_URL is not a valid PostgreSQL URL")?
        .application_name("therapist-directory")
        // JIT compilation costs hundreds of milliseconds on the search queries whose
        // estimated cost crosses its threshold, for queries that run in a few: off.
        .options([
            ("statement_timeout", timeout_ms.as_str()),
            ("jit", "off"),
            // Search statements differ by parameter: a common word wants an index-ordered
            // scan, a rare one a bitmap of its few matches. A cached generic plan cannot
            // tell them apart, so every execution is planned with its values.
            ("plan_cache_mode", "force_custom_plan"),
            // The search tables and indexes are meant to stay in memory, where a random read
            // costs about what a sequential one does. At the default (4) the planner chose
            // bitmaps of 100k listings over index-only scans that stop after a few thousand,
            // 2-4x slower (README, search benchmark).
            ("random_page_cost", "1.1"),
            // Requests run side by side on every core already; a parallel plan for one of
            // them takes cores from the others (measured: 100 ms for a search that runs in
            // 25 ms on one core under load).
            ("max_parallel_workers_per_gather", "0"),
        ]);
    PgPoolOptions::new()
        .max_connections(settings.pool_size)
        .acquire_timeout(settings.acquire_timeout)
        // Measured here: skipping the ping before each acquire gave +33% throughput. A dead
        // connection fails its query instead and is discarded by the pool.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .context("could not connect to the database")
}

/// Applies pending migrations, refusing to run against a schema newer than this binary.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
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
        sqlx::query_scalar("select max(version) from _sqlx_migrations where success")
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
