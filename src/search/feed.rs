//! Keeps a process's index current: a build from PostgreSQL at start, then every change of
//! the feed (`directory_change`) applied in order. `LISTEN directory_change` wakes the
//! follower as soon as a change commits; a poll every `POLL` is the safety net for a lost
//! notification or a dropped listening connection.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::db::read::ReadPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;
use uuid::Uuid;

use super::index::Index;
use super::lexicon::Lexicon;
use super::map_order;
use super::snapshot;
use super::store::{self, TAXONOMY_SUBJECT};
use super::{SearchIndex, Searchable};
pub use crate::config::ChildBuild;

/// How often the feed is read when no notification arrives.
const POLL: Duration = Duration::from_millis(500);
/// How often a notified change is looked for on a replica that does not have it yet.
const HURRY: Duration = Duration::from_millis(25);
/// For how long after a notification: past a replica's allowed lag (2 s by default), when
/// the reads have moved to the primary, the change is read from there at once.
const HURRY_FOR: Duration = Duration::from_secs(3);
/// How long the feed must stay behind the index before the index is rebuilt.
const BEHIND_FOR: Duration = Duration::from_secs(10);
/// Changes read per round trip while catching up.
const CHANGES_PER_READ: i64 = 5_000;
/// Entries per batch of a build.
const BUILD_BATCH: usize = 10_000;

/// A build in a child process: this executable, run as `build-search-snapshot PATH`
/// against the database, writes the snapshot and exits, and the process reads it. A build
/// leaves the allocator holding what the rows it read left free, and lays the index out
/// among them; read from a snapshot the index is smaller and quicker to search
/// (bench/README.md, "Latest figures"). The child's memory goes with it.
impl ChildBuild {
    /// Runs the child to its end; an error when it fails.
    async fn write(&self, path: &Path) -> anyhow::Result<()> {
        use secrecy::ExposeSecret;
        let status = tokio::process::Command::new(&self.executable)
            .arg("build-search-snapshot")
            .arg(path)
            .env("DATABASE_URL", self.database_url.expose_secret())
            .env("APP_JWT_SECRET", self.jwt_secret.expose_secret())
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .status()
            .await?;
        anyhow::ensure!(
            status.success(),
            "the index-building process ended with {status}"
        );
        Ok(())
    }
}

/// Builds the index from the database and writes it to `path` (`build-search-snapshot`).
pub async fn write_snapshot(pool: &PgPool, path: &Path) -> anyhow::Result<()> {
    let (index, header) = from_database(pool).await?;
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || snapshot::write(&path, &header, &index)).await??;
    Ok(())
}

/// Builds the index with the number of the last change it holds: from the snapshot file
/// at `snapshot` when that is this database's (see `snapshot`), else from the database,
/// then written to `snapshot` for the next start. With `child`, the build runs in a child
/// process and this one reads its snapshot; here when that fails.
pub async fn build(
    pool: &PgPool,
    snapshot: Option<&Path>,
    child: Option<&ChildBuild>,
) -> anyhow::Result<(Searchable, i64)> {
    let started = Instant::now();
    if let Some(path) = snapshot {
        let read = from_snapshot(pool, path).await?;
        let read = match (read, child) {
            (Err(refused), Some(child)) => {
                tracing::info!(reason = %refused, "search index snapshot not used; building it in a child process");
                match child.write(path).await {
                    Ok(()) => from_snapshot(pool, path).await?,
                    Err(e) => Err(snapshot::Refused::Unreadable(format!("{e:#}"))),
                }
            }
            (read, _) => read,
        };
        match read {
            Ok((index, seq)) => {
                tracing::info!(
                    listings = index.len(),
                    seq,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "search index read from its snapshot"
                );
                return Ok((searchable(index), seq));
            }
            Err(refused) => {
                tracing::info!(reason = %refused, "search index snapshot not used; building from the database")
            }
        }
    }
    let (index, header) = from_database(pool).await?;
    let seq = header.seq;
    tracing::info!(
        listings = index.len(),
        seq,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "search index built"
    );
    let index = match snapshot {
        Some(path) => {
            let path = path.to_owned();
            let written = tokio::task::spawn_blocking(move || {
                let result = snapshot::write(&path, &header, &index);
                (index, path, result)
            })
            .await?;
            match written.2 {
                Ok(()) => {
                    tracing::info!(path = %written.1.display(), "search index snapshot written")
                }
                Err(e) => {
                    tracing::warn!(path = %written.1.display(), error = %e, "search index snapshot not written")
                }
            }
            written.0
        }
        None => index,
    };
    Ok((searchable(index), seq))
}

