//! Public search (`GET /v1/therapists`) from an index held in this process.
//!
//! PostgreSQL is the source of truth: `directory_entry` holds what the public may see, kept
//! by triggers. Each API process builds its own index from it at start (`feed::build`),
//! then follows the change feed (`directory_change`, migration 0020) to stay current: woken
//! by `LISTEN directory_change`, and polling as the safety net. A search reads the index
//! only, its items included (`card`): no database read.
//! Design and measurements: `docs/search.md`.

pub mod bbox;
mod buckets;
pub mod card;
pub mod catalog;
mod codes;
pub mod counts;
mod dense;
pub mod entry;
mod facets;
pub mod feed;
#[cfg(test)]
mod fixtures;
mod geo;
mod grid;
pub mod index;
#[cfg(test)]
mod index_tests;
pub mod interpret;
mod item;
mod largest;
pub mod lexicon;
mod map_order;
pub mod model;
mod page;
pub mod params;
pub mod query;
mod relevance;
pub mod routes;
pub mod snapshot;
pub mod store;
pub mod suggest;
pub mod summary;
pub mod text;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};
use crate::http::cursor::CursorKey;
use crate::photos::media::Media;
use index::Index;
use interpret::Interpreted;
use lexicon::Lexicon;
use model::SearchResults;
use params::{SearchParams, Sort};

/// The index and the vocabulary built from it.
#[derive(Default)]
pub struct Searchable {
    pub index: Index,
    pub lexicon: Lexicon,
}

/// The process's search index, shared by the request handlers and the feed.
#[derive(Clone)]
pub struct SearchIndex {
    state: Arc<RwLock<Option<Searchable>>>,
    /// The last change number applied; `None` until the first build has caught up.
    applied: Arc<watch::Sender<Option<i64>>>,
    /// When the index last held every change the feed had (the feed's view: the primary).
    caught_up: Arc<Mutex<Option<Instant>>>,
    /// Reads of the feed that failed since the process started.
    feed_errors: Arc<AtomicU64>,
    /// How long the index may stay behind the feed and still count as current.
    max_lag: Duration,
}

impl Default for SearchIndex {
    fn default() -> Self {
        SearchIndex {
            state: Arc::new(RwLock::new(None)),
            applied: Arc::new(watch::channel(None).0),
            caught_up: Arc::new(Mutex::new(None)),
            feed_errors: Arc::new(AtomicU64::new(0)),
            max_lag: Duration::from_secs(30),
        }
    }
}

impl SearchIndex {
    /// Whether the index has been built and has caught up with the feed once.
    pub fn is_ready(&self) -> bool {
        self.applied.borrow().is_some()
    }

    /// The last change number applied.
    pub fn applied(&self) -> Option<i64> {
        *self.applied.borrow()
    }

    /// How long the index has been behind the change feed: zero while it holds every
    /// change, `None` before it first caught up.
    pub fn lag(&self) -> Option<Duration> {
        let caught_up = *self.caught_up.lock().ok()?;
        caught_up.map(|at| at.elapsed())
    }

    /// An index that may stay behind its feed for `max_lag` and still count as current.
    pub fn with_max_lag(max_lag: Duration) -> Self {
        SearchIndex {
            max_lag,
            ..SearchIndex::default()
        }
    }

    /// Whether the index has been behind its feed for longer than it may (a feed that
    /// keeps failing, a replica that stopped replaying).
    pub fn is_stale(&self) -> bool {
        self.lag().is_some_and(|lag| lag > self.max_lag)
    }

    /// Reads of the feed that failed since the process started.
    pub fn feed_errors(&self) -> u64 {
        self.feed_errors.load(Ordering::Relaxed)
    }

    fn note_caught_up(&self) {
        if let Ok(mut at) = self.caught_up.lock() {
            *at = Some(Instant::now());
        }
    }

    fn note_feed_error(&self) {
        self.feed_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Waits until change `seq` is applied, at most `timeout`; whether it was.
    pub async fn wait_for(&self, seq: i64, timeout: Duration) -> bool {
        let mut rx = self.applied.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|s| s.is_some_and(|s| s >= seq)))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Reads the index; 503 while it is being built.
    pub fn read<T>(&self, f: impl FnOnce(&Searchable) -> T) -> Result<T, ApiError> {
        let guard = self.state.read().map_err(|_| {
            ApiError::internal(anyhow::anyhow!("the search index lock is poisoned"))
        })?;
        match guard.as_ref() {
            Some(s) if self.is_ready() => Ok(f(s)),
            _ => Err(ApiError::new(
                ErrorCode::ServiceUnavailable,
                "The search index is being built; try again in a moment.",
            )
            .with_retry_after(5)),
        }
    }

    /// Reads the index whether or not it is ready (the feed, between its own updates:
    /// nothing else writes it).
    fn peek<T>(&self, f: impl FnOnce(&Searchable) -> T) -> Option<T> {
        self.state.read().ok()?.as_ref().map(f)
    }

