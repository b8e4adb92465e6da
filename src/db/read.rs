//! Reads that may lag behind the primary by the replica's replication delay (public
//! profiles, taxonomy lists, the search index's reads) go to a read replica when one is
//! configured (`APP_DATABASE_READ_URL`) and answering; otherwise to the primary. Everything
//! that writes, and everything a signed-in user reads about themselves, stays on the
//! primary, so a therapist always sees their own edit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

/// How often the replica is checked, and how long a check may take.
const CHECK_EVERY: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct ReadPool {
    primary: PgPool,
    replica: Option<Replica>,
}

#[derive(Clone)]
struct Replica {
    pool: PgPool,
    up: Arc<AtomicBool>,
}

impl ReadPool {
    /// Reads from the primary only.
    pub fn primary(primary: PgPool) -> Self {
        ReadPool {
            primary,
            replica: None,
        }
    }

    /// Reads from `replica` while it answers (`watch` keeps track), else from `primary`.
    /// The replica counts as down until its first check succeeds.
    pub fn with_replica(primary: PgPool, replica: PgPool) -> Self {
        ReadPool {
            primary,
            replica: Some(Replica {
                pool: replica,
                up: Arc::new(AtomicBool::new(false)),
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

    /// Whether the replica answers: `None` without a replica.
    pub fn replica_up(&self) -> Option<bool> {
        self.replica
            .as_ref()
            .map(|replica| replica.up.load(Ordering::Relaxed))
    }

    /// Checks the replica every second until `stop`, so reads move to the primary within
    /// about a second of the replica going away, and back once it answers again.
    pub async fn watch(self, mut stop: watch::Receiver<bool>) {
        let Some(replica) = self.replica else {
            return;
        };
        loop {
            let check = sqlx::query_scalar!(r#"select 1 as "one!""#).fetch_one(&replica.pool);
            let up = matches!(tokio::time::timeout(CHECK_EVERY, check).await, Ok(Ok(1)));
            if replica.up.swap(up, Ordering::Relaxed) != up {
                if up {
                    tracing::info!("read replica answers: lagging reads go to it");
                } else {
                    tracing::warn!("read replica does not answer: lagging reads go to the primary");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(CHECK_EVERY) => {}
                _ = stop.changed() => return,
            }
        }
    }
}
