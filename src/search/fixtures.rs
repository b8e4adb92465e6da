//! Small indexes for the search modules' unit tests.

use super::index::{Entry, Index, Taxonomy, Term};
use super::lexicon::Lexicon;
use super::params::{SearchParams, Sort};
use super::query::run;

pub fn index_of(entries: Vec<Entry>) -> (Index, Lexicon) {
    let mut index = Index::with_taxonomy(Taxonomy {
        modality: vec![Term {
            id: 1,
            slug: "emdr".into(),
            name: "EMDR".into(),
            name_es: None,
            retired: false,
        }],
        ..Taxonomy::default()
    });
    index.apply(entries, &[]);
    let mut lexicon = Lexicon::build(&index.taxonomy);
    lexicon.refresh_known(&index);
    (index, lexicon)
}

pub fn entry(name: &str, statement: &str) -> Entry {
    Entry {
        listing_id: uuid::Uuid::now_v7(),
        display_name: name.into(),
        statement: statement.into(),
        ..Entry::default()
    }
}

pub fn names(index: &Index, lexicon: &Lexicon, q: &str) -> (Vec<String>, Vec<String>) {
    let p = SearchParams::parse(&format!("q={q}")).unwrap();
    let answer = run(index, lexicon, &p, Sort::Relevance, None, 10).unwrap();
    let slots: Vec<String> = answer.page.iter().map(|h| h.listing.to_string()).collect();
    (slots, answer.words_used.unwrap_or_default())
}
