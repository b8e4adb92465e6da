//! What this process counted since its last flush, held in memory and bounded: a table per
//! listing and day, and one per searched term and day. Each is a plain map that the flush
//! empties every ten seconds, so it only ever holds one interval's worth; when one fills
//! up (a flood of distinct searches, say), the flush is woken early and what does not fit
//! meanwhile is dropped and counted (`dropped`), never allowed to grow the process.
//!
//! Why a bounded table and not a sketch such as count-min: the report needs the searched
//! words themselves and their distinct networks, which a frequency sketch cannot give back,
//! and one interval of a busy directory's searches that find little fits easily. The
//! long-term aggregation is PostgreSQL's, one row per term and day.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use time::Date;
use tokio::sync::Notify;
use uuid::Uuid;

use super::model::DemandKind;
use super::sketch::NetworkSketch;

/// Listing-days one interval holds; a listing shown on every page of ten seconds at full
/// speed is far below it (each row is about 50 bytes, so this bounds the table near 10 MB).
pub const MAX_LISTING_ROWS: usize = 200_000;
/// Searched terms one interval holds (each at most about 600 bytes with its sketch).
pub const MAX_DEMAND_ROWS: usize = 4_096;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListingCounts {
    pub profile_views: u32,
    pub search_appearances: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub searches: u64,
    pub without_results: u64,
    pub with_few_results: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DemandKey {
    pub day: Date,
    pub kind: DemandKind,
    pub term: String,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Demand {
    pub searches: u32,
    pub without_results: u32,
    pub networks: NetworkSketch,
}

/// One interval's counts, as the flush takes them.
#[derive(Debug, Default)]
pub struct Counted {
    pub listings: HashMap<(Uuid, Date), ListingCounts>,
    pub days: HashMap<Date, DayCounts>,
    pub demand: HashMap<DemandKey, Demand>,
}

impl Counted {
    pub fn is_empty(&self) -> bool {
        self.listings.is_empty() && self.days.is_empty() && self.demand.is_empty()
    }
}

/// What a served search tells the tally.
pub struct SearchCount<'a> {
    pub day: Date,
    pub total: u64,
    /// Terms it asked for, when it found little; each with the sending network's hash.
    pub demand: &'a [(DemandKind, String)],
    pub network: u64,
}

#[derive(Default)]
pub struct Tally {
    listings: Mutex<HashMap<(Uuid, Date), ListingCounts>>,
    searches: Mutex<(HashMap<Date, DayCounts>, HashMap<DemandKey, Demand>)>,
    dropped: AtomicU64,
    /// Wakes the flush when a table is full.
    pub full: Notify,
}

impl Tally {
    /// Adds one to the listings' counts; `view` says which.
    pub fn listings(&self, day: Date, ids: impl Iterator<Item = Uuid>, view: bool) {
        let Ok(mut table) = self.listings.lock() else {
            return;
        };
        for id in ids {
            let len = table.len();
            let counts = match table.get_mut(&(id, day)) {
                Some(counts) => counts,
                None if len >= MAX_LISTING_ROWS => {
                    self.overflowed();
                    continue;
                }
                None => table.entry((id, day)).or_default(),
            };
            let count = if view {
                &mut counts.profile_views
            } else {
                &mut counts.search_appearances
            };
            *count = count.saturating_add(1);
        }
    }

    /// Counts a search: the day's totals, and what it asked for when it found little.
    pub fn search(&self, search: SearchCount<'_>) {
        let Ok(mut guard) = self.searches.lock() else {
            return;
        };
        let (days, demand) = &mut *guard;
        let day = days.entry(search.day).or_default();
        day.searches += 1;
        match search.total {
            0 => day.without_results += 1,
            n if n < super::model::FEW_RESULTS => day.with_few_results += 1,
            _ => {}
        }
        for (kind, term) in search.demand {
            let key = DemandKey {
                day: search.day,
                kind: *kind,
                term: term.clone(),
            };
            let len = demand.len();
            let entry = match demand.get_mut(&key) {
                Some(entry) => entry,
                None if len >= MAX_DEMAND_ROWS => {
                    self.overflowed();
                    continue;
                }
                None => demand.entry(key).or_default(),
            };
            entry.searches = entry.searches.saturating_add(1);
            if search.total == 0 {
                entry.without_results = entry.without_results.saturating_add(1);
            }
            entry.networks.add(search.network);
        }
    }

    fn overflowed(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        self.full.notify_one();
    }

    /// Counts dropped because a table was full, since the process started.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Empties the tables, for a flush.
    pub fn take(&self) -> Counted {
        let listings = self
            .listings
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        let (days, demand) = self
            .searches
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        Counted {
            listings,
            days,
            demand,
        }
    }

    /// Puts back what a failed flush could not write, within the same bounds: the next flush
    /// tries again.
    pub fn restore(&self, counted: Counted) {
        if let Ok(mut table) = self.listings.lock() {
            for (key, counts) in counted.listings {
                if table.len() >= MAX_LISTING_ROWS && !table.contains_key(&key) {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let mine = table.entry(key).or_default();
                mine.profile_views = mine.profile_views.saturating_add(counts.profile_views);
                mine.search_appearances = mine
                    .search_appearances
                    .saturating_add(counts.search_appearances);
            }
        }
        let Ok(mut guard) = self.searches.lock() else {
            return;
        };
        let (days, demand) = &mut *guard;
        for (date, counts) in counted.days {
            let mine = days.entry(date).or_default();
            mine.searches += counts.searches;
            mine.without_results += counts.without_results;
            mine.with_few_results += counts.with_few_results;
        }
        for (key, theirs) in counted.demand {
            if demand.len() >= MAX_DEMAND_ROWS && !demand.contains_key(&key) {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let mine = demand.entry(key).or_default();
            mine.searches = mine.searches.saturating_add(theirs.searches);
            mine.without_results = mine.without_results.saturating_add(theirs.without_results);
            mine.networks.merge(&theirs.networks);
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const DAY: Date = date!(2026 - 12 - 06);

    fn search(tally: &Tally, total: u64, term: &str, network: u64) {
        tally.search(SearchCount {
            day: DAY,
            total,
            demand: &[(DemandKind::Query, term.to_owned())],
            network,
        });
    }

    #[test]
    fn views_and_appearances_add_up_per_listing_and_day() {
        let tally = Tally::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        tally.listings(DAY, [a, b, a].into_iter(), false);
        tally.listings(DAY, std::iter::once(a), true);
        let counted = tally.take();
        assert_eq!(
            counted.listings[&(a, DAY)],
            ListingCounts {
                profile_views: 1,
                search_appearances: 2
            }
        );
        assert_eq!(counted.listings[&(b, DAY)].search_appearances, 1);
        assert!(tally.take().is_empty(), "a take empties the tables");
    }

    #[test]
    fn searches_are_counted_by_outcome_and_terms_by_network() {
        let tally = Tally::default();
        search(&tally, 0, "ketamine", 1);
        search(&tally, 3, "ketamine", 2);
        search(&tally, 3, "ketamine", 2);
        tally.search(SearchCount {
            day: DAY,
            total: 40,
            demand: &[],
            network: 3,
        });
        let counted = tally.take();
        assert_eq!(
            counted.days[&DAY],
            DayCounts {
                searches: 4,
                without_results: 1,
                with_few_results: 2
            }
        );
        let key = DemandKey {
            day: DAY,
            kind: DemandKind::Query,
            term: "ketamine".into(),
        };
        let demand = counted.demand[&key];
        assert_eq!((demand.searches, demand.without_results), (3, 1));
        assert_eq!(demand.networks.estimate(), 2);
    }

    #[test]
    fn a_flood_of_distinct_terms_stays_bounded_and_is_counted_as_dropped() {
        let tally = Tally::default();
        for i in 0..MAX_DEMAND_ROWS + 100 {
            search(&tally, 0, &format!("term {i}"), 1);
        }
        assert_eq!(tally.dropped(), 100);
        let counted = tally.take();
        assert_eq!(counted.demand.len(), MAX_DEMAND_ROWS);
        assert_eq!(counted.days[&DAY].searches as usize, MAX_DEMAND_ROWS + 100);
        // A failed flush puts them back, still within the bound.
        search(&tally, 0, "new", 1);
        tally.restore(counted);
        assert_eq!(tally.take().demand.len(), MAX_DEMAND_ROWS);
        assert_eq!(tally.dropped(), 101);
    }

    #[test]
    fn listing_rows_are_bounded_too() {
        let tally = Tally::default();
        let ids: Vec<Uuid> = (0..MAX_LISTING_ROWS + 10).map(|_| Uuid::now_v7()).collect();
        tally.listings(DAY, ids.iter().copied(), false);
        assert_eq!(tally.dropped(), 10);
        assert_eq!(tally.take().listings.len(), MAX_LISTING_ROWS);
    }
}
