//! Reading `q` the way people write into one box: "emdr in austin that takes aetna",
//! "spanish speaking therapist near brooklyn ny with a sliding scale". Phrases that name a
//! filter become that filter, a place phrase becomes `near` (when `near` is absent), and
//! the rest stays free text; the response's `interpreted` says what was understood.
//!
//! What counts as a place phrase: a place after `in` or `near` (`in austin`, `near
//! brooklyn ny`), or a city followed by its state (`austin tx`, `portland oregon`). A bare
//! name (`austin`, `dana whitfield`) stays free text. Places in text are matched exactly
//! (no typo), and two-letter state codes that are also English words (`in`, `me`, `or`,
//! `hi`, `ok`...) count as a state only after `in` or `near`.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::entry::{Kind, Taxonomy};
use super::params::{Near, SearchParams, Sort};
use super::text::{self, LANGUAGE_NAMES, LANGUAGE_NAMES_ES};
use crate::domain::place::{self, Place};
use crate::domain::vocab::Delivery;

/// What a filter phrase stands for.
#[derive(Debug, Clone, PartialEq)]
enum Meaning {
    Insurer(String),
    Language(&'static str),
    SlidingScale,
    FreeConsultation,
    Accepting,
    Online,
    /// Words that look like a filter inside a longer name: kept as free text
    /// ("online course" is an offering, not the video filter).
    Words,
}

/// Fixed phrases, folded as search folds words.
const PHRASES: &[(&str, Meaning)] = &[
    ("sliding scale", Meaning::SlidingScale),
    ("sliding fee", Meaning::SlidingScale),
    ("free consultation", Meaning::FreeConsultation),
    ("free consult", Meaning::FreeConsultation),
    ("free initial consultation", Meaning::FreeConsultation),
    ("accepting new clients", Meaning::Accepting),
    ("accepting new patients", Meaning::Accepting),
    ("taking new clients", Meaning::Accepting),
    ("accepting clients", Meaning::Accepting),
    ("online course", Meaning::Words),
    ("online courses", Meaning::Words),
    ("online", Meaning::Online),
    ("telehealth", Meaning::Online),
    ("teletherapy", Meaning::Online),
    ("video", Meaning::Online),
    ("virtual", Meaning::Online),
];

/// Insurers by the names people use besides their own (`bcbs`, `kaiser`).
const INSURER_NAMES: &[(&str, &[&str])] = &[
    (
        "blue-cross-blue-shield",
        &["bcbs", "blue cross", "blue shield"],
    ),
    (
        "united-healthcare",
        &["uhc", "united", "united health care"],
    ),
    ("kaiser-permanente", &["kaiser"]),
    ("magellan", &["magellan"]),
    ("oscar", &["oscar"]),
    ("molina", &["molina"]),
    ("carelon", &["carelon"]),
    ("beacon", &["beacon"]),
];

/// Words that only join what was understood ("that takes", "who speaks").
const CONNECTIVES: &[&str] = &[
    "in",
    "near",
    "that",
    "who",
    "takes",
    "take",
    "accepts",
    "accept",
    "speaks",
    "speaking",
    "speak",
    "offers",
    "offering",
    "with",
    "a",
    "an",
    "the",
    "and",
    "for",
    "me",
    "my",
    "i",
    "need",
    "want",
    "looking",
    "does",
    "do",
    "has",
    "have",
    "insurance",
    "covered",
    "by",
    "around",
    "close",
    "to",
    "of",
    "or",
    "en",
    "de",
    "que",
    "habla",
    "acepta",
];

/// State codes that are English words, read as states only after `in` or `near`.
const WORD_CODES: &[&str] = &[
    "in", "me", "or", "hi", "ok", "oh", "id", "de", "la", "ma", "pa", "co", "al", "as",
];

/// What `q` was read as, for the response.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Interpreted {
    /// The words left as free text; null when every word was understood.
    #[schema(required = true)]
    pub text: Option<String>,
    /// The place a phrase of `q` named, used as `near`; null when none (or `near` was given).
    #[schema(required = true, example = "Austin, TX")]
    pub near: Option<String>,
    /// The filters phrases of `q` set (only those present).
    pub filters: InterpretedFilters,
}

impl Interpreted {
    /// Whether any phrase was read as a filter or a place.
    pub fn understood(&self) -> bool {
        self.near.is_some() || self.filters != InterpretedFilters::default()
    }

    /// `q` read as plain words.
    pub fn plain(text: Option<String>) -> Interpreted {
        Interpreted {
            text,
            ..Interpreted::default()
        }
    }
}

/// Filters read from `q`, as the search parameters of the same names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct InterpretedFilters {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub insurer: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub language: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub delivery: Vec<Delivery>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, nullable = false)]
    pub sliding_scale: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, nullable = false)]
    pub free_consultation: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, nullable = false)]
    pub accepting: Option<bool>,
}

