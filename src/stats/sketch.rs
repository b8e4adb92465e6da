//! How many distinct client networks sent a search, without keeping any of them: each
//! network sets one bit of 1,024, chosen by a keyed hash of the network and the day
//! (linear counting, Whang et al. 1990). Sketches from several processes merge by OR, in
//! memory and in PostgreSQL (`bit(1024)`, migration 0037), and the count is
//! `m ln(m / empty bits)`, the same formula as the database's `network_estimate`.
//!
//! A collision (two networks on one bit) can only lower the count, so "five networks"
//! never means fewer; below about 40 networks the count is exact when nothing collides.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::Date;

const WORDS: usize = 16;
pub const BITS: usize = WORDS * 64;
/// The count of a full sketch: `m ln m`. Demand from more networks in one day reads as this.
pub const SATURATED: u32 = 7_098;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkSketch([u64; WORDS]);

impl NetworkSketch {
    /// Sets the bit of a network's keyed hash.
    pub fn add(&mut self, hash: u64) {
        let bit = (hash % BITS as u64) as usize;
        self.0[bit / 64] |= 1 << (bit % 64);
    }

    pub fn merge(&mut self, other: &NetworkSketch) {
        for (word, theirs) in self.0.iter_mut().zip(other.0) {
            *word |= theirs;
        }
    }

    /// Distinct networks, rounded down.
    pub fn estimate(&self) -> u32 {
        let set: u32 = self.0.iter().map(|w| w.count_ones()).sum();
        if set as usize >= BITS {
            return SATURATED;
        }
        let m = BITS as f64;
        (m * (m / (m - f64::from(set))).ln()).floor() as u32
    }

    /// The sketch as PostgreSQL reads a `bit(1024)` from hex (`'x' || encode(bytes, 'hex')`).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|w| w.to_be_bytes()).collect()
    }
}

/// The keyed hash that places a network in a sketch. The key derives from the master secret
/// and the hash covers the day, so the same network lands on unrelated bits on other days
/// and nobody without the secret can test a network against a sketch; sealed days keep no
/// sketch at all.
#[derive(Clone)]
pub struct NetworkHasher {
    key: [u8; 32],
}

impl NetworkHasher {
    pub fn new(key: [u8; 32]) -> Self {
        NetworkHasher { key }
    }

    pub fn hash(&self, day: Date, network: &str) -> u64 {
        // HMAC accepts a key of any length: this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return 0;
        };
        mac.update(day.to_string().as_bytes());
        mac.update(b"\0");
        mac.update(network.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn sketch_of(hasher: &NetworkHasher, networks: impl Iterator<Item = String>) -> NetworkSketch {
        let mut sketch = NetworkSketch::default();
        for network in networks {
            sketch.add(hasher.hash(date!(2026 - 12 - 06), &network));
        }
        sketch
    }

    #[test]
    fn few_networks_are_counted_exactly_and_repeats_once() {
        let hasher = NetworkHasher::new([7; 32]);
        for n in 0..=12 {
            let networks = (0..n).flat_map(|i| std::iter::repeat_n(format!("10.0.{i}.0/24"), 3));
            let estimate = sketch_of(&hasher, networks).estimate();
            assert!(estimate <= n, "{n} networks counted as {estimate}");
            assert!(estimate + 1 >= n, "{n} networks counted as {estimate}");
        }
    }

    #[test]
    fn four_networks_never_count_as_five() {
        // Whatever the key, four networks set four bits at most, which reads as four.
        for key in 0..200u8 {
            let hasher = NetworkHasher::new([key; 32]);
            let networks = (0..4).map(|i| format!("192.0.{i}.0/24"));
            assert!(sketch_of(&hasher, networks).estimate() < 5, "key {key}");
        }
    }

    #[test]
    fn merged_sketches_count_the_union() {
        let hasher = NetworkHasher::new([1; 32]);
        let mut a = sketch_of(&hasher, (0..300).map(|i| format!("n{i}")));
        let b = sketch_of(&hasher, (150..600).map(|i| format!("n{i}")));
        a.merge(&b);
        let estimate = f64::from(a.estimate());
        assert!(
            (estimate - 600.0).abs() < 60.0,
            "600 networks read as {estimate}"
        );
    }

    #[test]
    fn days_and_keys_place_a_network_apart() {
        let one = NetworkHasher::new([1; 32]);
        let other = NetworkHasher::new([2; 32]);
        let (monday, tuesday) = (date!(2026 - 12 - 07), date!(2026 - 12 - 08));
        assert_ne!(
            one.hash(monday, "10.0.0.0/24"),
            one.hash(tuesday, "10.0.0.0/24")
        );
        assert_ne!(
            one.hash(monday, "10.0.0.0/24"),
            other.hash(monday, "10.0.0.0/24")
        );
    }

    #[test]
    fn a_full_sketch_reads_as_saturated() {
        let full = NetworkSketch([u64::MAX; WORDS]);
        assert_eq!(full.estimate(), SATURATED);
        assert_eq!(full.to_bytes().len(), BITS / 8);
    }
}
