//! `GET /v1/therapists`: public search over `directory_entry` (published listings of active
//! accounts only), in one round trip: filters, free text, distance, sorting with keyset
//! cursors, an exact-or-capped total and facets.
//!
//! Query parameters are parsed here by hand rather than through serde because several are
//! repeatable ("any of") and every error must name its parameter.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::vocab::{
    Accepting, AgeGroup, Community, Delivery, Faith, Gender, OfferingKind, SessionFormat,
    Vocabulary,
};
use crate::domain::{GeoPoint, Money, UsState, ZipCode};
use crate::error::{ApiError, ErrorCode};
use crate::http::cursor::CursorKey;

use super::facets::FacetCounter;

pub const MAX_Q_CHARS: usize = 200;
pub const DEFAULT_RADIUS_KM: f64 = 40.0;
pub const MAX_RADIUS_KM: f64 = 500.0;
/// The result window: a search counts, facets and (with `q`) ranks at most this many
/// matches, so its cost is bounded however many listings match. Beyond it, `total` is this
/// number with `total_is_exact: false` and facets count the window (`facets_are_exact:
/// false`). With `q`, the window is the most recently confirmed matches. The default is
/// chosen by the README's search benchmark; `APP_SEARCH_RESULT_WINDOW` changes it.
pub const DEFAULT_RESULT_WINDOW: i64 = 500;
const MAX_REPEATS: usize = 20;
/// Listings whose name is close to `q` that a relevance search considers (see `search`).
const NAME_CANDIDATES: i64 = 2_000;

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

/// Where `near` points, and the state it is in (for online-only listings).
#[derive(Debug, Clone, Copy)]
pub struct Near {
    pub point: GeoPoint,
    pub state: Option<&'static str>,
    pub radius_km: f64,
}

/// A validated search. Taxonomy filters hold slugs until resolved against the database.
#[derive(Debug, Default)]
pub struct SearchParams {
    pub q: Option<String>,
    pub modalities: Vec<String>,
    pub specialties: Vec<String>,
    pub insurers: Vec<String>,
    pub certified_in: Option<String>,
    pub languages: Vec<String>,
    pub near: Option<Near>,
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
}

