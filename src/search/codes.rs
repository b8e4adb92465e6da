//! Each document's facet values as small numbers, laid out for counting over scattered
//! documents.
//!
//! Counting a facet over a few thousand matches reads the values of documents spread over
//! the whole index, so the cost is memory reads and one increment per value. Each
//! document's values sit inline in a slot of one cache line at a position computed from its
//! number: one read per document, and the reads of successive documents do not wait on each
//! other (a boxed slice per document costs two dependent reads, the pointer and then the
//! values). The rare document with more values than a slot holds keeps them in `overflow`.
//! A value (a facet and a term id or name number) is stored as its number here, given on
//! first sight, so the counts are one flat array of a few hundred entries.
//!
//! Counting over many matches (a common word, a modality nationwide) reads nearly every
//! slot, so there the store reads columns instead: for each of the first values numbered,
//! a plain bitset of the documents holding it, counted against the matches a 64-byte block
//! at a time (`dense`).
//!
//! A set of matches that is exactly one value's counted documents (a modality, a specialty
//! or an insurer browsed nationwide) or every counted document (no filter at all) needs no
//! count: the store keeps, for each pair of values with a column, how many counted
//! documents hold both, and answers from that value's row. Which documents are counted is
//! the caller's to say (the index counts the ones a search shows by default). Whether a set
//! is such a set is proven for each search, by its size and by two columns read against it,
//! so a table that does not fit is never used.
//!
//! Documents are addressed by their number in the index (`index::Doc`); this store is
//! below the index and knows nothing else of it.

use std::collections::HashMap;

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use super::dense;
use super::entry::FacetTag;

/// A document's number in the index.
type Doc = u32;

/// A value's number.
type Code = u16;

/// A facet value: its facet, and a term id or the number of a delivery or format name.
pub type FacetValue = (FacetTag, u32);

/// Values a slot holds; the slot's first word is the count. Demo listings have 5 to 24
/// values, most of them 9 to 15.
const INLINE: usize = 31;

/// Numbers given to values; `Code::MAX` marks an overflowing slot. Past this many
/// distinct values, later ones are not stored (`incomplete` turns true).
const CAPACITY: usize = Code::MAX as usize;

/// Values with a column: the first this many numbered. A column is a bit per document
/// (125 kB at a million), so they take 32 MB at most there; demo listings have about 80
/// values. Counting reads every column whole, whatever its value's share of documents.
const COLUMNS: usize = 256;

/// From this many documents, `count` reads the columns. Below, reading each document's
/// slot costs less than reading every column whole (measured in docs/search.md, "How large
/// match sets stay cheap").
const COLUMNS_FROM: u64 = 10_000;

/// How `FacetCodes::count` reads the documents' values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Counting {
    /// Each document's slot: every value is counted.
    PerDocument,
    /// The columns: values past them are not counted.
    Columns,
}

impl Counting {
    /// The cheaper way for `docs`.
    pub fn for_docs(docs: &RoaringBitmap) -> Counting {
        if docs.len() >= COLUMNS_FROM {
            Counting::Columns
        } else {
            Counting::PerDocument
        }
    }
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[repr(C, align(64))]
struct Slot([Code; INLINE + 1]);

impl Default for Slot {
    fn default() -> Self {
        Slot([0; INLINE + 1])
    }
}

#[derive(Default, Serialize, Deserialize)]
pub struct FacetCodes {
    slots: Vec<Slot>,
    overflow: HashMap<Doc, Box<[Code]>>,
    /// Each number's value.
    values: Vec<FacetValue>,
    numbers: HashMap<FacetValue, Code>,
    /// True once a value found no number: counts from here would then miss it.
    incomplete: bool,
    /// The documents holding each of the first `COLUMNS` numbers, derived from the slots.
    #[serde(skip)]
    columns: Vec<Vec<u64>>,
    /// The counted documents, and how many they are.
    #[serde(skip)]
    counted: Vec<u64>,
    #[serde(skip)]
    counted_len: u64,
    /// How many counted documents hold both of two numbers below `COLUMNS`, at
    /// `a * COLUMNS + b`; `a * COLUMNS + a`: how many hold `a`. Empty until a document is
    /// counted.
    #[serde(skip)]
    pairs: Vec<u32>,
}

/// How many documents of a set hold each value.
pub struct FacetCounts<'a> {
    codes: &'a FacetCodes,
    /// By number: `None` for a number not counted, as are numbers past the end.
    counts: Vec<Option<u64>>,
}

