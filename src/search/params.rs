//! The query string of `GET /v1/therapists`, parsed and validated. Parsed by hand rather
//! than through serde because several parameters are repeatable ("any of") and every error
//! must name its parameter.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::bbox::BBox;
use crate::domain::place::{self, NotAPlace, Place};
use crate::domain::vocab::{
    AgeGroup, Community, Delivery, Faith, Gender, OfferingKind, SessionFormat, Vocabulary,
};
use crate::domain::{GeoPoint, LanguageCode, UsState};
use crate::error::{ApiError, ErrorCode, FieldCode, FieldError};

pub const MAX_Q_CHARS: usize = 200;
pub const MAX_NEAR_CHARS: usize = 100;
pub const DEFAULT_RADIUS_KM: f64 = 40.0;
pub const MAX_RADIUS_KM: f64 = 500.0;
const MAX_REPEATS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    Relevance,
    Distance,
    Fee,
    RecentlyConfirmed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Facet {
    Modality,
    Specialty,
    Insurer,
    Delivery,
    SessionFormat,
}

impl Facet {
    pub const ALL: [Facet; 5] = [
        Facet::Modality,
        Facet::Specialty,
        Facet::Insurer,
        Facet::Delivery,
        Facet::SessionFormat,
    ];

    /// The facet's key in the response.
    pub fn name(self) -> &'static str {
        match self {
            Facet::Modality => "modality",
            Facet::Specialty => "specialty",
            Facet::Insurer => "insurer",
            Facet::Delivery => "delivery",
            Facet::SessionFormat => "session_format",
        }
    }
}

/// Where `near` points, and the state it is in (for online-only listings).
#[derive(Debug, Clone, Copy)]
pub struct Near {
    pub point: GeoPoint,
    pub state: Option<&'static str>,
    pub radius_km: f64,
}

/// A validated search. Taxonomy filters hold slugs until resolved against the database.
#[derive(Debug, Default, Clone)]
pub struct SearchParams {
    pub q: Option<String>,
    pub modalities: Vec<String>,
    pub specialties: Vec<String>,
    pub insurers: Vec<String>,
    pub certified_in: Option<String>,
    pub languages: Vec<String>,
    pub near: Option<Near>,
    /// What `near` resolved to, echoed in the response.
    pub place: Option<Place>,
    pub bbox: Option<BBox>,
    pub state: Option<&'static str>,
    pub delivery: Vec<Delivery>,
    pub session_formats: Vec<SessionFormat>,
    pub accepting: Option<bool>,
    pub free_consultation: Option<bool>,
    pub max_fee_cents: Option<i32>,
    pub sliding_scale: Option<bool>,
    pub gender: Option<Gender>,
    pub age_group: Option<AgeGroup>,
    pub community: Option<Community>,
    pub faith: Option<Faith>,
    pub license_verified: Option<bool>,
    pub offering: Option<OfferingKind>,
    /// Include listings not confirmed for 90 days (left out by default).
    pub include_stale: bool,
    pub sort: Option<Sort>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    pub facets: Vec<Facet>,
    /// The language of names in the answer (`Accept-Language`, not a parameter).
    pub lang: crate::http::language::Lang,
}

fn bad(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::parameter(name, message)
}

/// A number within `range`, each failure in its own words.
fn number_in<T: std::str::FromStr + PartialOrd>(
    name: &str,
    value: &str,
    range: std::ops::RangeInclusive<T>,
    unreadable: &str,
    outside: &str,
) -> Result<T, ApiError> {
    let n: T = value.parse().map_err(|_| bad(name, unreadable))?;
    if !range.contains(&n) {
        return Err(bad(name, outside));
    }
    Ok(n)
}

fn boolean(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(bad(name, "expected true or false")),
    }
}

fn vocab<T: Vocabulary>(name: &str, value: &str) -> Result<T, ApiError> {
    T::parse(value).ok_or_else(|| {
        bad(
            name,
            format!("`{}` is not {}", truncate(value), T::expected()),
        )
    })
}

