//! Typeahead (`GET /v1/suggest`): what a search box offers as the user types. Places,
//! modalities, specialties, insurers, languages and offerings come from the catalog
//! (`catalog.rs`); published
//! therapists come from the index's own name words, so a name is suggested as soon as the
//! change feed brings it and never after it leaves.
//!
//! Matching: the typed text, folded as search folds words, is a prefix of a name, from its
//! first word (better) or a later one (`behav` finds Cognitive Behavioral Therapy); from the
//! fourth character one typo is forgiven. Ranking: how well the text matches (the whole
//! name, from its start, from a later word, with a typo), then `count`, the number of
//! published listings the suggestion would find, exactly, then the label.

use fst::automaton::{Automaton as _, Str};
use fst::{IntoStreamer, Streamer};
use roaring::RoaringBitmap;

use super::catalog::{MAX_KEYS, Quality, Target};
use super::index::{DocId, Field, Index, Kind, Weight};
use super::lexicon::Lexicon;
use super::model::{Suggestion, SuggestionKind};
use super::params::{DEFAULT_RADIUS_KM, Near};
use super::text;
use crate::domain::UsState;
use crate::domain::place::GAZETTEER;
use crate::domain::vocab::Vocabulary;
use crate::http::language::Lang;
use crate::typo::typo_prefix_automaton;

/// The best `limit` suggestions for `typed`: the catalog's, with exact counts, and the
/// published listings whose names match it.
pub fn suggest(
    index: &Index,
    lexicon: &Lexicon,
    typed: &str,
    limit: usize,
    lang: Lang,
) -> Vec<Suggestion> {
    let words: Vec<String> = text::words(typed).collect();
    let typed = words.join(" ");
    if typed.is_empty() {
        return Vec::new();
    }
    let visible = index.visible(false);
    let found = lexicon.catalog().lookup(&typed, limit);

    // Counting a city is a radius search: only as many as can be shown, the best matched
    // and largest first. `merge` ranks everything.
    let mut cities: Vec<(u32, Quality)> = found
        .iter()
        .filter_map(|&(t, q)| match t {
            Target::City(i) => Some((i, q)),
            _ => None,
        })
        .collect();
    cities.sort_by_key(|&(i, q)| (q, std::cmp::Reverse(GAZETTEER.cities[i as usize].zips)));
    cities.truncate(limit);
    let others = found
        .iter()
        .copied()
        .filter(|(t, _)| !matches!(t, Target::City(_)));
    let items = cities
        .into_iter()
        .map(|(i, q)| (Target::City(i), q))
        .chain(others)
        .filter_map(|(target, quality)| {
            let suggestion = describe(index, visible, target, lang == Lang::Es)?;
            Some((suggestion, quality))
        })
        .collect();
    merge(items, names(index, lexicon, &words, visible, limit), limit)
}

/// A target as a suggestion with its count; `None` for vocabulary no listing offers.
fn describe(
    index: &Index,
    visible: &RoaringBitmap,
    target: Target,
    spanish: bool,
) -> Option<Suggestion> {
    let (kind, label, value) = match target {
        Target::City(i) => {
            let label = GAZETTEER.cities[i as usize].label();
            (SuggestionKind::Place, label.clone(), label)
        }
        Target::State(code) => {
            let name = UsState::parse(code).ok()?.name().to_owned();
            (SuggestionKind::Place, name.clone(), name)
        }
        Target::Term(kind, id) => {
            let term = index.taxonomy.terms(kind).iter().find(|t| t.id == id)?;
            let suggestion_kind = match kind {
                Kind::Specialty => SuggestionKind::Specialty,
                Kind::Insurer => SuggestionKind::Insurer,
                Kind::Modality | Kind::Certified => SuggestionKind::Modality,
            };
            let label = term.label(spanish).to_owned();
            (suggestion_kind, label, term.slug.clone())
        }
        Target::Language(code) => {
            let label = text::language_label(code, spanish);
            (SuggestionKind::Language, label, code.to_owned())
        }
        Target::Offering(kind) => {
            let label = text::value_label("offering_kind", kind.as_str(), spanish);
            (SuggestionKind::Offering, label, kind.as_str().to_owned())
        }
    };
    // The same few names are typed again and again, so each count is kept until the
    // index changes.
    let count = index
        .counts
        .get_or(target.key(), || target_count(index, visible, target));
    // A place is worth offering with nothing in reach (its state's telehealth listings
    // may still answer); a term nobody offers is not.
    if count == 0 && kind != SuggestionKind::Place {
        return None;
    }
    Some(Suggestion {
        kind,
        label,
        value,
        count: Some(count),
    })
}

