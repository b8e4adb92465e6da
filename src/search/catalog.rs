//! Names of places and vocabulary for typeahead: an `fst` map from each name, folded as
//! search folds words, to what it stands for. Places are keyed once per process (from the
//! gazetteer), vocabulary whenever the taxonomy changes (with the lexicon).

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use fst::automaton::{Automaton as _, Str};
use fst::{IntoStreamer, Map, Streamer};

use super::index::{Kind, Taxonomy};
use super::largest::Largest;
use super::text::{self, LANGUAGE_NAMES, LANGUAGE_NAMES_ES, VALUE_WORDS_ES};
use crate::domain::place::GAZETTEER;
use crate::domain::vocab::{OfferingKind, Vocabulary};
use crate::domain::{US_STATES, UsState};
use crate::typo::typo_prefix_automaton;

/// Keys read per lookup of vocabulary, typos or (`suggest`) name words: a one-letter prefix
/// matches thousands of words.
pub const MAX_KEYS: usize = 400;

/// What a catalog key stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    City(u32),
    State(&'static str),
    Term(Kind, i32),
    Language(&'static str),
    Offering(OfferingKind),
}

impl Target {
    /// A city or a state: offered whatever its count.
    pub fn is_place(self) -> bool {
        matches!(self, Target::City(_) | Target::State(_))
    }

    /// A number for this target alone, to keep its count under (`Counts`): the kind of
    /// target in the top byte, then a city's number, a term's kind and id, a state's or
    /// language's code (two or three letters, so seven bytes hold it whole), or an
    /// offering kind's number.
    pub fn key(self) -> u64 {
        let letters = |code: &str| {
            code.bytes()
                .take(7)
                .fold(0u64, |k, b| k << 8 | u64::from(b))
        };
        match self {
            Target::City(i) => u64::from(i),
            Target::State(code) => 1 << 56 | letters(code),
            Target::Term(kind, id) => 2 << 56 | (kind as u64) << 32 | u64::from(id as u32),
            Target::Language(code) => 3 << 56 | letters(code),
            Target::Offering(kind) => 4 << 56 | kind as u64,
        }
    }
}

/// How well the typed text matches a name: lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Quality {
    Whole,
    Start,
    LaterWord,
    Typo,
}

/// Keys to what they stand for, as an `fst` map and the targets of each key.
#[derive(Default)]
struct Keys {
    map: Map<Vec<u8>>,
    /// Per key number: the targets, and whether the key starts at the name's first word.
    targets: Vec<Vec<(Target, bool)>>,
}

/// Names of places and vocabulary: the places once per process (they come from the
/// gazetteer), the vocabulary whenever the taxonomy changes.
#[derive(Default)]
pub struct Catalog {
    vocabulary: Keys,
}

/// Each place's name, with what it stands for: a city as `<name> <state>`, a state by its
/// name.
fn place_names() -> impl Iterator<Item = (String, Target)> {
    let cities = GAZETTEER.cities.iter().enumerate().map(|(i, city)| {
        let name = format!("{} {}", city.name, city.state);
        (name, Target::City(i as u32))
    });
    let states = US_STATES.iter().filter_map(|code| {
        let name = UsState::parse(code)
            .ok()?
            .name()
            .trim_start_matches("U.S. ");
        Some((name.to_owned(), Target::State(code)))
    });
    cities.chain(states)
}

static PLACES: LazyLock<Places> = LazyLock::new(|| {
    let mut keys = KeyList::default();
    for (name, target) in place_names() {
        keys.add(&name, target, false);
    }
    let keys = keys.build();
    // A state outweighs every city: the few a prefix matches are always offered.
    let weight = |target: &(Target, bool)| match target.0 {
        Target::City(i) => GAZETTEER.cities[i as usize].zips,
        _ => u32::MAX,
    };
    let weights = keys
        .targets
        .iter()
        .map(|t| t.iter().map(weight).max().unwrap_or(0));
    Places {
        largest: Largest::new(weights.collect()),
        keys,
    }
});

/// The places' keys, and their weights: a key's largest city by ZIP codes.
struct Places {
    keys: Keys,
    largest: Largest,
}

