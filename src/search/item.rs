//! A page of search items written straight from the packed cards (`card`): each string is
//! borrowed from its card or from the shared table and written into the JSON as it is,
//! rather than copied into an owned `SearchItem` first, and a photo's URLs are written from
//! its digests. The JSON is `SearchItem`'s, key for key and in its order: a test compares
//! the two for the same listings.

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use uuid::Uuid;

use super::card::{CardView, Shared, Text};
use super::index::{Flag, Index};
use super::query::Hit;
use super::summary::SummaryFees;
use crate::domain::vocab::{Accepting, Delivery, SessionFormat};
use crate::error::ApiError;
use crate::photos::media::Media;
use crate::photos::model::{EXTENSIONS, ObjectName};

/// A page of search items as JSON, and the listings it shows, in its order.
pub struct Page {
    pub json: Box<RawValue>,
    pub listings: Vec<Uuid>,
}

/// `hits` as search items, in order; a hit without a readable card is left out (none is:
/// every published listing has one).
pub fn page(index: &Index, media: &Media, hits: &[Hit]) -> Result<Page, ApiError> {
    let stale = index.flag(Flag::Stale);
    let items: Vec<ItemJson> = hits
        .iter()
        .filter_map(|hit| ItemJson::new(index.card(hit.doc)?, media, hit, stale.contains(hit.doc)))
        .collect();
    let listings = items.iter().map(|item| item.id).collect();
    let json = serde_json::value::to_raw_value(&items).map_err(ApiError::internal)?;
    Ok(Page { json, listings })
}

/// One item as `SearchItem` writes it (its summary's keys, then the search's own).
#[derive(Serialize)]
struct ItemJson<'a> {
    id: Uuid,
    slug: &'a str,
    display_name: &'a str,
    pronouns: Option<&'a str>,
    credentials: Option<&'a str>,
    professional_title: Option<&'a str>,
    photo_url: Option<PhotoUrl<'a>>,
    accepting: Accepting,
    free_consultation: bool,
    fees: SummaryFees,
    modalities: Texts<'a>,
    top_specialties: Texts<'a>,
    delivery: Vec<Delivery>,
    session_formats: Vec<SessionFormat>,
    languages: Texts<'a>,
    telehealth_states: Texts<'a>,
    offices: Offices<'a>,
    license_verified: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    last_confirmed_at: Option<OffsetDateTime>,
    distance_km: Option<f64>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    photo: Option<PhotoUrls<'a>>,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    stale: bool,
    availability_confirmed: bool,
}

impl<'a> ItemJson<'a> {
    fn new(card: CardView<'a>, media: &'a Media, hit: &Hit, stale: bool) -> Option<Self> {
        let CardView { id, packed, shared } = card;
        let text = |t: Option<Text<'a>>| t.map(|t| shared.str(&t));
        let texts = |texts| Texts { texts, shared };
        let instant = |nanos| OffsetDateTime::from_unix_timestamp_nanos(nanos).ok();
        let photo = packed.photo.map(|digests| PhotoUrls { media, digests });
        Some(ItemJson {
            id,
            slug: packed.slug,
            display_name: packed.display_name,
            pronouns: text(packed.pronouns),
            credentials: text(packed.credentials),
            professional_title: text(packed.professional_title),
            photo_url: photo.as_ref().map(|p| p.url(1)),
            accepting: packed.accepting,
            free_consultation: packed.free_consultation,
            fees: packed.fees,
            modalities: texts(packed.modalities),
            top_specialties: texts(packed.top_specialties),
            delivery: packed.delivery,
            session_formats: packed.session_formats,
            languages: texts(packed.languages),
            telehealth_states: texts(packed.telehealth_states),
            offices: Offices {
                offices: packed.offices,
                shared,
            },
            license_verified: packed.license_verified,
            last_confirmed_at: match packed.last_confirmed_at {
                Some(nanos) => Some(instant(nanos)?),
                None => None,
            },
            distance_km: hit
                .distance_km
                .filter(|d| d.is_finite())
                .map(|d| (d * 10.0).round() / 10.0),
            latitude: hit.point.map(|p| p[0]),
            longitude: hit.point.map(|p| p[1]),
            photo,
            updated_at: instant(packed.updated_at)?,
            stale,
            availability_confirmed: !packed.availability_unconfirmed,
        })
    }
}

/// A list of a card's strings.
struct Texts<'a> {
    texts: Vec<Text<'a>>,
    shared: &'a Shared,
}

impl Serialize for Texts<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.texts.iter().map(|t| self.shared.str(t)))
    }
}

/// A card's offices, as `SummaryOffice` writes them.
struct Offices<'a> {
    offices: Vec<[Text<'a>; 3]>,
    shared: &'a Shared,
}

