//! What a search item shows, kept beside the index so that a search page is answered from
//! the process's memory rather than by reading PostgreSQL: each document's summary packed
//! into about a hundred bytes (the stored JSON is about 830). Strings that repeat across
//! listings (titles, credentials, cities, ZIPs, slugs, codes) are kept once in a bounded
//! table and named by number; the rest are written out.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::summary::{Summary, SummaryFees, SummaryOffice};
use crate::domain::vocab::{Accepting, Delivery, SessionFormat};
use crate::photos::model::Photo;

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
enum Text {
    Shared(u32),
    Own(String),
}

/// A card as it is stored. The slug and the name come first, so that they can be read
/// without the rest (`Shared::name_and_slug`).
#[derive(Serialize, Deserialize)]
struct Packed {
    slug: String,
    display_name: String,
    pronouns: Option<Text>,
    credentials: Option<Text>,
    professional_title: Option<Text>,
    photo_url: Option<String>,
    accepting: Accepting,
    free_consultation: bool,
    fees: SummaryFees,
    modalities: Vec<Text>,
    top_specialties: Vec<Text>,
    delivery: Vec<Delivery>,
    session_formats: Vec<SessionFormat>,
    languages: Vec<Text>,
    telehealth_states: Vec<Text>,
    /// City, state and ZIP of each office.
    offices: Vec<[Text; 3]>,
    license_verified: bool,
    /// Nanoseconds since the epoch (UTC).
    last_confirmed_at: Option<i128>,
    updated_at: i128,
    availability_unconfirmed: bool,
    /// The photo's variants by their SHA-256 (`w160`, `w400`, `w800` WebP, then the JPEG).
    photo: Option<[[u8; 32]; 4]>,
}

/// An object name's digest (`<hex>.webp` or `<hex>.jpg`).
fn digest(name: &str) -> Option<[u8; 32]> {
    let hex = name.split('.').next()?;
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn photo_digests(photo: &Photo) -> Option<[[u8; 32]; 4]> {
    let [a, b, c, d] = photo.names();
    Some([digest(a)?, digest(b)?, digest(c)?, digest(d)?])
}

fn photo_names(digests: [[u8; 32]; 4]) -> Photo {
    let name = |d: [u8; 32], extension: &str| format!("{}.{extension}", crate::hex::hex(&d));
    let [a, b, c, d] = digests;
    Photo {
        w160: name(a, "webp"),
        w400: name(b, "webp"),
        w800: name(c, "webp"),
        jpeg: name(d, "jpg"),
    }
}

impl Shared {
    fn text(&mut self, s: &str) -> Text {
        if let Some(&n) = self.numbers.get(s) {
            return Text::Shared(n);
        }
        if s.len() > MAX_SHARED_LEN || self.strings.len() >= MAX_SHARED {
            return Text::Own(s.to_owned());
        }
        let n = self.strings.len() as u32;
        self.strings.push(s.into());
        self.numbers.insert(s.into(), n);
        Text::Shared(n)
    }

    fn texts(&mut self, all: &[String]) -> Vec<Text> {
        all.iter().map(|s| self.text(s)).collect()
    }

    fn string(&self, text: Text) -> String {
        match text {
            Text::Shared(n) => self
                .strings
                .get(n as usize)
                .map_or_else(String::new, |s| s.to_string()),
            Text::Own(s) => s,
        }
    }

    fn strings(&self, texts: Vec<Text>) -> Vec<String> {
        texts.into_iter().map(|t| self.string(t)).collect()
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
            photo_url,
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
            slug,
            display_name,
            pronouns: pronouns.map(|s| self.text(&s)),
            credentials: credentials.map(|s| self.text(&s)),
            professional_title: professional_title.map(|s| self.text(&s)),
            photo_url,
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

    /// The card `packed` holds, for listing `id`; `None` if it does not read (which a card
    /// this table packed always does).
    pub fn unpack(&self, id: Uuid, packed: &[u8]) -> Option<Card> {
        let p: Packed = postcard::from_bytes(packed).ok()?;
        let instant = |nanos| OffsetDateTime::from_unix_timestamp_nanos(nanos).ok();
        let summary = Summary {
            id,
            slug: p.slug,
            display_name: p.display_name,
            pronouns: p.pronouns.map(|t| self.string(t)),
            credentials: p.credentials.map(|t| self.string(t)),
            professional_title: p.professional_title.map(|t| self.string(t)),
            photo_url: p.photo_url,
            accepting: p.accepting,
            free_consultation: p.free_consultation,
            fees: p.fees,
            modalities: self.strings(p.modalities),
            top_specialties: self.strings(p.top_specialties),
            delivery: p.delivery,
            session_formats: p.session_formats,
            languages: self.strings(p.languages),
            telehealth_states: self.strings(p.telehealth_states),
            offices: p
                .offices
                .into_iter()
                .map(|[city, state, zip]| SummaryOffice {
                    city: self.string(city),
                    state: self.string(state),
                    zip: self.string(zip),
                })
                .collect(),
            license_verified: p.license_verified,
            last_confirmed_at: match p.last_confirmed_at {
                Some(nanos) => Some(instant(nanos)?),
                None => None,
            },
        };
        Some(Card {
            summary,
            updated_at: instant(p.updated_at)?,
            availability_unconfirmed: p.availability_unconfirmed,
            photo: p.photo.map(photo_names),
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
    use crate::domain::Money;
    use crate::domain::money::Currency;

    fn summary(title: &str) -> Summary {
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

    #[test]
    fn a_card_reads_back_as_it_was_written_however_full_the_table_is() {
        let mut shared = Shared::default();
        let long_title = "t".repeat(MAX_SHARED_LEN + 1);
        for title in ["Clinical Psychologist", long_title.as_str()] {
            let card = Card {
                summary: summary(title),
                updated_at: OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap(),
                availability_unconfirmed: true,
                photo: Some(Photo {
                    w160: format!("{}.webp", "a1".repeat(32)),
                    w400: format!("{}.webp", "0b".repeat(32)),
                    w800: format!("{}.webp", "ff".repeat(32)),
                    jpeg: format!("{}.jpg", "7c".repeat(32)),
                }),
            };
            let packed = shared.pack(card.clone()).unwrap();
            let back = shared.unpack(card.summary.id, &packed).unwrap();
            assert_eq!(
                serde_json::to_value(&back.summary).unwrap(),
                serde_json::to_value(&card.summary).unwrap()
            );
            assert_eq!(back.updated_at, card.updated_at);
            assert!(back.availability_unconfirmed);
            assert_eq!(back.photo, card.photo);
            assert_eq!(
                Shared::name_and_slug(&packed),
                Some(("Dana Wells".into(), "dana-wells-austin".into()))
            );
        }
        // Once the table is full, new strings are written out and still read back.
        for n in 0..MAX_SHARED {
            shared.text(&format!("filler {n}"));
        }
        assert_eq!(shared.strings.len(), MAX_SHARED);
        let card = Card {
            summary: summary("A Title Never Seen"),
            updated_at: OffsetDateTime::UNIX_EPOCH,
            availability_unconfirmed: false,
            photo: None,
        };
        let packed = shared.pack(card.clone()).unwrap();
        assert_eq!(shared.strings.len(), MAX_SHARED);
        let back = shared.unpack(card.summary.id, &packed).unwrap();
        assert_eq!(
            back.summary.professional_title.as_deref(),
            Some("A Title Never Seen")
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
