//! Rebuilding the public representation (`directory_entry`) in bulk, in parallel chunks.
//! Normal writes never need this (a trigger keeps entries current); bulk loads and
//! `reindex-directory` do. Each rebuilt entry is a change of the feed, so every running
//! search index picks it up.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use sqlx::PgPool;
use uuid::Uuid;

const CHUNK: usize = 5_000;

/// Rebuilds the entries of `ids` with `workers` connections at once.
pub async fn refresh(pool: &PgPool, ids: Vec<Uuid>, workers: usize) -> anyhow::Result<()> {
    let chunks: VecDeque<Vec<Uuid>> = ids.chunks(CHUNK).map(<[Uuid]>::to_vec).collect();
    let queue = Arc::new(Mutex::new(chunks));
    let mut tasks = Vec::new();
    for _ in 0..workers.max(1) {
        let queue = queue.clone();
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue
                    .lock()
                    .map_err(|_| anyhow::anyhow!("queue poisoned"))?
                    .pop_front();
                let Some(chunk) = next else {
                    return Ok::<(), anyhow::Error>(());
                };
                // Bulk work: exempt from the request-sized statement timeout.
                let mut tx = pool.begin().await?;
                sqlx::query("set local statement_timeout = 0")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("set local work_mem = '64MB'")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("select directory_refresh($1)")
                    .bind(&chunk)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let mut tx = pool.begin().await?;
    sqlx::query("set local statement_timeout = 0")
        .execute(&mut *tx)
        .await?;
    sqlx::query("analyze directory_entry")
        .execute(&mut *tx)
        .await?;
    sqlx::query("analyze directory_office")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Every listing's entry, rebuilt (after a restore, or an interrupted bulk load).
pub async fn reindex_all(pool: &PgPool, workers: usize) -> anyhow::Result<usize> {
    let ids: Vec<Uuid> =
        sqlx::query_scalar("select id from listing where status = 'published' order by id")
            .fetch_all(pool)
            .await?;
    let count = ids.len();
    refresh(pool, ids, workers).await?;
    Ok(count)
}