fn bad(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::parameter(name, message)
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

fn parse_near(value: &str) -> Result<(GeoPoint, Option<&'static str>), ApiError> {
    if let Some((lat, lng)) = value.split_once(',') {
        let lat: f64 = lat
            .trim()
            .parse()
            .map_err(|_| bad("near", "expected a US ZIP code or `lat,lng`"))?;
        let lng: f64 = lng
            .trim()
            .parse()
            .map_err(|_| bad("near", "expected a US ZIP code or `lat,lng`"))?;
        let point = GeoPoint::new(lat, lng).map_err(|e| bad("near", e.message))?;
        return Ok((point, None));
    }
    let zip = ZipCode::parse(value).map_err(|e| bad("near", e.message))?;
    let info = zip.info();
    let state = UsState::parse(&info.state).ok().map(|s| s.as_str());
    Ok((info.point, state))
}

impl SearchParams {
    /// Parses a raw query string. Unknown parameters, repeated single ones, malformed or
    /// out-of-range values are 400 naming the parameter.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut p = SearchParams::default();
        let mut radius = None;
        let mut near = None;
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
            let value = value.trim();
            match key.as_str() {
                "q" => {
                    if value.chars().count() > MAX_Q_CHARS {
                        return Err(bad("q", format!("at most {MAX_Q_CHARS} characters")));
                    }
                    if value.chars().any(char::is_control) {
                        return Err(bad("q", "control characters are not allowed"));
                    }
                    if !value.is_empty() {
                        p.q = Some(value.to_owned());
                    }
                }
                "modality" => p.modalities.push(slug_param("modality", value)?),
                "specialty" => p.specialties.push(slug_param("specialty", value)?),
                "insurer" => p.insurers.push(slug_param("insurer", value)?),
                "certified_in" => p.certified_in = Some(slug_param("certified_in", value)?),
                "language" => {
                    let ok = (2..=3).contains(&value.len())
                        && value.bytes().all(|b| b.is_ascii_lowercase());
                    if !ok {
                        return Err(bad("language", "an ISO 639 code such as `en` or `es`"));
                    }
                    p.languages.push(value.to_owned());
                }
                "near" => near = Some(parse_near(value)?),
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
                    radius = Some(r);
                }
                "state" => {
                    p.state = Some(
                        UsState::parse(value)
                            .map_err(|e| bad("state", e.message))?
                            .as_str(),
                    )
                }
                "delivery" => p.delivery.push(vocab("delivery", value)?),
                "session_format" => p.session_formats.push(vocab("session_format", value)?),
                "accepting" => p.accepting = Some(boolean("accepting", value)?),
                "free_consultation" => {
                    p.free_consultation = Some(boolean("free_consultation", value)?)
                }
                "sliding_scale" => p.sliding_scale = Some(boolean("sliding_scale", value)?),
                "license_verified" => {
                    p.license_verified = Some(boolean("license_verified", value)?)
                }
                "max_fee_cents" => {
                    let cents: i32 = value
                        .parse()
                        .map_err(|_| bad("max_fee_cents", "expected whole cents"))?;
                    if !(0..=10_000_000).contains(&cents) {
                        return Err(bad("max_fee_cents", "between 0 and 10000000"));
                    }
                    p.max_fee_cents = Some(cents);
                }
                "include_stale" => p.include_stale = boolean("include_stale", value)?,
                "gender" => p.gender = Some(vocab("gender", value)?),
                "age_group" => p.age_group = Some(vocab("age_group", value)?),
                "community" => p.community = Some(vocab("community", value)?),
                "faith" => p.faith = Some(vocab("faith", value)?),
                "offering" => {
                    let kind: OfferingKind = vocab("offering", value)?;
                    if kind == OfferingKind::Session {
                        return Err(bad(
                            "offering",
                            "one of `workshop`, `retreat`, `online_course`, `group`, `intensive`",
                        ));
                    }
                    p.offering = Some(kind);
                }
                "sort" => {
                    p.sort = Some(match value {
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
                    let n: i64 = value
                        .parse()
                        .map_err(|_| bad("limit", "expected a whole number from 1 to 50"))?;
                    if !(1..=50).contains(&n) {
                        return Err(bad("limit", "must be between 1 and 50"));
                    }
                    p.limit = Some(n);
                }
                "cursor" => p.cursor = Some(value.to_owned()),
                "facets" => {
                    for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let Some(facet) = Facet::ALL.into_iter().find(|f| f.name() == name) else {
                            return Err(bad(
                                "facets",
                                "a comma-separated list of modality, specialty, insurer, delivery, session_format",
                            ));
                        };
                        if !p.facets.contains(&facet) {
                            p.facets.push(facet);
                        }
                    }
                }
                other => return Err(bad(&truncate(other), "unknown parameter")),
            }
        }
        match (near, radius) {
            (Some((point, state)), radius) => {
                p.near = Some(Near {
                    point,
                    state,
                    radius_km: radius.unwrap_or(DEFAULT_RADIUS_KM),
                })
            }
            (None, Some(_)) => return Err(bad("radius_km", "needs `near`")),
            (None, None) => {}
        }
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

    pub fn effective_sort(&self) -> Sort {
        self.sort.unwrap_or(if self.q.is_some() {
            Sort::Relevance
        } else if self.near.is_some() {
            Sort::Distance
        } else {
            Sort::RecentlyConfirmed
        })
    }

    /// Identifies the search (everything but the cursor), so a cursor cannot be replayed
    /// against another query.
    fn fingerprint(&self, query: &str) -> String {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k != "cursor" && k != "limit" && k != "facets")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        let digest = Sha256::digest(serde_json::to_vec(&pairs).unwrap_or_default());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The keyset position after the last item of a page.
#[derive(Debug, Serialize, Deserialize)]
struct Position {
    /// Fingerprint of the search the cursor belongs to.
    f: String,
    sort: Sort,
    /// The sort key (rank, distance, fee or confirmation time in microseconds); null sorts last.
    key: Option<f64>,
    id: Uuid,
}

/// A taxonomy term's slug, as search parameters name modalities, specialties and insurers.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(value_type = String, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 80, example = "cbt")]
pub struct TermSlug(String);

/// An ISO 639 language code.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(value_type = String, pattern = "^[a-z]{2,3}$", example = "es")]
pub struct LanguageCode(String);

// The schema of what the database's `directory_entry.summary` holds. Items travel as JSON
// text built by the database, so these types exist for the OpenAPI document only; the
// integration tests validate every search response against them.

/// A search result: the listing's summary (see `directory_entry.summary`).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct SearchItem {
    id: Uuid,
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 80)]
    slug: String,
    display_name: String,
    pronouns: Option<String>,
    credentials: Option<String>,
    professional_title: Option<String>,
    #[schema(format = "uri")]
    photo_url: Option<String>,
    accepting: Accepting,
    free_consultation: bool,
    fees: SummaryFees,
    /// Modality slugs.
    modalities: Vec<String>,
    /// Slugs of the (at most two) specialties the therapist marked as top.
    top_specialties: Vec<String>,
    delivery: Vec<Delivery>,
    session_formats: Vec<SessionFormat>,
    /// ISO 639-1 codes.
    languages: Vec<String>,
    /// Two-letter state codes.
    telehealth_states: Vec<String>,
    offices: Vec<SummaryOffice>,
    license_verified: bool,
    last_confirmed_at: Option<time::OffsetDateTime>,
    /// Kilometres to the nearest office, with `near`; null for online-only matches.
    #[schema(required = false)]
    distance_km: Option<f64>,
    /// Not confirmed by the therapist for 90 days (only with `include_stale=true`).
    stale: bool,
    /// False after repeated reports that the therapist is unreachable or not taking
    /// clients, until the therapist confirms the listing again.
    availability_confirmed: bool,
}

