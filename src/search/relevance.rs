//! Free text: `q` as the directory's words, matched with typos and dropped from the end
//! until something matches, and the relevance order of what matched.

use std::borrow::Cow;

use roaring::RoaringBitmap;

use super::buckets::{Buckets, Key, Split};
use super::index::{DocId, Index, Order};
use super::lexicon::{Lexicon, Matches};
use super::page::{Position, in_order, smallest};
use super::text;
use super::text::name_key;

/// At most this many words of `q` are looked up; the rest are ignored.
pub const MAX_QUERY_WORDS: usize = 10;

/// `q` as words (phrases the lexicon knows kept whole), without generic words.
fn query_words(lexicon: &Lexicon, q: &str) -> Vec<String> {
    let raw: Vec<String> = text::words(q).take(MAX_QUERY_WORDS * 2).collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let phrase = (2..=text::MAX_PHRASE_WORDS.min(raw.len() - i))
            .rev()
            .map(|n| raw[i..i + n].join(" "))
            .find(|p| lexicon.is_phrase(p));
        match phrase {
            Some(p) => {
                i += p.split(' ').count();
                out.push(p);
            }
            None => {
                if !text::is_generic(&raw[i]) {
                    out.push(raw[i].clone());
                }
                i += 1;
            }
        }
    }
    // A word said twice counts once, wherever the second one stands.
    let mut seen = std::collections::HashSet::new();
    out.retain(|w| seen.insert(w.clone()));
    out.truncate(MAX_QUERY_WORDS);
    out
}

/// What free text selects: the matching documents, the words used, and what ranking needs.
pub struct TextMatch {
    pub matched: RoaringBitmap,
    pub used: Vec<String>,
    /// Matches of the used words, then of the dropped words that match some of `matched`.
    pub used_matches: Vec<Matches>,
    pub dropped_matches: Vec<RoaringBitmap>,
    pub name: u64,
}

/// Applies `q` to the filtered documents, dropping words from the end until some match.
pub fn match_text(
    index: &Index,
    lexicon: &Lexicon,
    q: &str,
    filtered: &RoaringBitmap,
) -> TextMatch {
    let words = query_words(lexicon, q);
    let name = name_key(
        text::words(q)
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
    );
    let mut known: Vec<(String, Matches, RoaringBitmap)> = Vec::new();
    let mut unknown = false;
    for word in words {
        let m = lexicon.matches(index, &word);
        let any = &m.any() & filtered;
        if any.is_empty() {
            // Matches nothing here: it cannot narrow anything, and is left out.
            unknown = true;
            continue;
        }
        known.push((word, m, any));
    }
    // The first word narrows the filtered documents to its own matches among them (`any`);
    // each later word narrows further, until one would leave nothing.
    let mut matched: Option<RoaringBitmap> = None;
    let mut used = Vec::new();
    let mut used_matches = Vec::new();
    let mut dropped_matches = Vec::new();
    for (word, m, any) in known {
        // `any` is not empty, so the first word always narrows.
        let narrowed = match &matched {
            _ if !dropped_matches.is_empty() => Err(any),
            None => Ok(any),
            Some(so_far) => {
                let n = so_far & &any;
                if n.is_empty() { Err(any) } else { Ok(n) }
            }
        };
        match narrowed {
            Ok(n) => {
                matched = Some(n);
                used.push(word);
                used_matches.push(m);
            }
            Err(any) => dropped_matches.push(any),
        }
    }
    let matched = matched.unwrap_or_else(|| {
        if unknown {
            RoaringBitmap::new()
        } else {
            filtered.clone()
        }
    });
    TextMatch {
        matched,
        used,
        used_matches,
        dropped_matches,
        name,
    }
}

