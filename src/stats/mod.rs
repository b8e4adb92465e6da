//! Statistics: what therapists and admins learn from the directory: profile views, search appearances
//! and inquiries per listing and day (`GET /v1/me/stats`), searches per day and the ones
//! that find nothing or little (`GET /v1/admin/insights/searches`).
//!
//! Views, appearances and searches are counted in this process's memory (`tally`) and
//! added to PostgreSQL every [`FLUSH_EVERY`] and at shutdown, one upsert per listing and
//! day per flush, so processes add up and a crash loses one interval at most. Inquiries
//! are counted in the transaction that stores them. Nothing about a visitor is stored:
//! the counts, and the words of searches that found little with a sketch of how many
//! networks sent them (`sketch`). Privacy and retention: docs/engagement.md.

pub mod crawlers;
pub mod demand;
pub mod model;
pub mod routes;
pub mod sketch;
pub mod store;
pub mod tally;

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header::USER_AGENT;
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

use crate::clock::Clock;
use crate::search::model::SearchResults;
use crate::search::params::SearchParams;
use sketch::NetworkHasher;
use tally::{Counted, SearchCount, Tally};

/// How often counts reach the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(10);
/// Rows per statement of a flush (a busy interval is written in several statements).
const FLUSH_CHUNK: usize = 5_000;

/// The process's counters, shared by the handlers and the flush.
#[derive(Clone)]
pub struct Counters {
    /// False with `APP_STATISTICS=false`: nothing is counted.
    on: bool,
    tally: Arc<Tally>,
    hasher: NetworkHasher,
    clock: Clock,
}

/// What one flush wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Flushed {
    pub listing_rows: usize,
    pub search_days: usize,
    pub demand_rows: usize,
}

impl Counters {
    /// Counters whose network hashes are keyed from the master secret; days are UTC days of
    /// `clock`. Off, they count nothing.
    pub fn new(master: &SecretString, clock: Clock, on: bool) -> Self {
        let key = crate::keys::derive(master, crate::keys::Purpose::SearchDemandNetworks);
        Counters {
            on,
            tally: Arc::new(Tally::default()),
            hasher: NetworkHasher::new(key),
            clock,
        }
    }

    /// Whether a request counts: counting is on and the request is a person's, a GET (not a
    /// HEAD) from a browser or a frontend's server, not a known crawler.
    pub fn counts(&self, req: &HttpRequest) -> bool {
        let agent = req.headers().get(USER_AGENT).and_then(|v| v.to_str().ok());
        self.on && !crate::http::conventions::is_head(req) && !crawlers::is_crawler(agent)
    }

    /// Counts a view of the listing's profile (the caller has checked the viewer is not its
    /// owner and [`Counters::counts`] the request).
    pub fn profile_viewed(&self, listing: Uuid) {
        let day = self.clock.now().date();
        self.tally.listings(day, std::iter::once(listing), true);
    }

    /// Counts a page of search results served: each listing on it appears once, and a first
    /// page is a search, with what it asked for when it found little. `asked` is the
    /// search as sent, `read` as applied.
    pub fn search_served(
        &self,
        req: &HttpRequest,
        (asked, read): (&SearchParams, &SearchParams),
        results: &SearchResults,
    ) {
        if !self.counts(req) {
            return;
        }
        let day = self.clock.now().date();
        let ids = results.listings.iter().copied();
        self.tally.listings(day, ids, false);
        if asked.cursor.is_some() {
            return;
        }
        let terms = demand::terms(asked, read, results.total);
        let network = match terms.is_empty() {
            true => 0,
            false => {
                let network = crate::http::client_ip::ClientIp::of(req).wide_network_key();
                self.hasher.hash(day, &network)
            }
        };
        self.tally.search(SearchCount {
            day,
            total: results.total,
            demand: &terms,
            network,
        });
    }

    /// Counts dropped because the tables were full, since the process started.
    pub fn dropped(&self) -> u64 {
        self.tally.dropped()
    }

    /// Writes what was counted since the last flush. What fails to be written goes back to
    /// memory for the next one.
    pub async fn flush(&self, pool: &PgPool) -> anyhow::Result<Flushed> {
        let counted = self.tally.take();
        if counted.is_empty() {
            return Ok(Flushed::default());
        }
        let mut left = Counted::default();
        let flushed = write(pool, counted, &mut left).await;
        if !left.is_empty() {
            self.tally.restore(left);
        }
        flushed
    }
}

/// Writes `counted`, each statement on its own (a statement is atomic): the rows of one
/// that fails are moved to `left`, and the first failure is returned once the rest were
/// tried.
async fn write(pool: &PgPool, counted: Counted, left: &mut Counted) -> anyhow::Result<Flushed> {
    let mut failure: Option<sqlx::Error> = None;
    let mut listings: Vec<_> = counted.listings.into_iter().collect();
    listings.sort_unstable_by_key(|(key, _)| *key);
    let mut days: Vec<_> = counted.days.into_iter().collect();
    days.sort_unstable_by_key(|(day, _)| *day);
    let mut demand: Vec<_> = counted.demand.into_iter().collect();
    demand.sort_unstable_by(|(a, _), (b, _)| {
        (a.day, a.kind.as_str(), &a.term).cmp(&(b.day, b.kind.as_str(), &b.term))
    });
    let flushed = Flushed {
        listing_rows: listings.len(),
        search_days: days.len(),
        demand_rows: demand.len(),
    };
    for chunk in listings.chunks(FLUSH_CHUNK) {
        if let Err(e) = store::add_listing_counts(pool, chunk).await {
            left.listings.extend(chunk.iter().copied());
            failure.get_or_insert(e);
        }
    }
    if let Err(e) = store::add_search_days(pool, &days).await {
        left.days.extend(days);
        failure.get_or_insert(e);
    }
    for chunk in demand.chunks(FLUSH_CHUNK) {
        if let Err(e) = store::add_demand(pool, chunk).await {
            left.demand.extend(chunk.iter().cloned());
            failure.get_or_insert(e);
        }
    }
    match failure {
        None => Ok(flushed),
        Some(e) => {
            Err(anyhow::Error::new(e).context("statistics not written; kept for the next flush"))
        }
    }
}

/// Flushes every [`FLUSH_EVERY`], sooner when a table fills up, and once more when `stop`
/// turns true (after the server has finished its requests).
pub async fn run(counters: Counters, pool: PgPool, mut stop: watch::Receiver<bool>) {
    let mut dropped = 0;
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(FLUSH_EVERY) => false,
            _ = counters.tally.full.notified() => false,
            _ = stop.changed() => true,
        } || *stop.borrow();
        let now_dropped = counters.dropped();
        if now_dropped > dropped {
            tracing::warn!(
                dropped = now_dropped - dropped,
                "statistics tables were full before their flush; those counts were dropped"
            );
            dropped = now_dropped;
        }
        match counters.flush(&pool).await {
            Ok(flushed) => tracing::debug!(?flushed, "statistics flushed"),
            Err(err) => tracing::warn!(error = %format!("{err:#}"), "statistics flush failed"),
        }
        if stopping {
            return;
        }
    }
}