/// Fees in a search result; every amount is null when not stated.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct SummaryFees {
    min: Option<Money>,
    max: Option<Money>,
    sliding_scale_min: Option<Money>,
    insurance_only: bool,
}

/// Where an office is, as a search result shows it (the street is on the profile).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct SummaryOffice {
    city: String,
    #[schema(pattern = "^[A-Z]{2}$")]
    state: String,
    #[schema(pattern = "^[0-9]{5}$")]
    zip: String,
}

/// How many matches carry one facet value.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct FacetCount {
    /// A taxonomy slug, or a vocabulary value for `delivery` and `session_format`.
    slug: String,
    #[schema(minimum = 1)]
    count: i64,
}

/// Counts for the facets named in `facets=`; only those keys are present, each list by
/// count, highest first.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct Facets {
    #[schema(required = false)]
    modality: Vec<FacetCount>,
    #[schema(required = false)]
    specialty: Vec<FacetCount>,
    #[schema(required = false)]
    insurer: Vec<FacetCount>,
    #[schema(required = false)]
    delivery: Vec<FacetCount>,
    #[schema(required = false)]
    session_format: Vec<FacetCount>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    // Each item as the database built it (`summary` and the search's own fields), passed
    // through as JSON text: parsing and re-serialising fifty of them was most of the
    // service's own CPU time per search.
    #[schema(value_type = Vec<SearchItem>)]
    items: Vec<Box<RawValue>>,
    /// Pass it back as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
    /// Exact up to the result window (500 by default); beyond it, the window's size with
    /// `total_is_exact` false.
    #[schema(minimum = 0)]
    total: i64,
    total_is_exact: bool,
    /// Counts for each requested facet (retired terms excluded): over every match when
    /// `facets_are_exact`, else over the result window.
    #[schema(value_type = Facets)]
    facets: Value,
    facets_are_exact: bool,
}

/// Resolves slugs to active taxonomy ids; an unknown (or retired) slug is 422 naming it.
async fn resolve(
    pool: &PgPool,
    table: &str,
    param: &str,
    slugs: &[String],
) -> Result<Vec<i32>, ApiError> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("select slug, id from {table} where slug = any($1) and retired_at is null");
    let found: Vec<(String, i32)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(slugs)
        .fetch_all(pool)
        .await?;
    for slug in slugs {
        if !found.iter().any(|(s, _)| s == slug) {
            return Err(ApiError::new(
                ErrorCode::ValidationFailed,
                format!("{param}: unknown {table} `{slug}`"),
            )
            .with_errors(vec![crate::error::FieldError::new(
                param,
                "unknown_term",
                format!("`{slug}` is not a known {table}"),
            )]));
        }
    }
    Ok(found.into_iter().map(|(_, id)| id).collect())
}

/// `and alias.column && ids`: the row has any of the ids.
fn any_of(b: &mut QueryBuilder<Postgres>, alias: &str, column: &str, ids: &[i32]) {
    if !ids.is_empty() {
        b.push(format!("and {alias}.{column} && "));
        b.push_bind(ids.to_vec());
        b.push("::int[] ");
    }
}

/// `and alias.column && values`: the row has any of the values.
fn any_text(b: &mut QueryBuilder<Postgres>, alias: &str, column: &str, values: Vec<&str>) {
    if !values.is_empty() {
        b.push(format!("and {alias}.{column} && "));
        b.push_bind(values.into_iter().map(str::to_owned).collect::<Vec<_>>());
        b.push("::text[] ");
    }
}

fn texts<T: Vocabulary>(values: &[T]) -> Vec<&'static str> {
    values.iter().map(|v| v.as_str()).collect()
}

/// The filters every part of a search shares, with taxonomy slugs resolved to ids and `q`
/// turned into a tsquery. Pushed once per scan that needs them.
struct Filters<'a> {
    params: &'a SearchParams,
    modality_ids: Vec<i32>,
    specialty_ids: Vec<i32>,
    insurer_ids: Vec<i32>,
    certified_ids: Vec<i32>,
    /// `q` as a tsquery (text form), spelling-corrected.
    tsquery: Option<String>,
    /// The listings whose names are close to `q`, as a tsquery on the names' part of the
    /// document (see `text_query`); `None` when `q` has no word a name could match.
    name_tsquery: Option<String>,
    /// See `covered_by_offices`.
    office_covered: bool,
}

/// How `q` must match: the document or the name (any), or one of them (the two halves of
/// a relevance window, each read in index order).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Text {
    Any,
    Document,
    Name,
}

/// Which listings a scan starts from.
#[derive(Clone, Copy)]
enum Branch {
    /// Every listing (no `near`).
    All,
    /// Listings with an office within the radius (`near_office`).
    Offices,
    /// Online-only listings offering telehealth in the searched state.
    Online,
}