impl FacetCounts<'_> {
    /// How many of the documents hold `value`, when this store counted it: not a value past
    /// the columns when they were read, nor one left without a number.
    pub fn get(&self, value: FacetValue) -> Option<u64> {
        match self.codes.numbers.get(&value) {
            Some(&n) => self.counts.get(n as usize).copied().flatten(),
            None => (!self.codes.incomplete).then_some(0),
        }
    }
}

/// The numbers of `doc`'s values.
fn held<'a>(slots: &'a [Slot], overflow: &'a HashMap<Doc, Box<[Code]>>, doc: Doc) -> &'a [Code] {
    match slots.get(doc as usize) {
        Some(Slot(slot)) => {
            let n = slot[0] as usize;
            if n <= INLINE {
                &slot[1..=n]
            } else {
                overflow.get(&doc).map_or(&[], |v| v)
            }
        }
        None => &[],
    }
}

/// Adds (or takes away) one document holding `codes` to the counts of each pair of them.
fn count_pairs(pairs: &mut Vec<u32>, codes: &[Code], add: bool) {
    if pairs.is_empty() {
        pairs.resize(COLUMNS * COLUMNS, 0);
    }
    for &a in codes.iter().filter(|&&a| (a as usize) < COLUMNS) {
        let row = &mut pairs[a as usize * COLUMNS..][..COLUMNS];
        for &b in codes.iter().filter(|&&b| (b as usize) < COLUMNS) {
            let n = &mut row[b as usize];
            *n = if add {
                n.wrapping_add(1)
            } else {
                n.wrapping_sub(1)
            };
        }
    }
}

/// Marks `doc` in the column of `code`, if it has one.
fn mark(columns: &mut Vec<Vec<u64>>, code: Code, doc: Doc) {
    let n = code as usize;
    if n < COLUMNS {
        if n >= columns.len() {
            columns.resize_with(n + 1, Vec::new);
        }
        dense::insert(&mut columns[n], doc);
    }
}

impl FacetCodes {
    fn get(&self, doc: Doc) -> &[Code] {
        held(&self.slots, &self.overflow, doc)
    }

    /// Derives the columns and the pair counts from the slots (after a snapshot is read),
    /// counting the documents of `counted`.
    pub fn derive_columns(&mut self, counted: &RoaringBitmap) {
        let FacetCodes {
            slots,
            overflow,
            columns,
            pairs,
            ..
        } = self;
        columns.clear();
        pairs.clear();
        for doc in 0..slots.len() as Doc {
            let codes = held(slots, overflow, doc);
            for &code in codes {
                mark(columns, code, doc);
            }
            if counted.contains(doc) {
                count_pairs(pairs, codes, true);
            }
        }
        self.counted = dense::words_of(counted, counted.max().map_or(0, |d| d as usize / 64 + 1));
        self.counted_len = counted.len();
    }

    fn number(&mut self, value: FacetValue) -> Option<Code> {
        if let Some(&n) = self.numbers.get(&value) {
            return Some(n);
        }
        if self.values.len() >= CAPACITY {
            self.incomplete = true;
            return None;
        }
        let n = self.values.len() as Code;
        self.values.push(value);
        self.numbers.insert(value, n);
        Some(n)
    }

    /// Sets `doc`'s values, and whether it is counted in the pair counts.
    pub fn set(&mut self, doc: Doc, values: &[FacetValue], counted: bool) {
        let FacetCodes {
            slots,
            overflow,
            columns,
            counted: counted_docs,
            counted_len,
            pairs,
            ..
        } = self;
        let old = held(slots, overflow, doc);
        for &code in old {
            if let Some(column) = columns.get_mut(code as usize) {
                dense::remove(column, doc);
            }
        }
        if dense::contains(counted_docs, doc) {
            count_pairs(pairs, old, false);
            dense::remove(counted_docs, doc);
            *counted_len -= 1;
        }
        let codes: Vec<Code> = values.iter().filter_map(|&v| self.number(v)).collect();
        for &code in &codes {
            mark(&mut self.columns, code, doc);
        }
        if counted {
            count_pairs(&mut self.pairs, &codes, true);
            dense::insert(&mut self.counted, doc);
            self.counted_len += 1;
        }
        let d = doc as usize;
        if d >= self.slots.len() {
            self.slots.resize(d + 1, Slot::default());
        }
        let slot = &mut self.slots[d].0;
        if codes.len() <= INLINE {
            slot[0] = codes.len() as Code;
            slot[1..=codes.len()].copy_from_slice(&codes);
            self.overflow.remove(&doc);
        } else {
            slot[0] = Code::MAX;
            self.overflow.insert(doc, codes.into());
        }
    }

    pub fn clear(&mut self, doc: Doc) {
        self.set(doc, &[], false);
    }