/// How many shown listings `target` would find.
fn target_count(index: &Index, visible: &RoaringBitmap, target: Target) -> u64 {
    let bitmap = match target {
        Target::City(i) => {
            let city = &GAZETTEER.cities[i as usize];
            let near = Near {
                point: city.point,
                state: Some(city.state),
                radius_km: DEFAULT_RADIUS_KM,
            };
            return place_count(index, visible, &near);
        }
        Target::State(code) => index.value(Field::State, code),
        Target::Term(kind, id) => index.term(kind, id),
        Target::Language(code) => index.value(Field::Language, code),
        Target::Offering(kind) => index.value(Field::OfferingKind, kind.as_str()),
    };
    bitmap.map_or(0, |b| b.intersection_len(visible))
}

/// What `near=<city>` finds: offices within the default radius, and the online-only
/// listings licensed in its state.
fn place_count(index: &Index, visible: &RoaringBitmap, near: &Near) -> u64 {
    super::geo::found_docs(index, near).intersection_len(visible)
}

/// Published listings whose names match: every typed word but the last is a word of the
/// name, the last a prefix of one (one typo forgiven from its fourth letter). Reads the
/// postings of name words only until `limit` listings are found: a one-letter prefix
/// names hundreds of words, each held by thousands of listings.
fn names(
    index: &Index,
    lexicon: &Lexicon,
    words: &[String],
    visible: &RoaringBitmap,
    limit: usize,
) -> Vec<(Suggestion, Quality)> {
    let Some((last, whole)) = words.split_last() else {
        return Vec::new();
    };
    let named = |key: &str| index.postings(key).map(|p| &p[Weight::Name as usize]);
    let narrowed = (!whole.is_empty()).then(|| {
        let mut base = visible.clone();
        for word in whole {
            let mut any = RoaringBitmap::new();
            for key in text::keys(word) {
                if let Some(b) = named(&key) {
                    any |= b;
                }
            }
            base &= any;
        }
        base
    });
    let among = narrowed.as_ref().unwrap_or(visible);
    let mut found: Vec<(DocId, Quality)> = Vec::new();
    // Takes the listings of one name word until `limit` are found; true once they are.
    let mut take = |key: &str, quality: Quality| {
        for doc in named(key)
            .into_iter()
            .flatten()
            .filter(|d| among.contains(*d))
        {
            if found.len() == limit {
                break;
            }
            if !found.iter().any(|(d, _)| *d == doc) {
                found.push((doc, quality));
            }
        }
        found.len() == limit
    };
    // A word of the name typed in full is matched even before the typo set has it.
    let full = text::keys(last).any(|key| take(&key, Quality::Start))
        || read_keys(
            lexicon.known().search(Str::new(last).starts_with()),
            |key| take(key, Quality::Start),
        );
    if !full && last.chars().count() >= 4 {
        let dfa = typo_prefix_automaton(last);
        read_keys(lexicon.known().search(&dfa), |key| take(key, Quality::Typo));
    }
    found
        .into_iter()
        .filter_map(|(doc, quality)| {
            let (label, slug) = index.name_and_slug(doc)?;
            let suggestion = Suggestion {
                kind: SuggestionKind::Therapist,
                label,
                value: slug,
                count: None,
            };
            Some((suggestion, quality))
        })
        .collect()
}

/// Hands `take` the keys `search` finds, at most `MAX_KEYS` of them, until it returns
/// true; whether it did.
fn read_keys<A: fst::Automaton>(
    search: fst::set::StreamBuilder<'_, A>,
    mut take: impl FnMut(&str) -> bool,
) -> bool {
    let mut stream = search.into_stream();
    let mut read = 0;
    while let Some(key) = stream.next() {
        if std::str::from_utf8(key).is_ok_and(&mut take) {
            return true;
        }
        read += 1;
        if read >= MAX_KEYS {
            break;
        }
    }
    false
}

/// Orders the catalog's suggestions and the therapists into one list of at most `limit`.
fn merge(
    catalog: Vec<(Suggestion, Quality)>,
    therapists: Vec<(Suggestion, Quality)>,
    limit: usize,
) -> Vec<Suggestion> {
    let mut all = catalog;
    all.extend(therapists);
    all.sort_by(|(a, qa), (b, qb)| {
        (qa, std::cmp::Reverse(a.count.unwrap_or(0)), &a.label).cmp(&(
            qb,
            std::cmp::Reverse(b.count.unwrap_or(0)),
            &b.label,
        ))
    });
    all.truncate(limit);
    all.into_iter().map(|(s, _)| s).collect()
}