impl Filters<'_> {
    /// `and …` for every filter, on `e` (a `directory_entry`).
    fn push(&self, b: &mut QueryBuilder<Postgres>, text: Text) {
        self.push_shared(b, "e");
        self.push_entry_only(b, text);
    }

    /// Whether offices alone can tell a match: no filter beyond those `push_shared` applies to
    /// `directory_office` (no `q` either). Then a radius search needs no entry but the page's.
    /// Derived from what `push_entry_only` writes, so a new entry-only filter cannot be
    /// forgotten here; computed once, into `office_covered`.
    fn covered_by_offices(&self) -> bool {
        let mut probe: QueryBuilder<Postgres> = QueryBuilder::new("");
        self.push_entry_only(&mut probe, Text::Any);
        probe.sql().as_str().is_empty()
    }

    /// `and …` for the filters only entries can answer.
    fn push_entry_only(&self, b: &mut QueryBuilder<Postgres>, text: Text) {
        let p = self.params;
        if let Some(tsquery) = &self.tsquery {
            if text != Text::Name {
                b.push(if text == Text::Any {
                    "and (e.document @@ "
                } else {
                    "and e.document @@ "
                });
                b.push_bind(tsquery.clone());
                b.push("::tsquery ");
            }
            if text != Text::Document {
                // A name matches when every word of `q` is one of the name words closest to
                // it: "kevn martines" finds Kevin Martinez, and "kevin martinez" does not find
                // every Martinez.
                b.push(if text == Text::Any { "or (" } else { "and (" });
                match &self.name_tsquery {
                    Some(names) => {
                        b.push("e.document @@ ");
                        b.push_bind(names.clone());
                        b.push("::tsquery ");
                    }
                    None => {
                        b.push("false ");
                    }
                }
                b.push(if text == Text::Any { ")) " } else { ") " });
            }
        }
        any_of(b, "e", "certified_modality_ids", &self.certified_ids);
        any_text(b, "e", "states", p.state.into_iter().collect());
        any_text(
            b,
            "e",
            "age_groups",
            p.age_group.iter().map(|v| v.as_str()).collect(),
        );
        any_text(
            b,
            "e",
            "communities",
            p.community.iter().map(|v| v.as_str()).collect(),
        );
        any_text(
            b,
            "e",
            "offering_kinds",
            p.offering.iter().map(|v| v.as_str()).collect(),
        );
        for (column, value) in [
            ("free_consultation", p.free_consultation),
            ("sliding_scale", p.sliding_scale),
            ("license_verified", p.license_verified),
        ] {
            if let Some(v) = value {
                b.push(format!("and e.{column} = "));
                b.push_bind(v);
                b.push(" ");
            }
        }
        for (column, value) in [
            ("gender", p.gender.map(|g| g.as_str())),
            ("faith", p.faith.map(|f| f.as_str())),
        ] {
            if let Some(v) = value {
                b.push(format!("and e.{column} = "));
                b.push_bind(v);
                b.push(" ");
            }
        }
    }

    /// `and …` for the filters whose columns `directory_office` copies from the entry (see
    /// migration 0013), on `alias`: the whole filter for an entry, a first cut for offices.
    fn push_shared(&self, b: &mut QueryBuilder<Postgres>, alias: &str) {
        let p = self.params;
        if !p.include_stale {
            b.push(format!("and not {alias}.stale "));
        }
        any_of(b, alias, "modality_ids", &self.modality_ids);
        any_of(b, alias, "specialty_ids", &self.specialty_ids);
        any_of(b, alias, "insurer_ids", &self.insurer_ids);
        any_text(
            b,
            alias,
            "languages",
            p.languages.iter().map(String::as_str).collect(),
        );
        any_text(b, alias, "delivery", texts(&p.delivery));
        any_text(b, alias, "session_formats", texts(&p.session_formats));
        if let Some(accepting) = p.accepting {
            b.push(format!(
                "and {alias}.accepting {} 'accepting' ",
                if accepting { "=" } else { "<>" }
            ));
        }
        if let Some(max) = p.max_fee_cents {
            // On an entry, the condition is written on the fee index's key, so a low maximum
            // fee is a range of that index read from its start. It is written once: the
            // planner multiplies the selectivities of conditions, and the same test written
            // twice made it expect a tenth of the actual matches and pick a bitmap scan over
            // the covering index. A fee of null (none given) stays out, as
            // `max_fee_cents` is validated below `2147483647`.
            if alias == "e" {
                b.push(format!("and {FEE} <= "));
            } else {
                b.push(format!("and {alias}.fee_floor_cents <= "));
            }
            b.push_bind(max);
            b.push(" ");
        }
    }

    /// `select <columns>, <distance> as distance from … where <branch> <filters>`.
    fn push_scan(&self, b: &mut QueryBuilder<Postgres>, columns: &str, branch: Branch, text: Text) {
        b.push("select ");
        b.push(columns);
        match branch {
            Branch::All => {
                b.push(", null::float8 as distance from directory_entry e where true ");
            }
            Branch::Offices if self.office_covered => {
                // Every filter was applied to the offices, which carry the facet and sort
                // columns too: no entry is read.
                b.push(", e.d as distance from near_office e where true ");
                return;
            }
            Branch::Offices => {
                b.push(", n.d as distance from near_office n join directory_entry e on e.listing_id = n.listing_id where true ");
            }
            Branch::Online => {
                let state = self.params.near.and_then(|n| n.state);
                // `online_states`: telehealth states of listings with no office that offer
                // video or phone (migration 0013).
                b.push(", null::float8 as distance from directory_entry e where e.online_states && array[");
                b.push_bind(state);
                b.push("::text] ");
            }
        }
        self.push(b, text);
    }

    /// Every matching listing: one scan, or with `near` the listings with an office in the
    /// radius followed by the online-only ones (`union all` runs its branches in order, so a
    /// `limit` satisfied by the first never runs the second).
    fn push_source(&self, b: &mut QueryBuilder<Postgres>, columns: &str, text: Text) {
        if self.params.near.is_some() {
            b.push("((");
            self.push_scan(b, columns, Branch::Offices, text);
            b.push(") union all (");
            self.push_scan(b, columns, Branch::Online, text);
            b.push("))");
        } else {
            b.push("(");
            self.push_scan(b, columns, Branch::All, text);
            b.push(")");
        }
    }
}

