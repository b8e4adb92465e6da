//! The maintenance job: listing freshness (reminders at 60 days without confirmation,
//! stale at 90), inquiry retention, purging delivered emails that quote inquiries, old
//! rate-limit windows, and sign-in records that can no longer change an answer.
//!
//! Every replica runs the loop, but a pass holds a PostgreSQL advisory lock on one
//! connection for its duration (`pg_try_advisory_lock`; it goes with the connection if the
//! process dies): a replica that finds the lock taken skips its pass, so two replicas never
//! work at once. Each step commits on its own, in bounded batches, and a step that fails
//! (a timeout, say) is logged and reported while the others still run: inquiry retention
//! never waits on a reminder email. Each step also records what it did on the rows
//! themselves (`confirm_reminder_sent_at`, `stale_at`), so a pass repeated later does
//! nothing twice. Time comes from the injectable `Clock`.

use std::time::Duration as StdDuration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};
use time::Duration;
use tokio::sync::watch;
use url::Url;

mod store;

use crate::accounts::mfa::store as mfa_store;
use crate::accounts::store as account_store;
use crate::audit::{Actor, AuditEntry};
use crate::clock::Clock;
use crate::http::rate_limit;
use crate::inquiries;
use crate::listings::store::{Unconfirmed, mark_unconfirmed};
use crate::mail::{OutgoingEmail, enqueue, outbox, templates};

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
    /// The photo store, whose objects no row refers to are collected; `None`: not swept.
    pub media: Option<crate::photos::media::Media>,
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
    /// Sessions (their refresh tokens go with them, uncounted), email links, MFA challenges
    /// and throttle counts deleted.
    pub sign_in_records_pruned: u64,
    /// Photo objects no row referred to, deleted.
    pub media_objects_deleted: u64,
    /// Statistics past their 400 days deleted, and search terms sealed or deleted at the
    /// end of their day (`stats`).
    pub statistics_pruned: u64,
    /// Steps that failed in this pass (logged; the others ran).
    pub failed_steps: Vec<String>,
}

