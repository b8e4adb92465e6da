//! The matches of a text search split into buckets of equal relevance, highest first, and
//! split only as far as a page reads.
//!
//! A bucket holds the documents matching the same number of words with the same weight
//! (3 for a word in the name or a modality, 2 in the practice, 1 in the statement; the best
//! place per word). Every word splits each part of the matches in two: the dropped words by
//! whether they match, the used words by the place they match best, one place at a time. A
//! part is split only while it may still hold the highest bucket not yet read, so a page
//! filled from the first bucket or two leaves the rest of the matches unsplit.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use roaring::RoaringBitmap;

/// (words matched, weight): the order of buckets, highest first.
pub type Key = (u64, u64);

/// One word's split.
pub enum Split<'a> {
    /// A dropped word: matching it adds a word, no weight.
    Dropped(&'a RoaringBitmap),
    /// A used word's matches by place (name, practice, statement): every document holds the
    /// word in one of them.
    Used(&'a [RoaringBitmap; 3]),
}

/// Part of the matches: the splits before `split` are made, and so are the places of
/// `split` before `place`.
struct Part<'a> {
    set: Cow<'a, RoaringBitmap>,
    split: usize,
    place: usize,
    key: Key,
    /// The highest key a bucket of this part can have; its key once every split is made.
    best: Key,
    done: bool,
}

impl PartialEq for Part<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Part<'_> {}

impl PartialOrd for Part<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Part<'_> {
    /// By the best key; at equal keys a part still to split first, so that every part of a
    /// bucket is found before the bucket is read.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.best, !self.done).cmp(&(other.best, !other.done))
    }
}

/// The buckets of a set of matches, highest first.
pub struct Buckets<'a, F> {
    /// The dropped words' splits, then the used words'.
    splits: Vec<Split<'a>>,
    dropped: usize,
    parts: BinaryHeap<Part<'a>>,
    /// Whether a bucket of this key is wanted: all of them, or after a cursor those from the
    /// cursor's bucket down. Wanting a key means wanting every lower one.
    wanted: F,
}

impl<'a, F: Fn(Key) -> bool> Buckets<'a, F> {
    /// The buckets of `matches`: the dropped words' splits first, as a word matched counts
    /// before where words match.
    pub fn new(matches: Cow<'a, RoaringBitmap>, mut splits: Vec<Split<'a>>, wanted: F) -> Self {
        splits.sort_by_key(|s| matches!(s, Split::Used(_)));
        let dropped = splits
            .iter()
            .filter(|s| matches!(s, Split::Dropped(_)))
            .count();
        let mut buckets = Buckets {
            splits,
            dropped,
            parts: BinaryHeap::new(),
            wanted,
        };
        buckets.push(matches, 0, 0, (0, 0));
        buckets
    }

    /// Keeps a part unless it is empty or none of its buckets is wanted.
    fn push(&mut self, set: Cow<'a, RoaringBitmap>, split: usize, place: usize, key: Key) {
        // The dropped and used words from `split` on.
        let dropped = self.dropped.saturating_sub(split) as u64;
        let used = (self.splits.len() - split.max(self.dropped)) as u64;
        // Each used word still to split adds a word and at least the statement's weight;
        // at best every dropped word matches too, and every used word in the name.
        let worst = (key.0 + used, key.1 + used);
        let best = (key.0 + dropped + used, key.1 + 3 * used - place as u64);
        // Wanted keys are the lower ones (from the cursor's bucket down): a part whose lowest
        // key is not wanted has no wanted bucket.
        if set.is_empty() || !(self.wanted)(worst) {
            return;
        }
        self.parts.push(Part {
            set,
            split,
            place,
            key,
            best,
            done: split == self.splits.len(),
        });
    }

