//! US places `near` understands besides a ZIP code and `lat,lng`: states (`Texas`, `TX`) and
//! city names (`Austin, TX`, `Austin TX`, `austin`), USPS city names included, so
//! `Brooklyn` or `Hollywood` resolve. The gazetteer is built on first use from the ZIP
//! dataset the `zipcodes` crate embeds (MIT licence; USPS city names and ZIP centroids): a
//! city is the centroid of the ZIP codes that carry its name, as their city or as a name
//! the USPS accepts for them. The dataset has no population, so delivery ZIP codes stand in
//! for it: the centroid is the mean of a city's delivery (`STANDARD`) ZIP codes (its PO box
//! and single-address ZIP codes when it has none), and "the most populous place of that
//! name" is the one with the most delivery ZIP codes.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::us_state::UsState;
use super::zip::{GeoPoint, ZipCode};

/// What kind of place `near` named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    Zip,
    City,
    State,
    Point,
}

/// The place a search's `near` resolved to, as the response echoes it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Place {
    /// How to show it: `Austin, TX`, `Austin, TX 78701`, `Texas`; null for a point.
    #[schema(example = "Austin, TX", required = true)]
    pub name: Option<String>,
    pub kind: PlaceKind,
    /// Two-letter state code; null for a point.
    #[schema(example = "TX", pattern = "^[A-Z]{2}$", required = true)]
    pub state: Option<&'static str>,
    /// Where distances are measured from; null for a state (the whole state is searched).
    #[schema(example = 30.2711, required = true)]
    pub latitude: Option<f64>,
    #[schema(example = -97.7437, required = true)]
    pub longitude: Option<f64>,
}

impl Place {
    /// The point distances are measured from, unless the place is a whole state.
    pub fn point(&self) -> Option<GeoPoint> {
        Some(GeoPoint {
            latitude: self.latitude?,
            longitude: self.longitude?,
        })
    }
}

/// Why a `near` value names no place.
#[derive(Debug, PartialEq, Eq)]
pub enum NotAPlace {
    /// Not a ZIP code, coordinates or a place name at all (`lat,lng` out of range, say).
    Malformed(String),
    /// Reads as a place name, and no US place has it.
    Unknown,
}

/// Reads `near`: a ZIP code (or ZIP+4), `lat,lng`, a state's name or code, or a city name,
/// with or without its state, forgiving case, spacing, punctuation and one typo.
pub fn resolve(raw: &str) -> Result<Place, NotAPlace> {
    let raw = raw.trim();
    if let Some((lat, lng)) = raw.split_once(',')
        && let (Ok(lat), Ok(lng)) = (lat.trim().parse::<f64>(), lng.trim().parse::<f64>())
    {
        let point = GeoPoint::new(lat, lng).map_err(|e| NotAPlace::Malformed(e.message))?;
        return Ok(Place {
            name: None,
            kind: PlaceKind::Point,
            state: None,
            latitude: Some(point.latitude),
            longitude: Some(point.longitude),
        });
    }
    if raw.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        let zip = ZipCode::parse(raw).map_err(|e| NotAPlace::Malformed(e.message))?;
        let info = zip.info();
        let state = UsState::parse(&info.state).ok().map(|s| s.as_str());
        return Ok(Place {
            name: Some(format!("{}, {} {}", info.city, info.state, info.zip)),
            kind: PlaceKind::Zip,
            state,
            latitude: Some(info.point.latitude),
            longitude: Some(info.point.longitude),
        });
    }
    let words = words(raw);
    if words.is_empty() {
        return Err(NotAPlace::Malformed(
            "expected a US ZIP code, `lat,lng`, a city or a state".to_owned(),
        ));
    }
    if let Some(state) = state_of(&words) {
        return Ok(Place {
            name: UsState::parse(state).ok().map(|s| s.name().to_owned()),
            kind: PlaceKind::State,
            state: Some(state),
            latitude: None,
            longitude: None,
        });
    }
    let city = GAZETTEER.find(&words, true).ok_or(NotAPlace::Unknown)?;
    Ok(city.place())
}

