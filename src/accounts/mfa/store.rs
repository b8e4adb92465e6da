//! The second factor's SQL: TOTP enrolments, recovery codes and sign-in challenges.

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::model::{CHALLENGE_FAILURES, CHALLENGE_SECS, SecretSeal};
use crate::auth::tokens::{new_secret, secret_hash};

#[derive(Debug)]
pub struct Enrolment {
    pub secret_sealed: Vec<u8>,
    pub confirmed: bool,
    /// The session that started it (only it may confirm a pending enrolment).
    pub started_session: Option<Uuid>,
}

pub async fn enrolment(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> sqlx::Result<Option<Enrolment>> {
    sqlx::query_as!(
        Enrolment,
        r#"select secret_sealed, confirmed_at is not null as "confirmed!", started_session
         from account_totp where account_id = $1"#,
        account_id
    )
    .fetch_optional(db)
    .await
}

/// True when the account signs in with a second factor.
pub async fn enabled(db: impl PgExecutor<'_>, account_id: Uuid) -> sqlx::Result<bool> {
    Ok(enrolment(db, account_id)
        .await?
        .is_some_and(|e| e.confirmed))
}

/// Starts (or restarts) an enrolment that is not confirmed yet, from `session`.
pub async fn start(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    sealed: &[u8],
    session: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into account_totp (account_id, secret_sealed, started_session) values ($1, $2, $3)
         on conflict (account_id) do update
             set secret_sealed = $2, started_session = $3, created_at = now(), last_step = null
         where account_totp.confirmed_at is null",
        account_id,
        sealed,
        session
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Confirms the enrolment, remembering the step whose code confirmed it, and replaces the
/// recovery codes with these (as hashes).
pub async fn confirm(
    conn: &mut PgConnection,
    account_id: Uuid,
    step: u64,
    recovery_hashes: &[Vec<u8>],
) -> sqlx::Result<()> {
    sqlx::query!(
        "update account_totp set confirmed_at = now(), last_step = $2 where account_id = $1",
        account_id,
        step as i64
    )
    .execute(&mut *conn)
    .await?;
    delete_recovery_codes(conn, account_id).await?;
    for hash in recovery_hashes {
        sqlx::query!(
            "insert into mfa_recovery_code (code_hash, account_id) values ($1, $2)",
            hash,
            account_id
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn remove(conn: &mut PgConnection, account_id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("delete from account_totp where account_id = $1", account_id)
        .execute(&mut *conn)
        .await?;
    delete_recovery_codes(conn, account_id).await
}

async fn delete_recovery_codes(conn: &mut PgConnection, account_id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from mfa_recovery_code where account_id = $1",
        account_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Accepts a TOTP step once: false when it (or a later one) was already used.
pub async fn use_step(conn: &mut PgConnection, account_id: Uuid, step: u64) -> sqlx::Result<bool> {
    Ok(sqlx::query!("update account_totp set last_step = $2
         where account_id = $1 and confirmed_at is not null and (last_step is null or last_step < $2)", account_id, step as i64)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Spends the recovery code stored under one of `code_hashes` (the forms one typed code
/// may be stored in: at most one matches): false when none is an unused code of the account.
pub async fn use_recovery_code(
    conn: &mut PgConnection,
    account_id: Uuid,
    code_hashes: &[Vec<u8>],
) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "update mfa_recovery_code set used_at = now()
         where code_hash = any($1) and account_id = $2 and used_at is null",
        code_hashes,
        account_id
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Marks a session as opened (or upgraded) with a second factor.
pub async fn mark_session(conn: &mut PgConnection, session_id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update session set second_factor_at = now() where id = $1",
        session_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A challenge for the second step of a sign-in: the token goes to the client, its hash
/// stays here for `CHALLENGE_SECS`.
pub async fn create_challenge(conn: &mut PgConnection, account_id: Uuid) -> sqlx::Result<String> {
    let token = new_secret();
    sqlx::query!(
        "insert into mfa_challenge (token_hash, account_id, expires_at)
         values ($1, $2, now() + make_interval(secs => $3))",
        secret_hash(&token),
        account_id,
        CHALLENGE_SECS as f64
    )
    .execute(conn)
    .await?;
    Ok(token)
}

/// The account of a live challenge, locked for this transaction.
pub async fn challenge(conn: &mut PgConnection, token: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "select account_id from mfa_challenge
         where token_hash = $1 and used_at is null and expires_at > now()
         for update",
        secret_hash(token)
    )
    .fetch_optional(conn)
    .await
}

/// Counts a wrong code; the challenge is spent after `CHALLENGE_FAILURES`.
pub async fn challenge_failed(conn: &mut PgConnection, token: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update mfa_challenge set failures = failures + 1,
             used_at = case when failures + 1 >= $2 then now() end
         where token_hash = $1",
        secret_hash(token),
        CHALLENGE_FAILURES
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn challenge_used(conn: &mut PgConnection, token: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update mfa_challenge set used_at = now() where token_hash = $1",
        secret_hash(token)
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Seals the account's secret anew under the current master when it opens only under the
/// previous one, and only if it is still the secret read (an enrolment since then stays).
/// Whether it did.
pub async fn reseal(
    db: impl PgExecutor<'_>,
    seal: &SecretSeal,
    account_id: Uuid,
    sealed: &[u8],
) -> sqlx::Result<bool> {
    let Some(fresh) = seal.reseal(sealed) else {
        return Ok(false);
    };
    let done = sqlx::query!(
        "update account_totp set secret_sealed = $3 where account_id = $1 and secret_sealed = $2",
        account_id,
        sealed,
        &fresh
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Seals every TOTP secret that opens only under the previous master anew under the current
/// one, so that the previous secret can be dropped after a rotation. Answers how many.
pub async fn reseal_all(pool: &PgPool, seal: &SecretSeal) -> sqlx::Result<usize> {
    let rows = sqlx::query!("select account_id, secret_sealed from account_totp")
        .fetch_all(pool)
        .await?;
    let mut resealed = 0;
    for row in rows {
        resealed += usize::from(reseal(pool, seal, row.account_id, &row.secret_sealed).await?);
    }
    Ok(resealed)
}

/// Deletes up to `limit` sign-in challenges that expired before `cutoff`; how many.
pub async fn delete_expired_challenges(
    conn: &mut PgConnection,
    cutoff: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        "delete from mfa_challenge where token_hash in (select token_hash from mfa_challenge
             where expires_at < $1 limit $2)",
        cutoff,
        limit
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}
