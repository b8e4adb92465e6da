//! SQL for accounts, sessions, email tokens and sign-in throttling.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::model::AccountSummary;
use crate::auth::tokens::{new_secret, secret_hash};
use crate::auth::{AccountStatus, Role};
use crate::http::page::NewestFirstPage;

mod throttle;
pub use throttle::*;

/// A session (refresh-token family) lives at most 30 days; each refresh token dies after
/// 7 days unused.
pub const SESSION_DAYS: i64 = 30;
pub const REFRESH_IDLE_DAYS: i64 = 7;

#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub status: AccountStatus,
    pub full_name: String,
    pub email_verified_at: Option<OffsetDateTime>,
    pub token_version: i32,
    pub created_at: OffsetDateTime,
}

/// The account as its owner reads it.
impl From<AccountRow> for crate::accounts::model::Me {
    fn from(account: AccountRow) -> Self {
        crate::accounts::model::Me {
            id: account.id,
            email: account.email,
            role: account.role,
            status: account.status,
            full_name: account.full_name,
            email_verified: account.email_verified_at.is_some(),
            created_at: account.created_at,
        }
    }
}

/// The account with this id or this address (one of them given).
async fn find(
    db: impl PgExecutor<'_>,
    id: Option<Uuid>,
    email: Option<&str>,
) -> sqlx::Result<Option<AccountRow>> {
    sqlx::query_as!(
        AccountRow,
        r#"select id, email::text as "email!", password_hash, role as "role: Role",
             status as "status: AccountStatus", full_name, email_verified_at, token_version,
             created_at
         from account where id = $1 or email = $2::text::citext"#,
        id,
        email
    )
    .fetch_optional(db)
    .await
}

pub async fn find_by_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> sqlx::Result<Option<AccountRow>> {
    find(db, None, Some(email)).await
}

pub async fn find_by_id(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<AccountRow>> {
    find(db, Some(id), None).await
}

/// Inserts the account unless the email is taken; returns whether it was inserted.
pub async fn insert_account(
    conn: &mut PgConnection,
    id: Uuid,
    email: &str,
    password_hash: &str,
    full_name: &str,
    role: Role,
    verified: bool,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query!(
        "insert into account (id, email, password_hash, full_name, role, email_verified_at)
         values ($1, $2, $3, $4, $5, case when $6 then now() end)
         on conflict on constraint account_email_key do nothing",
        id,
        email,
        password_hash,
        full_name,
        role as Role,
        verified
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn set_password(
    conn: &mut PgConnection,
    account_id: Uuid,
    hash: &str,
    bump_token_version: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update account set password_hash = $2,
             token_version = token_version + case when $3 then 1 else 0 end
         where id = $1",
        account_id,
        hash,
        bump_token_version
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the address verified (proving control of the mailbox does) and returns it.
pub async fn mark_email_verified(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> sqlx::Result<String> {
    sqlx::query_scalar!("update account set email_verified_at = coalesce(email_verified_at, now()) where id = $1 returning email::text as \"email!\"", account_id)
    .fetch_one(db)
    .await
}

// --- Admin: the account list and suspensions -----------------------------------------------

const SUMMARY_SQL: &str = "select a.id, a.email::text as email, a.role, a.status,
        a.email_verified_at is not null as email_verified, l.id as listing_id, a.suspended_reason, a.created_at
    from account a left join listing l on l.account_id = a.id";

/// Accounts newest first, those whose email matches the `ilike` pattern when given.
pub async fn list_summaries(
    db: impl PgExecutor<'_>,
    email_pattern: Option<String>,
    page: NewestFirstPage,
) -> sqlx::Result<Vec<AccountSummary>> {
    let query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SUMMARY_SQL}
         where ($1::text is null or a.email::text ilike $1)
           and {}",
        NewestFirstPage::sql("a.created_at", "a.id", 2)
    )))
    .bind(email_pattern);
    page.bind(query).fetch_all(db).await
}

pub async fn summary(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<AccountSummary>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SUMMARY_SQL} where a.id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The account's status, its row locked until the transaction ends.
/// Locks the accounts `ids` in id order (so two transactions locking the same two never wait
/// on each other) and returns their statuses.
pub async fn lock_statuses(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, AccountStatus)>> {
    let rows = sqlx::query!(
        r#"select id, status as "status: AccountStatus" from account where id = any($1)
         order by id for update"#,
        ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.status)).collect())
}

