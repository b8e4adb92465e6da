//! The load's connections ("lanes"). One PostgreSQL session loads on one core, so when
//! the server can commit several sessions as one (two-phase commit:
//! `max_prepared_transactions` ≥ 2) and the loading role may skip the per-row trigger
//! checks (foreign keys cannot see another session's rows), the tables are loaded by two
//! sessions at once and committed together: both transactions are prepared, then lane 1
//! (which holds the seed's `demo_seed_run` row) is committed, then lane 0. An interrupted
//! load leaves nothing behind: a session that ends unprepared is rolled back by the
//! server, and [`recover`] finishes what was prepared by the rule "the seed's row is
//! committed, so commit the rest; otherwise roll it back".

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

use super::generate::Taxonomy;
use crate::db::copy::CopyBuffer;

/// Lanes at most.
pub const LANES: usize = 2;

/// The lane of each of the load's tables (`TABLES`' order). Lane 0 loads the listings,
/// their public rows and the rows' numbering in the change feed, so that a search index
/// which sees the numbers sees the rows; lane 1 loads the rest and the seed's record, and
/// commits first. The split is about even in time at a million listings.
const LANE_OF: [usize; 12] = [1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0];

/// A prepared load older than this has stopped: its commit follows its prepare at once.
pub const STRANDED_AFTER: Duration = Duration::from_secs(60);

/// Prepared transactions of a load are named `seed-demo/{seed}/{run}/{lane}`.
const GID_PREFIX: &str = "seed-demo/";

/// A lane's share of one batch: (table, rows).
pub type Share = Vec<(usize, CopyBuffer)>;

pub struct Lanes {
    lanes: Vec<PoolConnection<Postgres>>,
    run: uuid::Uuid,
    seed: i64,
}

impl Lanes {
    /// Opens one lane, or two when the server and the role allow it; each in a
    /// transaction without a statement timeout, with trigger checks off on the fast path.
    pub async fn open(pool: &PgPool, seed: i64, fast_path: bool) -> anyhow::Result<Lanes> {
        let prepared: i32 = sqlx::query_scalar!(
            "select current_setting('max_prepared_transactions')::int as \"n!\""
        )
        .fetch_one(pool)
        .await?;
        let count = if fast_path && prepared >= LANES as i32 {
            LANES
        } else {
            1
        };
        let mut lanes = Vec::with_capacity(count);
        for _ in 0..count {
            let mut conn = pool.acquire().await?;
            // A lane that fails is dropped mid-transaction: closed, the server rolls it back.
            conn.close_on_drop();
            sqlx::raw_sql("begin; set local statement_timeout = 0")
                .execute(&mut *conn)
                .await?;
            if fast_path {
                sqlx::query!("set local session_replication_role = replica")
                    .execute(&mut *conn)
                    .await?;
            }
            lanes.push(conn);
        }
        Ok(Lanes {
            lanes,
            run: uuid::Uuid::new_v4(),
            seed,
        })
    }

    pub fn count(&self) -> usize {
        self.lanes.len()
    }

    /// The lane of table `table`.
    pub fn lane_of(&self, table: usize) -> usize {
        LANE_OF[table].min(self.lanes.len() - 1)
    }

    /// The lane that records the seed (and commits first).
    pub fn record(&mut self) -> &mut PoolConnection<Postgres> {
        let last = self.lanes.len() - 1;
        &mut self.lanes[last]
    }

    /// The lane that numbers the public rows in the change feed (and commits last).
    pub fn feed(&mut self) -> &mut PoolConnection<Postgres> {
        &mut self.lanes[0]
    }

    /// Runs every lane's COPYs at once, each from its own channel of shares; `batch_done`
    /// is called after each of lane 0's batches. Returns the time spent per table.
    pub async fn load(
        &mut self,
        statements: &[String; 12],
        channels: Vec<tokio::sync::mpsc::Receiver<Share>>,
        batch_done: impl Fn(),
    ) -> anyhow::Result<[Duration; 12]> {
        let batch_done = &batch_done;
        let work = self.lanes.iter_mut().zip(channels).enumerate().map(
            |(lane, (conn, mut shares))| async move {
                let mut spent = [Duration::ZERO; 12];
                while let Some(share) = shares.recv().await {
                    for (table, buffer) in share {
                        if buffer.bytes.is_empty() {
                            continue;
                        }
                        let started = Instant::now();
                        let mut copy = conn.copy_in_raw(&statements[table]).await?;
                        copy.send(buffer.bytes).await?;
                        copy.finish().await?;
                        spent[table] += started.elapsed();
                    }
                    if lane == 0 {
                        batch_done();
                    }
                }
                anyhow::Ok(spent)
            },
        );
        let mut total = [Duration::ZERO; 12];
        for spent in futures_util::future::try_join_all(work).await? {
            for (sum, part) in total.iter_mut().zip(spent) {
                *sum += part;
            }
        }
        Ok(total)
    }

