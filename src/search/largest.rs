//! The largest few of any run of positions in a fixed list of weights, heaviest first,
//! without reading the rest of the run.
//!
//! Typeahead offers the largest places whose names start with what was typed. The names
//! are sorted, so those places are one run of positions, thousands long for one or two
//! letters. A sparse table (for each power of two, the heaviest position of every run of
//! that length) answers "heaviest in a run" from two entries, and a heap of runs split
//! around each answer yields the next heaviest: `k` of them cost `O(k log k)`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Range;

pub struct Largest {
    weights: Vec<u32>,
    /// `levels[j][i]`: the heaviest position of `i .. i + 2^j`.
    levels: Vec<Vec<u32>>,
}

impl Largest {
    pub fn new(weights: Vec<u32>) -> Largest {
        let mut levels = vec![(0..weights.len() as u32).collect::<Vec<u32>>()];
        let mut len = 1;
        while len * 2 <= weights.len() {
            let below = &levels[levels.len() - 1];
            let level = (0..=weights.len() - 2 * len)
                .map(|i| heavier(&weights, below[i], below[i + len]))
                .collect();
            levels.push(level);
            len *= 2;
        }
        Largest { weights, levels }
    }

    /// The positions of `range`, heaviest first; of equal weights, the earlier first.
    pub fn of(&self, range: Range<usize>) -> impl Iterator<Item = usize> + '_ {
        let end = range.end.min(self.weights.len());
        let mut runs = BinaryHeap::new();
        self.push(&mut runs, range.start, end);
        std::iter::from_fn(move || {
            let (_, Reverse(at), start, end) = runs.pop()?;
            self.push(&mut runs, start, at);
            self.push(&mut runs, at + 1, end);
            Some(at)
        })
    }

    /// Queues the run `start .. end` under its heaviest position (positions are unique, so
    /// the run's bounds never decide the order).
    fn push(
        &self,
        runs: &mut BinaryHeap<(u32, Reverse<usize>, usize, usize)>,
        start: usize,
        end: usize,
    ) {
        if start >= end {
            return;
        }
        let j = (end - start).ilog2() as usize;
        let level = &self.levels[j];
        let at = heavier(&self.weights, level[start], level[end - (1 << j)]) as usize;
        runs.push((self.weights[at], Reverse(at), start, end));
    }
}

/// Of two positions, the heavier, or the earlier of equal weights.
fn heavier(weights: &[u32], a: u32, b: u32) -> u32 {
    match weights[a as usize].cmp(&weights[b as usize]) {
        std::cmp::Ordering::Greater => a,
        std::cmp::Ordering::Less => b,
        std::cmp::Ordering::Equal => a.min(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every run of a list with many ties yields its positions in the order a full sort
    /// gives them.
    #[test]
    fn a_run_yields_its_positions_heaviest_first() {
        let mut state = 7u64;
        let weights: Vec<u32> = (0..300)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 59) as u32
            })
            .collect();
        let largest = Largest::new(weights.clone());
        for start in (0..300).step_by(7) {
            for end in (start..=300).step_by(11) {
                let mut expected: Vec<usize> = (start..end).collect();
                expected.sort_by_key(|&i| (Reverse(weights[i]), i));
                let got: Vec<usize> = largest.of(start..end).collect();
                assert_eq!(got, expected, "{start}..{end}");
            }
        }
        assert_eq!(largest.of(0..0).count(), 0);
        assert_eq!(Largest::new(Vec::new()).of(0..5).count(), 0);
    }
}