/// Columns the window keeps for facets.
const FACET_COLUMNS: &str =
    "e.listing_id, e.modality_ids, e.specialty_ids, e.insurer_ids, e.delivery, e.session_formats";
const CONFIRMED: &str = "coalesce(e.last_confirmed_at, '-infinity'::timestamptz)";
const FEE: &str = "coalesce(e.fee_floor_cents, 2147483647)";

/// `q` as two tsqueries, computed first so the planner sees the actual words and can tell a
/// rare word from a common one:
/// - the text query: the typed query plus the closest taxonomy words, each word replaced by
///   the most similar vocabulary word (trigram similarity), generic words ("therapy",
///   "counselor") dropped since nearly every listing is about them without saying so;
/// - the name query: each word of `q` of 3 or more letters (at most 6) as one of the 3 most
///   similar words of listing names (`search_name_word`), all required, on the name's weight
///   (A) of the document. `None` when `q` has no such word, or one that is like no name
///   word: "anxiety" is no name, and looking for it among names would recheck the weights of
///   every document that says "anxiety".
async fn text_query(pool: &PgPool, q: &str) -> Result<(String, Option<String>), ApiError> {
    Ok(sqlx::query_as(
        "select (websearch_to_tsquery('english', $1) || websearch_to_tsquery('english', coalesce((
             select string_agg(c, ' ') from (
                 select coalesce((select v.word from search_word v where v.word % w
                                  order by v.word <-> w, v.word limit 1), w) as c
                 from regexp_split_to_table(lower($1), '[^[:alnum:]]+') w where w <> '') words
             where c not in ('therapy', 'therapies', 'therapist', 'therapists', 'counseling',
                             'counselling', 'counselor', 'counsellor', 'near', 'me')), '')))::text,
                nullif(to_tsquery('english', coalesce((
             select case when bool_and(alternatives is not null)
                         then string_agg('(' || alternatives || ')', ' & ') end
             from (select (select string_agg(n.word || ':A', ' | ') from (
                               select v.word from search_name_word v where v.word % w
                               order by v.word <-> w, v.word limit 3) n) as alternatives
                   from (select w from regexp_split_to_table(lower($1), '[^[:alnum:]]+')
                             with ordinality t (w, i)
                         where char_length(w) >= 3 order by i limit 6) words) x), ''))::text, '')",
    )
    .bind(q)
    .fetch_one(pool)
    .await?)
}

/// `and …`: rows after `after` in distance order (nulls, the online-only listings, last;
/// id breaks ties). Offices always have a distance, so past the nulls none qualify.
fn push_after_distance(
    b: &mut QueryBuilder<Postgres>,
    after: Option<&Position>,
    distance: &str,
    id: &str,
) {
    match after.map(|p| (p.key, p.id)) {
        Some((Some(key), after_id)) => {
            b.push(format!("and ({distance} > "));
            b.push_bind(key);
            b.push(format!(" or ({distance} = "));
            b.push_bind(key);
            b.push(format!(" and {id} > "));
            b.push_bind(after_id);
            b.push(format!(") or {distance} is null) "));
        }
        Some((None, after_id)) => {
            b.push(format!("and {distance} is null and {id} > "));
            b.push_bind(after_id);
            b.push(" ");
        }
        None => {}
    }
}

