//! The maintenance job: listing freshness (reminders at 60 days without confirmation,
//! stale at 90), inquiry retention, purging delivered emails that quote inquiries, and old
//! rate-limit windows.
//!
//! Every replica runs the loop, but a pass runs in one transaction holding a PostgreSQL
//! advisory lock (`pg_try_advisory_xact_lock`): a replica that finds the lock taken skips
//! its pass, so two replicas never work at once. Each step also records what it did on the
//! rows themselves (`confirm_reminder_sent_at`, `stale_at`), so a pass repeated later does
//! nothing twice. Time comes from the injectable `Clock`.

use std::time::Duration as StdDuration;

use serde::Serialize;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use time::Duration;
use tokio::sync::watch;
use url::Url;
use uuid::Uuid;

use crate::audit::{Actor, AuditEntry};
use crate::clock::Clock;
use crate::http::rate_limit;
use crate::mail::{OutgoingEmail, enqueue, templates};

/// Arbitrary, fixed: the advisory lock every replica's pass competes for.
const LOCK_KEY: i64 = 0x7464_6d61_696e_7431;
pub const REMINDER_AFTER: Duration = Duration::days(60);
pub const STALE_AFTER: Duration = Duration::days(90);
/// Listings handled per step and pass: a backlog (after an outage, or a large import)
/// drains over several passes instead of one long transaction.
pub const BATCH: i64 = 500;

#[derive(Debug, Clone)]
pub struct MaintenanceSettings {
    pub interval: StdDuration,
    pub inquiry_retention: Duration,
    pub public_base_url: Url,
}

/// What one pass did; `ran` is false when another replica held the lock.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct PassReport {
    pub ran: bool,
    pub reminders_sent: u64,
    pub marked_stale: u64,
    pub inquiries_deleted: u64,
    pub emails_purged: u64,
    pub rate_windows_pruned: u64,
}

/// Runs a pass every `interval` (the first right away) until `shutdown` turns true.
pub async fn run(
    pool: PgPool,
    clock: Clock,
    settings: MaintenanceSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match run_once(&pool, &clock, &settings).await {
            Ok(report) if report.ran => tracing::info!(?report, "maintenance pass"),
            Ok(_) => tracing::debug!("maintenance pass skipped: another replica holds the lock"),
            Err(err) => tracing::warn!(error = %format!("{err:#}"), "maintenance pass failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.interval) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// One pass, in one transaction.
pub async fn run_once(
    pool: &PgPool,
    clock: &Clock,
    settings: &MaintenanceSettings,
) -> sqlx::Result<PassReport> {
    let mut tx = pool.begin().await?;
    let locked: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        return Ok(PassReport::default());
    }
    let now = clock.now();
    let mut report = PassReport {
        ran: true,
        ..PassReport::default()
    };
    sqlx::query(
        "insert into job_run (job, started_at) values ('maintenance', $1)
         on conflict (job) do update set started_at = $1, finished_at = null, summary = null",
    )
    .bind(now)
    .execute(&mut *tx)
    .await?;

    report.reminders_sent = step(&mut tx, settings, now, &REMIND).await?;
    report.marked_stale = step(&mut tx, settings, now, &MARK_STALE).await?;

    let cutoff = now - settings.inquiry_retention;
    report.inquiries_deleted = sqlx::query("delete from inquiry where created_at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    report.emails_purged = sqlx::query(
        "delete from outbox_email
         where sensitive and (sent_at is not null or failed_at is not null or created_at < $1)",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    report.rate_windows_pruned = rate_limit::prune(&mut *tx).await?;

    sqlx::query("update job_run set finished_at = $1, summary = $2 where job = 'maintenance'")
        .bind(clock.now())
        .bind(sqlx::types::Json(&report))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(report)
}

#[derive(sqlx::FromRow)]
struct Due {
    id: Uuid,
    email: String,
    is_demo: bool,
    display_name: String,
}

/// One freshness step: marks up to `BATCH` published listings that `due` selects (its `$2`
/// is `now - after`) by setting `column` to now, emails their therapists (demo accounts are
/// marked but not emailed) and audits each.
struct Step {
    column: &'static str,
    due: &'static str,
    after: Duration,
    email: fn(&Url, &str, &str) -> OutgoingEmail,
    action: &'static str,
}

/// Unconfirmed for 60 days, and not reminded since the last confirmation.
const REMIND: Step = Step {
    column: "confirm_reminder_sent_at",
    due: "last_confirmed_at < $2 and stale_at is null
          and (confirm_reminder_sent_at is null or confirm_reminder_sent_at < last_confirmed_at)",
    after: REMINDER_AFTER,
    email: templates::confirm_reminder,
    action: "listing.confirmation_reminded",
};

/// Unconfirmed for 90 days: out of default search (the listing trigger rebuilds the
/// directory entry at commit).
const MARK_STALE: Step = Step {
    column: "stale_at",
    due: "last_confirmed_at < $2 and stale_at is null",
    after: STALE_AFTER,
    email: templates::listing_stale,
    action: "listing.marked_stale",
};

async fn step(
    tx: &mut PgConnection,
    settings: &MaintenanceSettings,
    now: time::OffsetDateTime,
    step: &Step,
) -> sqlx::Result<u64> {
    let due: Vec<Due> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update listing l set {column} = $1
         from account a
         where l.id in (
                 select id from listing where status = 'published' and {due}
                 order by last_confirmed_at limit $3 for update skip locked)
           and a.id = l.account_id
         returning l.id, a.email::text as email, a.is_demo, l.display_name",
        column = step.column,
        due = step.due,
    )))
    .bind(now)
    .bind(now - step.after)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    for listing in &due {
        if !listing.is_demo {
            let email = (step.email)(
                &settings.public_base_url,
                &listing.email,
                &listing.display_name,
            );
            enqueue(&mut *tx, &email).await?;
        }
        AuditEntry::new(Actor::System, step.action)
            .target("listing", listing.id)
            .details(json!({}))
            .record(&mut *tx)
            .await?;
    }
    Ok(due.len() as u64)
}