fn truncate(value: &str) -> String {
    value.chars().take(40).collect()
}

fn slug_param(name: &str, value: &str) -> Result<String, ApiError> {
    crate::domain::Slug::parse(value)
        .map(|s| s.as_str().to_owned())
        .map_err(|_| bad(name, format!("`{}` is not a slug", truncate(value))))
}

/// `near` as a place: a malformed value is 400, a name no US place has 422 `unknown_place`.
fn parse_near(value: &str) -> Result<Place, ApiError> {
    if value.chars().count() > MAX_NEAR_CHARS {
        return Err(bad("near", format!("at most {MAX_NEAR_CHARS} characters")));
    }
    place::resolve(value).map_err(|e| match e {
        NotAPlace::Malformed(message) => bad("near", message),
        NotAPlace::Unknown => ApiError::new(
            ErrorCode::UnknownPlace,
            format!("near: no US place is called `{}`", truncate(value)),
        )
        .with_errors(vec![FieldError::new(
            "near",
            FieldCode::UnknownPlace,
            "expected a US ZIP code, `lat,lng`, a city (`Austin, TX`) or a state",
        )]),
    })
}

/// `near` and `radius_km` as read, combined once every parameter is.
#[derive(Default)]
struct NearArgs {
    place: Option<Place>,
    radius: Option<f64>,
}