    /// The words of a set read against the columns: documents past them hold no value.
    fn words(&self) -> usize {
        let columns = self.columns.iter().map(Vec::len).max().unwrap_or(0);
        columns.max(self.counted.len())
    }

    /// The counts of `set` (`len` documents, as words) from the pair counts, when `set` is
    /// proven to be every counted document or one value's: it lies within them and is as
    /// large. Values past the columns are not counted.
    fn kept_counts(&self, len: u64, set: &[u64]) -> Option<Vec<Option<u64>>> {
        // A value's counted documents: at most this many values as large are tried.
        const TRIED: usize = 3;
        if self.pairs.is_empty() {
            return None;
        }
        let width = self.values.len().min(COLUMNS);
        let diagonal = |n: usize| self.pairs[n * COLUMNS + n];
        // Sizes first: most sets are no such set, and are ruled out without reading a column.
        let all = len == self.counted_len;
        let candidates: Vec<usize> = (0..width)
            .filter(|&n| !all && u64::from(diagonal(n)) == len)
            .take(TRIED)
            .collect();
        if !all && candidates.is_empty() {
            return None;
        }
        let within = |column: &[u64]| dense::and_counts(&[column], set)[0] == len;
        if !within(&self.counted) {
            return None;
        }
        let row: Vec<u32> = if all {
            (0..width).map(diagonal).collect()
        } else {
            let n = candidates
                .into_iter()
                .find(|&n| self.columns.get(n).is_some_and(|c| within(c)))?;
            self.pairs[n * COLUMNS..][..width].to_vec()
        };
        let mut counts: Vec<Option<u64>> = row.into_iter().map(|n| Some(u64::from(n))).collect();
        counts.resize(self.values.len(), None);
        Some(counts)
    }

    /// How many of `docs` hold each value, read the way `how` says. The columns are read
    /// only for the values of `tags`: a pass over a column costs the same whatever its
    /// share of the documents, and a search asks for some facets, not all.
    pub fn count(&self, docs: &RoaringBitmap, how: Counting, tags: &[FacetTag]) -> FacetCounts<'_> {
        let counts = match how {
            Counting::PerDocument => {
                let mut counts = vec![0u64; self.values.len()];
                for doc in docs {
                    for &code in self.get(doc) {
                        if let Some(n) = counts.get_mut(code as usize) {
                            *n += 1;
                        }
                    }
                }
                counts.into_iter().map(Some).collect()
            }
            Counting::Columns => {
                let set = dense::words_of(docs, self.words());
                if let Some(counts) = self.kept_counts(docs.len(), &set) {
                    return FacetCounts {
                        codes: self,
                        counts,
                    };
                }
                let picked: Vec<usize> = (0..self.columns.len())
                    .filter(|&n| self.values.get(n).is_some_and(|v| tags.contains(&v.0)))
                    .collect();
                let columns: Vec<&[u64]> = picked.iter().map(|&n| &self.columns[n][..]).collect();
                let counted = dense::and_counts(&columns, &set);
                let mut counts = vec![None; self.values.len()];
                for (n, count) in picked.into_iter().zip(counted) {
                    counts[n] = Some(count);
                }
                counts
            }
        };
        FacetCounts {
            codes: self,
            counts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(i: u32) -> FacetValue {
        (FacetTag::Specialty, i)
    }

    /// The counts of values 0..=41 over `docs`, read both ways (which must agree).
    fn counted(codes: &FacetCodes, docs: &[u32]) -> Vec<u64> {
        let docs: RoaringBitmap = docs.iter().copied().collect();
        let [per_document, columns] = [Counting::PerDocument, Counting::Columns].map(|how| {
            let counts = codes.count(&docs, how, &[FacetTag::Specialty]);
            (0..=41).map(|i| counts.get(value(i))).collect::<Vec<_>>()
        });
        assert_eq!(per_document, columns);
        per_document.into_iter().map(|n| n.unwrap_or(0)).collect()
    }

    #[test]
    fn values_round_trip_inline_and_overflowing() {
        let mut codes = FacetCodes::default();
        let few: Vec<FacetValue> = (1..=INLINE as u32).map(value).collect();
        let many: Vec<FacetValue> = (1..=40).map(value).collect();
        codes.set(3, &few, true);
        codes.set(7, &many, true);
        let both = counted(&codes, &[3, 5, 7, 100]);
        assert_eq!(both[1..=INLINE], [2; INLINE]);
        assert_eq!(both[INLINE + 1..=40], [1; 40 - INLINE]);
        assert_eq!((both[0], both[41]), (0, 0), "values no document holds");
        assert_eq!(
            counted(&codes, &[5, 100]),
            [0; 42],
            "unset and past the last"
        );
        codes.set(7, &[value(9)], true);
        assert!(codes.overflow.is_empty());
        codes.clear(3);
        assert_eq!(counted(&codes, &[3, 7])[9], 1);
        assert_eq!(counted(&codes, &[3, 7]).iter().sum::<u64>(), 1);
        assert!(!codes.incomplete);
    }

    #[test]
    fn columns_follow_changes_and_are_derived_again_from_the_slots() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(5);
        let mut codes = FacetCodes::default();
        let docs: Vec<u32> = (0..3000).collect();
        for _ in 0..2 {
            for &doc in &docs {
                let values: Vec<FacetValue> = (0..42)
                    .filter(|_| rng.random_bool(0.2))
                    .map(value)
                    .collect();
                codes.set(doc, &values, true);
            }
        }
        for doc in (0..3000).step_by(7) {
            codes.clear(doc);
        }
        let some: Vec<u32> = docs.iter().copied().filter(|d| d % 3 != 0).collect();
        let before = counted(&codes, &some);
        assert!(before.iter().all(|&n| n > 0));
        codes.derive_columns(&(0..3000).filter(|d| d % 7 != 0).collect());
        assert_eq!(counted(&codes, &some), before);
    }

