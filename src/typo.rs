//! Typo automata over `fst` keys: a Levenshtein DFA (transpositions count as one edit) for
//! whole words, as search and place names read them, and for prefixes, as typeahead reads
//! them. The cost depends on the word, not on how many keys there are.

use std::sync::OnceLock;

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};

/// Keys within `distance` (1 or 2) edits of `word`.
pub fn word_automaton(word: &str, distance: usize) -> Dfa {
    Dfa(builders()[distance.clamp(1, 2) - 1].build_dfa(word))
}

/// Keys that begin with `prefix` give or take one typo (a letter added, dropped, changed,
/// or two neighbours swapped), for typeahead.
pub fn typo_prefix_automaton(prefix: &str) -> Dfa {
    Dfa(builders()[0].build_prefix_dfa(prefix))
}

fn builders() -> &'static [LevenshteinAutomatonBuilder; 2] {
    static BUILDERS: OnceLock<[LevenshteinAutomatonBuilder; 2]> = OnceLock::new();
    BUILDERS.get_or_init(|| {
        [
            LevenshteinAutomatonBuilder::new(1, true),
            LevenshteinAutomatonBuilder::new(2, true),
        ]
    })
}

/// A Levenshtein DFA as an `fst` automaton.
pub struct Dfa(DFA);

impl fst::Automaton for Dfa {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}