/// The place `words` (folded as search folds them) name exactly, as free text may: a
/// state, a city with its state, or a bare city name with at least `MIN_BARE_ZIPS` delivery
/// ZIP codes (a small town's name is too often an ordinary word: "in home", "in person").
pub fn resolve_in_text(words: &[String]) -> Option<Place> {
    if let Some(state) = state_of(words) {
        return resolve(state).ok();
    }
    let city = GAZETTEER.find(words, false)?;
    let bare = GAZETTEER.find_bare(words);
    if bare.is_some_and(|b| std::ptr::eq(b, city)) && city.zips < MIN_BARE_ZIPS {
        return None;
    }
    Some(city.place())
}

/// Delivery ZIP codes a city needs to be named in free text without its state.
pub const MIN_BARE_ZIPS: u32 = 3;

/// Lower-case words of a place name, punctuation dropped, common USPS abbreviations
/// spelt out (`St. Louis` is `saint louis`, `Ft Worth` is `fort worth`).
fn words(raw: &str) -> Vec<String> {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else if c == '\'' || c == '’' || c == '.' {
                '\u{0}'
            } else {
                ' '
            }
        })
        .filter(|c| *c != '\u{0}')
        .collect();
    cleaned
        .split_whitespace()
        .enumerate()
        .map(|(i, w)| {
            let spelt = match (i, w) {
                (0, "st") => "saint",
                (0, "ste") => "sainte",
                (0, "ft") => "fort",
                (0, "mt") => "mount",
                (_, "hts") | (_, "hgts") => "heights",
                (_, "spgs") => "springs",
                (_, "vlg") => "village",
                _ => w,
            };
            spelt.to_owned()
        })
        .collect()
}

/// The state `words` name as a whole (`tx`, `texas`, `new york`).
fn state_of(words: &[String]) -> Option<&'static str> {
    let joined = words.join(" ");
    let state = if joined.len() == 2 {
        UsState::parse(&joined).ok()
    } else {
        UsState::from_name(&joined)
    };
    state.map(|s| s.as_str())
}

/// A city: its name as the USPS writes it, its state, centroid and size.
#[derive(Debug)]
pub struct City {
    pub name: String,
    pub state: &'static str,
    pub point: GeoPoint,
    /// Delivery ZIP codes carrying the name: how the most populous of a name is chosen.
    pub zips: u32,
}

impl City {
    pub fn place(&self) -> Place {
        Place {
            name: Some(self.label()),
            kind: PlaceKind::City,
            state: Some(self.state),
            latitude: Some(self.point.latitude),
            longitude: Some(self.point.longitude),
        }
    }

    /// `Austin, TX`.
    pub fn label(&self) -> String {
        format!("{}, {}", self.name, self.state)
    }
}

pub struct Gazetteer {
    /// Largest first.
    pub cities: Vec<City>,
    /// A normalised name (`saint louis`) to its cities, largest first.
    by_name: HashMap<String, Vec<u32>>,
    /// Every normalised name, for finding those one typo away.
    names: fst::Set<Vec<u8>>,
}

pub static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(Gazetteer::build);