impl Places {
    /// The states whose names start with `typed`, and of the cities the `limit` largest
    /// (more when a key names several): a short prefix starts thousands of names.
    fn read(&self, typed: &str, limit: usize, best: &mut Best) {
        let first_from = |from: &[u8]| {
            let mut stream = self.keys.map.range().ge(from).into_stream();
            stream
                .next()
                .map_or(self.keys.targets.len(), |(_, n)| n as usize)
        };
        // Every key starting with `typed` sorts before `typed` followed by 0xFF, a byte no
        // UTF-8 text holds.
        let start = first_from(typed.as_bytes());
        let end = first_from(&[typed.as_bytes(), &[0xFF]].concat());
        let mut cities = 0;
        for at in self.largest.of(start..end) {
            for &(target, _) in &self.keys.targets[at] {
                cities += usize::from(!matches!(target, Target::State(_)));
                best.note(target, Quality::Start);
            }
            if cities >= limit {
                break;
            }
        }
        if let Some(n) = self.keys.map.get(typed) {
            for &(target, _) in &self.keys.targets[n as usize] {
                best.note(target, Quality::Whole);
            }
        }
    }
}

/// Keys being collected, sorted as the `fst` needs them.
#[derive(Default)]
struct KeyList(BTreeMap<String, Vec<(Target, bool)>>);

impl KeyList {
    /// Keys `name` from its start, and from each later word when `later_words`.
    fn add(&mut self, name: &str, target: Target, later_words: bool) {
        let words: Vec<String> = text::words(name).collect();
        let starts = if later_words { words.len() } else { 1 };
        for start in 0..starts.min(words.len()) {
            let list = self.0.entry(words[start..].join(" ")).or_default();
            if !list.iter().any(|(t, _)| *t == target) {
                list.push((target, start == 0));
            }
        }
    }

    fn build(self) -> Keys {
        let mut targets = Vec::with_capacity(self.0.len());
        let map = Map::from_iter(self.0.into_iter().map(|(key, list)| {
            targets.push(list);
            (key, targets.len() as u64 - 1)
        }))
        .unwrap_or_default();
        Keys { map, targets }
    }
}

impl Catalog {
    pub fn build(taxonomy: &Taxonomy) -> Catalog {
        let mut keys = KeyList::default();
        for kind in [Kind::Modality, Kind::Specialty, Kind::Insurer] {
            for term in taxonomy.terms(kind).iter().filter(|t| !t.retired) {
                keys.add(&term.name, Target::Term(kind, term.id), true);
                if let Some(es) = &term.name_es {
                    keys.add(es, Target::Term(kind, term.id), true);
                }
                keys.add(
                    &term.slug.replace('-', " "),
                    Target::Term(kind, term.id),
                    false,
                );
            }
        }
        for (code, name) in LANGUAGE_NAMES.iter().chain(LANGUAGE_NAMES_ES) {
            keys.add(name, Target::Language(code), false);
        }
        for kind in OfferingKind::ALL
            .iter()
            .filter(|k| **k != OfferingKind::Session)
        {
            keys.add(
                &kind.as_str().replace('_', " "),
                Target::Offering(*kind),
                true,
            );
            let spanish = VALUE_WORDS_ES
                .iter()
                .filter(|(f, v, _)| *f == "offering_kind" && *v == kind.as_str());
            for word in spanish.flat_map(|(_, _, words)| words.iter()) {
                keys.add(word, Target::Offering(*kind), false);
            }
        }
        Catalog {
            vocabulary: keys.build(),
        }
    }

    /// The catalog's targets matching `typed`, each once at its best quality. Names are
    /// matched with a typo only while fewer than `limit` places matched better: a place is
    /// offered whatever its count, so `limit` of them fill the list ahead of any typo.
    pub fn lookup(&self, typed: &str, limit: usize) -> Vec<(Target, Quality)> {
        let mut best = Best::default();
        PLACES.read(typed, limit, &mut best);
        self.vocabulary.read(
            Str::new(typed).starts_with(),
            |key, from_start| match (from_start, key == typed.as_bytes()) {
                (true, true) => Quality::Whole,
                (true, false) => Quality::Start,
                (false, _) => Quality::LaterWord,
            },
            &mut best,
        );
        let places = best.found.iter().filter(|(t, _)| t.is_place()).count();
        if typed.chars().count() >= 4 && places < limit {
            let typo = typo_prefix_automaton(typed);
            for keys in [&PLACES.keys, &self.vocabulary] {
                keys.read(&typo, |_, _| Quality::Typo, &mut best);
            }
        }
        best.found
    }
}

/// Targets found so far, each once at its best quality.
#[derive(Default)]
struct Best {
    found: Vec<(Target, Quality)>,
    /// `Target::key` → position in `found`: a short prefix finds hundreds of targets.
    positions: HashMap<u64, usize>,
}

impl Best {
    fn note(&mut self, target: Target, quality: Quality) {
        match self.positions.entry(target.key()) {
            Entry::Occupied(at) => {
                let q = &mut self.found[*at.get()].1;
                *q = (*q).min(quality);
            }
            Entry::Vacant(at) => {
                at.insert(self.found.len());
                self.found.push((target, quality));
            }
        }
    }
}

