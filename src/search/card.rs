//! What a search item shows, kept beside the index so that a search page is answered from
//! the process's memory rather than by reading PostgreSQL: each document's summary packed
//! into about a hundred bytes (the stored JSON is about 830). Strings that repeat across
//! listings (titles, credentials, cities, ZIPs, slugs, codes) are kept once in a bounded
//! table and named by number; the rest are written out.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::summary::{Summary, SummaryFees};
use crate::domain::vocab::{Accepting, Delivery, SessionFormat};
use crate::photos::model::{ObjectName, Photo};

/// What an item shows of a listing besides what the search computes (distance, map point).
#[derive(Debug, Clone)]
pub struct Card {
    pub summary: Summary,
    /// When the listing last changed.
    pub updated_at: OffsetDateTime,
    pub availability_unconfirmed: bool,
    /// The approved photo's object names.
    pub photo: Option<Photo>,
}

/// At most this many strings are shared. Later ones are written out in each card, so the
/// table stays bounded however many distinct titles a stream of edits brings (it starts
/// again empty with the process).
const MAX_SHARED: usize = 1 << 16;
/// Longer strings are rarely shared; they are written out.
const MAX_SHARED_LEN: usize = 64;

/// The strings cards share, by number.
#[derive(Default, Serialize, Deserialize)]
pub struct Shared {
    strings: Vec<Box<str>>,
    numbers: HashMap<Box<str>, u32>,
}

/// Every document's packed card, end to end in one buffer: a million separate small
/// allocations would sit between the build's short-lived ones and keep the memory those
/// leave free from going back to the system. A replaced card's bytes stay behind until
/// they are half the buffer, then the live cards are copied into a new one.
#[derive(Default, Serialize, Deserialize)]
pub struct Cards {
    bytes: Vec<u8>,
    /// Offset and length of each document's card in `bytes`; length 0: none.
    spans: Vec<(u32, u32)>,
    /// Bytes of `bytes` no span refers to any more.
    unused: usize,
}

impl Cards {
    /// `doc`'s packed card.
    pub fn get(&self, doc: u32) -> Option<&[u8]> {
        let &(at, len) = self.spans.get(doc as usize)?;
        (len > 0).then(|| &self.bytes[at as usize..(at + len) as usize])
    }

    /// Sets `doc`'s card (none: `None` or an empty slice).
    pub fn set(&mut self, doc: u32, packed: Option<&[u8]>) {
        let d = doc as usize;
        if d >= self.spans.len() {
            self.spans.resize(d + 1, (0, 0));
        }
        self.unused += self.spans[d].1 as usize;
        self.spans[d] = (0, 0);
        let Some(packed) = packed.filter(|p| !p.is_empty()) else {
            return;
        };
        if self.unused > 1 << 20 && self.unused > self.bytes.len() / 2 {
            self.compact();
        }
        // Offsets are 32-bit: a card past 4 GiB of cards is not kept (tens of millions of
        // listings; its item would not be shown).
        let Ok(at) = u32::try_from(self.bytes.len()) else {
            return;
        };
        if u32::try_from(self.bytes.len() + packed.len()).is_err() {
            return;
        }
        self.bytes.extend_from_slice(packed);
        self.spans[d] = (at, packed.len() as u32);
    }

    fn compact(&mut self) {
        let mut bytes = Vec::with_capacity(self.bytes.len() - self.unused);
        for span in &mut self.spans {
            if span.1 > 0 {
                let (at, len) = (span.0 as usize, span.1 as usize);
                span.0 = bytes.len() as u32;
                bytes.extend_from_slice(&self.bytes[at..at + len]);
            }
        }
        self.bytes = bytes;
        self.unused = 0;
    }
}

/// A string in a card: a number in `Shared`, or the string itself.
#[derive(Serialize, Deserialize)]
pub(super) enum Text<'a> {
    Shared(u32),
    Own(&'a str),
}