    /// Splits `part` by its next word, or by the word's next place.
    fn split(&mut self, part: Part<'a>) {
        let Part {
            set,
            split,
            place,
            key: (words, weight),
            ..
        } = part;
        match self.splits[split] {
            Split::Dropped(word) => {
                let with = &*set & word;
                let without = minus(set, &with);
                self.push(Cow::Owned(with), split + 1, 0, (words + 1, weight));
                self.push(without, split + 1, 0, (words, weight));
            }
            // Whatever is left holds the word in its statement.
            Split::Used(_) if place == 2 => self.push(set, split + 1, 0, (words + 1, weight + 1)),
            Split::Used(by_place) => {
                let at = &*set & &by_place[place];
                let rest = minus(set, &at);
                let points = 3 - place as u64;
                self.push(Cow::Owned(at), split + 1, 0, (words + 1, weight + points));
                self.push(rest, split, place + 1, (words, weight));
            }
        }
    }
}

/// `set` without `part`, which is part of it.
fn minus<'a>(set: Cow<'a, RoaringBitmap>, part: &RoaringBitmap) -> Cow<'a, RoaringBitmap> {
    if part.is_empty() {
        return set;
    }
    match set {
        Cow::Borrowed(set) => Cow::Owned(set - part),
        Cow::Owned(mut set) => {
            set -= part;
            Cow::Owned(set)
        }
    }
}

impl<'a, F: Fn(Key) -> bool> Iterator for Buckets<'a, F> {
    type Item = (Key, Cow<'a, RoaringBitmap>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let part = self.parts.pop()?;
            if !part.done {
                self.split(part);
                continue;
            }
            // Every other part that may reach this key is split now, and its share joined.
            let key = part.best;
            let mut bucket = part.set;
            while self.parts.peek().is_some_and(|p| p.best >= key) {
                let Some(next) = self.parts.pop() else { break };
                if next.done {
                    *bucket.to_mut() |= &*next.set;
                } else {
                    self.split(next);
                }
            }
            if (self.wanted)(key) {
                return Some((key, bucket));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;

    /// The buckets equal the documents grouped by their key, highest first, whatever the
    /// words; after a cursor, those from its bucket down.
    #[test]
    fn buckets_are_the_matches_grouped_by_key_highest_first() {
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..40 {
            let docs: RoaringBitmap = (0..3000).filter(|_| rng.random_bool(0.3)).collect();
            let some = |rng: &mut StdRng, p: f64| -> RoaringBitmap {
                docs.iter().filter(|_| rng.random_bool(p)).collect()
            };
            // Each used word: every document in exactly one place, most often the statement.
            let used: Vec<[RoaringBitmap; 3]> = (0..rng.random_range(0..4))
                .map(|_| {
                    let mut places: [RoaringBitmap; 3] = Default::default();
                    for doc in &docs {
                        let place = [0, 1, 2, 2][rng.random_range(0..4)];
                        places[place].insert(doc);
                    }
                    places
                })
                .collect();
            let dropped: Vec<RoaringBitmap> = (0..rng.random_range(0..4))
                .map(|_| some(&mut rng, 0.2))
                .collect();
            let key_of = |doc: u32| -> Key {
                let mut key = (0, 0);
                for places in &used {
                    let place = places.iter().position(|p| p.contains(doc)).unwrap_or(2);
                    key = (key.0 + 1, key.1 + 3 - place as u64);
                }
                key.0 += dropped.iter().filter(|d| d.contains(doc)).count() as u64;
                key
            };
            let mut grouped: BTreeMap<Key, RoaringBitmap> = BTreeMap::new();
            for doc in &docs {
                grouped.entry(key_of(doc)).or_default().insert(doc);
            }
            let cursor = *grouped
                .keys()
                .nth(rng.random_range(0..grouped.len()))
                .unwrap();
            for floor in [None, Some(cursor)] {
                let splits = used
                    .iter()
                    .map(Split::Used)
                    .chain(dropped.iter().map(Split::Dropped))
                    .collect();
                let wanted = |key: Key| floor.is_none_or(|f| key <= f);
                let found: Vec<(Key, RoaringBitmap)> =
                    Buckets::new(Cow::Borrowed(&docs), splits, wanted)
                        .map(|(key, set)| (key, set.into_owned()))
                        .collect();
                let expected: Vec<(Key, RoaringBitmap)> = grouped
                    .iter()
                    .rev()
                    .filter(|(key, _)| wanted(**key))
                    .map(|(key, set)| (*key, set.clone()))
                    .collect();
                assert_eq!(found, expected);
            }
        }
    }
}
