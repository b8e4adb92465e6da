//! The maintenance job's own SQL: the advisory lock its passes compete for and the record
//! of its runs (`job_run`). The rows a pass changes belong to the features, whose stores
//! it calls.

use sqlx::PgConnection;
use time::OffsetDateTime;

use super::PassReport;

/// Arbitrary, fixed: the advisory lock every replica's pass competes for.
const LOCK_KEY: i64 = 0x7464_6d61_696e_7431;

/// Takes the pass lock on this connection if no other holds it; whether it did.
pub async fn try_lock(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar!("select pg_try_advisory_lock($1) as \"locked!\"", LOCK_KEY)
        .fetch_one(conn)
        .await
}

pub async fn unlock(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query_scalar!("select pg_advisory_unlock($1) as \"unlocked!\"", LOCK_KEY)
        .fetch_one(conn)
        .await?;
    Ok(())
}

/// Whether a pass started after `since`.
pub async fn started_since(conn: &mut PgConnection, since: OffsetDateTime) -> sqlx::Result<bool> {
    sqlx::query_scalar!("select exists (select 1 from job_run where job = 'maintenance' and started_at > $1) as \"started!\"", since)
    .fetch_one(conn)
    .await
}

pub async fn record_start(conn: &mut PgConnection, at: OffsetDateTime) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into job_run (job, started_at) values ('maintenance', $1)
         on conflict (job) do update set started_at = $1, finished_at = null, summary = null",
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn record_finish(
    conn: &mut PgConnection,
    at: OffsetDateTime,
    report: &PassReport,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update job_run set finished_at = $1, summary = $2 where job = 'maintenance'",
        at,
        sqlx::types::Json(report) as _
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The database's clock: sign-in records are stamped by it, so their age is measured by it
/// (the service's clock is one tests move forward).
pub async fn database_now(conn: &mut PgConnection) -> sqlx::Result<OffsetDateTime> {
    sqlx::query_scalar!("select now() as \"now!\"")
        .fetch_one(conn)
        .await
}