impl SearchParams {
    /// Parses a raw query string. Unknown parameters, repeated single ones, malformed or
    /// out-of-range values are 400 naming the parameter.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut p = SearchParams::default();
        let mut place = NearArgs::default();
        for (key, value) in crate::http::query::pairs(query)? {
            let count = seen.entry(key.clone()).or_default();
            *count += 1;
            let repeatable = matches!(
                key.as_str(),
                "modality" | "specialty" | "insurer" | "language" | "delivery" | "session_format"
            );
            if *count > 1 && !repeatable {
                return Err(bad(&key, "may be given only once"));
            }
            if *count > MAX_REPEATS {
                return Err(bad(
                    &key,
                    format!("may be repeated at most {MAX_REPEATS} times"),
                ));
            }
            p.apply(&key, value.trim(), &mut place)?;
        }
        p.settle_place(place)?;
        match p.sort {
            Some(Sort::Relevance) if p.q.is_none() => {
                return Err(bad("sort", "`relevance` needs `q`"));
            }
            Some(Sort::Distance) if p.near.is_none() => {
                return Err(bad("sort", "`distance` needs `near`"));
            }
            _ => {}
        }
        Ok(p)
    }

    /// A point place searches around itself; a state is the whole state, as `state` is.
    fn settle_place(&mut self, args: NearArgs) -> Result<(), ApiError> {
        let Some(place) = args.place else {
            if args.radius.is_some() {
                return Err(bad("radius_km", "needs `near`"));
            }
            return Ok(());
        };
        match place.point() {
            Some(point) => {
                self.near = Some(Near {
                    point,
                    state: place.state,
                    radius_km: args.radius.unwrap_or(DEFAULT_RADIUS_KM),
                })
            }
            None => {
                if args.radius.is_some() {
                    return Err(bad(
                        "radius_km",
                        "`near` names a whole state; give a city, ZIP code or point for a radius",
                    ));
                }
                if self.state.is_some_and(|s| Some(s) != place.state) {
                    return Err(bad("near", "names another state than `state`"));
                }
                self.state = place.state;
            }
        }
        self.place = Some(place);
        Ok(())
    }

    /// Takes one parameter; `near` and `radius_km` wait in `place` until all are read.
    fn apply(&mut self, key: &str, value: &str, place: &mut NearArgs) -> Result<(), ApiError> {
        match key {
            "q" => {
                if value.chars().count() > MAX_Q_CHARS {
                    return Err(bad("q", format!("at most {MAX_Q_CHARS} characters")));
                }
                if value.chars().any(char::is_control) {
                    return Err(bad("q", "control characters are not allowed"));
                }
                if !value.is_empty() {
                    self.q = Some(value.to_owned());
                }
            }
            "modality" => self.modalities.push(slug_param("modality", value)?),
            "specialty" => self.specialties.push(slug_param("specialty", value)?),
            "insurer" => self.insurers.push(slug_param("insurer", value)?),
            "certified_in" => self.certified_in = Some(slug_param("certified_in", value)?),
            "language" => {
                let code = LanguageCode::parse(value).map_err(|e| bad("language", e.message))?;
                self.languages.push(code.as_str().to_owned());
            }
            "near" => place.place = Some(parse_near(value)?),
            "bbox" => self.bbox = Some(BBox::parse(value)?),
            "radius_km" => {
                let r: f64 = value
                    .parse()
                    .map_err(|_| bad("radius_km", "expected a number of kilometres"))?;
                if !(r > 0.0 && r <= MAX_RADIUS_KM) {
                    return Err(bad(
                        "radius_km",
                        format!("must be more than 0 and at most {MAX_RADIUS_KM}"),
                    ));
                }
                place.radius = Some(r);
            }
            "state" => {
                self.state = Some(
                    UsState::parse(value)
                        .map_err(|e| bad("state", e.message))?
                        .as_str(),
                )
            }
            "delivery" => self.delivery.push(vocab("delivery", value)?),
            "session_format" => self.session_formats.push(vocab("session_format", value)?),
            "accepting" => self.accepting = Some(boolean("accepting", value)?),
            "free_consultation" => {
                self.free_consultation = Some(boolean("free_consultation", value)?)
            }
            "sliding_scale" => self.sliding_scale = Some(boolean("sliding_scale", value)?),
            "license_verified" => self.license_verified = Some(boolean("license_verified", value)?),
            "max_fee_cents" => {
                let (unreadable, outside) = ("expected whole cents", "between 0 and 10000000");
                let range = 0..=10_000_000;
                self.max_fee_cents = Some(number_in(key, value, range, unreadable, outside)?);
            }
            "include_stale" => self.include_stale = boolean("include_stale", value)?,
            "gender" => self.gender = Some(vocab("gender", value)?),
            "age_group" => self.age_group = Some(vocab("age_group", value)?),
            "community" => self.community = Some(vocab("community", value)?),
            "faith" => self.faith = Some(vocab("faith", value)?),
            "offering" => {
                let kind: OfferingKind = vocab("offering", value)?;
                if kind == OfferingKind::Session {
                    return Err(bad(
                        "offering",
                        "one of `workshop`, `retreat`, `online_course`, `group`, `intensive`",
                    ));
                }
                self.offering = Some(kind);
            }
            "sort" => {
                self.sort = Some(match value {
                    "relevance" => Sort::Relevance,
                    "distance" => Sort::Distance,
                    "fee" => Sort::Fee,
                    "recently_confirmed" => Sort::RecentlyConfirmed,
                    _ => {
                        return Err(bad(
                            "sort",
                            "one of `relevance`, `distance`, `fee`, `recently_confirmed`",
                        ));
                    }
                })
            }
            "limit" => {
                let unreadable = "expected a whole number from 1 to 50";
                let outside = "must be between 1 and 50";
                self.limit = Some(number_in(key, value, 1..=50, unreadable, outside)?);
            }
            "cursor" => self.cursor = Some(value.to_owned()),
            "facets" => {
                for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let Some(facet) = Facet::ALL.into_iter().find(|f| f.name() == name) else {
                        return Err(bad(
                            "facets",
                            "a comma-separated list of modality, specialty, insurer, delivery, session_format",
                        ));
                    };
                    if !self.facets.contains(&facet) {
                        self.facets.push(facet);
                    }
                }
            }
            other => return Err(bad(&truncate(other), "unknown parameter")),
        }
        Ok(())
    }

    pub fn effective_sort(&self) -> Sort {
        self.sort.unwrap_or(if self.q.is_some() {
            Sort::Relevance
        } else if self.near.is_some() {
            Sort::Distance
        } else {
            Sort::RecentlyConfirmed
        })
    }

    /// The filters the search applies, as `(parameter, value)` pairs sorted by both: the
    /// state of a place included, the text, place, radius, box and paging left out. What
    /// admins see of a combination that found nothing (`stats::demand`).
    pub fn filters(&self) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&'static str, String)> = Vec::new();
        let mut many = |name: &'static str, values: Vec<String>| {
            pairs.extend(values.into_iter().map(|v| (name, v)));
        };
        many("modality", self.modalities.clone());
        many("specialty", self.specialties.clone());
        many("insurer", self.insurers.clone());
        many("language", self.languages.clone());
        many(
            "delivery",
            self.delivery
                .iter()
                .map(|d| d.as_str().to_owned())
                .collect(),
        );
        let formats = self.session_formats.iter().map(|f| f.as_str().to_owned());
        many("session_format", formats.collect());
        let state = self.state.or(self.place.as_ref().and_then(|p| p.state));
        let single: [(&'static str, Option<String>); 12] = [
            ("certified_in", self.certified_in.clone()),
            ("state", state.map(str::to_owned)),
            ("accepting", self.accepting.map(|b| b.to_string())),
            (
                "free_consultation",
                self.free_consultation.map(|b| b.to_string()),
            ),
            ("max_fee_cents", self.max_fee_cents.map(|n| n.to_string())),
            ("sliding_scale", self.sliding_scale.map(|b| b.to_string())),
            ("gender", self.gender.map(|v| v.as_str().to_owned())),
            ("age_group", self.age_group.map(|v| v.as_str().to_owned())),
            ("community", self.community.map(|v| v.as_str().to_owned())),
            ("faith", self.faith.map(|v| v.as_str().to_owned())),
            (
                "license_verified",
                self.license_verified.map(|b| b.to_string()),
            ),
            ("offering", self.offering.map(|v| v.as_str().to_owned())),
        ];
        pairs.extend(single.into_iter().filter_map(|(k, v)| Some((k, v?))));
        pairs.sort();
        pairs.dedup();
        pairs
    }

    /// Identifies the search (everything but the cursor), so a cursor cannot be replayed
    /// against another query.
    pub fn fingerprint(&self, query: &str) -> String {
        // Names as the parser reads them: `modality[]` is `modality`.
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| {
                (
                    k.strip_suffix("[]").unwrap_or(&k).to_owned(),
                    v.into_owned(),
                )
            })
            .filter(|(k, _)| k != "cursor" && k != "limit" && k != "facets")
            .collect();
        pairs.sort();
        let digest = Sha256::digest(serde_json::to_vec(&pairs).unwrap_or_default());
        crate::hex::hex(&digest[..8])
    }
}