    fn install(&self, searchable: Searchable) {
        if let Ok(mut guard) = self.state.write() {
            *guard = Some(searchable);
        }
    }

    fn update(&self, f: impl FnOnce(&mut Searchable)) {
        if let Ok(mut guard) = self.state.write()
            && let Some(s) = guard.as_mut()
        {
            f(s);
        }
    }

    fn mark_applied(&self, seq: i64) {
        self.applied.send_replace(Some(seq));
    }
}

/// The keyset position after the last item of a page.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    /// Fingerprint of the search the cursor belongs to.
    f: String,
    sort: Sort,
    /// The sort key in ascending order (see `query::run`).
    key: i64,
    id: Uuid,
}

/// The tie-breaker of a position: listing ids ascending, or descending where the latest
/// confirmation decides (relevance ends on it).
fn tie(sort: Sort, id: Uuid) -> u128 {
    if matches!(sort, Sort::RecentlyConfirmed | Sort::Relevance) {
        u128::MAX - id.as_u128()
    } else {
        id.as_u128()
    }
}

/// Runs a search against the index alone: no database read. `query` is the raw query
/// string (for the cursor's fingerprint). Also returns the search as it was read (`q`'s
/// phrases applied as filters and a place), for the statistics.
pub fn search(
    index: &SearchIndex,
    media: &Media,
    cursors: &CursorKey,
    params: &SearchParams,
    query: &str,
) -> Result<(SearchResults, SearchParams), ApiError> {
    let fingerprint = params.fingerprint(query);
    let cursor: Option<Cursor> = params
        .cursor
        .as_deref()
        .map(|c| cursors.decode(c))
        .transpose()?;
    let limit = params.limit.unwrap_or(20).clamp(1, 50) as usize;
    // Where the cursor stands in a search sorted by `sort`; an error when it belongs to
    // another search.
    let position = |sort: Sort| -> Result<Option<query::Position>, ApiError> {
        match &cursor {
            None => Ok(None),
            Some(c) if c.f == fingerprint && c.sort == sort => Ok(Some((c.key, tie(sort, c.id)))),
            Some(_) => Err(ApiError::parameter(
                "cursor",
                "belongs to another search; start again without it",
            )
            .with_code(ErrorCode::InvalidCursor)),
        }
    };
    let run = |s: &Searchable, p: &SearchParams, after| {
        query::run(&s.index, &s.lexicon, p, p.effective_sort(), after, limit)
    };
    // `q` read the way people write it: filter phrases and a place become parameters. When
    // what was understood finds nothing, `q` is read as plain words, as before (whose
    // words are then relaxed until some listing matches). Which reading answers depends
    // only on whether the first finds anything, so every page of a walk takes the same
    // one, and a cursor is placed in the reading it came from.
    let (read, interpreted, sort, mut answer, items) = index.read(|s| {
        let chosen = || {
            let (read, interpreted) = interpret::interpret(params, s.lexicon.phrases());
            let sort = read.effective_sort();
            let after = position(sort);
            if !interpreted.as_ref().is_some_and(Interpreted::understood) {
                let answer = run(s, &read, after?)?;
                return Ok((read, interpreted, sort, answer));
            }
            let answer = run(s, &read, after.as_ref().ok().copied().flatten())?;
            if answer.total > 0 {
                after?;
                return Ok((read, interpreted, sort, answer));
            }
            let plain = params.effective_sort();
            let answer = run(s, params, position(plain)?)?;
            let seen = Some(Interpreted::plain(params.q.clone()));
            Ok::<_, ApiError>((params.clone(), seen, plain, answer))
        };
        let (read, interpreted, sort, answer) = chosen()?;
        // Written while the index is held: a document's number is reused after a deletion.
        let shown = &answer.page[..answer.page.len().min(limit)];
        let items = item::page(&s.index, media, shown)?;
        Ok::<_, ApiError>((read, interpreted, sort, answer, items))
    })??;
    let params = &read;
    let more = answer.page.len() > limit;
    answer.page.truncate(limit);
    let next_cursor = match (more, answer.page.last()) {
        (true, Some(hit)) => Some(cursors.encode(&Cursor {
            f: fingerprint,
            sort,
            key: hit.position.0,
            id: hit.listing,
        })),
        _ => None,
    };
    #[allow(deprecated)] // the flags stay in the response for existing clients
    let results = SearchResults {
        items: items.json,
        listings: items.listings,
        next_cursor,
        total: answer.total,
        total_is_exact: true,
        facets: answer.facets,
        facets_are_exact: true,
        query_words_used: answer.words_used,
        place: params.place.clone(),
        interpreted,
    };
    Ok((results, read))
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;

    use super::SearchIndex;

    #[test]
    fn while_the_index_is_built_searches_are_told_when_to_come_back() {
        let building = SearchIndex::default();
        let refused = building.read(|_| ()).unwrap_err().error_response();
        assert_eq!(refused.status(), 503);
        assert!(refused.headers().contains_key("retry-after"));
    }
}