/// A card as it is stored, its strings borrowed from the packed bytes when it is read. The
/// slug and the name come first, so that they can be read without the rest
/// (`Shared::name_and_slug`).
#[derive(Serialize, Deserialize)]
pub(super) struct Packed<'a> {
    pub slug: &'a str,
    pub display_name: &'a str,
    #[serde(borrow)]
    pub pronouns: Option<Text<'a>>,
    #[serde(borrow)]
    pub credentials: Option<Text<'a>>,
    #[serde(borrow)]
    pub professional_title: Option<Text<'a>>,
    pub accepting: Accepting,
    pub free_consultation: bool,
    pub fees: SummaryFees,
    #[serde(borrow)]
    pub modalities: Vec<Text<'a>>,
    #[serde(borrow)]
    pub top_specialties: Vec<Text<'a>>,
    pub delivery: Vec<Delivery>,
    pub session_formats: Vec<SessionFormat>,
    #[serde(borrow)]
    pub languages: Vec<Text<'a>>,
    #[serde(borrow)]
    pub telehealth_states: Vec<Text<'a>>,
    /// City, state and ZIP of each office.
    #[serde(borrow)]
    pub offices: Vec<[Text<'a>; 3]>,
    pub license_verified: bool,
    /// Nanoseconds since the epoch (UTC).
    pub last_confirmed_at: Option<i128>,
    pub updated_at: i128,
    pub availability_unconfirmed: bool,
    /// The photo's variants by their SHA-256, in `Variants::each`'s order.
    pub photo: Option<[[u8; 32]; 4]>,
}

/// A document's card as read in place, with the table its shared strings are in.
pub struct CardView<'a> {
    pub(super) id: Uuid,
    pub(super) packed: Packed<'a>,
    pub(super) shared: &'a Shared,
}

fn photo_digests(photo: &Photo) -> Option<[[u8; 32]; 4]> {
    let [a, b, c, d] = photo.names().map(ObjectName::digest_of);
    Some([a?, b?, c?, d?])
}