/// Relevance, highest first: an exact name match, then how many of the words match, then
/// where they match (name and modality, then practice, then statement), then the latest
/// confirmation. Packed into one number below 2^53, so a cursor holds it exactly; a
/// position is its negation (positions ascend) with the id, descending, as tie-breaker.
pub fn rank_key(exact: bool, words: u64, weight: u64, confirmed_key: i64) -> i64 {
    // The confirmation order's key is minus the time (never confirmed: `i64::MAX`).
    let confirmed = if confirmed_key == i64::MAX {
        0
    } else {
        (-confirmed_key).clamp(0, (1 << 34) - 1)
    };
    let prefix = ((u64::from(exact) << 4 | words.min(15)) << 7 | weight.min(127)) as i64;
    -((prefix << 34) | confirmed)
}

/// Points of one document: matched words × 128 + weight points (3 for a word in the name
/// or a modality, 2 in the practice, 1 in the statement; the best place per word).
pub fn points(t: &TextMatch, doc: DocId) -> (u64, u64) {
    let mut words = t.used_matches.len() as u64;
    let mut weight = 0;
    for m in &t.used_matches {
        weight += (0..3)
            .find(|&w| m.by_weight[w].contains(doc))
            .map_or(0, |w| 3 - w as u64);
    }
    words += t.dropped_matches.iter().filter(|d| d.contains(doc)).count() as u64;
    (words, weight)
}