/// Reads `p.q` into filters, a place and the remaining text, applied to a copy of `p`.
/// Without `q`, `p` as it is and nothing interpreted.
pub fn interpret(p: &SearchParams, phrases: &Phrases) -> (SearchParams, Option<Interpreted>) {
    let mut out = p.clone();
    let Some(q) = &p.q else {
        return (out, None);
    };
    let words: Vec<String> = text::words(q).collect();
    let mut used = vec![false; words.len()];
    let mut seen = Interpreted::default();
    // Filter phrases, longest first at each position.
    let mut i = 0;
    while i < words.len() {
        let found = (1..=4.min(words.len() - i)).rev().find_map(|n| {
            phrases
                .0
                .get(&words[i..i + n].join(" "))
                .map(|m| (n, m.clone()))
        });
        match found {
            Some((n, Meaning::Words)) => i += n,
            Some((n, meaning)) => {
                apply(&mut out, &mut seen.filters, meaning);
                used[i..i + n].iter_mut().for_each(|u| *u = true);
                i += n;
            }
            None => i += 1,
        }
    }

    // A place phrase, when `near` is not given.
    if p.near.is_none()
        && p.place.is_none()
        && let Some((start, end, place)) = place_phrase(&words, &used)
    {
        used[start..end].iter_mut().for_each(|u| *u = true);
        seen.near = place.name.clone();
        set_place(&mut out, place);
    }

    let understood = used.iter().any(|u| *u);
    let rest: Vec<&str> = words
        .iter()
        .zip(&used)
        .filter(|(w, used)| {
            let joins = understood && CONNECTIVES.contains(&w.as_str());
            !**used && !joins
        })
        .map(|(w, _)| w.as_str())
        .collect();
    if understood {
        out.q = (!rest.is_empty()).then(|| rest.join(" "));
        if out.q.is_none() && out.sort == Some(Sort::Relevance) {
            out.sort = None;
        }
    }
    seen.text = out.q.clone();
    (out, Some(seen))
}

/// The filter phrases: the fixed ones, insurers by name, slug and common names, and
/// languages by name; where two name the same phrase, the first. Built with the lexicon,
/// whenever the taxonomy changes.
#[derive(Default)]
pub struct Phrases(HashMap<String, Meaning>);

impl Phrases {
    pub fn build(taxonomy: &Taxonomy) -> Self {
        let mut all: Vec<(String, Meaning)> = PHRASES
            .iter()
            .map(|(p, m)| ((*p).to_owned(), m.clone()))
            .collect();
        let folded = |s: &str| text::words(s).collect::<Vec<_>>().join(" ");
        for term in taxonomy.terms(Kind::Insurer).iter().filter(|t| !t.retired) {
            let insurer = Meaning::Insurer(term.slug.clone());
            all.push((folded(&term.name), insurer.clone()));
            all.push((folded(&term.slug), insurer.clone()));
            for (slug, names) in INSURER_NAMES {
                if *slug == term.slug {
                    all.extend(names.iter().map(|n| ((*n).to_owned(), insurer.clone())));
                }
            }
        }
        for (code, name) in LANGUAGE_NAMES.iter().chain(LANGUAGE_NAMES_ES) {
            all.push((folded(name), Meaning::Language(code)));
        }
        let mut phrases = HashMap::new();
        for (phrase, meaning) in all {
            phrases.entry(phrase).or_insert(meaning);
        }
        Phrases(phrases)
    }
}

/// Sets the filter `meaning` stands for on `p`, and notes it in `seen`.
fn apply(p: &mut SearchParams, seen: &mut InterpretedFilters, meaning: Meaning) {
    fn add<T: PartialEq>(list: &mut Vec<T>, value: T) {
        if !list.contains(&value) {
            list.push(value);
        }
    }
    match meaning {
        Meaning::Insurer(slug) => {
            add(&mut p.insurers, slug.clone());
            add(&mut seen.insurer, slug);
        }
        Meaning::Language(code) => {
            add(&mut p.languages, code.to_owned());
            add(&mut seen.language, code.to_owned());
        }
        Meaning::Online => {
            add(&mut p.delivery, Delivery::Video);
            add(&mut seen.delivery, Delivery::Video);
        }
        Meaning::SlidingScale => (p.sliding_scale, seen.sliding_scale) = (Some(true), Some(true)),
        Meaning::FreeConsultation => {
            (p.free_consultation, seen.free_consultation) = (Some(true), Some(true))
        }
        Meaning::Accepting => (p.accepting, seen.accepting) = (Some(true), Some(true)),
        Meaning::Words => {}
    }
}

