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
//! Documents are addressed by their number in the index (`index::Doc`); this store is
//! below the index and knows nothing else of it.

use std::collections::HashMap;

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

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
}

/// How many documents of a set hold each value.
pub struct FacetCounts<'a> {
    codes: &'a FacetCodes,
    counts: Vec<u32>,
}

impl FacetCounts<'_> {
    pub fn get(&self, value: FacetValue) -> u64 {
        self.codes
            .numbers
            .get(&value)
            .map_or(0, |&n| u64::from(self.counts[n as usize]))
    }
}

impl FacetCodes {
    /// Whether every value of every document is stored, so `count` is exact.
    pub fn complete(&self) -> bool {
        !self.incomplete
    }

    fn get(&self, doc: Doc) -> &[Code] {
        match self.slots.get(doc as usize) {
            Some(Slot(slot)) => {
                let n = slot[0] as usize;
                if n <= INLINE {
                    &slot[1..=n]
                } else {
                    self.overflow.get(&doc).map_or(&[], |v| v)
                }
            }
            None => &[],
        }
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

    pub fn set(&mut self, doc: Doc, values: &[FacetValue]) {
        let codes: Vec<Code> = values.iter().filter_map(|&v| self.number(v)).collect();
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
        self.set(doc, &[]);
    }

    /// How many of `docs` hold each value.
    pub fn count(&self, docs: &RoaringBitmap) -> FacetCounts<'_> {
        let mut counts = vec![0u32; self.values.len()];
        for doc in docs {
            for &code in self.get(doc) {
                if let Some(n) = counts.get_mut(code as usize) {
                    *n += 1;
                }
            }
        }
        FacetCounts {
            codes: self,
            counts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_inline_and_overflowing() {
        let mut codes = FacetCodes::default();
        let value = |i: u32| (FacetTag::Specialty, i);
        let few: Vec<FacetValue> = (1..=INLINE as u32).map(value).collect();
        let many: Vec<FacetValue> = (1..=40).map(value).collect();
        codes.set(3, &few);
        codes.set(7, &many);
        let counted = |codes: &FacetCodes, docs: &[u32]| {
            let counts = codes.count(&docs.iter().copied().collect());
            (0..=41).map(|i| counts.get(value(i))).collect::<Vec<_>>()
        };
        let both = counted(&codes, &[3, 5, 7, 100]);
        assert_eq!(both[1..=INLINE], [2; INLINE]);
        assert_eq!(both[INLINE + 1..=40], [1; 40 - INLINE]);
        assert_eq!((both[0], both[41]), (0, 0), "values no document holds");
        assert_eq!(
            counted(&codes, &[5, 100]),
            [0; 42],
            "unset and past the last"
        );
        codes.set(7, &[value(9)]);
        assert!(codes.overflow.is_empty());
        codes.clear(3);
        assert_eq!(counted(&codes, &[3, 7])[9], 1);
        assert_eq!(counted(&codes, &[3, 7]).iter().sum::<u64>(), 1);
        assert!(codes.complete());
    }
}
