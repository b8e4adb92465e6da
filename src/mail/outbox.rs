//! The outbox worker: claims due messages with `FOR UPDATE SKIP LOCKED` (so several
//! replicas can run it side by side), sends them, and reschedules failures with exponential
//! backoff. After `max_attempts` a message is marked failed and kept for inspection.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

use super::OutgoingEmail;
use super::transport::Mailer;

#[derive(Debug, Clone, Copy)]
pub struct OutboxSettings {
    pub poll_interval: Duration,
    pub retry_base: Duration,
    pub max_attempts: i32,
}

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
    settings: OutboxSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let delivered = match deliver_due(&pool, mailer.as_ref(), &settings).await {
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

#[derive(sqlx::FromRow)]
struct Due {
    id: Uuid,
    to_address: String,
    reply_to: Option<String>,
    subject: String,
    body_text: String,
    attempts: i32,
}

/// One pass: sends up to 20 due messages. Returns how many were attempted.
pub async fn deliver_due(
    pool: &PgPool,
    mailer: &dyn Mailer,
    settings: &OutboxSettings,
) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let due: Vec<Due> = sqlx::query_as(
        "select id, to_address, reply_to, subject, body_text, attempts from outbox_email
         where sent_at is null and failed_at is null and next_attempt_at <= now()
         order by next_attempt_at limit 20 for update skip locked",
    )
    .fetch_all(&mut *tx)
    .await?;
    for message in &due {
        let email = OutgoingEmail {
            to: message.to_address.clone(),
            reply_to: message.reply_to.clone(),
            subject: message.subject.clone(),
            body: message.body_text.clone(),
        };
        let attempts = message.attempts + 1;
        match mailer.send(&email).await {
            Ok(()) => {
                sqlx::query("update outbox_email set sent_at = now(), attempts = $2, last_error = null where id = $1")
                    .bind(message.id)
                    .bind(attempts)
                    .execute(&mut *tx)
                    .await?;
            }
            Err(err) => {
                let error = format!("{err:#}");
                let give_up = attempts >= settings.max_attempts;
                tracing::warn!(email_id = %message.id, attempts, give_up, error = %error, "email delivery failed");
                let delay = backoff(settings.retry_base, attempts);
                sqlx::query(
                    "update outbox_email set attempts = $2, last_error = left($3, 1000),
                         next_attempt_at = now() + make_interval(secs => $4),
                         failed_at = case when $5 then now() end
                     where id = $1",
                )
                .bind(message.id)
                .bind(attempts)
                .bind(&error)
                .bind(delay.as_secs_f64())
                .bind(give_up)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(due.len())
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
