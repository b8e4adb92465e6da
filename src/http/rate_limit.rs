//! Rate limits kept in PostgreSQL, so they hold across API replicas and restarts. Hits are
//! counted per clock-aligned window, and a check weighs the previous window by how much of
//! it still lies within one window's length of now (a sliding-window estimate): five an
//! hour cannot become ten by sending five on each side of the hour. One statement per
//! check. Each check is also noted for the request being served, so its answer carries the
//! IETF draft `RateLimit-Policy` and `RateLimit` headers.

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

/// Counts a hit for `key` in `limit`'s current window; past the maximum (this window's hits
/// and the previous window's, weighted), a 429 with `Retry-After` until it would pass.
pub async fn hit(db: impl PgExecutor<'_>, limit: Limit, key: &str) -> Result<(), ApiError> {
    let counts = sqlx::query!(
        r#"with w as (select to_timestamp(floor(extract(epoch from now()) / $3) * $3) as start),
         counted as (
             insert into rate_limit_hit (bucket, client_key, window_start, hits)
             select $1, $2, w.start, 1 from w
             on conflict (bucket, client_key, window_start)
                 do update set hits = rate_limit_hit.hits + 1
             returning hits, window_start)
         select counted.hits as "hits!",
                coalesce((select p.hits from rate_limit_hit p
                          where p.bucket = $1 and p.client_key = $2
                            and p.window_start = counted.window_start - make_interval(secs => $3)), 0)
                    as "previous!",
                extract(epoch from (now() - counted.window_start))::float8 as "elapsed!"
         from counted"#,
        limit.bucket,
        key,
        limit.window_secs as f64
    )
    .fetch_one(db)
    .await?;
    let (hits, previous, elapsed) = (counts.hits, counts.previous, counts.elapsed);
    let window = limit.window_secs as f64;
    let (used, wait) = sliding(limit.max, hits, previous, elapsed / window);
    let reset_secs = (wait * window).ceil().max(1.0) as u64;
    note(Counted {
        limit,
        remaining: (limit.max - used).max(0),
        reset_secs,
    });
    if used > limit.max {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "Too many requests from this client; try again later.",
        )
        .with_retry_after(reset_secs));
    }
    Ok(())
}

/// The hits that count now: this window's, and the previous window's in proportion to the
/// part of it still within one window of now (`into` is how far into this window now is,
/// from 0 to 1). Also how long, in windows, until the count is back under `max`, or until
/// this window ends when it is not over.
fn sliding(max: i32, hits: i32, previous: i32, into: f64) -> (i32, f64) {
    let into = into.clamp(0.0, 1.0);
    let weighed = f64::from(previous) * (1.0 - into);
    let used = hits + weighed.ceil() as i32;
    if used <= max || previous == 0 || hits >= max {
        // Not over, or over on this window's hits alone: the window's end resets it.
        return (used, 1.0 - into);
    }
    // Over only with the previous window's share: wait until that share has shrunk enough.
    let allowed = f64::from(max - hits) / f64::from(previous);
    (used, (1.0 - allowed - into).max(0.0))
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

/// `RateLimit-Policy: "login";q=30;w=300` and `RateLimit: "login";r=27;t=120`, one item
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
    Ok(sqlx::query!("delete from rate_limit_hit where ctid in (
             select ctid from rate_limit_hit where window_start < now() - interval '1 day' limit $1)", limit)
    .execute(db)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::sliding;

    #[test]
    fn the_previous_window_counts_for_what_is_left_of_it() {
        // Five at the end of one hour, one at the start of the next: six in a minute.
        assert_eq!(sliding(5, 1, 5, 0.0).0, 6);
        // Halfway through the hour, half of the previous five still count.
        assert_eq!(sliding(5, 1, 5, 0.5).0, 4);
        // Nothing before: this window alone, reset at its end.
        let (used, wait) = sliding(5, 3, 0, 0.9);
        assert_eq!(used, 3);
        assert!((wait - 0.1).abs() < 1e-9, "{wait}");
    }

    #[test]
    fn a_refusal_says_how_long_until_the_count_is_under_the_limit() {
        // Two this hour, five in the last: over until the last hour's share is down to
        // three, 40% into this one.
        let (used, wait) = sliding(5, 2, 5, 0.0);
        assert!(used > 5);
        assert!((wait - 0.4).abs() < 1e-9, "{wait}");
        assert_eq!(sliding(5, 2, 5, 0.7).0, 4);
        // Over on this window's own hits: until it ends.
        let (_, wait) = sliding(5, 7, 0, 0.25);
        assert!((wait - 0.75).abs() < 1e-9, "{wait}");
    }
}