/// The query string of `GET /v1/suggest`.
#[derive(Debug)]
pub struct SuggestParams {
    pub q: String,
    pub limit: usize,
}

pub const MAX_SUGGEST_CHARS: usize = 100;
pub const MAX_SUGGESTIONS: usize = 20;
pub const DEFAULT_SUGGESTIONS: usize = 8;

impl SuggestParams {
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let (mut q, mut limit) = (None, None);
        for (key, value) in crate::http::query::pairs(query)? {
            let slot_taken = match key.as_str() {
                "q" => q.replace(value).is_some(),
                "limit" => limit.replace(value).is_some(),
                other => return Err(bad(&truncate(other), "unknown parameter")),
            };
            if slot_taken {
                return Err(bad(&key, "may be given only once"));
            }
        }
        let q = q.map(|q| q.trim().to_owned()).unwrap_or_default();
        let chars = q.chars().count();
        if chars == 0 || chars > MAX_SUGGEST_CHARS {
            return Err(bad("q", format!("1 to {MAX_SUGGEST_CHARS} characters")));
        }
        if q.chars().any(char::is_control) {
            return Err(bad("q", "control characters are not allowed"));
        }
        let limit = match limit {
            Some(value) => number_in(
                "limit",
                &value,
                1..=MAX_SUGGESTIONS,
                "expected a whole number from 1 to 20",
                "must be between 1 and 20",
            )?,
            None => DEFAULT_SUGGESTIONS,
        };
        Ok(SuggestParams { q, limit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use proptest::prelude::*;

    proptest! {
        /// Any query string parses or is refused with a 400 (or a 422 for a place name no
        /// US place has); none panics.
        #[test]
        fn arbitrary_query_strings_never_panic(
            raw in any::<String>(),
            pairs in proptest::collection::vec(
                ("(q|modality|near|radius_km|limit|sort|facets|max_fee_cents|state|language|cursor)(%5B%5D)?",
                 "[ -~%]{0,40}"),
                0..8,
            ),
        ) {
            let _ = SearchParams::parse(&raw);
            let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if let Err(err) = SearchParams::parse(&query.join("&")) {
                prop_assert!(
                    matches!(err.code(), ErrorCode::InvalidParameter | ErrorCode::UnknownPlace),
                    "{:?}", err.code()
                );
            }
        }
    }

    fn error(query: &str) -> String {
        SearchParams::parse(query).expect_err(query).errors()[0]
            .field
            .clone()
    }

    #[test]
    fn each_bad_parameter_is_named() {
        for (query, field) in [
            ("radius_km=501&near=27601", "radius_km"),
            ("radius_km=10", "radius_km"),
            ("near=00000", "near"),
            ("near=91,0", "near"),
            ("limit=51", "limit"),
            ("limit=0", "limit"),
            ("sort=relevance", "sort"),
            ("sort=distance", "sort"),
            ("delivery=teleport", "delivery"),
            ("accepting=maybe", "accepting"),
            ("max_fee_cents=-1", "max_fee_cents"),
            ("state=ZZ", "state"),
            ("q=a&q=b", "q"),
            ("colour=blue", "colour"),
            ("facets=modality,price", "facets"),
            ("offering=session", "offering"),
            ("modality=Not%20A%20Slug", "modality"),
            ("q=%00", "q"),
            ("q=%FF%FE", "q"),
        ] {
            assert_eq!(error(query), field, "{query}");
        }
        let long = format!("q={}", "a".repeat(201));
        assert_eq!(error(&long), "q");
    }

    #[test]
    fn a_search_has_one_fingerprint_whichever_form_names_its_parameters() {
        let print = |q: &str| SearchParams::parse(q).unwrap().fingerprint(q);
        let plain = print("modality=cbt&language=es&limit=5");
        assert_eq!(print("modality[]=cbt&language%5B%5D=es&limit=5"), plain);
        assert_eq!(
            print("modality=cbt&language=es&limit[]=9&cursor[]=x"),
            plain
        );
        assert_ne!(print("modality=emdr&language=es"), plain);
    }

    #[test]
    fn defaults_and_repeats() {
        let p =
            SearchParams::parse("near=27601&modality=imago&modality=cbt&facets=modality,delivery")
                .unwrap();
        assert_eq!(p.effective_sort(), Sort::Distance);
        assert_eq!(p.near.unwrap().radius_km, DEFAULT_RADIUS_KM);
        assert_eq!(p.near.unwrap().state, Some("NC"));
        assert_eq!(p.modalities, ["imago", "cbt"]);
        assert_eq!(p.facets, [Facet::Modality, Facet::Delivery]);
        assert_eq!(
            SearchParams::parse("q=anxiety&near=27601")
                .unwrap()
                .effective_sort(),
            Sort::Relevance
        );
        assert_eq!(
            SearchParams::parse("").unwrap().effective_sort(),
            Sort::RecentlyConfirmed
        );
    }
}
