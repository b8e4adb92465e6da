//! Plain bitsets (one bit per document, in 64-bit words) and counting the bits a set shares
//! with each of many others on the widest instructions the processor has.
//!
//! Facets over a large set of matches count, for each of about a hundred values, the
//! matches holding it: a pass over the whole document space per value. Roaring's own
//! intersection count is compiled for the baseline x86-64 target, which has no `popcnt`
//! instruction, and so spends most of that pass counting bits arithmetically. Here the loop
//! is compiled for each SIMD level and the best one present is chosen when the process
//! starts (`fearless_simd`, as the roaring crate does for its sorted arrays): on AVX-512 a
//! 64-byte block of each set is counted by one instruction, and the pass is bound by memory
//! reads instead.

use fearless_simd::{Level, Simd, dispatch};
use roaring::RoaringBitmap;

/// Sets bit `bit` of `words`, growing them to hold it.
pub fn insert(words: &mut Vec<u64>, bit: u32) {
    let word = bit as usize / 64;
    if word >= words.len() {
        words.resize(word + 1, 0);
    }
    set_bit(words, bit as usize);
}

/// Whether bit `bit` of `words` is set.
pub fn contains(words: &[u64], bit: u32) -> bool {
    words
        .get(bit as usize / 64)
        .is_some_and(|w| w & (1 << (bit % 64)) != 0)
}

/// Clears bit `bit` of `words`.
pub fn remove(words: &mut [u64], bit: u32) {
    if let Some(w) = words.get_mut(bit as usize / 64) {
        *w &= !(1 << (bit % 64));
    }
}

/// `set`'s first `len` words: bits past them are left out.
pub fn words_of(set: &RoaringBitmap, len: usize) -> Vec<u64> {
    let mut words = vec![0u64; len];
    let mut bytes = Vec::with_capacity(set.serialized_size());
    let copied = set.serialize_into(&mut bytes).is_ok() && copy_serialized(&bytes, &mut words);
    if !copied {
        words.fill(0);
        for bit in set {
            set_bit(&mut words, bit as usize);
        }
    }
    words
}

/// How many bits each of `columns` shares with `set`.
pub fn and_counts(columns: &[&[u64]], set: &[u64]) -> Vec<u64> {
    dispatch!(Level::new(), simd => and_counts_with(simd, columns, set))
}

// Inlined into each level's `vectorize`, so that it is compiled with that level's features.
// Plain loops: an iterator adapter's own functions (`collect`) need not be inlined, and would
// be compiled for the baseline.
#[inline(always)]
fn and_counts_with<S: Simd>(_: S, columns: &[&[u64]], set: &[u64]) -> Vec<u64> {
    let mut counts = vec![0u64; columns.len()];
    for (count, column) in counts.iter_mut().zip(columns) {
        let mut n = 0u64;
        for (a, b) in column.iter().zip(set) {
            n += u64::from((a & b).count_ones());
        }
        *count = n;
    }
    counts
}

