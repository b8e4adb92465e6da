//! Fixed-window rate limits kept in PostgreSQL, so they hold across API replicas and
//! restarts. One upsert per check.

use sqlx::PgExecutor;

use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: i32,
    pub window_secs: i64,
}

/// Counts a hit for `key` in `limit`'s current window; past the maximum, a 429 with
/// `Retry-After` until the window ends.
pub async fn hit(db: impl PgExecutor<'_>, limit: Limit, key: &str) -> Result<(), ApiError> {
    let (hits, retry_after): (i32, f64) = sqlx::query_as(
        "with w as (select to_timestamp(floor(extract(epoch from now()) / $3) * $3) as start)
         insert into rate_limit_hit (bucket, client_key, window_start, hits)
         select $1, $2, w.start, 1 from w
         on conflict (bucket, client_key, window_start)
             do update set hits = rate_limit_hit.hits + 1
         returning hits, extract(epoch from (window_start + make_interval(secs => $3) - now()))::float8",
    )
    .bind(limit.bucket)
    .bind(key)
    .bind(limit.window_secs as f64)
    .fetch_one(db)
    .await?;
    if hits > limit.max {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "Too many requests from this client; try again later.",
        )
        .with_retry_after(retry_after.ceil().max(1.0) as u64));
    }
    Ok(())
}

/// Deletes windows that ended more than a day ago (run by the maintenance task).
pub async fn prune(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("delete from rate_limit_hit where window_start < now() - interval '1 day'")
            .execute(db)
            .await?
            .rows_affected(),
    )
}
