//! Small indexes for the search modules' unit tests.

use time::OffsetDateTime;
use uuid::Uuid;

use super::index::{Entry, Index, Taxonomy, Term};
use super::lexicon::Lexicon;
use super::params::{SearchParams, Sort};
use super::query::run;
use super::summary::{Summary, SummaryFees, SummaryOffice};
use crate::domain::Money;
use crate::domain::money::Currency;
use crate::domain::vocab::{Accepting, Delivery, SessionFormat};

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

/// A full summary, titled `title`.
pub fn summary(title: &str) -> Summary {
    let usd = |amount_cents| {
        Some(Money {
            amount_cents,
            currency: Currency::Usd,
        })
    };
    Summary {
        id: Uuid::now_v7(),
        slug: "dana-wells-austin".into(),
        display_name: "Dana Wells".into(),
        pronouns: Some("she/her".into()),
        credentials: Some("LCSW".into()),
        professional_title: Some(title.into()),
        photo_url: Some("https://photos.example/dana.jpg".into()),
        accepting: Accepting::Waitlist,
        free_consultation: true,
        fees: SummaryFees {
            min: usd(12_000),
            max: usd(18_500),
            sliding_scale_min: None,
            insurance_only: false,
        },
        modalities: vec!["cbt".into(), "emdr".into()],
        top_specialties: vec!["anxiety".into()],
        delivery: vec![Delivery::InPerson, Delivery::Video],
        session_formats: vec![SessionFormat::Couples],
        languages: vec!["en".into(), "es".into()],
        telehealth_states: vec!["TX".into()],
        offices: vec![SummaryOffice {
            city: "Austin".into(),
            state: "TX".into(),
            zip: "78701".into(),
        }],
        license_verified: true,
        last_confirmed_at: Some(
            OffsetDateTime::from_unix_timestamp_nanos(1_790_000_000_123_456_000).unwrap(),
        ),
    }
}