/// Suspends the account and kills its access tokens (their version no longer matches).
pub async fn suspend(conn: &mut PgConnection, id: Uuid, reason: &str) -> sqlx::Result<()> {
    sqlx::query!("update account set status = 'suspended', suspended_reason = $2, token_version = token_version + 1 where id = $1", id, reason)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn reinstate(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update account set status = 'active', suspended_reason = null where id = $1",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

// --- Email tokens ------------------------------------------------------------------------

/// A new link of `purpose` for the account (`new_email`: the address an email change
/// moves it to); its secret, which only the email carries.
pub async fn create_email_token(
    conn: &mut PgConnection,
    account_id: Uuid,
    purpose: &str,
    ttl: time::Duration,
    new_email: Option<&str>,
) -> sqlx::Result<String> {
    let secret = new_secret();
    sqlx::query!(
        "insert into email_token (token_hash, account_id, purpose, expires_at, new_email)
         values ($1, $2, $3::text::email_token_purpose, now() + make_interval(secs => $4), $5::text)",
        secret_hash(&secret),
        account_id,
        purpose,
        ttl.as_seconds_f64(),
        new_email
    )
    .execute(conn)
    .await?;
    Ok(secret)
}

/// Spends every unused link of `purpose` the account was sent.
pub async fn spend_email_tokens(
    conn: &mut PgConnection,
    account_id: Uuid,
    purpose: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update email_token set used_at = now()
         where account_id = $1 and purpose = $2::text::email_token_purpose and used_at is null",
        account_id,
        purpose
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A link used: the account it was sent to, and the address it moves the account to (an
/// email change's).
pub struct SpentLink {
    pub account_id: Uuid,
    pub new_email: Option<String>,
}

/// Uses a token once: the account it belongs to, if it is valid, unused and unexpired.
/// Other unused tokens of the same purpose for that account are spent with it.
pub async fn consume_email_token(
    conn: &mut PgConnection,
    secret: &str,
    purpose: &str,
) -> sqlx::Result<Option<SpentLink>> {
    let spent = sqlx::query_as!(SpentLink, "update email_token set used_at = now()
         where token_hash = $1 and purpose = $2::text::email_token_purpose and used_at is null and expires_at > now()
         returning account_id, new_email::text", secret_hash(secret), purpose)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(account) = spent.as_ref().map(|s| s.account_id) {
        sqlx::query!(
            "update email_token set used_at = now()
             where account_id = $1 and purpose = $2::text::email_token_purpose and used_at is null",
            account,
            purpose
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(spent)
}

// --- Sessions and refresh tokens ---------------------------------------------------------

/// Opens a session, marked as passing a second factor when `second_factor`; returns its id
/// and first refresh token.
pub async fn create_session(
    conn: &mut PgConnection,
    account_id: Uuid,
    second_factor: bool,
) -> sqlx::Result<(Uuid, String)> {
    let session = Uuid::now_v7();
    sqlx::query!(
        "insert into session (id, account_id, expires_at, second_factor_at)
         values ($1, $2, now() + make_interval(days => $3), case when $4 then now() end)",
        session,
        account_id,
        SESSION_DAYS as i32,
        second_factor
    )
    .execute(&mut *conn)
    .await?;
    let secret = insert_refresh_token(conn, session).await?;
    Ok((session, secret))
}

async fn insert_refresh_token(conn: &mut PgConnection, session: Uuid) -> sqlx::Result<String> {
    let secret = new_secret();
    sqlx::query!("insert into refresh_token (token_hash, session_id, expires_at)
         select $1, s.id, least(now() + make_interval(days => $3), s.expires_at) from session s where s.id = $2", secret_hash(&secret), session, REFRESH_IDLE_DAYS as i32)
    .execute(conn)
    .await?;
    Ok(secret)
}

pub enum Rotation {
    /// The token was live: here is its successor.
    Rotated {
        account_id: Uuid,
        session_id: Uuid,
        refresh_token: String,
    },
    /// The token had already been exchanged: someone replayed it.
    Reused {
        account_id: Uuid,
        session_id: Uuid,
    },
    Invalid,
}

/// Exchanges a refresh token for a new one in the same session. The update is atomic, so
/// of two concurrent exchanges of one token at most one succeeds; the other sees reuse.
pub async fn rotate_refresh_token(conn: &mut PgConnection, secret: &str) -> sqlx::Result<Rotation> {
    let hash = secret_hash(secret);
    let rotated = sqlx::query!(
        "update refresh_token t set used_at = now()
         from session s
         where t.token_hash = $1 and t.used_at is null and t.expires_at > now()
           and s.id = t.session_id and s.revoked_at is null and s.expires_at > now()
         returning s.id, s.account_id",
        &hash
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((session_id, account_id)) = rotated.map(|r| (r.id, r.account_id)) {
        let refresh_token = insert_refresh_token(conn, session_id).await?;
        return Ok(Rotation::Rotated {
            account_id,
            session_id,
            refresh_token,
        });
    }
    let used = sqlx::query!(
        "select s.id, s.account_id from refresh_token t join session s on s.id = t.session_id
         where t.token_hash = $1 and t.used_at is not null",
        &hash
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match used.map(|r| (r.id, r.account_id)) {
        Some((session_id, account_id)) => Rotation::Reused {
            account_id,
            session_id,
        },
        None => Rotation::Invalid,
    })
}

/// The session a refresh token belongs to, whatever its state.
pub async fn session_of_refresh_token(
    db: impl PgExecutor<'_>,
    secret: &str,
) -> sqlx::Result<Option<(Uuid, Uuid)>> {
    let session = sqlx::query!(
        "select s.id, s.account_id from refresh_token t join session s on s.id = t.session_id where t.token_hash = $1",
        secret_hash(secret)
    )
    .fetch_optional(db)
    .await?;
    Ok(session.map(|s| (s.id, s.account_id)))
}

pub async fn revoke_session(
    db: impl PgExecutor<'_>,
    session_id: Uuid,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query!("update session set revoked_at = now(), revoked_reason = $2 where id = $1 and revoked_at is null", session_id, reason)
        .execute(db)
        .await?;
    Ok(())
}

/// Revokes every live session of the account, except `keep` when given.
pub async fn revoke_all_sessions(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    reason: &str,
    keep: Option<Uuid>,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "update session set revoked_at = now(), revoked_reason = $2
         where account_id = $1 and revoked_at is null and ($3::uuid is null or id <> $3)",
        account_id,
        reason,
        keep
    )
    .execute(db)
    .await?
    .rows_affected())
}

// --- Pruning: records that can no longer change an answer ------------------------------

/// Deletes up to `limit` sessions ended (revoked or expired) before `cutoff`, with their
/// refresh tokens; how many.
pub async fn delete_ended_sessions(
    conn: &mut PgConnection,
    cutoff: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        "delete from session where id in (select id from session
             where coalesce(revoked_at, expires_at) < $1 limit $2)",
        cutoff,
        limit
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}

/// Deletes up to `limit` emailed links that expired before `cutoff`; how many.
pub async fn delete_expired_email_tokens(
    conn: &mut PgConnection,
    cutoff: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        "delete from email_token where token_hash in (select token_hash from email_token
             where expires_at < $1 limit $2)",
        cutoff,
        limit
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}

/// Deletes up to `limit` per-network failure counts last touched before `cutoff` that hold
/// no lock any more; how many.
pub async fn delete_idle_throttles(
    conn: &mut PgConnection,
    cutoff: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        "delete from login_throttle where (email_key, network) in
             (select email_key, network from login_throttle where last_failure_at < $1
              and (locked_until is null or locked_until < $1) limit $2)",
        cutoff,
        limit
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}

/// Deletes up to `limit` daily failure counts of days before `cutoff` that require no
/// password reset; how many.
pub async fn delete_old_daily_failures(
    conn: &mut PgConnection,
    cutoff: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        "delete from login_daily_failure where email_key in (select email_key
             from login_daily_failure where window_start < $1 and reset_required_at is null
             limit $2)",
        cutoff,
        limit
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}
