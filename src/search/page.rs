//! Choosing a page: the first `n` of a set in a search's order after the cursor's position,
//! by walking a kept order or by ranking the set's members, whichever reads less.

use std::collections::BinaryHeap;
use std::ops::Bound;

use roaring::RoaringBitmap;

use super::index::{DocId, Index, Order};

/// A position in a search's order: the sort key and a tie-breaker, both ascending.
pub type Position = (i64, u128);

/// The first `n` members of `set` in `order` after `after` (positions in the order's
/// terms). A large set is read by walking the order and testing membership, about
/// `n × all / |set|` steps; a small one by ranking its members.
pub fn in_order(
    index: &Index,
    set: &RoaringBitmap,
    order: Order,
    after: Option<Position>,
    n: usize,
) -> Vec<(Position, DocId)> {
    let size = set.len() as usize;
    if size * size > 4 * n * index.listing.len().max(1) {
        let start = match after {
            Some((key, tie)) => Bound::Excluded((key, tie, DocId::MAX)),
            None => Bound::Unbounded,
        };
        index
            .ordered(order)
            .range((start, Bound::Unbounded))
            .filter(|(_, _, doc)| set.contains(*doc))
            .take(n)
            .map(|&(key, tie, doc)| ((key, tie), doc))
            .collect()
    } else {
        smallest(
            set.iter().map(|doc| (doc, index.position(order, doc))),
            after,
            n,
        )
    }
}

/// The `n` smallest positions after `after`.
pub fn smallest(
    candidates: impl Iterator<Item = (DocId, Position)>,
    after: Option<Position>,
    n: usize,
) -> Vec<(Position, DocId)> {
    let mut heap: BinaryHeap<(Position, DocId)> = BinaryHeap::with_capacity(n + 1);
    for (doc, position) in candidates {
        if after.is_some_and(|a| position <= a) {
            continue;
        }
        if heap.len() < n {
            heap.push((position, doc));
        } else if heap.peek().is_some_and(|top| (position, doc) < *top) {
            heap.pop();
            heap.push((position, doc));
        }
    }
    heap.into_sorted_vec()
}
