//! Email through a transactional outbox: `enqueue` writes the message in the caller's
//! transaction, and the worker in `outbox` delivers it with retries. Transports: SMTP
//! (production) or one `.eml` file per message (development and tests).

pub mod links;
pub mod outbox;
pub mod settings;
pub mod templates;
pub mod transport;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::keys::Seal;

/// The base of every link in an email (`APP_PUBLIC_BASE_URL`), never a request's Host
/// header, as app data for the handlers that send mail.
#[derive(Debug, Clone)]
pub struct PublicBaseUrl(pub url::Url);

impl std::ops::Deref for PublicBaseUrl {
    type Target = url::Url;

    fn deref(&self) -> &url::Url {
        &self.0
    }
}

/// What a handler needs to email a one-time link: the base of the link, and the key the
/// message is sealed under until it is delivered (`Purpose::EmailedLinks`).
#[derive(Clone)]
pub struct LinkMail {
    pub base: PublicBaseUrl,
    pub seal: Seal,
}

/// A plain-text message waiting in, or read from, the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub reply_to: Option<String>,
    pub subject: String,
    pub body: String,
}

/// Queues `email` in the caller's transaction: it is sent only if that transaction commits.
pub async fn enqueue(conn: &mut PgConnection, email: &OutgoingEmail) -> sqlx::Result<Uuid> {
    insert(conn, email, false, None).await
}

/// As `enqueue`, for a message that quotes personal data (an inquiry): the maintenance job
/// deletes it from the outbox once it is delivered or has failed for good.
pub async fn enqueue_sensitive(
    conn: &mut PgConnection,
    email: &OutgoingEmail,
) -> sqlx::Result<Uuid> {
    insert(conn, email, true, None).await
}

/// As `enqueue_sensitive`, for a message carrying a one-time secret (a verification or
/// reset link) that works for `valid_for`: its body is stored sealed under `seal` until it
/// is delivered, deleted the moment it is, and if it cannot be delivered in that time the
/// message is deleted unsent. Nothing that can sign someone in is readable in the database
/// or its backups.
pub async fn enqueue_secret(
    conn: &mut PgConnection,
    seal: &Seal,
    email: &OutgoingEmail,
    valid_for: time::Duration,
) -> sqlx::Result<Uuid> {
    let sealed = seal.seal(email.body.as_bytes());
    let id = insert(conn, email, true, Some(&sealed)).await?;
    sqlx::query!(
        "update outbox_email set discard_after = now() + make_interval(secs => $2) where id = $1",
        id,
        valid_for.as_seconds_f64()
    )
    .execute(conn)
    .await?;
    Ok(id)
}

async fn insert(
    conn: &mut PgConnection,
    email: &OutgoingEmail,
    sensitive: bool,
    sealed: Option<&[u8]>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    let text = if sealed.is_some() { "" } else { &email.body };
    sqlx::query!("insert into outbox_email (id, to_address, reply_to, subject, body_text, sensitive, body_sealed)
         values ($1, $2, $3, $4, $5, $6, $7)", id, &email.to, email.reply_to.as_deref(), &email.subject, text, sensitive, sealed)
    .execute(conn)
    .await?;
    Ok(id)
}