/// The index and the header of its snapshot, from one snapshot of the database.
async fn from_database(pool: &PgPool) -> anyhow::Result<(Index, snapshot::Header)> {
    let mut tx = crate::db::begin_bulk(pool).await?;
    // One snapshot: every change numbered up to `seq` is in it and none after (numbers are
    // taken in commit order, see migration 0020). A SET takes no snapshot, so the isolation
    // level may still be chosen here.
    sqlx::query!("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let seq = store::latest_change(&mut tx).await?;
    let header = snapshot::header(&mut tx, seq).await?;
    let taxonomy = store::taxonomy(&mut tx).await?;
    let order = map_order::in_map_order(store::placements(&mut tx).await?);
    // Each batch is read while the one before is applied, on a thread of its own.
    let mut applying = tokio::task::spawn_blocking(move || Index::with_taxonomy(taxonomy));
    for ids in order.chunks(BUILD_BATCH) {
        let mut batch = store::entries(&mut tx, ids).await?;
        // Applied in the order's order, which numbers the documents.
        let place: HashMap<Uuid, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        batch.sort_unstable_by_key(|e| place.get(&e.listing_id).copied());
        let mut index = applying.await?;
        applying = tokio::task::spawn_blocking(move || {
            index.apply(batch, &[]);
            index
        });
    }
    let index = applying.await?;
    tx.commit().await?;
    Ok((index, header))
}

/// The index in the snapshot file at `path`, or why it is not used; an error when the
/// database does not answer.
async fn from_snapshot(
    pool: &PgPool,
    path: &Path,
) -> anyhow::Result<Result<(Index, i64), snapshot::Refused>> {
    let mut conn = pool.acquire().await?;
    let latest = store::latest_change(&mut conn).await?;
    let expected = snapshot::header(&mut conn, latest).await?;
    drop(conn);
    let path = path.to_owned();
    Ok(tokio::task::spawn_blocking(move || snapshot::read(&path, &expected, latest)).await?)
}

/// The index with its lexicon and typo set.
fn searchable(mut index: Index) -> Searchable {
    let mut lexicon = Lexicon::build(&index.taxonomy);
    lexicon.refresh_known(&index);
    index.vocabulary_changed = false;
    Searchable { index, lexicon }
}

/// Applies the changes after the last one applied, until none is left.
pub async fn catch_up(pool: &PgPool, search: &SearchIndex) -> anyhow::Result<()> {
    loop {
        let Some(after) = search.applied() else {
            return Ok(());
        };
        let changes = store::changes_after(pool, after, CHANGES_PER_READ).await?;
        let Some(&(_, last)) = changes.last() else {
            return Ok(());
        };
        let taxonomy_changed = changes.iter().any(|(s, _)| *s == TAXONOMY_SUBJECT);
        let ids: Vec<Uuid> = changes
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| *s != TAXONOMY_SUBJECT)
            .collect();
        let mut conn = pool.acquire().await?;
        let taxonomy = match taxonomy_changed {
            true => Some(store::taxonomy(&mut conn).await?),
            false => None,
        };
        let upserts = store::entries(&mut conn, &ids).await?;
        drop(conn);
        let present: HashSet<Uuid> = upserts.iter().map(|e| e.listing_id).collect();
        let deletes: Vec<Uuid> = ids.into_iter().filter(|id| !present.contains(id)).collect();
        let mut vocabulary_changed = false;
        search.update(|s| {
            s.index.apply(upserts, &deletes);
            if let Some(taxonomy) = taxonomy {
                s.index.taxonomy = taxonomy;
                // The new lexicon keeps the typo set until its own is built below.
                let known = s.lexicon.replace_known(Default::default());
                s.lexicon = Lexicon::build(&s.index.taxonomy);
                s.lexicon.replace_known(known);
                s.index.vocabulary_changed = true;
            }
            vocabulary_changed = std::mem::take(&mut s.index.vocabulary_changed);
            if vocabulary_changed {
                s.index.reclaim_words();
            }
        });
        if vocabulary_changed {
            refresh_typos(search).await;
        }
        search.mark_applied(last);
    }
}

/// Rebuilds the typo set after the vocabulary changed. Searches go on meanwhile: the keys
/// are read under the shared lock, the set is built with no lock on a blocking thread, and
/// the exclusive lock is held only to swap it in. Until then a new word is found exactly;
/// the change counts as applied once its typos are found too.
async fn refresh_typos(search: &SearchIndex) {
    let Some(keys) = search.peek(|s| s.lexicon.known_keys(&s.index)) else {
        return;
    };
    if let Ok(known) = tokio::task::spawn_blocking(move || Lexicon::typo_set(&keys)).await {
        search.update(|s| {
            s.lexicon.replace_known(known);
        });
    }
}