    /// Commits the lanes as one: see the module's comment.
    pub async fn commit(self) -> anyhow::Result<()> {
        let Lanes {
            mut lanes,
            run,
            seed,
        } = self;
        if lanes.len() == 1 {
            sqlx::raw_sql("commit").execute(&mut *lanes[0]).await?;
            return Ok(());
        }
        for (lane, conn) in lanes.iter_mut().enumerate() {
            // The name is made of numbers and a UUID: nothing to escape.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "prepare transaction '{GID_PREFIX}{seed}/{run}/{lane}'"
            )))
            .execute(&mut **conn)
            .await?;
        }
        for lane in (0..lanes.len()).rev() {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "commit prepared '{GID_PREFIX}{seed}/{run}/{lane}'"
            )))
            .execute(&mut *lanes[0])
            .await?;
        }
        Ok(())
    }
}

impl Taxonomy {
    /// The terms a load may reference, locked against retirement until it commits.
    pub async fn locked(conn: &mut PoolConnection<Postgres>) -> sqlx::Result<Taxonomy> {
        Ok(Taxonomy {
            modalities: sqlx::query!(
                "select id, slug from modality where retired_at is null order by id for share"
            )
            .fetch_all(&mut **conn)
            .await?
            .into_iter()
            .map(|t| (t.id, t.slug))
            .collect(),
            specialties: sqlx::query!(
                "select id, slug from specialty where retired_at is null order by id for share"
            )
            .fetch_all(&mut **conn)
            .await?
            .into_iter()
            .map(|t| (t.id, t.slug))
            .collect(),
            insurers: sqlx::query!(
                "select id, slug from insurer where retired_at is null order by id for share"
            )
            .fetch_all(&mut **conn)
            .await?
            .into_iter()
            .map(|t| (t.id, t.slug))
            .collect(),
        })
    }
}

/// Finishes the prepared transactions of loads that stopped between preparing and
/// committing (older than `older_than`, so that a load committing right now is left
/// alone): committed when their seed's record is, otherwise rolled back. Such
/// transactions hold locks (on the taxonomy rows, for instance) until they are finished.
pub async fn recover(pool: &PgPool, older_than: Duration) -> anyhow::Result<()> {
    let stranded = sqlx::query_scalar!(
        "select gid as \"gid!\" from pg_prepared_xacts
          where database = current_database() and starts_with(gid, $1)
            and prepared < now() - make_interval(secs => $2)",
        GID_PREFIX,
        older_than.as_secs_f64()
    )
    .fetch_all(pool)
    .await?;
    for gid in stranded {
        let seed = stranded_seed(&gid).with_context(|| format!("prepared transaction {gid}"))?;
        let recorded: bool = sqlx::query_scalar!(
            "select exists (select 1 from demo_seed_run where seed = $1) as \"recorded!\"",
            seed
        )
        .fetch_one(pool)
        .await?;
        let verb = if recorded { "commit" } else { "rollback" };
        // `stranded_seed` admitted the name: numbers and a UUID.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("{verb} prepared '{gid}'")))
            .execute(pool)
            .await?;
        tracing::warn!(
            gid,
            verb,
            "finished an interrupted demo load's prepared transaction"
        );
    }
    Ok(())
}

/// The seed of a load's prepared transaction, from its name; an error for a name this
/// module did not write (it is then left alone, and never spliced into a statement).
fn stranded_seed(gid: &str) -> anyhow::Result<i64> {
    let rest = gid.strip_prefix(GID_PREFIX).context("not a demo load")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let [seed, run, lane] = parts.as_slice() else {
        bail!("not a demo load's name");
    };
    if uuid::Uuid::parse_str(run).is_err() || lane.parse::<u8>().is_err() {
        bail!("not a demo load's name");
    }
    Ok(seed.parse()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_of_its_own_are_recovered() {
        let run = uuid::Uuid::new_v4();
        assert_eq!(stranded_seed(&format!("seed-demo/42/{run}/1")).unwrap(), 42);
        for other in [
            "seed-demo/42".to_string(),
            format!("seed-demo/42/{run}/1'; drop table x; --"),
            format!("seed-demo/x/{run}/0"),
            format!("other/42/{run}/0"),
            "seed-demo/1/not-a-uuid/0".to_string(),
        ] {
            assert!(stranded_seed(&other).is_err(), "{other}");
        }
    }

    #[test]
    fn the_feed_lane_loads_the_public_rows_and_their_listings() {
        // listing, directory_entry, directory_office (TABLES' order)
        let feed: Vec<usize> = (0..LANE_OF.len()).filter(|&t| LANE_OF[t] == 0).collect();
        assert_eq!(feed, [1, 10, 11]);
    }
}
