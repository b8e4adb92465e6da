//! The outbox worker: claims due messages with a lease (`locked_until`, taken with `FOR
//! UPDATE SKIP LOCKED` so several replicas can run it side by side), sends each outside any
//! transaction, and records each outcome on its own: a stalled mail server holds no
//! database connection or row lock, and one failure re-sends nothing else. Failures are
//! rescheduled with exponential backoff; after `max_attempts` a message is marked failed and
//! kept for inspection. A message whose lease ran out (its worker died mid-send) is claimed
//! again; mail servers may then see it twice, which is why the lease is long.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use tokio::sync::watch;
use uuid::Uuid;

use super::OutgoingEmail;
pub use super::settings::OutboxSettings;
use super::transport::Mailer;
use crate::keys::Seal;

/// Delay before attempt `attempts + 1`: base × 2^(attempts-1), at most an hour.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    base.saturating_mul(2u32.saturating_pow(exponent))
        .min(Duration::from_secs(3600))
}

/// Runs until `shutdown` turns true, finishing the batch in hand first.
pub async fn run(
    pool: PgPool,
    mailer: Arc<dyn Mailer>,
    (settings, seal): (OutboxSettings, Seal),
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let sending = (mailer.as_ref(), &settings, &seal);
        let delivered = match deliver_due(&pool, sending, &shutdown).await {
            Ok(n) => n,
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "outbox pass failed");
                0
            }
        };
        if delivered == 0 {
            tokio::select! {
                _ = tokio::time::sleep(settings.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// A message leased for delivery.
struct Due {
    id: Uuid,
    to_address: String,
    reply_to: Option<String>,
    subject: String,
    body_text: String,
    body_sealed: Option<Vec<u8>>,
    attempts: i32,
}

impl Due {
    /// The body to send: a sealed one opened (a process without its master secret cannot).
    fn body(&self, seal: &Seal) -> anyhow::Result<String> {
        match &self.body_sealed {
            None => Ok(self.body_text.clone()),
            Some(sealed) => seal
                .open(sealed)
                .and_then(|body| String::from_utf8(body).ok())
                .ok_or_else(|| {
                    anyhow::anyhow!("sealed under a master secret this process does not hold")
                }),
        }
    }
}

/// How long a claimed message is reserved for the worker that claimed it.
const LEASE: Duration = Duration::from_secs(120);
/// The longest one send may take before it counts as failed.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages claimed per pass. A pass sends them one after another, so the last is sent up to
/// `BATCH` send timeouts after the claim: all of them must fit in the lease, or another
/// replica would claim the rest as abandoned and send them too.
const BATCH: i64 = 3;
const _: () = assert!(BATCH as u64 * SEND_TIMEOUT.as_secs() + 20 <= LEASE.as_secs());

/// One pass: claims up to `BATCH` due messages and sends them one by one, stopping early
/// when `shutdown` turns true (the rest are released for the next pass). Returns how many
/// were attempted; the worker comes straight back for more while there are any.
pub async fn deliver_due(
    pool: &PgPool,
    (mailer, settings, seal): (&dyn Mailer, &OutboxSettings, &Seal),
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<usize> {
    // A secret that expired undelivered is useless to its recipient: it is not sent, and
    // not kept.
    sqlx::query!("delete from outbox_email where sent_at is null and discard_after < now()")
        .execute(pool)
        .await?;
    let due = sqlx::query_as!(
        Due,
        "update outbox_email set locked_until = now() + make_interval(secs => $1)
         where id in (
             select id from outbox_email
             where sent_at is null and failed_at is null and next_attempt_at <= now()
               and (locked_until is null or locked_until < now())
             order by next_attempt_at limit $2 for update skip locked)
         returning id, to_address, reply_to, subject, body_text, body_sealed, attempts",
        LEASE.as_secs_f64(),
        BATCH
    )
    .fetch_all(pool)
    .await?;
    let mut attempted = 0;
    for message in &due {
        if *shutdown.borrow() {
            break;
        }
        attempted += 1;
        let attempts = message.attempts + 1;
        let sent = match message.body(seal) {
            Ok(body) => {
                let email = OutgoingEmail {
                    to: message.to_address.clone(),
                    reply_to: message.reply_to.clone(),
                    subject: message.subject.clone(),
                    body,
                };
                match tokio::time::timeout(SEND_TIMEOUT, mailer.send(&email)).await {
                    Ok(result) => result,
                    Err(_) => Err(anyhow::anyhow!(
                        "the mail server did not answer within {SEND_TIMEOUT:?}"
                    )),
                }
            }
            Err(err) => Err(err),
        };
        match sent {
            Ok(()) => {
                // A delivered secret's body is emptied at once.
                sqlx::query!(
                    "update outbox_email set sent_at = now(), attempts = $2, last_error = null,
                         locked_until = null,
                         body_text = case when sensitive then '' else body_text end,
                         body_sealed = null
                     where id = $1",
                    message.id,
                    attempts
                )
                .execute(pool)
                .await?;
            }
            Err(err) => {
                let error = format!("{err:#}");
                let give_up = attempts >= settings.max_attempts;
                tracing::warn!(email_id = %message.id, attempts, give_up, error = %error, "email delivery failed");
                let delay = backoff(settings.retry_base, attempts);
                sqlx::query!(
                    "update outbox_email set attempts = $2, last_error = left($3, 1000),
                         next_attempt_at = now() + make_interval(secs => $4),
                         failed_at = case when $5 then now() end,
                         locked_until = null
                     where id = $1",
                    message.id,
                    attempts,
                    &error,
                    delay.as_secs_f64(),
                    give_up
                )
                .execute(pool)
                .await?;
            }
        }
    }
    // Claimed but not attempted (shutting down): free for the next pass or replica.
    let unattempted: Vec<Uuid> = due[attempted..].iter().map(|m| m.id).collect();
    if !unattempted.is_empty() {
        sqlx::query!(
            "update outbox_email set locked_until = null where id = any($1)",
            &unattempted
        )
        .execute(pool)
        .await?;
    }
    Ok(attempted)
}

/// Deletes up to `limit` messages that carried what a client wrote once they are sent,
/// failed or queued before `cutoff`; how many.
pub async fn purge_sensitive(
    conn: &mut PgConnection,
    cutoff: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        "delete from outbox_email where id in (select id from outbox_email
             where sensitive and (sent_at is not null or failed_at is not null or created_at < $1)
             limit $2)",
        cutoff,
        limit
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 1), Duration::from_secs(5));
        assert_eq!(backoff(base, 2), Duration::from_secs(10));
        assert_eq!(backoff(base, 4), Duration::from_secs(40));
        assert_eq!(backoff(base, 30), Duration::from_secs(3600));
    }
}
