//! What a query word can mean: the documents' own words (postings), the directory's
//! vocabulary named in words (a modality's name, "spanish", "teen", "online", a state's
//! name), and, for a word found nowhere, the known words within one or two typos of it.
//!
//! Typos are found with a Levenshtein automaton (transpositions count as one edit) run over
//! an `fst` set of every known key, as Meilisearch and tantivy do: the cost depends on the
//! word, not on the size of the vocabulary.

use fst::{IntoStreamer, Set, Streamer};
use roaring::RoaringBitmap;
use std::collections::{BTreeSet, HashMap};

use super::catalog::Catalog;
use super::index::{Field, Index, Kind, Taxonomy, Weight};
use super::interpret::Phrases;
use super::text::{self, LANGUAGE_NAMES, LANGUAGE_NAMES_ES, VALUE_WORDS, VALUE_WORDS_ES};
use crate::typo::word_automaton;

/// The longest word matched with typos.
pub const MAX_TYPO_WORD: usize = 24;

/// Something in the index a vocabulary word stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Term(Kind, i32),
    Value(Field, &'static str),
}

#[derive(Default)]
pub struct Lexicon {
    meanings: HashMap<Box<str>, Vec<(Source, Weight)>>,
    /// Every key of the lexicon and of the index's postings, for typo lookups.
    known: Set<Vec<u8>>,
    /// Names of places and vocabulary for typeahead.
    catalog: Catalog,
    /// Phrases of `q` that name a filter.
    phrases: Phrases,
}

/// One query word's matches, by weight.
#[derive(Debug, Default, Clone)]
pub struct Matches {
    pub by_weight: [RoaringBitmap; 3],
    /// The part of `by_weight[Name]` found in listings' names (not through a modality).
    pub names: RoaringBitmap,
}

impl Matches {
    pub fn any(&self) -> RoaringBitmap {
        &(&self.by_weight[0] | &self.by_weight[1]) | &self.by_weight[2]
    }
}

impl Lexicon {
    /// The vocabulary of the taxonomy (terms not retired) and of the fixed fields.
    pub fn build(taxonomy: &Taxonomy) -> Self {
        let mut meanings: HashMap<Box<str>, Vec<(Source, Weight)>> = HashMap::new();
        // A taxonomy term is also found by each of its words ("couples" finds "Couples
        // Therapy"); a name from the fixed lists only whole ("york" is not New York, "west"
        // not West Virginia, "sign" not sign language).
        let mut add = |phrase: &str, source: Source, weight: Weight, by_word: bool| {
            let words: Vec<String> = text::words(phrase).collect();
            let mut keys: Vec<String> = Vec::new();
            if words.len() > 1 {
                keys.push(words.join(" "));
            }
            for w in words.iter().filter(|_| by_word || words.len() == 1) {
                if !text::is_joining_word(w) && !text::is_generic(w) {
                    keys.extend(text::keys(w));
                }
            }
            for key in keys {
                let list = meanings.entry(key.into()).or_default();
                if !list.iter().any(|(s, _)| *s == source) {
                    list.push((source.clone(), weight));
                }
            }
        };
        for (kind, weight) in [
            (Kind::Modality, Weight::Name),
            (Kind::Specialty, Weight::Practice),
            (Kind::Insurer, Weight::Practice),
        ] {
            for term in taxonomy.terms(kind).iter().filter(|t| !t.retired) {
                add(&term.name, Source::Term(kind, term.id), weight, true);
                if let Some(es) = &term.name_es {
                    add(es, Source::Term(kind, term.id), weight, true);
                }
                add(&term.slug, Source::Term(kind, term.id), weight, true);
            }
        }
        for (code, name) in LANGUAGE_NAMES.iter().chain(LANGUAGE_NAMES_ES) {
            add(
                name,
                Source::Value(Field::Language, code),
                Weight::Practice,
                false,
            );
        }
        for code in crate::domain::US_STATES {
            let Ok(state) = crate::domain::UsState::parse(code) else {
                continue;
            };
            let name = state.name().trim_start_matches("U.S. ");
            add(
                name,
                Source::Value(Field::State, code),
                Weight::Practice,
                false,
            );
        }
        for (field, value, words) in VALUE_WORDS.iter().chain(VALUE_WORDS_ES) {
            let Some(field) = Field::parse(field) else {
                continue;
            };
            for w in *words {
                add(w, Source::Value(field, value), Weight::Practice, false);
            }
        }
        Lexicon {
            meanings,
            known: Set::default(),
            catalog: Catalog::build(taxonomy),
            phrases: Phrases::build(taxonomy),
        }
    }

