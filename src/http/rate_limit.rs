//! Fixed-window rate limits kept in PostgreSQL, so they hold across API replicas and
//! restarts. One upsert per check. Each check is also noted for the request being served,
//! so its answer carries the IETF draft `RateLimit-Policy` and `RateLimit` headers.

use std::future::Future;
use std::sync::{Arc, Mutex};

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use sqlx::PgExecutor;

use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: i32,
    pub window_secs: i64,
}

impl Limit {
    /// At most `max` hits from one key in each window of `window_secs` seconds.
    pub const fn new(bucket: &'static str, max: i32, window_secs: i64) -> Self {
        Limit {
            bucket,
            max,
            window_secs,
        }
    }
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
    let reset_secs = retry_after.ceil().max(1.0) as u64;
    note(Counted {
        limit,
        remaining: (limit.max - hits).max(0),
        reset_secs,
    });
    if hits > limit.max {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "Too many requests from this client; try again later.",
        )
        .with_retry_after(reset_secs));
    }
    Ok(())
}

/// One check of one limit, as the request's answer reports it.
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    limit: Limit,
    remaining: i32,
    reset_secs: u64,
}

tokio::task_local! {
    static COUNTED: Arc<Mutex<Vec<Counted>>>;
}

fn note(counted: Counted) {
    let _ = COUNTED.try_with(|all| {
        if let Ok(mut all) = all.lock() {
            all.push(counted);
        }
    });
}

/// Runs `fut` (a request being served), collecting the checks it makes into `into`.
pub async fn observe<F: Future>(into: Arc<Mutex<Vec<Counted>>>, fut: F) -> F::Output {
    COUNTED.scope(into, fut).await
}

/// `RateLimit-Policy: "login";q=10;w=3600` and `RateLimit: "login";r=7;t=1800`, one item
/// per limit checked (draft-ietf-httpapi-ratelimit-headers).
pub fn write_headers(headers: &mut HeaderMap, counted: &[Counted]) {
    if counted.is_empty() {
        return;
    }
    let policies: Vec<String> = counted
        .iter()
        .map(|c| {
            format!(
                "\"{}\";q={};w={}",
                c.limit.bucket, c.limit.max, c.limit.window_secs
            )
        })
        .collect();
    let states: Vec<String> = counted
        .iter()
        .map(|c| {
            format!(
                "\"{}\";r={};t={}",
                c.limit.bucket, c.remaining, c.reset_secs
            )
        })
        .collect();
    for (name, items) in [("ratelimit-policy", policies), ("ratelimit", states)] {
        if let Ok(value) = HeaderValue::from_str(&items.join(", ")) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

/// Deletes up to `limit` windows that ended more than a day ago (run by the maintenance
/// task, batch by batch).
pub async fn prune(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "delete from rate_limit_hit where ctid in (
             select ctid from rate_limit_hit where window_start < now() - interval '1 day' limit $1)",
    )
    .bind(limit)
    .execute(db)
    .await?
    .rows_affected())
}