/// The first `n` listings by relevance after `after`. The matches are split into buckets of
/// equal (words, weight), highest first, as far as the page reads (`buckets`); each bucket
/// is read in confirmation order, so a page of a common word touches a few buckets' first
/// members rather than every match.
pub fn relevance_page(
    index: &Index,
    t: &TextMatch,
    after: Option<Position>,
    n: usize,
) -> Vec<(Position, DocId)> {
    let position = |doc: DocId, exact: bool| {
        let (words, weight) = points(t, doc);
        let (confirmed, tie) = index.position(Order::Confirmed, doc);
        (rank_key(exact, words, weight, confirmed), tie)
    };
    // Exact name matches: every word in the name, and the name no more than the words.
    // Read from the words' name matches, smallest first, which are few beside the matches.
    let mut names: Vec<&RoaringBitmap> = t.used_matches.iter().map(|m| &m.names).collect();
    names.sort_by_key(|b| b.len());
    let exact: RoaringBitmap = match names.split_first() {
        Some((first, others)) => {
            let mut both = *first & &t.matched;
            for b in others {
                both &= *b;
            }
            both.iter()
                .filter(|&doc| index.name_key[doc as usize] == t.name)
                .collect()
        }
        None => RoaringBitmap::new(),
    };
    let mut page = smallest(exact.iter().map(|doc| (doc, position(doc, true))), after, n);
    if page.len() == n {
        return page;
    }
    let rest = if exact.is_empty() {
        Cow::Borrowed(&t.matched)
    } else {
        Cow::Owned(&t.matched - &exact)
    };
    let splits = t
        .used_matches
        .iter()
        .map(|m| Split::Used(&m.by_weight))
        .chain(t.dropped_matches.iter().map(Split::Dropped))
        .collect();
    // After a cursor, the buckets above the cursor's own are passed.
    let last = |(words, weight): Key| rank_key(false, words, weight, i64::MAX);
    let wanted = |key: Key| after.is_none_or(|(at, _)| at <= last(key));
    for ((words, weight), bucket) in Buckets::new(rest, splits, wanted) {
        let first = rank_key(false, words, weight, i64::MIN + 1);
        // Positions in this bucket run from `first` (latest) to `last` (never confirmed).
        let start = match after {
            Some((key, tie)) if key >= first => {
                // The cursor is inside this bucket: resume after it in confirmation order.
                let confirmed = last((words, weight)) - key;
                Some((if confirmed == 0 { i64::MAX } else { -confirmed }, tie))
            }
            _ => None,
        };
        let found = in_order(index, &bucket, Order::Confirmed, start, n - page.len());
        page.extend(found.into_iter().map(|((confirmed, tie), doc)| {
            ((rank_key(false, words, weight, confirmed), tie), doc)
        }));
        if page.len() == n {
            break;
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use crate::search::fixtures::{entry, index_of, names};
    use crate::search::index::Entry;

    #[test]
    fn words_drop_from_the_end_and_rank_by_name_then_words() {
        let a = entry("Ana Lopez", "I help with grief and anxiety");
        let b = entry("Grief Person", "Teens and families");
        let c = Entry {
            modality_ids: vec![1],
            ..entry("Other One", "anxiety")
        };
        let (index, lexicon) = index_of(vec![a.clone(), b.clone(), c.clone()]);
        let (found, used) = names(&index, &lexicon, "grief+anxiety+zebra");
        assert_eq!(used, ["grief", "anxiety"]);
        assert_eq!(found, [a.listing_id.to_string()]);
        // "grief" alone: the name match (heavier) first.
        let (found, _) = names(&index, &lexicon, "grief");
        assert_eq!(found, [b.listing_id.to_string(), a.listing_id.to_string()]);
        // The vocabulary: a modality's name, a synonym, a typo.
        assert_eq!(
            names(&index, &lexicon, "emdr").0,
            [c.listing_id.to_string()]
        );
        assert_eq!(
            names(&index, &lexicon, "adolescent").0,
            [b.listing_id.to_string()]
        );
        assert_eq!(names(&index, &lexicon, "anxeity").0.len(), 2);
        // Only unknown words: nothing.
        assert!(names(&index, &lexicon, "zzzzqqq").0.is_empty());
        // Only generic words: everything.
        assert_eq!(names(&index, &lexicon, "therapist+near+me").0.len(), 3);
        // A word said twice counts once, adjacent or not.
        assert_eq!(
            names(&index, &lexicon, "grief+anxiety+grief").1,
            ["grief", "anxiety"]
        );
    }

    /// A state or vocabulary name of several words matches whole: "york" is not New York,
    /// "virginia" not West Virginia, "sign" not sign language.
    #[test]
    fn names_of_several_words_match_only_whole() {
        let place = |name: &str, state: &str, city: &str| Entry {
            states: vec![state.into()],
            cities: vec![city.into()],
            ..entry(name, "")
        };
        let ny = place("Ana One", "NY", "Albany");
        let york = place("Ben Two", "PA", "York");
        let va = place("Cal Three", "VA", "Richmond");
        let wv = place("Dee Four", "WV", "Charleston");
        let asl = Entry {
            languages: vec!["ase".into()],
            ..entry("Eve Five", "")
        };
        let (index, lexicon) = index_of(vec![
            ny.clone(),
            york.clone(),
            va.clone(),
            wv.clone(),
            asl.clone(),
        ]);
        let only = |q: &str| names(&index, &lexicon, q).0;
        assert_eq!(only("york"), [york.listing_id.to_string()]);
        assert_eq!(only("new+york"), [ny.listing_id.to_string()]);
        assert_eq!(only("virginia"), [va.listing_id.to_string()]);
        assert_eq!(only("west+virginia"), [wv.listing_id.to_string()]);
        assert_eq!(only("sign+language"), [asl.listing_id.to_string()]);
        assert!(only("sign").is_empty());
    }

    /// Typos are forgiven up to `MAX_TYPO_WORD` letters; a longer word matches exactly.
    #[test]
    fn long_words_match_without_typos() {
        use crate::search::lexicon::MAX_TYPO_WORD;
        let long = "a".repeat(MAX_TYPO_WORD - 2) + "bcde";
        let within = "a".repeat(MAX_TYPO_WORD - 4) + "bcde";
        let (index, lexicon) = index_of(vec![entry("Long Word", &format!("{long} {within}"))]);
        let typo = |w: &str| w.replacen("bc", "cb", 1);
        assert_eq!(names(&index, &lexicon, &long).0.len(), 1);
        assert!(names(&index, &lexicon, &typo(&long)).0.is_empty());
        assert_eq!(names(&index, &lexicon, &typo(&within)).0.len(), 1);
    }
}