/// Roaring's portable serialization (github.com/RoaringBitmap/RoaringFormatSpec), which
/// stores a dense container as the very words wanted here: the set is copied out a
/// container at a time instead of a bit at a time. False if `bytes` is not that format.
fn copy_serialized(bytes: &[u8], words: &mut [u64]) -> bool {
    const NO_RUNS: u32 = 12346;
    const WITH_RUNS: u32 = 12347;
    const ARRAY_LIMIT: usize = 4096;
    let Some(cookie) = u32_at(bytes, 0) else {
        return false;
    };
    let (size, runs, mut at) = if cookie == NO_RUNS {
        let Some(size) = u32_at(bytes, 4) else {
            return false;
        };
        (size as usize, None, 8)
    } else if (cookie & 0xFFFF) == WITH_RUNS {
        let size = (cookie >> 16) as usize + 1;
        (size, Some(4), 4 + size.div_ceil(8))
    } else {
        return false;
    };
    let descriptions = at;
    at += 4 * size;
    if runs.is_none() || size >= 4 {
        at += 4 * size;
    }
    for i in 0..size {
        let (Some(key), Some(last)) = (
            u16_at(bytes, descriptions + 4 * i),
            u16_at(bytes, descriptions + 4 * i + 2),
        ) else {
            return false;
        };
        let base = key as usize * 1024;
        let cardinality = last as usize + 1;
        let is_run = runs.is_some_and(|r| {
            bytes
                .get(r + i / 8)
                .is_some_and(|b| (b >> (i % 8)) & 1 == 1)
        });
        if is_run {
            let Some(n) = u16_at(bytes, at) else {
                return false;
            };
            at += 2;
            for _ in 0..n {
                let (Some(start), Some(length)) = (u16_at(bytes, at), u16_at(bytes, at + 2)) else {
                    return false;
                };
                at += 4;
                let start = base * 64 + start as usize;
                for bit in start..=start + length as usize {
                    set_bit(words, bit);
                }
            }
        } else if cardinality > ARRAY_LIMIT {
            let Some(block) = bytes.get(at..at + 8192) else {
                return false;
            };
            at += 8192;
            let end = words.len().min(base + 1024);
            for (word, chunk) in words
                .get_mut(base..end)
                .unwrap_or_default()
                .iter_mut()
                .zip(block.chunks_exact(8))
            {
                *word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
            }
        } else {
            for j in 0..cardinality {
                let Some(low) = u16_at(bytes, at + 2 * j) else {
                    return false;
                };
                set_bit(words, base * 64 + low as usize);
            }
            at += 2 * cardinality;
        }
    }
    true
}

/// Sets bit `bit` of `words`, if it is within them.
fn set_bit(words: &mut [u64], bit: usize) {
    if let Some(w) = words.get_mut(bit / 64) {
        *w |= 1 << (bit % 64);
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn bit_by_bit(set: &RoaringBitmap, len: usize) -> Vec<u64> {
        let mut words = vec![0u64; len];
        for bit in set {
            set_bit(&mut words, bit as usize);
        }
        words
    }

    #[test]
    fn words_of_every_kind_of_container_equal_its_bits() {
        let mut rng = StdRng::seed_from_u64(3);
        for round in 0..40 {
            let mut set = RoaringBitmap::new();
            // Sparse (arrays), dense (bitmaps) and runs, over up to 12 containers.
            for key in 0..rng.random_range(0..12u32) {
                let base = key * 65_536;
                match rng.random_range(0..4) {
                    0 => {}
                    1 => set.extend(
                        (0..rng.random_range(1..3000)).map(|_| base + rng.random_range(0..65_536)),
                    ),
                    2 => set.extend(
                        (0..65_536)
                            .filter(|_| rng.random_bool(0.3))
                            .map(|i| base + i),
                    ),
                    _ => {
                        let start = base + rng.random_range(0..60_000);
                        set.insert_range(start..start + rng.random_range(1..5000));
                    }
                }
            }
            if round % 2 == 0 {
                set.optimize();
            }
            for len in [0, 1000, 12 * 1024, 13 * 1024] {
                assert_eq!(
                    words_of(&set, len),
                    bit_by_bit(&set, len),
                    "round {round}, {len} words"
                );
            }
        }
    }

    #[test]
    fn and_counts_count_the_shared_bits() {
        let mut rng = StdRng::seed_from_u64(4);
        let set: Vec<u64> = (0..500).map(|_| rng.random()).collect();
        let columns: Vec<Vec<u64>> = (0..5)
            .map(|n| (0..500 - n * 90).map(|_| rng.random()).collect())
            .collect();
        let expected: Vec<u64> = columns
            .iter()
            .map(|c| {
                c.iter()
                    .zip(&set)
                    .map(|(a, b)| u64::from((a & b).count_ones()))
                    .sum()
            })
            .collect();
        let columns: Vec<&[u64]> = columns.iter().map(Vec::as_slice).collect();
        assert_eq!(and_counts(&columns, &set), expected);
        let mut words = Vec::new();
        insert(&mut words, 130);
        insert(&mut words, 3);
        remove(&mut words, 3);
        assert_eq!(words, [0, 0, 4]);
    }
}