    #[test]
    fn values_past_the_columns_are_left_to_the_caller_when_columns_are_read() {
        let mut codes = FacetCodes::default();
        let values: Vec<FacetValue> = (0..COLUMNS as u32 + 2)
            .map(|i| (FacetTag::Insurer, i))
            .collect();
        // Not counted in the pairs, so that the columns are read.
        codes.set(4, &values, false);
        let docs = RoaringBitmap::from_iter([4]);
        let last = (FacetTag::Insurer, COLUMNS as u32 + 1);
        assert_eq!(
            codes.count(&docs, Counting::PerDocument, &[]).get(last),
            Some(1)
        );
        assert_eq!(
            codes
                .count(&docs, Counting::Columns, &[FacetTag::Insurer])
                .get(last),
            None
        );
        let insurers = codes.count(&docs, Counting::Columns, &[FacetTag::Insurer]);
        assert_eq!(insurers.get((FacetTag::Insurer, 0)), Some(1));
        // A facet not asked for is not read from the columns.
        let other = codes.count(&docs, Counting::Columns, &[FacetTag::Modality]);
        assert_eq!(other.get((FacetTag::Insurer, 0)), None);
        assert_eq!(
            codes
                .count(&docs, Counting::Columns, &[FacetTag::Modality])
                .get((FacetTag::Modality, 0)),
            Some(0)
        );
    }

    #[test]
    fn a_set_of_one_values_counted_documents_is_counted_from_the_pairs() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(6);
        let mut codes = FacetCodes::default();
        let mut shown = RoaringBitmap::new();
        for _ in 0..2 {
            for doc in 0..3000 {
                let values: Vec<FacetValue> = (0..42)
                    .filter(|_| rng.random_bool(0.2))
                    .map(value)
                    .collect();
                let counted = rng.random_bool(0.9);
                codes.set(doc, &values, counted);
                if counted {
                    shown.insert(doc);
                } else {
                    shown.remove(doc);
                }
            }
        }
        for doc in (0..3000).step_by(11) {
            codes.clear(doc);
            shown.remove(doc);
        }
        let uncounted = (0..3000)
            .find(|d| !shown.contains(*d) && d % 11 != 0)
            .unwrap();
        for derived in [false, true] {
            if derived {
                codes.derive_columns(&shown);
            }
            let holding = |x: u32| -> RoaringBitmap {
                let n = codes.numbers[&value(x)];
                shown
                    .iter()
                    .filter(|&d| codes.get(d).contains(&n))
                    .collect()
            };
            let kept = |set: &RoaringBitmap| {
                codes
                    .kept_counts(set.len(), &dense::words_of(set, codes.words()))
                    .is_some()
            };
            for x in [5, 17, 40] {
                let exact = holding(x);
                assert!(kept(&exact), "value {x}, derived: {derived}");
                let docs: Vec<u32> = exact.iter().collect();
                counted(&codes, &docs);
                let mut less = exact.clone();
                less.remove(docs[docs.len() / 2]);
                let mut more = exact.clone();
                more.insert(uncounted);
                assert!(!kept(&less) && !kept(&more), "value {x}");
                counted(&codes, &less.iter().collect::<Vec<_>>());
            }
            assert!(kept(&shown));
            counted(&codes, &shown.iter().collect::<Vec<_>>());
        }
    }
}