/// Rows deleted per transaction by the purge steps, and the most transactions one step
/// runs per pass.
const DELETE_BATCH: i64 = 1_000;
const DELETE_BATCHES_PER_PASS: usize = 100;

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
        match run_locked(&pool, &clock, &settings, true).await {
            Ok(report) if report.ran => tracing::info!(?report, "maintenance pass"),
            Ok(_) => tracing::debug!(
                "maintenance pass skipped: another replica holds the lock or ran it this interval"
            ),
            Err(err) => tracing::warn!(error = %format!("{err:#}"), "maintenance pass failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.interval) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// One pass: every step, each in transactions of its own.
pub async fn run_once(
    pool: &PgPool,
    clock: &Clock,
    settings: &MaintenanceSettings,
) -> sqlx::Result<PassReport> {
    run_locked(pool, clock, settings, false).await
}

/// A pass under the lock. With `when_due`, a pass that another replica started less than
/// an interval ago counts as this interval's: replicas whose timers fall at different
/// moments still run one pass per interval between them, not one each.
async fn run_locked(
    pool: &PgPool,
    clock: &Clock,
    settings: &MaintenanceSettings,
    when_due: bool,
) -> sqlx::Result<PassReport> {
    let mut conn = pool.acquire().await?;
    if !store::try_lock(&mut conn).await? {
        return Ok(PassReport::default());
    }
    let result = match ran_recently(&mut conn, clock, settings).await {
        Ok(true) if when_due => Ok(PassReport::default()),
        Ok(_) => pass(&mut conn, clock, settings).await,
        Err(err) => Err(err),
    };
    // Released explicitly, whatever the pass gave: the connection goes back to the pool, not
    // away. If even that fails, the connection is closed, which releases the lock; a pooled
    // connection still holding it would stall maintenance on every replica.
    if store::unlock(&mut conn).await.is_err() {
        let _ = conn.detach().close().await;
    }
    result
}

/// Whether a pass started within the last nine tenths of an interval (timers drift a little).
async fn ran_recently(
    conn: &mut PgConnection,
    clock: &Clock,
    settings: &MaintenanceSettings,
) -> sqlx::Result<bool> {
    let since = clock.now() - settings.interval.mul_f64(0.9);
    store::started_since(conn, since).await
}

/// Counts what a step did, or records that it failed and carries on.
fn outcome<E: std::fmt::Display>(
    report: &mut PassReport,
    name: &str,
    result: Result<u64, E>,
) -> u64 {
    match result {
        Ok(n) => n,
        Err(err) => {
            tracing::warn!(step = name, error = %err, "maintenance step failed; the others still run");
            report.failed_steps.push(name.to_owned());
            0
        }
    }
}

async fn pass(
    conn: &mut PgConnection,
    clock: &Clock,
    settings: &MaintenanceSettings,
) -> sqlx::Result<PassReport> {
    let now = clock.now();
    let mut report = PassReport {
        ran: true,
        ..PassReport::default()
    };
    store::record_start(conn, now).await?;
    let reminded = freshness_step(conn, settings, now, &REMIND).await;
    report.reminders_sent = outcome(&mut report, "reminders", reminded);
    let marked = freshness_step(conn, settings, now, &MARK_STALE).await;
    report.marked_stale = outcome(&mut report, "stale", marked);
    let cutoff = now - settings.inquiry_retention;
    let deleted = in_batches(conn, |c| {
        Box::pin(inquiries::store::delete_received_before(
            c,
            cutoff,
            DELETE_BATCH,
        ))
    })
    .await;
    report.inquiries_deleted = outcome(&mut report, "inquiry_retention", deleted);
    let purged = in_batches(conn, |c| {
        Box::pin(outbox::purge_sensitive(c, cutoff, DELETE_BATCH))
    })
    .await;
    report.emails_purged = outcome(&mut report, "email_purge", purged);
    let pruned = prune_rate_windows(conn).await;
    report.rate_windows_pruned = outcome(&mut report, "rate_limit_pruning", pruned);
    let pruned = prune_sign_in_records(conn).await;
    report.sign_in_records_pruned = outcome(&mut report, "sign_in_pruning", pruned);
    let pruned = prune_statistics(conn, now).await;
    report.statistics_pruned = outcome(&mut report, "statistics_retention", pruned);
    if let Some(media) = &settings.media {
        let collected = collect_media(conn, media).await;
        report.media_objects_deleted = outcome(&mut report, "media_collection", collected);
    }
    store::record_finish(conn, clock.now(), &report).await?;
    Ok(report)
}

/// Seals the search terms of the days before yesterday (their network sketches go, and the
/// terms fewer than five networks sent with them) and deletes statistics past their 400
/// days. Yesterday stays open for a process's last flush of it.
async fn prune_statistics(conn: &mut PgConnection, now: time::OffsetDateTime) -> sqlx::Result<u64> {
    use crate::stats::{model, store as stats};
    let today = now.to_offset(time::UtcOffset::UTC).date();
    let sealed = stats::seal_demand(conn, today - Duration::days(1), model::MIN_NETWORKS).await?;
    let cutoff = today - Duration::days(model::KEEP_DAYS);
    let deleted = in_batches(conn, |c| {
        Box::pin(stats::delete_before(c, cutoff, DELETE_BATCH))
    })
    .await?;
    Ok(sealed + deleted)
}

/// How old an object must be before it may be collected: an upload stores its objects
/// before the row that names them, and must not lose them in between.
const MEDIA_GRACE: StdDuration = StdDuration::from_secs(3600);

/// Deletes the photo objects no row refers to, written over `MEDIA_GRACE` ago: what a
/// failed deletion or an upload that never committed left behind.
async fn collect_media(
    conn: &mut PgConnection,
    media: &crate::photos::media::Media,
) -> anyhow::Result<u64> {
    let old = media.older_than(MEDIA_GRACE).await?;
    let mut deleted = 0;
    for chunk in old.chunks(DELETE_BATCH as usize) {
        for name in crate::photos::store::unreferenced(conn, chunk).await? {
            media.delete(&name).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// Sign-in records that can no longer change an answer, so that signing in and failing to
/// leaves nothing behind for good: sessions ended (revoked or expired) over 30 days ago,
/// with their refresh tokens (a replay of one was refused anyway; the month keeps them for
/// an investigation), email links and MFA challenges expired over a day ago, throttle
/// counts whose hour has passed with no lock left, networks an account has not signed in
/// from for 90 days, and daily failure counts of an earlier day that require no password
/// reset.
async fn prune_sign_in_records(conn: &mut PgConnection) -> sqlx::Result<u64> {
    let now = store::database_now(conn).await?;
    let (month, day, hours) = (
        now - Duration::days(30),
        now - Duration::days(1),
        now - Duration::hours(2),
    );
    let mut pruned = in_batches(conn, |c| {
        Box::pin(account_store::delete_ended_sessions(c, month, DELETE_BATCH))
    })
    .await?;
    pruned += in_batches(conn, |c| {
        Box::pin(account_store::delete_expired_email_tokens(
            c,
            day,
            DELETE_BATCH,
        ))
    })
    .await?;
    pruned += in_batches(conn, |c| {
        Box::pin(mfa_store::delete_expired_challenges(c, day, DELETE_BATCH))
    })
    .await?;
    pruned += in_batches(conn, |c| {
        Box::pin(account_store::delete_idle_throttles(c, hours, DELETE_BATCH))
    })
    .await?;
    let quarter = now - Duration::days(90);
    pruned += in_batches(conn, |c| {
        Box::pin(account_store::delete_forgotten_networks(
            c,
            quarter,
            DELETE_BATCH,
        ))
    })
    .await?;
    let two_days = now - Duration::days(2);
    pruned += in_batches(conn, |c| {
        Box::pin(account_store::delete_old_daily_failures(
            c,
            two_days,
            DELETE_BATCH,
        ))
    })
    .await?;
    Ok(pruned)
}

async fn prune_rate_windows(conn: &mut PgConnection) -> sqlx::Result<u64> {
    in_batches(conn, |conn| Box::pin(rate_limit::prune(conn, DELETE_BATCH))).await
}

/// Runs `batch`, which deletes at most `DELETE_BATCH` rows, until one deletes fewer (or
/// the pass has run its most batches); the rows deleted in all.
async fn in_batches(
    conn: &mut PgConnection,
    mut batch: impl for<'c> FnMut(&'c mut PgConnection) -> BoxFuture<'c, sqlx::Result<u64>>,
) -> sqlx::Result<u64> {
    let mut total = 0;
    for _ in 0..DELETE_BATCHES_PER_PASS {
        let deleted = batch(&mut *conn).await?;
        total += deleted;
        if deleted < DELETE_BATCH as u64 {
            break;
        }
    }
    Ok(total)
}

/// A freshness step in a transaction of its own.
async fn freshness_step(
    conn: &mut PgConnection,
    settings: &MaintenanceSettings,
    now: time::OffsetDateTime,
    which: &Step,
) -> sqlx::Result<u64> {
    let mut tx = conn.begin().await?;
    let done = step(&mut tx, settings, now, which).await?;
    tx.commit().await?;
    Ok(done)
}

/// One freshness step: marks up to `BATCH` published listings unconfirmed for `after`,
/// emails their therapists (demo accounts are marked but not emailed) and audits each.
struct Step {
    mark: Unconfirmed,
    after: Duration,
    email: fn(&Url, &str, &str) -> OutgoingEmail,
    action: &'static str,
}

/// Unconfirmed for 60 days, and not reminded since the last confirmation.
const REMIND: Step = Step {
    mark: Unconfirmed::Reminded,
    after: REMINDER_AFTER,
    email: templates::confirm_reminder,
    action: "listing.confirmation_reminded",
};

/// Unconfirmed for 90 days: out of default search.
const MARK_STALE: Step = Step {
    mark: Unconfirmed::Stale,
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
    let due = mark_unconfirmed(&mut *tx, step.mark, now, now - step.after, BATCH).await?;
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
