//! Reads that may lag behind the primary by the replica's replication delay (public
//! profiles, taxonomy lists, the search index's reads) go to a read replica when one is
//! configured (`APP_DATABASE_READ_URL`) and answering; otherwise to the primary. Everything
//! that writes, and everything a signed-in user reads about themselves, stays on the
//! primary, so a therapist always sees their own edit.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::watch;

/// How long a check may take.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How often the replica is checked (and the primary's position noted): a replica that
/// falls behind loses the reads within its allowed lag and this.
const CHECK_INTERVAL: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct ReadPool {
    primary: PgPool,
    replica: Option<Replica>,
}

#[derive(Clone)]
struct Replica {
    pool: PgPool,
    up: Arc<AtomicBool>,
    /// How far behind the primary it may be and still take reads.
    max_lag: Duration,
    /// How far behind it was at the last check, in milliseconds (`u64::MAX`: unknown).
    lag_ms: Arc<AtomicU64>,
}

impl ReadPool {
    /// Reads from the primary only.
    pub fn primary(primary: PgPool) -> Self {
        ReadPool {
            primary,
            replica: None,
        }
    }

    /// Reads from `replica` while it answers and is at most `max_lag` behind the primary
    /// (`watch` keeps track), else from `primary`. The replica counts as down until its
    /// first check succeeds.
    pub fn with_replica(primary: PgPool, replica: PgPool, max_lag: Duration) -> Self {
        ReadPool {
            primary,
            replica: Some(Replica {
                pool: replica,
                up: Arc::new(AtomicBool::new(false)),
                max_lag,
                lag_ms: Arc::new(AtomicU64::new(u64::MAX)),
            }),
        }
    }

    /// The pool a lagging read should use now.
    pub fn get(&self) -> &PgPool {
        match &self.replica {
            Some(replica) if replica.up.load(Ordering::Relaxed) => &replica.pool,
            _ => &self.primary,
        }
    }

    /// How far the replica was behind the primary at its last check (at least this much;
    /// `None` without a replica or while it does not answer).
    pub fn replica_lag(&self) -> Option<Duration> {
        let lag = self.replica.as_ref()?.lag_ms.load(Ordering::Relaxed);
        (lag != u64::MAX).then(|| Duration::from_millis(lag))
    }

    /// Whether the replica answers: `None` without a replica.
    pub fn replica_up(&self) -> Option<bool> {
        self.replica
            .as_ref()
            .map(|replica| replica.up.load(Ordering::Relaxed))
    }

    /// Checks the replica four times a second until `stop`, so reads move to the primary
    /// within about a second of the replica going away, or of its falling more than its
    /// allowed lag behind (a replica whose replay stopped would keep serving removed listings), and
    /// back once it answers and has caught up. The lag is measured in WAL: at every check the
    /// primary's position is noted, and the replica must have replayed the one noted
    /// `max_lag` ago.
    pub async fn watch(self, mut stop: watch::Receiver<bool>) {
        let Some(replica) = self.replica else {
            return;
        };
        let mut marks: VecDeque<(Instant, String)> = VecDeque::new();
        loop {
            let position = sqlx::query_scalar!(r#"select pg_current_wal_lsn()::text as "lsn!""#)
                .fetch_one(&self.primary);
            if let Ok(Ok(lsn)) = tokio::time::timeout(CHECK_EVERY, position).await {
                marks.push_back((Instant::now(), lsn));
            }
            // Keep the newest mark that is at least `max_lag` old, and those after it.
            while marks.len() > 1 && marks[1].0.elapsed() >= replica.max_lag {
                marks.pop_front();
            }
            let check = sqlx::query_scalar!(r#"select pg_last_wal_replay_lsn()::text as "lsn""#)
                .fetch_one(&replica.pool);
            // How long ago the primary was where the replica's replay is now: the age of the
            // oldest position noted that it has not replayed (none: current). A server that
            // is not replaying (the primary itself) has no replay position and is current.
            let lag = match tokio::time::timeout(CHECK_EVERY, check).await {
                Ok(Ok(replayed)) => {
                    let replayed = replayed.as_deref().and_then(lsn);
                    Some(
                        marks
                            .iter()
                            .find(|(_, at)| {
                                replayed.is_some_and(|r| lsn(at).is_some_and(|a| a > r))
                            })
                            .map_or(Duration::ZERO, |(noted, _)| noted.elapsed()),
                    )
                }
                _ => None,
            };
            let lag_ms = lag.map_or(u64::MAX, |l| {
                u64::try_from(l.as_millis()).unwrap_or(u64::MAX)
            });
            replica.lag_ms.store(lag_ms, Ordering::Relaxed);
            let up = lag.is_some_and(|lag| lag < replica.max_lag);
            if replica.up.swap(up, Ordering::Relaxed) != up {
                if up {
                    tracing::info!("read replica answers and is current: lagging reads go to it");
                } else {
                    tracing::warn!(
                        "read replica does not answer or lags too far: lagging reads go to the primary"
                    );
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(CHECK_INTERVAL) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// A WAL position (`16/B374D848`) as a number, so two compare.
fn lsn(text: &str) -> Option<u64> {
    let (high, low) = text.split_once('/')?;
    let (high, low) = (
        u64::from_str_radix(high, 16).ok()?,
        u64::from_str_radix(low, 16).ok()?,
    );
    Some(high << 32 | low)
}

#[cfg(test)]
mod tests {
    use super::lsn;

    #[test]
    fn wal_positions_compare_as_numbers() {
        assert_eq!(lsn("0/0"), Some(0));
        assert!(lsn("16/B374D848") > lsn("16/B374D847"));
        assert!(lsn("17/0") > lsn("16/FFFFFFFF"));
        assert_eq!(lsn("nonsense"), None);
    }
}