impl Gazetteer {
    fn build() -> Gazetteer {
        #[derive(Default)]
        struct Sums {
            name: String,
            delivery: (f64, f64, u32),
            other: (f64, f64, u32),
        }
        let mut sums: HashMap<(String, &'static str), Sums> = HashMap::new();
        for z in zipcodes::database().iter() {
            if z.zip_code_type == "MILITARY" {
                continue;
            }
            let (Ok(state), Ok(lat), Ok(lng)) = (
                UsState::parse(&z.state),
                z.lat.parse::<f64>(),
                z.long.parse::<f64>(),
            ) else {
                continue;
            };
            if GeoPoint::new(lat, lng).is_err() {
                continue;
            }
            let delivery = z.zip_code_type == "STANDARD";
            let mut names: Vec<&String> = vec![&z.city];
            names.extend(z.acceptable_cities.iter());
            let mut seen = Vec::new();
            for name in names {
                let key = words(name).join(" ");
                if key.is_empty() || seen.contains(&key) {
                    continue;
                }
                seen.push(key.clone());
                let entry = sums.entry((key, state.as_str())).or_default();
                if entry.name.is_empty() || *name == z.city {
                    entry.name = title_case(name);
                }
                let slot = if delivery {
                    &mut entry.delivery
                } else {
                    &mut entry.other
                };
                slot.0 += lat;
                slot.1 += lng;
                slot.2 += 1;
            }
        }
        let mut cities: Vec<(String, City)> = sums
            .into_iter()
            .map(|((key, state), s)| {
                let (lat, lng, n) = if s.delivery.2 > 0 {
                    s.delivery
                } else {
                    s.other
                };
                let point = GeoPoint {
                    latitude: lat / f64::from(n),
                    longitude: lng / f64::from(n),
                };
                let city = City {
                    name: s.name,
                    state,
                    point,
                    zips: s.delivery.2,
                };
                (key, city)
            })
            .collect();
        cities.sort_by(|(ka, a), (kb, b)| (b.zips, &a.state, ka).cmp(&(a.zips, &b.state, kb)));
        let mut by_name: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, (key, _)) in cities.iter().enumerate() {
            by_name.entry(key.clone()).or_default().push(i as u32);
        }
        let mut sorted: Vec<&String> = by_name.keys().collect();
        sorted.sort();
        let names = fst::Set::from_iter(sorted).unwrap_or_default();
        Gazetteer {
            cities: cities.into_iter().map(|(_, c)| c).collect(),
            by_name,
            names,
        }
    }

    /// The city `words` name: `city` words then a state (code or name), or the city alone
    /// (the largest of that name); one typo in the city's name is forgiven when the name has
    /// four letters or more.
    fn find(&self, words: &[String], typos: bool) -> Option<&City> {
        // A trailing state, as a code or a name of up to three words; the longest reading
        // that leaves a city name wins.
        for take in (1..=3.min(words.len().saturating_sub(1))).rev() {
            let (city, state) = words.split_at(words.len() - take);
            if let Some(state) = state_of(state)
                && let Some(found) = self.named(&city.join(" "), Some(state), typos)
            {
                return Some(found);
            }
        }
        self.find_bare(words).or_else(|| {
            typos
                .then(|| self.named(&words.join(" "), None, true))
                .flatten()
        })
    }

    /// The largest city whose whole name is `words`, exactly.
    fn find_bare(&self, words: &[String]) -> Option<&City> {
        self.named(&words.join(" "), None, false)
    }

    /// The largest city called `name` (in `state` when given), exactly or with one typo.
    fn named(&self, name: &str, state: Option<&str>, typos: bool) -> Option<&City> {
        let in_state = |i: &&u32| state.is_none_or(|s| self.cities[**i as usize].state == s);
        if let Some(ids) = self.by_name.get(name)
            && let Some(i) = ids.iter().find(in_state)
        {
            return Some(&self.cities[*i as usize]);
        }
        if !typos || name.chars().count() < 4 {
            return None;
        }
        // One edit away: the largest such city (the list is largest first).
        use fst::{IntoStreamer, Streamer};
        let mut near = self
            .names
            .search(crate::typo::word_automaton(name, 1))
            .into_stream();
        let mut best: Option<u32> = None;
        while let Some(key) = near.next() {
            let ids = std::str::from_utf8(key)
                .ok()
                .and_then(|k| self.by_name.get(k));
            for &i in ids.into_iter().flatten().filter(|i| in_state(i)) {
                best = Some(best.map_or(i, |b| b.min(i)));
            }
        }
        best.map(|i| &self.cities[i as usize])
    }
}