/// The first place phrase among the words not yet used: `[start, end)` (the `in`/`near`
/// included) and the place.
fn place_phrase(words: &[String], used: &[bool]) -> Option<(usize, usize, Place)> {
    let free = |range: std::ops::Range<usize>| range.clone().all(|k| !used[k]);
    for i in 0..words.len() {
        // English `in`, `near`, and Spanish `en`.
        let after_preposition = matches!(words[i].as_str(), "in" | "near" | "en");
        let start = if after_preposition { i + 1 } else { i };
        for end in (start + 1..=(start + 5).min(words.len())).rev() {
            if !free(start..end) {
                continue;
            }
            let span = &words[start..end];
            let last = span.last().map(String::as_str).unwrap_or_default();
            // Without a preposition only "city state" counts, and never a code that is a word.
            let state_last = span.len() >= 2 && !WORD_CODES.contains(&last);
            if !after_preposition && !state_last {
                continue;
            }
            // "near me", "in or": a code that is a word is never a place by itself.
            if span.len() == 1 && WORD_CODES.contains(&last) {
                continue;
            }
            let Some(found) = place::resolve_in_text(span) else {
                continue;
            };
            let ends_in_state = found.state.is_some_and(|s| {
                crate::domain::UsState::parse(s).is_ok_and(|st| {
                    last.eq_ignore_ascii_case(s) || st.name().to_lowercase().ends_with(last)
                })
            });
            let city_and_state = ends_in_state && found.kind == place::PlaceKind::City;
            if !after_preposition && !city_and_state {
                continue;
            }
            return Some((i, end, found));
        }
    }
    None
}

fn set_place(p: &mut SearchParams, place: Place) {
    match place.point() {
        Some(point) => {
            p.near = Some(Near {
                point,
                state: place.state,
                radius_km: super::params::DEFAULT_RADIUS_KM,
            })
        }
        None => {
            if p.state.is_none() {
                p.state = place.state;
            }
        }
    }
    p.place = Some(place);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::entry::Term;

    fn taxonomy() -> Taxonomy {
        let term = |id, slug: &str, name: &str| Term {
            id,
            slug: slug.to_owned(),
            name: name.to_owned(),
            name_es: None,
            retired: false,
        };
        Taxonomy {
            insurer: vec![
                term(1, "aetna", "Aetna"),
                term(2, "blue-cross-blue-shield", "Blue Cross Blue Shield"),
                term(3, "united-healthcare", "UnitedHealthcare"),
            ],
            ..Taxonomy::default()
        }
    }

    fn read(q: &str) -> (SearchParams, Interpreted) {
        let p = SearchParams::parse(&format!("q={}", q.replace(' ', "+"))).unwrap();
        let (p, seen) = interpret(&p, &Phrases::build(&taxonomy()));
        (p, seen.unwrap())
    }

    #[test]
    fn a_sentence_becomes_filters_a_place_and_words() {
        let (p, seen) = read("emdr in austin that takes aetna");
        assert_eq!(p.q.as_deref(), Some("emdr"));
        assert_eq!(p.insurers, ["aetna"]);
        assert_eq!(seen.near.as_deref(), Some("Austin, TX"));
        assert!(p.near.is_some());

        let (p, seen) = read("spanish speaking therapist near brooklyn ny with a sliding scale");
        assert_eq!(p.languages, ["es"]);
        assert_eq!(p.sliding_scale, Some(true));
        assert_eq!(seen.near.as_deref(), Some("Brooklyn, NY"));
        assert_eq!(p.q.as_deref(), Some("therapist"));

        let (p, _) = read("online couples counseling bcbs free consultation accepting new clients");
        assert_eq!(p.delivery, [Delivery::Video]);
        assert_eq!(p.insurers, ["blue-cross-blue-shield"]);
        assert_eq!((p.free_consultation, p.accepting), (Some(true), Some(true)));
        assert_eq!(p.q.as_deref(), Some("couples counseling"));
    }

    #[test]
    fn a_city_with_its_state_is_a_place_and_a_bare_name_is_not() {
        let (p, seen) = read("anxiety austin tx");
        assert_eq!(seen.near.as_deref(), Some("Austin, TX"));
        assert_eq!(p.q.as_deref(), Some("anxiety"));
        for bare in [
            "austin",
            "dana whitfield",
            "therapist near me",
            "help in person",
            "grief in or",
        ] {
            let (p, seen) = read(bare);
            assert!(
                seen.near.is_none() && p.near.is_none(),
                "{bare}: {:?}",
                seen.near
            );
        }
        let (p, seen) = read("grief in texas");
        assert_eq!((p.state, seen.near.as_deref()), (Some("TX"), Some("Texas")));
    }

    #[test]
    fn only_understood_words_leave_the_text() {
        let (p, seen) = read("trauma");
        assert_eq!(p.q.as_deref(), Some("trauma"));
        assert_eq!(seen.text.as_deref(), Some("trauma"));
        let (p, seen) = read("telehealth aetna");
        assert!(p.q.is_none() && seen.text.is_none());
        // `near` given: the place stays in the text.
        let given = SearchParams::parse("q=emdr+in+austin&near=27601").unwrap();
        let (p, seen) = interpret(&given, &Phrases::build(&taxonomy()));
        assert!(seen.unwrap().near.is_none());
        assert_eq!(p.q.as_deref(), Some("emdr in austin"));
    }
}