impl Keys {
    /// The targets of at most `MAX_KEYS` keys `automaton` accepts, each with the quality
    /// `quality` gives its key.
    fn read(
        &self,
        automaton: impl fst::Automaton,
        quality: impl Fn(&[u8], bool) -> Quality,
        best: &mut Best,
    ) {
        let mut stream = self.map.search(automaton).into_stream();
        let mut read = 0;
        while let Some((key, number)) = stream.next() {
            for &(target, from_start) in &self.targets[number as usize] {
                best.note(target, quality(key, from_start));
            }
            read += 1;
            if read >= MAX_KEYS {
                break;
            }
        }
    }
}

/// Loads the places' keys now instead of on the first suggestion.
pub fn warm_up() {
    LazyLock::force(&PLACES);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Skipping the typo reads changes nothing a list of `limit` shows: either they are
    /// read as for any limit, or `limit` places matched better than any typo can. The
    /// vocabulary is read alike whatever the limit.
    #[test]
    fn typos_are_read_unless_enough_places_matched_better() {
        let catalog = Catalog::build(&Taxonomy::default());
        let mut skipped = 0;
        let of = |list: &[(Target, Quality)], keep: &dyn Fn(&(Target, Quality)) -> bool| {
            let mut kept: Vec<_> = list.iter().filter(|t| keep(t)).copied().collect();
            kept.sort_by_key(|(t, _)| t.key());
            kept
        };
        let typos = |t: &(Target, Quality)| t.1 == Quality::Typo;
        let vocabulary = |t: &(Target, Quality)| !t.0.is_place() && t.1 < Quality::Typo;
        for typed in [
            "spri", "sprin", "sprng", "utic", "utca", "gr", "port", "portlnd", "new york", "texs",
            "san", "saint", "anxi", "spanis", "lake", "mount",
        ] {
            let full = catalog.lookup(typed, usize::MAX);
            for limit in [1, 5, 10] {
                let short = catalog.lookup(typed, limit);
                assert_eq!(of(&short, &vocabulary), of(&full, &vocabulary), "{typed}");
                if of(&short, &typos) == of(&full, &typos) {
                    continue;
                }
                skipped += 1;
                let better = |(t, q): &&(Target, Quality)| t.is_place() && *q < Quality::Typo;
                assert!(short.iter().filter(better).count() >= limit, "{typed}");
                assert!(of(&short, &typos).is_empty(), "{typed}");
            }
        }
        assert!(skipped > 0, "no typed text here skips the typo reads");
    }

    /// A prefix offers every state it starts and, of the cities it starts, the largest:
    /// checked against every city of the gazetteer.
    #[test]
    fn a_prefix_offers_its_largest_cities_and_every_state() {
        let catalog = Catalog::build(&Taxonomy::default());
        let key = |name: &str| text::words(name).collect::<Vec<_>>().join(" ");
        let names: Vec<(String, Target)> = place_names().map(|(n, t)| (key(&n), t)).collect();
        for typed in [
            "g", "gr", "s", "sa", "san", "new", "n", "la", "spri", "x", "zz",
        ] {
            let starts = |i: usize| names[i].0.starts_with(typed);
            // Cities come first, in the gazetteer's order.
            let matching: Vec<usize> = (0..GAZETTEER.cities.len()).filter(|&i| starts(i)).collect();
            let states: Vec<Target> = names
                .iter()
                .filter(|(name, t)| matches!(t, Target::State(_)) && name.starts_with(typed))
                .map(|(_, t)| *t)
                .collect();
            for limit in [1, 5, 20] {
                let found = catalog.lookup(typed, limit);
                let cities: Vec<usize> = found
                    .iter()
                    .filter_map(|(t, _)| match t {
                        Target::City(i) => Some(*i as usize),
                        _ => None,
                    })
                    .collect();
                assert!(cities.iter().all(|&i| starts(i)), "{typed}");
                assert!(cities.len() >= limit.min(matching.len()), "{typed} {limit}");
                let zips = |i: &usize| GAZETTEER.cities[*i].zips;
                let smallest = cities.iter().map(zips).min().unwrap_or(u32::MAX);
                let left_out = matching.iter().filter(|i| !cities.contains(i));
                assert!(left_out.map(zips).all(|z| z <= smallest), "{typed} {limit}");
                for state in &states {
                    assert!(found.iter().any(|(t, _)| t == state), "{typed}");
                }
            }
        }
    }
}