/// `SAINT LOUIS` and `saint louis` as `Saint Louis` (the dataset mixes cases).
fn title_case(name: &str) -> String {
    name.split(' ')
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Loads the gazetteer now instead of on the first search that names a place.
pub fn warm_up() {
    LazyLock::force(&GAZETTEER);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(raw: &str) -> Option<String> {
        resolve(raw).ok().and_then(|p| p.name)
    }

    #[test]
    fn cities_with_and_without_their_state() {
        assert_eq!(name("Austin, TX").as_deref(), Some("Austin, TX"));
        assert_eq!(name("austin tx").as_deref(), Some("Austin, TX"));
        assert_eq!(name("  AUSTIN,   Texas ").as_deref(), Some("Austin, TX"));
        assert_eq!(name("austin").as_deref(), Some("Austin, TX"));
        assert_eq!(name("Austin, MN").as_deref(), Some("Austin, MN"));
        assert_eq!(name("Brooklyn").as_deref(), Some("Brooklyn, NY"));
        assert_eq!(name("Brooklyn, NY").as_deref(), Some("Brooklyn, NY"));
        assert_eq!(name("Hollywood, CA").as_deref(), Some("Hollywood, CA"));
        assert_eq!(name("St. Louis, MO").as_deref(), Some("Saint Louis, MO"));
        assert_eq!(name("st louis").as_deref(), Some("Saint Louis, MO"));
        assert_eq!(
            name("Kansas City, Missouri").as_deref(),
            Some("Kansas City, MO")
        );
        assert_eq!(name("New York, NY").as_deref(), Some("New York, NY"));
        assert_eq!(name("portland").as_deref(), Some("Portland, OR"));
        assert_eq!(name("Portland ME").as_deref(), Some("Portland, ME"));
    }

    #[test]
    fn one_typo_is_forgiven_from_four_letters() {
        assert_eq!(name("Austn, TX").as_deref(), Some("Austin, TX"));
        assert_eq!(name("Asutin TX").as_deref(), Some("Austin, TX"));
        // An exact name wins over a typo of a larger one (Brooklin, ME exists).
        assert_eq!(name("brooklin").as_deref(), Some("Brooklin, ME"));
        assert_eq!(name("brookyln").as_deref(), Some("Brooklyn, NY"));
        assert_eq!(resolve("Austinnn, TX"), Err(NotAPlace::Unknown));
        assert_eq!(resolve("Gondor"), Err(NotAPlace::Unknown));
        assert_eq!(resolve("Austin, ZZ"), Err(NotAPlace::Unknown));
    }

    #[test]
    fn states_zips_and_points() {
        let texas = resolve("Texas").unwrap();
        assert_eq!((texas.kind, texas.state), (PlaceKind::State, Some("TX")));
        assert_eq!(texas.point(), None);
        assert_eq!(resolve("tx").unwrap().name.as_deref(), Some("Texas"));
        assert_eq!(resolve("new york").unwrap().kind, PlaceKind::State);
        let zip = resolve("78701").unwrap();
        assert_eq!(zip.kind, PlaceKind::Zip);
        assert_eq!(zip.name.as_deref(), Some("Austin, TX 78701"));
        let point = resolve("30.27,-97.74").unwrap();
        assert_eq!(
            (point.kind, point.name, point.state),
            (PlaceKind::Point, None, None)
        );
        assert!(matches!(resolve("91,0"), Err(NotAPlace::Malformed(_))));
        assert!(matches!(resolve("00000"), Err(NotAPlace::Malformed(_))));
        assert!(matches!(resolve(",,,"), Err(NotAPlace::Malformed(_))));
    }

    #[test]
    fn a_city_is_the_centroid_of_its_delivery_zips() {
        let austin = resolve("Austin, TX").unwrap().point().unwrap();
        let downtown = resolve("78701").unwrap().point().unwrap();
        assert!(austin.distance_km(&downtown) < 15.0, "{austin:?}");
    }
}
