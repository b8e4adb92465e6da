//! The index's own bookkeeping: documents replaced and removed everywhere, fees, the word
//! table.

use roaring::RoaringBitmap;
use uuid::Uuid;

use super::index::*;

fn entry(name: &str) -> Entry {
    Entry {
        listing_id: Uuid::now_v7(),
        display_name: name.into(),
        statement: "Warm practical help for anxious clients".into(),
        languages: vec!["en".into()],
        delivery: vec!["video".into()],
        modality_ids: vec![1],
        offices: vec![(35.0, -78.0)],
        ..Entry::default()
    }
}

#[test]
fn a_maximum_fee_selects_exactly_the_fees_at_or_below_it() {
    let mut index = Index::default();
    let entries: Vec<Entry> = (0..500)
        .map(|i| Entry {
            fee_floor_cents: (i % 250 != 0).then_some((i * 37 % 300) * 100),
            ..entry("Fee Person")
        })
        .collect();
    index.apply(entries.clone(), &[]);
    for max in [-1, 0, 100, 4_999, 5_000, 12_345, 29_900, 1_000_000] {
        let expected: RoaringBitmap = (0..500u32)
            .filter(|&d| {
                entries[d as usize]
                    .fee_floor_cents
                    .is_some_and(|f| f <= max)
            })
            .collect();
        assert_eq!(index.fee_at_most(max), expected, "{max}");
    }
}

/// A listing edited again and again with words nobody else uses leaves a word table
/// the size of what is indexed, and its latest words found.
#[test]
fn words_no_listing_holds_are_forgotten() {
    let mut index = Index::default();
    let a = entry("Dana Wells");
    index.apply(vec![a.clone(), entry("Sam Other")], &[]);
    let unique = |round: usize| -> String {
        (0..40)
            .map(|w| format!("zq{round}x{w}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut largest = 0;
    for round in 0..200 {
        let edited = Entry {
            statement: unique(round),
            ..a.clone()
        };
        index.apply(vec![edited], &[]);
        index.reclaim_words();
        largest = largest.max(index.words.len()).max(index.postings.len());
    }
    // One round's 40 words (and their stems), the other listing's, and at most a tenth
    // more waiting to be forgotten: nothing like 200 rounds' 8,000.
    assert!(largest < 300, "the word table reached {largest}");
    assert!(index.postings("zq199x7").is_some());
    assert!(index.postings("zq3x7").is_none());
    assert!(index.postings("anxious").is_some() || index.postings("anxiou").is_some());
}

#[test]
fn changes_replace_and_remove_documents_everywhere() {
    let mut index = Index::default();
    let a = entry("Dana Wells");
    let b = entry("Sam Other");
    index.apply(vec![a.clone(), b.clone()], &[]);
    assert_eq!(index.len(), 2);
    assert_eq!(index.term(Kind::Modality, 1).map(|b| b.len()), Some(2));
    assert!(index.postings("client").is_some());

    // A changes modality and words; B goes.
    let a2 = Entry {
        modality_ids: vec![2],
        statement: "Grief".into(),
        offices: vec![],
        ..a.clone()
    };
    index.apply(vec![a2], &[b.listing_id]);
    assert_eq!(index.len(), 1);
    assert!(index.term(Kind::Modality, 1).is_none());
    assert_eq!(index.term(Kind::Modality, 2).map(|b| b.len()), Some(1));
    assert!(index.postings("client").is_none());
    assert!(index.postings("grief").is_some());
    assert_eq!(index.offices.len(), 0);
    // The freed slot is reused.
    index.apply(vec![entry("New Person")], &[]);
    assert_eq!(index.listing.len(), 2);
    assert_eq!(index.offices.len(), 1);
}

/// What a word matches is the union of its keys' postings (the word's and its stem's), at
/// every weight, though only the stem's are read.
#[test]
fn a_word_matches_the_postings_of_the_word_and_of_its_stem() {
    use super::fixtures::index_of;
    use super::lexicon::Matches;
    use super::text;
    let texts = [
        (
            "Calming Jones",
            "Counselor",
            "Help with worries and walking",
        ),
        ("Sam Walker", "Walking coach", "Calm"),
        (
            "Dana Wells",
            "Therapist",
            "Walks, calming moods, walking again",
        ),
        ("Kim Lee", "Counselor", "Families and parenting"),
        (
            "Pat Parents",
            "Parenting specialist",
            "Helping parenting families",
        ),
    ];
    let entries: Vec<Entry> = texts
        .iter()
        .map(|(name, title, statement)| Entry {
            professional_title: Some((*title).into()),
            statement: (*statement).into(),
            ..entry(name)
        })
        .collect();
    let (index, lexicon) = index_of(entries);
    for word in [
        "walking",
        "walks",
        "calming",
        "parenting",
        "families",
        "moods",
        "calm",
    ] {
        let mut expected = Matches::default();
        for key in text::keys(word) {
            if let Some(postings) = index.postings(&key) {
                for (into, from) in expected.by_weight.iter_mut().zip(postings) {
                    *into |= from;
                }
                expected.names |= &postings[Weight::Name as usize];
            }
        }
        let found = lexicon.matches(&index, word);
        assert!(!expected.any().is_empty(), "{word}");
        assert_eq!(found.by_weight, expected.by_weight, "{word}");
        assert_eq!(found.names, expected.names, "{word}");
    }
}