    /// Rebuilds the typo set from the lexicon and the index's words that some document
    /// holds.
    pub fn refresh_known(&mut self, index: &Index) {
        self.known = Self::typo_set(&self.known_keys(index));
    }

    /// The keys of the typo set, sorted: the lexicon's and the index's words that some
    /// document holds.
    pub fn known_keys(&self, index: &Index) -> Vec<Box<str>> {
        let mut keys: BTreeSet<&str> = self.meanings.keys().map(|k| &**k).collect();
        for (key, &id) in &index.words {
            if !index.postings[id as usize]
                .iter()
                .all(RoaringBitmap::is_empty)
            {
                keys.insert(key);
            }
        }
        keys.into_iter().map(Box::from).collect()
    }

    /// The typo set of sorted `keys`: the slow part of a refresh, which needs no lock.
    pub fn typo_set(keys: &[Box<str>]) -> Set<Vec<u8>> {
        Set::from_iter(keys.iter().map(|k| k.as_bytes())).unwrap_or_default()
    }

    /// Installs a typo set built by `typo_set`; the previous one, which a new lexicon
    /// keeps until its own is built.
    pub fn replace_known(&mut self, known: Set<Vec<u8>>) -> Set<Vec<u8>> {
        std::mem::replace(&mut self.known, known)
    }

    /// Every known key (typeahead reads prefixes of it).
    pub fn known(&self) -> &Set<Vec<u8>> {
        &self.known
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn phrases(&self) -> &Phrases {
        &self.phrases
    }

    /// Whether `phrase` (words joined by spaces) names one thing.
    pub fn is_phrase(&self, phrase: &str) -> bool {
        self.meanings.contains_key(phrase)
    }

    /// Everything `word` matches: itself, its stem and its synonyms, in the documents'
    /// words and in the vocabulary; if none of them is known, the known words within one
    /// typo (words of 4 to 7 letters) or two (8 to `MAX_TYPO_WORD`).
    pub fn matches(&self, index: &Index, word: &str) -> Matches {
        let mut m = Matches::default();
        // A vocabulary meaning is kept under a name's words and their stems, and a synonym
        // often names the same term: each meaning's documents are added once, after the
        // keys are read, rather than once for every key that finds it.
        let mut meanings: Vec<&(Source, Weight)> = Vec::new();
        let mut lookups: Vec<String> = vec![word.to_owned()];
        lookups.extend(text::synonyms(word).iter().cloned());
        let mut found = false;
        for lookup in &lookups {
            // A document's word is indexed under the word and its stem alike
            // (`Index::index_word`), so the stem's postings hold the word's: only the last
            // key's postings are added, and the word's are only looked up.
            let keys: Vec<String> = text::keys(lookup).collect();
            for (i, key) in keys.iter().enumerate() {
                let with_postings = i + 1 == keys.len();
                found |= self.add_key(index, key, &mut m, &mut meanings, with_postings);
            }
        }
        if !found {
            // A word's automaton grows with its length: past `MAX_TYPO_WORD` letters a word
            // is matched exactly, so one request cannot make the service build a huge one.
            let distance = match word.chars().count() {
                0..=3 => 0,
                4..=7 => 1,
                8..=MAX_TYPO_WORD => 2,
                _ => 0,
            };
            if distance > 0 && !word.contains(' ') {
                let dfa = word_automaton(word, distance);
                let mut stream = self.known.search(&dfa).into_stream();
                while let Some(key) = stream.next() {
                    if let Ok(key) = std::str::from_utf8(key) {
                        self.add_key(index, key, &mut m, &mut meanings, true);
                    }
                }
            }
        }
        for (source, weight) in meanings {
            let bitmap = match source {
                Source::Term(kind, id) => index.term(*kind, *id),
                Source::Value(field, value) => index.value(*field, value),
            };
            if let Some(b) = bitmap {
                m.by_weight[*weight as usize] |= b;
            }
        }
        m
    }

    /// Adds `key`'s postings to `m` (only `with_postings`) and its meanings to `meanings`
    /// (each once); whether it matches anything.
    fn add_key<'a>(
        &'a self,
        index: &Index,
        key: &str,
        m: &mut Matches,
        meanings: &mut Vec<&'a (Source, Weight)>,
        with_postings: bool,
    ) -> bool {
        let mut found = false;
        if let Some(postings) = index.postings(key) {
            if with_postings {
                for (into, from) in m.by_weight.iter_mut().zip(postings) {
                    *into |= from;
                }
                m.names |= &postings[Weight::Name as usize];
            }
            found = true;
        }
        for meaning in self.meanings.get(key).map(Vec::as_slice).unwrap_or(&[]) {
            if !meanings.contains(&meaning) {
                meanings.push(meaning);
            }
            found = true;
        }
        found
    }
}