/// Builds the index, then follows the feed until `stop`. Notifications come from the
/// primary (a replica cannot LISTEN); the index reads from `reads`, which a replica may
/// serve, so a change is applied once the replica has it (the poll picks it up).
pub async fn run(
    primary: PgPool,
    reads: ReadPool,
    search: SearchIndex,
    (snapshot, child): (Option<PathBuf>, Option<ChildBuild>),
    mut stop: watch::Receiver<bool>,
) {
    let snapshot = snapshot.as_deref();
    loop {
        match rebuild(reads.get(), &search, (snapshot, child.as_ref()), &mut stop).await {
            None => return,
            Some(Ok(())) => break,
            Some(Err(err)) => {
                tracing::warn!(error = %format!("{err:#}"), "search index build failed; retrying");
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
    let mut listener: Option<PgListener> = None;
    let mut behind_since: Option<Instant> = None;
    // After a notification, until the change is read: a replica may not have it yet when
    // the primary's notification arrives, so it is asked again soon rather than at the poll.
    let mut hurry_until: Option<Instant> = None;
    loop {
        if listener.is_none() {
            listener = listen(&primary).await;
        }
        let before = search.applied();
        if let Err(err) = catch_up(reads.get(), &search).await {
            search.note_feed_error();
            tracing::warn!(error = %format!("{err:#}"), "search index could not read the change feed");
        }
        // The feed as the primary has it: while the index holds all of it, it is current;
        // `/readyz` turns 503 once it has been behind for longer than the configured lag.
        let latest = latest_on(&primary).await;
        if let (Some(latest), Some(applied)) = (latest, search.applied())
            && latest <= applied
        {
            search.note_caught_up();
        }
        // After a restore from an older backup the feed numbers changes again from below the
        // last one applied, and none of them would be read: the index is built anew. The
        // primary is asked, since a read replica that was down and comes back behind the
        // changes the index took from the primary meanwhile is late, not restored. Only a
        // feed that stays behind counts.
        let went_back = matches!((latest, search.applied()), (Some(l), Some(a)) if l < a);
        behind_since = match went_back {
            false => None,
            true => Some(behind_since.unwrap_or_else(Instant::now)),
        };
        if behind_since.is_some_and(|t| t.elapsed() >= BEHIND_FOR) {
            tracing::warn!(
                "the change feed went back (a restored database?): rebuilding the search index"
            );
            match rebuild(reads.get(), &search, (snapshot, child.as_ref()), &mut stop).await {
                None => return,
                Some(Ok(())) => behind_since = None,
                Some(Err(err)) => {
                    tracing::warn!(error = %format!("{err:#}"), "search index rebuild failed")
                }
            }
        }
        if search.applied() != before || hurry_until.is_some_and(|t| Instant::now() > t) {
            hurry_until = None;
        }
        let notified = async {
            match listener.as_mut() {
                Some(l) => l.recv().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        let wait = if hurry_until.is_some() { HURRY } else { POLL };
        tokio::select! {
            _ = stop.changed() => return,
            ok = notified => {
                if ok {
                    hurry_until = Some(Instant::now() + HURRY_FOR);
                } else {
                    listener = None;
                }
            }
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Builds the index from `pool` and installs it, or gives up when `stop` turns true first
/// (`None`): a shutdown during a build (tens of seconds at a million listings) drops it, its
/// snapshot transaction rolled back and nothing kept.
async fn rebuild(
    pool: &PgPool,
    search: &SearchIndex,
    (snapshot, child): (Option<&Path>, Option<&ChildBuild>),
    stop: &mut watch::Receiver<bool>,
) -> Option<anyhow::Result<()>> {
    let built = tokio::select! {
        built = build(pool, snapshot, child) => built,
        _ = stop.changed() => return None,
    };
    Some(built.map(|(searchable, seq)| {
        search.install(searchable);
        search.mark_applied(seq);
        search.note_caught_up();
    }))
}

/// The feed's latest number on `pool`, when it answers.
async fn latest_on(pool: &PgPool) -> Option<i64> {
    let mut conn = pool.acquire().await.ok()?;
    store::latest_change(&mut conn).await.ok()
}

async fn listen(pool: &PgPool) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.ok()?;
    listener.listen("directory_change").await.ok()?;
    Some(listener)
}
