//! Counts that are a pure function of the index, kept until its next change: typeahead
//! asks what the same places and terms would find again and again, and counting one is a
//! radius search or a pass over a bitmap of the whole index. `Index::apply` clears them,
//! so a count is never older than the index.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct Counts(Mutex<HashMap<u64, u64>>);

impl Counts {
    /// The count under `key`, computed by `count` unless known since the last change.
    pub fn get_or(&self, key: u64, count: impl FnOnce() -> u64) -> u64 {
        if let Some(n) = self.0.lock().ok().and_then(|c| c.get(&key).copied()) {
            return n;
        }
        let n = count();
        if let Ok(mut counts) = self.0.lock() {
            counts.insert(key, n);
        }
        n
    }

    pub fn clear(&mut self) {
        if let Ok(counts) = self.0.get_mut() {
            counts.clear();
        }
    }
}
