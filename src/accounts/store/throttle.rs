//! Sign-in throttling's SQL: the counts per (address, network) and per address and day,
//! reserved before a password is checked. The rule (allowances, waits) is `model`'s.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

/// Seconds this network still waits before trying this account again, if it waits.
pub async fn locked_for(
    db: impl PgExecutor<'_>,
    email_key: &[u8],
    network: &str,
) -> sqlx::Result<Option<i64>> {
    let seconds: Option<f64> = sqlx::query_scalar!("select extract(epoch from locked_until - now())::float8 as \"seconds!\" from login_throttle
         where email_key = $1 and network = $2 and locked_until > now()", email_key, network)
    .fetch_optional(db)
    .await?;
    Ok(seconds.map(|s| s.ceil().max(1.0) as i64))
}

/// Counts a failure from `network`: its consecutive failures, forgotten after an hour
/// without one.
pub async fn count_network_failure(
    conn: &mut PgConnection,
    email_key: &[u8],
    network: &str,
) -> sqlx::Result<i32> {
    sqlx::query_scalar!("insert into login_throttle as t (email_key, network, failures, last_failure_at)
         values ($1, $2, 1, now())
         on conflict (email_key, network) do update set
             failures = case when t.last_failure_at < now() - interval '1 hour' then 1 else t.failures + 1 end,
             last_failure_at = now()
         returning failures", email_key, network)
    .fetch_one(conn)
    .await
}

/// Makes `network` wait `seconds` before trying this account again.
pub async fn lock_network(
    conn: &mut PgConnection,
    email_key: &[u8],
    network: &str,
    seconds: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update login_throttle set locked_until = now() + make_interval(secs => $3)
         where email_key = $1 and network = $2",
        email_key,
        network,
        seconds as f64
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts a failure against the account from any network: its failures in the day since
/// the first, and whether a reset was already required.
pub async fn count_daily_failure(
    conn: &mut PgConnection,
    email_key: &[u8],
) -> sqlx::Result<(i32, bool)> {
    let counted = sqlx::query!(
        r#"insert into login_daily_failure as d (email_key, failures, window_start) values ($1, 1, now())
         on conflict (email_key) do update set
             failures = case when d.window_start < now() - interval '1 day' then 1 else d.failures + 1 end,
             window_start = case when d.window_start < now() - interval '1 day' then now() else d.window_start end
         returning failures, reset_required_at is not null as "already!""#,
        email_key
    )
    .fetch_one(conn)
    .await?;
    Ok((counted.failures, counted.already))
}

/// From now on the account signs in only after a password reset by email.
pub async fn require_reset(conn: &mut PgConnection, email_key: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        "update login_daily_failure set reset_required_at = now() where email_key = $1",
        email_key
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts an attempt from `network` before its password is checked, unless the network
/// waits: the attempt's number among its consecutive failures (the count forgets an hour
/// without one), or `None` while it waits. One statement, so attempts sent together are
/// numbered one by one and none slips past the allowance.
pub async fn reserve_network_attempt(
    conn: &mut PgConnection,
    email_key: &[u8],
    network: &str,
) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar!(
        "insert into login_throttle as t (email_key, network, failures, last_failure_at)
         values ($1, $2, 1, now())
         on conflict (email_key, network) do update set
             failures = case when t.last_failure_at < now() - interval '1 hour' then 1
                             else t.failures + 1 end,
             last_failure_at = now()
         where t.locked_until is null or t.locked_until <= now()
         returning failures",
        email_key,
        network
    )
    .fetch_optional(conn)
    .await
}

/// Counts an attempt against the account's day before its password is checked: the
/// attempt's number in the day, or `None` while a reset is required (a new day starts
/// afresh: the requirement goes with the day's failures).
pub async fn reserve_daily_attempt(
    conn: &mut PgConnection,
    email_key: &[u8],
) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar!(
        "insert into login_daily_failure as d (email_key, failures, window_start)
         values ($1, 1, now())
         on conflict (email_key) do update set
             failures = case when d.window_start < now() - interval '1 day' then 1
                             else d.failures + 1 end,
             window_start = case when d.window_start < now() - interval '1 day' then now()
                                 else d.window_start end,
             reset_required_at = case when d.window_start < now() - interval '1 day' then null
                                      else d.reset_required_at end
         where d.reset_required_at is null or d.window_start < now() - interval '1 day'
         returning failures",
        email_key
    )
    .fetch_optional(conn)
    .await
}

/// Gives back an attempt the day counted that turned out a right password (a day with no
/// failure left and no reset required is no row at all).
pub async fn refund_daily_attempt(conn: &mut PgConnection, email_key: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from login_daily_failure
         where email_key = $1 and failures <= 1 and reset_required_at is null",
        email_key
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update login_daily_failure set failures = greatest(failures - 1, 0) where email_key = $1",
        email_key
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives back an attempt the network counted that turned out a right password, keeping
/// the failures around it (a second factor's wrong codes stay counted until it succeeds).
pub async fn refund_network_attempt(
    conn: &mut PgConnection,
    email_key: &[u8],
    network: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update login_throttle set failures = greatest(failures - 1, 0)
         where email_key = $1 and network = $2",
        email_key,
        network
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A successful sign-in from `network` clears that network's count.
pub async fn clear_failures(
    db: impl PgExecutor<'_>,
    email_key: &[u8],
    network: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from login_throttle where email_key = $1 and network = $2",
        email_key,
        network
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A password reset clears every count of the account, the daily one included.
pub async fn clear_all_failures(conn: &mut PgConnection, email_key: &[u8]) -> sqlx::Result<()> {
    sqlx::query!("delete from login_throttle where email_key = $1", email_key)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "delete from login_daily_failure where email_key = $1",
        email_key
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Remembers that the account signed in from `network` (now).
pub async fn remember_network(
    conn: &mut PgConnection,
    email_key: &[u8],
    network: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into login_known_network (email_key, network) values ($1, $2)
         on conflict (email_key, network) do update set last_signed_in_at = now()",
        email_key,
        network
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the account signed in from `network` before.
pub async fn is_known_network(
    db: impl PgExecutor<'_>,
    email_key: &[u8],
    network: &str,
) -> sqlx::Result<bool> {
    let known = sqlx::query_scalar!(
        r#"select true as "known!" from login_known_network where email_key = $1 and network = $2"#,
        email_key,
        network
    )
    .fetch_optional(db)
    .await?;
    Ok(known.unwrap_or(false))
}

/// Deletes up to `limit` networks no sign-in came from since `cutoff`; how many.
pub async fn delete_forgotten_networks(
    conn: &mut PgConnection,
    cutoff: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        "delete from login_known_network where (email_key, network) in
             (select email_key, network from login_known_network
              where last_signed_in_at < $1 limit $2)",
        cutoff,
        limit
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}
