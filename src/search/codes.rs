//! Each document's facet values (`FacetTag << 24 | value`), laid out for counting over
//! scattered documents.
//!
//! Counting a facet over a few thousand matches reads the values of documents spread over
//! the whole index, so the cost is memory reads rather than arithmetic. Each document's
//! values sit inline in a slot of two cache lines at a position computed from its number: one
//! read per document, and the reads of successive documents do not wait on each other (a
//! boxed slice per document costs two dependent reads, the pointer and then the values).
//! The rare document with more values than a slot holds keeps them in `overflow`.
//!
//! Documents are addressed by their number in the index (`index::Doc`); this store is
//! below the index and knows nothing else of it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// A document's number in the index.
type Doc = u32;

/// Values a slot holds; the slot's first word is the count. Demo listings have 5 to 23
/// values, most of them 9 to 15, which fit the slot's first cache line.
const INLINE: usize = 31;

#[derive(Clone, Copy, Serialize, Deserialize)]
#[repr(C, align(128))]
struct Slot([u32; INLINE + 1]);

impl Default for Slot {
    fn default() -> Self {
        Slot([0; INLINE + 1])
    }
}

#[derive(Default, Serialize, Deserialize)]
pub struct FacetCodes {
    slots: Vec<Slot>,
    overflow: HashMap<Doc, Box<[u32]>>,
}

impl FacetCodes {
    /// `doc`'s values (none for a document never set).
    pub fn get(&self, doc: Doc) -> &[u32] {
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

    pub fn set(&mut self, doc: Doc, values: &[u32]) {
        let d = doc as usize;
        if d >= self.slots.len() {
            self.slots.resize(d + 1, Slot::default());
        }
        let slot = &mut self.slots[d].0;
        if values.len() <= INLINE {
            slot[0] = values.len() as u32;
            slot[1..=values.len()].copy_from_slice(values);
            self.overflow.remove(&doc);
        } else {
            slot[0] = u32::MAX;
            self.overflow.insert(doc, values.into());
        }
    }

    pub fn clear(&mut self, doc: Doc) {
        self.set(doc, &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_inline_and_overflowing() {
        let mut codes = FacetCodes::default();
        let few: Vec<u32> = (1..=INLINE as u32).collect();
        let many: Vec<u32> = (1..=40).collect();
        codes.set(3, &few);
        codes.set(7, &many);
        assert_eq!(codes.get(3), few);
        assert_eq!(codes.get(7), many);
        assert_eq!(codes.get(5), &[] as &[u32], "between set documents");
        assert_eq!(codes.get(100), &[] as &[u32], "past the last");
        codes.set(7, &[9]);
        assert_eq!(codes.get(7), [9]);
        assert!(codes.overflow.is_empty());
        codes.clear(3);
        assert_eq!(codes.get(3), &[] as &[u32]);
    }
}