#[derive(Serialize)]
struct OfficeJson<'a> {
    city: &'a str,
    state: &'a str,
    zip: &'a str,
}

impl Serialize for Offices<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let str = |t| self.shared.str(t);
        serializer.collect_seq(self.offices.iter().map(|[city, state, zip]| OfficeJson {
            city: str(city),
            state: str(state),
            zip: str(zip),
        }))
    }
}

/// A photo's four URLs, as `Photo` writes them.
struct PhotoUrls<'a> {
    media: &'a Media,
    digests: [[u8; 32]; 4],
}

impl<'a> PhotoUrls<'a> {
    /// The URL of variant `i` (`Variants::each`'s order).
    fn url(&self, i: usize) -> PhotoUrl<'a> {
        PhotoUrl {
            media: self.media,
            name: ObjectName {
                digest: self.digests[i],
                extension: EXTENSIONS.each()[i],
            },
        }
    }
}

impl Serialize for PhotoUrls<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut photo = serializer.serialize_struct("Photo", 4)?;
        for (i, key) in ["w160", "w400", "w800", "jpeg"].into_iter().enumerate() {
            photo.serialize_field(key, &self.url(i))?;
        }
        photo.end()
    }
}

/// One variant's URL, written from its digest.
struct PhotoUrl<'a> {
    media: &'a Media,
    name: ObjectName,
}

impl std::fmt::Display for PhotoUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.media.url_of(self.name).fmt(f)
    }
}

impl Serialize for PhotoUrl<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photos::media::MediaSettings;
    use crate::photos::model::Photo;
    use crate::search::card::Card;
    use crate::search::fixtures::summary;
    use crate::search::model::SearchItem;

    fn media() -> Media {
        let settings = MediaSettings {
            store: std::env::temp_dir()
                .join("td-item-json")
                .to_string_lossy()
                .into_owned(),
            // A character JSON escapes, so that the URL's own escaping is seen.
            public_url: Some("https://cdn.example/\"m\"/".into()),
            s3: Default::default(),
        };
        Media::open(&settings, "http://unused/").unwrap()
    }

    /// Each item is written exactly as `SearchItem` writes the card it was packed from: with
    /// and without a photo, shared and written-out strings, a distance to round, none or
    /// one that is not finite, a map point or none, stale or not.
    #[test]
    fn an_item_is_written_as_the_owned_search_item_is() {
        let media = media();
        let mut shared = Shared::default();
        let photo = Photo {
            w160: format!("{}.webp", "a1".repeat(32)),
            w400: format!("{}.webp", "0b".repeat(32)),
            w800: format!("{}.webp", "ff".repeat(32)),
            jpeg: format!("{}.jpg", "7c".repeat(32)),
        };
        let long_title = format!("Psychologist \"Dr.\" \\ {}", "t".repeat(80));
        let cases = [
            (
                "Clinical Psychologist",
                Some(photo.clone()),
                Some(12.34),
                Some(12.3),
                true,
            ),
            (long_title.as_str(), None, None, None, false),
            ("Counselor\nLPC", Some(photo), Some(f64::NAN), None, false),
        ];
        for (title, photo, distance, rounded, stale) in cases {
            let mut card = Card {
                summary: summary(title),
                updated_at: OffsetDateTime::from_unix_timestamp_nanos(1_795_000_000_123_000)
                    .unwrap(),
                availability_unconfirmed: stale,
                photo,
            };
            if !stale {
                card.summary.last_confirmed_at = None;
                card.summary.pronouns = None;
                card.summary.offices.clear();
            }
            let hit = Hit {
                doc: 0,
                listing: Uuid::now_v7(),
                position: (0, 0),
                distance_km: distance,
                point: stale.then_some([30.2672, -97.7431]),
            };
            let packed = shared.pack(card.clone()).unwrap();
            let view = shared.view(hit.listing, &packed).unwrap();
            let written = ItemJson::new(view, &media, &hit, stale).unwrap();
            let written = serde_json::to_string(&written).unwrap();

            let urls = card.photo.clone().map(|p| p.map(|name| media.url(&name)));
            let mut summary = card.summary.clone();
            summary.id = hit.listing;
            summary.photo_url = urls.as_ref().map(|p| p.w400.clone());
            let owned = SearchItem {
                summary,
                distance_km: rounded,
                latitude: hit.point.map(|p| p[0]),
                longitude: hit.point.map(|p| p[1]),
                photo: urls,
                updated_at: card.updated_at,
                stale,
                availability_confirmed: !stale,
            };
            assert_eq!(written, serde_json::to_string(&owned).unwrap());
        }
    }
}
