//! The SQL of the account's own life: its name, its move to another address, and its
//! erasure.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::accounts::store::clear_all_failures;
use crate::photos::model::Photo;

pub async fn set_full_name(db: impl PgExecutor<'_>, id: Uuid, name: &str) -> sqlx::Result<()> {
    sqlx::query!("update account set full_name = $2 where id = $1", id, name)
        .execute(db)
        .await?;
    Ok(())
}

/// Moves the account to `new_email` (verified: the link proved the mailbox) and returns
/// the address it leaves; `None` when another account took `new_email` meanwhile.
pub async fn move_address(
    conn: &mut PgConnection,
    id: Uuid,
    new_email: &str,
) -> sqlx::Result<Option<String>> {
    let old = sqlx::query_scalar!(
        "select email::text as \"email!\" from account where id = $1 for update",
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    let moved = sqlx::query!(
        "update account set email = $2::text::citext, email_verified_at = coalesce(email_verified_at, now())
         where id = $1",
        id,
        new_email
    )
    .execute(&mut *conn)
    .await;
    match moved {
        Ok(_) => Ok(Some(old)),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("account_email_key") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The networks the account signed in from are known under its new address's key; the
/// failures counted against the old address stay with that address.
pub async fn move_known_networks(
    conn: &mut PgConnection,
    old_key: &[u8],
    new_key: &[u8],
) -> sqlx::Result<()> {
    sqlx::query!(
        "with moved as (delete from login_known_network where email_key = $1
                        returning network, last_signed_in_at)
         insert into login_known_network (email_key, network, last_signed_in_at)
         select $2, network, last_signed_in_at from moved
         on conflict (email_key, network) do nothing",
        old_key,
        new_key
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether `id` is an active admin and the only one (its row and every other active
/// admin's locked, so two admins cannot both leave at once).
pub async fn is_last_active_admin(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    let admins: Vec<Uuid> = sqlx::query_scalar!(
        "select id from account where role = 'admin' and status = 'active' order by id for update"
    )
    .fetch_all(conn)
    .await?;
    Ok(admins == [id])
}

/// Erases the account and everything stored about it but the audit log (whose entries
/// name it by an id nothing resolves any more): its listing with every part, photo,
/// inquiry and report (by cascade), its sessions, tokens and second factor (by cascade),
/// the outbox's mail to or from its address, and the sign-in counters kept under its
/// address's key. Returns the photos whose objects are to be deleted.
pub async fn erase(
    conn: &mut PgConnection,
    id: Uuid,
    email: &str,
    email_key: &[u8],
) -> sqlx::Result<Vec<Photo>> {
    let listing = sqlx::query_scalar!("select id from listing where account_id = $1", id)
        .fetch_optional(&mut *conn)
        .await?;
    let photos = match listing {
        Some(listing) => crate::photos::store::delete_all(conn, listing).await?,
        None => Vec::new(),
    };
    sqlx::query!(
        "delete from outbox_email where lower(to_address) = lower($1) or lower(reply_to) = lower($1)",
        email
    )
    .execute(&mut *conn)
    .await?;
    clear_all_failures(conn, email_key).await?;
    sqlx::query!(
        "delete from login_known_network where email_key = $1",
        email_key
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("delete from account where id = $1", id)
        .execute(&mut *conn)
        .await?;
    Ok(photos)
}

/// A session as the account's export shows it: no token, no secret.
#[derive(Debug, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true)]
    pub revoked_at: Option<time::OffsetDateTime>,
    #[schema(required = true)]
    pub revoked_reason: Option<String>,
    /// Whether the session passed a second factor.
    pub second_factor: bool,
}

/// Every session of the account, newest first.
pub async fn sessions(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> sqlx::Result<Vec<SessionRecord>> {
    sqlx::query_as!(
        SessionRecord,
        r#"select id, created_at, expires_at, revoked_at, revoked_reason,
                  second_factor_at is not null as "second_factor!"
           from session where account_id = $1 order by created_at desc, id desc"#,
        account_id
    )
    .fetch_all(db)
    .await
}