impl Shared {
    fn text<'s>(&mut self, s: &'s str) -> Text<'s> {
        if let Some(&n) = self.numbers.get(s) {
            return Text::Shared(n);
        }
        if s.len() > MAX_SHARED_LEN || self.strings.len() >= MAX_SHARED {
            return Text::Own(s);
        }
        let n = self.strings.len() as u32;
        self.strings.push(s.into());
        self.numbers.insert(s.into(), n);
        Text::Shared(n)
    }

    fn texts<'s>(&mut self, all: &'s [String]) -> Vec<Text<'s>> {
        all.iter().map(|s| self.text(s)).collect()
    }

    /// The string `text` stands for.
    pub(super) fn str<'a>(&'a self, text: &Text<'a>) -> &'a str {
        match *text {
            Text::Shared(n) => self.strings.get(n as usize).map_or("", |s| s),
            Text::Own(s) => s,
        }
    }

    /// `card` in its stored form (`None` only if the serialiser fails, which writing these
    /// types into memory does not).
    pub fn pack(&mut self, card: Card) -> Option<Box<[u8]>> {
        // Destructured, so that a field added to the summary cannot be left out here.
        let Summary {
            id: _,
            slug,
            display_name,
            pronouns,
            credentials,
            professional_title,
            // An item's `photo_url` is its photo's `w400`; stored summaries hold none.
            photo_url: _,
            accepting,
            free_consultation,
            fees,
            modalities,
            top_specialties,
            delivery,
            session_formats,
            languages,
            telehealth_states,
            offices,
            license_verified,
            last_confirmed_at,
        } = card.summary;
        let packed = Packed {
            slug: &slug,
            display_name: &display_name,
            pronouns: pronouns.as_deref().map(|s| self.text(s)),
            credentials: credentials.as_deref().map(|s| self.text(s)),
            professional_title: professional_title.as_deref().map(|s| self.text(s)),
            accepting,
            free_consultation,
            fees,
            modalities: self.texts(&modalities),
            top_specialties: self.texts(&top_specialties),
            delivery,
            session_formats,
            languages: self.texts(&languages),
            telehealth_states: self.texts(&telehealth_states),
            offices: offices
                .iter()
                .map(|o| [self.text(&o.city), self.text(&o.state), self.text(&o.zip)])
                .collect(),
            license_verified,
            last_confirmed_at: last_confirmed_at.map(OffsetDateTime::unix_timestamp_nanos),
            updated_at: card.updated_at.unix_timestamp_nanos(),
            availability_unconfirmed: card.availability_unconfirmed,
            photo: card.photo.as_ref().and_then(photo_digests),
        };
        postcard::to_allocvec(&packed)
            .ok()
            .map(Vec::into_boxed_slice)
    }

    /// The card `packed` holds, read in place, for listing `id`; `None` if it does not
    /// read (which a card this table packed always does).
    pub fn view<'a>(&'a self, id: Uuid, packed: &'a [u8]) -> Option<CardView<'a>> {
        let packed = postcard::from_bytes(packed).ok()?;
        Some(CardView {
            id,
            packed,
            shared: self,
        })
    }

    /// The display name and slug `packed` holds, read without the rest of the card.
    pub fn name_and_slug(packed: &[u8]) -> Option<(String, String)> {
        let ((slug, name), _) = postcard::take_from_bytes::<(String, String)>(packed).ok()?;
        Some((name, slug))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::fixtures::summary;

    /// Every string reads back from a view of the card, shared or written out (a title
    /// past `MAX_SHARED_LEN`, or any new string once the table is full). `item`'s test
    /// compares whole items.
    #[test]
    fn a_cards_strings_read_back_however_full_the_table_is() {
        let mut shared = Shared::default();
        let long_title = "t".repeat(MAX_SHARED_LEN + 1);
        let title_of = |shared: &mut Shared, title: &str| {
            let card = Card {
                summary: summary(title),
                updated_at: OffsetDateTime::UNIX_EPOCH,
                availability_unconfirmed: false,
                photo: None,
            };
            let packed = shared.pack(card).unwrap();
            assert_eq!(
                Shared::name_and_slug(&packed),
                Some(("Dana Wells".into(), "dana-wells-austin".into()))
            );
            let view = shared.view(Uuid::nil(), &packed).unwrap();
            let title = view.packed.professional_title.as_ref().unwrap();
            (shared.str(title).to_owned(), matches!(title, Text::Own(_)))
        };
        assert_eq!(
            title_of(&mut shared, "Clinical Psychologist"),
            ("Clinical Psychologist".into(), false)
        );
        assert_eq!(
            title_of(&mut shared, &long_title),
            (long_title.clone(), true)
        );
        for n in 0..MAX_SHARED {
            shared.text(&format!("filler {n}"));
        }
        assert_eq!(shared.strings.len(), MAX_SHARED);
        assert_eq!(
            title_of(&mut shared, "A Title Never Seen"),
            ("A Title Never Seen".into(), true)
        );
        assert_eq!(shared.strings.len(), MAX_SHARED);
        assert_eq!(
            title_of(&mut shared, "Clinical Psychologist"),
            ("Clinical Psychologist".into(), false)
        );
    }

    #[test]
    fn a_card_is_a_fraction_of_the_stored_json() {
        let mut shared = Shared::default();
        let first = shared
            .pack(Card {
                summary: summary("Clinical Psychologist"),
                updated_at: OffsetDateTime::UNIX_EPOCH,
                availability_unconfirmed: false,
                photo: None,
            })
            .unwrap();
        let json = serde_json::to_vec(&summary("Clinical Psychologist")).unwrap();
        assert!(first.len() > 40, "{}", first.len());
        assert!(
            first.len() * 4 < json.len(),
            "{} vs {}",
            first.len(),
            json.len()
        );
    }
}

#[cfg(test)]
mod cards_tests {
    use super::Cards;

    /// Cards replaced again and again keep the buffer within twice what is live, and each
    /// document reads back its latest card.
    #[test]
    fn replaced_cards_are_read_back_and_their_space_reclaimed() {
        let mut cards = Cards::default();
        let card = |doc: u32, round: u32| vec![(doc + round) as u8; 100 + (doc % 7) as usize];
        for round in 0..60 {
            for doc in 0..1000 {
                cards.set(doc, Some(&card(doc, round)));
            }
            cards.set(500, None);
            for doc in (0..1000).filter(|&d| d != 500) {
                assert_eq!(cards.get(doc), Some(&card(doc, round)[..]), "{doc}");
            }
            assert_eq!(cards.get(500), None);
            assert!(
                cards.bytes.len() <= 2 * 106 * 1000 + (1 << 20),
                "{}",
                cards.bytes.len()
            );
        }
        assert_eq!(cards.get(5000), None);
    }
}