/// Runs the search. `query` is the raw query string (for the cursor fingerprint).
pub async fn search(
    pool: &PgPool,
    cursors: &CursorKey,
    params: &SearchParams,
    query: &str,
    window: i64,
) -> Result<SearchResults, ApiError> {
    let text = match &params.q {
        Some(q) => Some(text_query(pool, q).await?),
        None => None,
    };
    let mut filters = Filters {
        office_covered: false,
        params,
        modality_ids: resolve(pool, "modality", "modality", &params.modalities).await?,
        specialty_ids: resolve(pool, "specialty", "specialty", &params.specialties).await?,
        insurer_ids: resolve(pool, "insurer", "insurer", &params.insurers).await?,
        certified_ids: resolve(
            pool,
            "modality",
            "certified_in",
            params.certified_in.as_slice(),
        )
        .await?,
        name_tsquery: text.as_ref().and_then(|t| t.1.clone()),
        tsquery: text.map(|t| t.0),
    };
    filters.office_covered = filters.covered_by_offices();
    let sort = params.effective_sort();
    let fingerprint = params.fingerprint(query);
    let after: Option<Position> = match &params.cursor {
        None => None,
        Some(c) => {
            let position: Position = cursors.decode(c)?;
            if position.f != fingerprint || position.sort != sort {
                return Err(bad(
                    "cursor",
                    "belongs to another search; start again without it",
                )
                .with_code(ErrorCode::InvalidCursor));
            }
            Some(position)
        }
    };
    let limit = params.limit.unwrap_or(20);

    let mut b: QueryBuilder<Postgres> = QueryBuilder::new("with ");
    if let Some(near) = &params.near {
        // Offices within the radius: a bounding box first (GiST), then the exact
        // great-circle distance; a listing's distance is its nearest office's.
        let dlat = near.radius_km / 110.574;
        let dlng = near.radius_km / (111.320 * near.point.latitude.to_radians().cos().max(0.01));
        b.push("near_office as materialized (select distinct on (x.listing_id) x.* from (select o.listing_id, ");
        // The facet columns only when facets are asked for: every office in the radius is
        // sorted and kept, thousands around a dense ZIP code, and narrower rows cost less.
        b.push(if params.facets.is_empty() {
            "null::int[] as modality_ids, null::int[] as specialty_ids, null::int[] as insurer_ids, null::text[] as delivery, null::text[] as session_formats"
        } else {
            "o.modality_ids, o.specialty_ids, o.insurer_ids, o.delivery, o.session_formats"
        });
        b.push(", o.fee_floor_cents, o.last_confirmed_at, distance_km(o.location, point(");
        b.push_bind(near.point.longitude);
        b.push(", ");
        b.push_bind(near.point.latitude);
        b.push(")) as d from directory_office o where o.location <@ box(point(");
        b.push_bind(near.point.longitude - dlng);
        b.push(", ");
        b.push_bind(near.point.latitude - dlat);
        b.push("), point(");
        b.push_bind(near.point.longitude + dlng);
        b.push(", ");
        b.push_bind(near.point.latitude + dlat);
        b.push(")) ");
        // Offices of listings that fail the copied filters are dropped inside the index scan.
        filters.push_shared(&mut b, "o");
        // `offset 0` keeps the radius test above the scan: pushed into it, the distance was
        // computed twice per office, once for the test and once for the result (page walk
        // at 1M, one client: 9.9 -> 9.0 ms).
        b.push("offset 0) x where x.d <= ");
        b.push_bind(near.radius_km);
        b.push(" order by x.listing_id, x.d), ");
    }

    // `win`: the result window (listing ids and facet columns) that total and facets count.
    // `page`: the page's listing ids with `key` (the cursor's sort key) and `distance`.
    // `final_order` sorts the page's rows again in the outer select.
    let final_order = match sort {
        Sort::Relevance => {
            // The window: the most recently confirmed matches, ranked; pages walk the window.
            // Text matches and name matches are read separately, each in confirmation
            // order from its own index, then merged: an `or` would test the name of every
            // row the document scan passes over.
            b.push("win as materialized (select * from (");
            // No name arm when `q` has no word a name could match: it would find nothing, and
            // merging it (`union`) hashes every row of the other.
            let arms: &[Text] = if filters.name_tsquery.is_some() {
                &[Text::Document, Text::Name]
            } else {
                &[Text::Document]
            };
            for (i, &text) in arms.iter().enumerate() {
                if i > 0 {
                    b.push(" union ");
                }
                // The rank is computed above the arm's limit, for the rows it keeps only:
                // in the scan, a plan that sorts its matches (a rare word, or a small
                // directory) would rank every match first.
                b.push(format!(
                    "(select {}, r.confirmed, r.distance, (ts_rank_cd(r.document, ",
                    FACET_COLUMNS.replace("e.", "r.")
                ));
                b.push_bind(filters.tsquery.clone().unwrap_or_default());
                b.push("::tsquery) + word_similarity(");
                b.push_bind(params.q.clone().unwrap_or_default());
                b.push("::text, r.display_name))::float8 as rank from (select * from ");
                if text == Text::Name {
                    // Name matches (each word of `q` as one of its closest name words) are
                    // candidates, at most NAME_CANDIDATES of them: a common first name is
                    // shared by tens of thousands of listings, and its close words by more.
                    b.push("(select * from ");
                }
                filters.push_source(
                    &mut b,
                    &format!(
                        "{FACET_COLUMNS}, {CONFIRMED} as confirmed, e.document, e.display_name"
                    ),
                    text,
                );
                if text == Text::Name {
                    b.push(" c limit ");
                    b.push_bind(NAME_CANDIDATES);
                    b.push(")");
                }
                b.push(" x order by x.confirmed desc, x.listing_id desc limit ");
                b.push_bind(window + 1);
                b.push(") r)");
            }
            b.push(") y order by y.confirmed desc, y.listing_id desc limit ");
            b.push_bind(window + 1);
            // The window's extra row only tells that there are more; pages stop before it.
            b.push("), ranked as (select w.listing_id, w.distance, w.rank as key from (select * from win order by confirmed desc, listing_id desc limit ");
            b.push_bind(window);
            b.push(") w), ");
            b.push("page as (select r.listing_id, r.key, r.distance from ranked r where true ");
            if let Some(position) = &after {
                b.push("and (r.key < ");
                b.push_bind(position.key.unwrap_or(f64::INFINITY));
                b.push(" or (r.key = ");
                b.push_bind(position.key.unwrap_or(f64::INFINITY));
                b.push(" and r.listing_id > ");
                b.push_bind(position.id);
                b.push(")) ");
            }
            b.push("order by r.key desc, r.listing_id limit ");
            b.push_bind(limit + 1);
            b.push(") ");
            "key desc, listing_id"
        }
        Sort::Distance => {
            b.push("win as materialized (select * from ");
            filters.push_source(&mut b, FACET_COLUMNS, Text::Any);
            b.push(" x limit ");
            b.push_bind(window + 1);
            // When the window holds every match, the page is sorted out of it; otherwise
            // (only then: a one-time filter) offices are read nearest first, each one's
            // listing checked against the filters in that order so the scan stops once the
            // page is full, then online-only listings (no distance) by id.
            b.push("), page as (select * from ((select w.listing_id, w.distance as key, w.distance from win w where (select count(*) from win) <= ");
            b.push_bind(window);
            b.push(" ");
            push_after_distance(&mut b, after.as_ref(), "w.distance", "w.listing_id");
            b.push("order by w.distance nulls last, w.listing_id limit ");
            b.push_bind(limit + 1);
            b.push(") union all (select * from ((");
            if filters.office_covered {
                // Nothing to check per office: the outer `order by … limit` keeps the nearest
                // rows in a bounded heap instead of sorting every office in the radius.
                b.push("select n.listing_id, n.d as key, n.d as distance from near_office n ");
            } else {
                b.push("select n.listing_id, n.d as key, n.d as distance from (select * from near_office order by d, listing_id offset 0) n ");
                b.push("cross join lateral (select 1 from directory_entry e where e.listing_id = n.listing_id ");
                filters.push(&mut b, Text::Any);
                b.push("limit 1) m ");
            }
            b.push("where (select count(*) from win) > ");
            b.push_bind(window);
            b.push(" ");
            push_after_distance(&mut b, after.as_ref(), "n.d", "n.listing_id");
            b.push("order by n.d, n.listing_id limit ");
            b.push_bind(limit + 1);
            b.push(") union all (");
            filters.push_scan(
                &mut b,
                "e.listing_id, null::float8 as key",
                Branch::Online,
                Text::Any,
            );
            b.push("and (select count(*) from win) > ");
            b.push_bind(window);
            b.push(" ");
            if let Some((None, id)) = after.as_ref().map(|p| (p.key, p.id)) {
                b.push("and e.listing_id > ");
                b.push_bind(id);
                b.push(" ");
            }
            b.push("order by e.listing_id limit ");
            b.push_bind(limit + 1);
            b.push(")) y limit ");
            b.push_bind(limit + 1);
            b.push(")) z limit ");
            b.push_bind(limit + 1);
            b.push(") ");
            "key asc nulls last, listing_id"
        }
        Sort::Fee | Sort::RecentlyConfirmed => {
            let (sort_key, cmp, direction) = if sort == Sort::Fee {
                (FEE, ">", "asc")
            } else {
                (CONFIRMED, "<", "desc")
            };
            let key = if sort == Sort::Fee {
                "x.sk::float8 as key"
            } else {
                "case when x.sk = '-infinity' then null else (extract(epoch from x.sk) * 1000000)::float8 end as key"
            };
            b.push("win as materialized (select * from ");
            filters.push_source(
                &mut b,
                &format!("{FACET_COLUMNS}, {sort_key} as sk"),
                Text::Any,
            );
            b.push(" x limit ");
            b.push_bind(window + 1);
            // The page: sorted out of the window when it holds every match (few matches:
            // an ordered index scan would pass over many rows to find them); otherwise read
            // in order from the sort index, which finds plentiful matches at once. The
            // `(select count(*) from win)` conditions are one-time filters: the branch not
            // taken does not run.
            b.push("), page as (select * from (");
            for from_window in [true, false] {
                if !from_window {
                    b.push(" union all ");
                }
                b.push(format!("(select x.listing_id, x.distance, {key} from "));
                if from_window {
                    b.push("win x where (select count(*) from win) <= ");
                } else {
                    filters.push_source(
                        &mut b,
                        &format!("e.listing_id, {sort_key} as sk"),
                        Text::Any,
                    );
                    b.push(" x where (select count(*) from win) > ");
                }
                b.push_bind(window);
                b.push(" ");
                if let Some(position) = &after {
                    // A row comparison positions the cursor inside the sort index.
                    b.push(format!("and (x.sk, x.listing_id) {cmp} ("));
                    if sort == Sort::Fee {
                        b.push_bind(position.key.map(|k| k as i32).unwrap_or(i32::MAX));
                    } else {
                        b.push("coalesce(timestamptz 'epoch' + ");
                        b.push_bind(position.key.map(|k| k as i64));
                        b.push("::bigint * interval '1 microsecond', '-infinity'::timestamptz)");
                    }
                    b.push(", ");
                    b.push_bind(position.id);
                    b.push(") ");
                }
                b.push(format!(
                    "order by x.sk {direction}, x.listing_id {direction} limit "
                ));
                b.push_bind(limit + 1);
                b.push(")");
            }
            b.push(") p limit ");
            b.push_bind(limit + 1);
            b.push(") ");
            if sort == Sort::Fee {
                "key asc, listing_id asc"
            } else {
                "key desc nulls last, listing_id desc"
            }
        }
    };

    // The response in one result: the page's items (part 0); the window, one row per
    // listing with the requested facets' arrays, whose number is the total (part 1; when no
    // facet is requested, a single row with the count instead); and one row with the current
    // terms' names of each requested taxonomy facet (part 2). Facets are counted in the
    // service (`facets.rs`).
    b.push(
        " select 0 as part, p.listing_id, p.key,
                (e.summary || jsonb_build_object('distance_km', round(p.distance::numeric, 1),
                    'stale', e.stale, 'availability_confirmed', not e.availability_unconfirmed))::text as item,
                null::int8 as n, null::int[] as modality_ids, null::int[] as specialty_ids,
                null::int[] as insurer_ids, null::text[] as delivery, null::text[] as session_formats,
                null::jsonb as names
         from page p join directory_entry e on e.listing_id = p.listing_id ",
    );
    if params.facets.is_empty() {
        b.push("union all select 1, null, null, null, (select count(*) from win), null, null, null, null, null, null ");
    } else {
        b.push("union all select 1, w.listing_id, null, null, null");
        for facet in Facet::ALL {
            if params.facets.contains(&facet) {
                b.push(format!(", w.{}", facet.column()));
            } else {
                b.push(", null");
            }
        }
        b.push(", null from win w ");
        let taxonomies: Vec<(&str, &str)> = params
            .facets
            .iter()
            .filter_map(|f| Some((f.name(), f.taxonomy()?)))
            .collect();
        if !taxonomies.is_empty() {
            b.push("union all select 2, null, null, null, null, null, null, null, null, null, jsonb_build_object(");
            for (i, (name, table)) in taxonomies.into_iter().enumerate() {
                if i > 0 {
                    b.push(", ");
                }
                b.push(format!(
                    "'{name}', (select coalesce(jsonb_object_agg(t.id, t.slug), '{{}}') from {table} t where t.retired_at is null)"
                ));
            }
            b.push(") ");
        }
    }
    b.push("order by part, ");
    b.push(final_order);

    let rows = b.build().fetch_all(pool).await?;
    let mut total = 0;
    let mut counter = FacetCounter::new(&params.facets);
    let mut items = Vec::new();
    let mut keys = Vec::new();
    for row in &rows {
        match row.try_get::<i32, _>("part")? {
            0 => {
                keys.push((
                    row.try_get::<Option<f64>, _>("key")?,
                    row.try_get::<Uuid, _>("listing_id")?,
                ));
                let item: String = row.try_get("item")?;
                items.push(RawValue::from_string(item).map_err(ApiError::internal)?);
            }
            1 => match row.try_get::<Option<i64>, _>("n")? {
                Some(n) => total = n,
                None => {
                    total += 1;
                    counter.add_row(row)?;
                }
            },
            _ => counter.set_names(row.try_get("names")?),
        }
    }
    let facets = counter.into_json();
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    keys.truncate(limit as usize);
    let next_cursor = match (more, keys.last()) {
        (true, Some((key, id))) => Some(cursors.encode(&Position {
            f: fingerprint,
            sort,
            key: *key,
            id: *id,
        })),
        _ => None,
    };
    let exact = total <= window;
    Ok(SearchResults {
        items,
        next_cursor,
        total: total.min(window),
        total_is_exact: exact,
        facets,
        facets_are_exact: exact,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any query string parses or is refused with a 400; none panics.
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
                prop_assert_eq!(err.code(), ErrorCode::InvalidParameter);
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
