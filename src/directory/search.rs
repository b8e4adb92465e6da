//! `GET /v1/therapists`: public search over `directory_entry` (published listings of active
//! accounts only), in one round trip: filters, free text, distance, sorting with keyset
//! cursors, an exact-or-capped total and facets.
//!
//! Query parameters are parsed here by hand rather than through serde because several are
//! repeatable ("any of") and every error must name its parameter.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::vocab::{
    AgeGroup, Community, Delivery, Faith, Gender, OfferingKind, SessionFormat, Vocabulary,
};
use crate::domain::{GeoPoint, UsState, ZipCode};
use crate::error::{ApiError, ErrorCode};
use crate::http::cursor::CursorKey;

pub const MAX_Q_CHARS: usize = 200;
pub const DEFAULT_RADIUS_KM: f64 = 40.0;
pub const MAX_RADIUS_KM: f64 = 500.0;
/// `total` is exact up to this many matches; beyond, it is this number and flagged.
pub const TOTAL_CAP: i64 = 10_000;
const MAX_REPEATS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    Relevance,
    Distance,
    Fee,
    RecentlyConfirmed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        if query.len() > crate::http::query::QUERY_LIMIT_BYTES {
            return Err(ApiError::new(
                ErrorCode::InvalidParameter,
                "The query string is too long.",
            ));
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut p = SearchParams::default();
        let mut radius = None;
        let mut near = None;
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let key = key.into_owned();
            if value.contains('\u{FFFD}') || key.contains('\u{FFFD}') {
                return Err(bad(&truncate(&key), "not valid UTF-8"));
            }
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
                        let facet = match name {
                            "modality" => Facet::Modality,
                            "specialty" => Facet::Specialty,
                            "insurer" => Facet::Insurer,
                            "delivery" => Facet::Delivery,
                            "session_format" => Facet::SessionFormat,
                            _ => {
                                return Err(bad(
                                    "facets",
                                    "a comma-separated list of modality, specialty, insurer, delivery, session_format",
                                ));
                            }
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

/// A search result: the listing's summary (see `directory_entry.summary`).
#[derive(Serialize, ToSchema)]
pub struct SearchItem {
    id: Uuid,
    slug: String,
    display_name: String,
    pronouns: Option<String>,
    credentials: Option<String>,
    professional_title: Option<String>,
    photo_url: Option<String>,
    accepting: String,
    free_consultation: bool,
    #[schema(value_type = Object)]
    fees: Value,
    modalities: Vec<String>,
    top_specialties: Vec<String>,
    delivery: Vec<String>,
    session_formats: Vec<String>,
    languages: Vec<String>,
    telehealth_states: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    offices: Value,
    license_verified: bool,
    last_confirmed_at: Option<String>,
    /// Kilometres to the nearest office, with `near`; null for online-only matches.
    distance_km: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct FacetCount {
    slug: String,
    count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    items: Vec<SearchItem>,
    next_cursor: Option<String>,
    /// Exact up to 10,000 matches; beyond that 10,000 with `total_is_exact` false.
    total: i64,
    total_is_exact: bool,
    /// Counts over the whole filtered set for each requested facet (retired terms excluded).
    #[schema(value_type = Object)]
    facets: Value,
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

/// `and e.column && ids`: the entry has any of the ids.
fn any_of(b: &mut QueryBuilder<Postgres>, column: &str, ids: &[i32]) {
    if !ids.is_empty() {
        b.push(format!("and e.{column} && "));
        b.push_bind(ids.to_vec());
        b.push("::int[] ");
    }
}

/// `and e.column && values`: the entry has any of the values.
fn any_text(b: &mut QueryBuilder<Postgres>, column: &str, values: Vec<&str>) {
    if !values.is_empty() {
        b.push(format!("and e.{column} && "));
        b.push_bind(values.into_iter().map(str::to_owned).collect::<Vec<_>>());
        b.push("::text[] ");
    }
}

fn texts<T: Vocabulary>(values: &[T]) -> Vec<&'static str> {
    values.iter().map(|v| v.as_str()).collect()
}

/// Runs the search. `query` is the raw query string (for the cursor fingerprint).
pub async fn search(
    pool: &PgPool,
    cursors: &CursorKey,
    params: &SearchParams,
    query: &str,
) -> Result<Value, ApiError> {
    let modality_ids = resolve(pool, "modality", "modality", &params.modalities).await?;
    let specialty_ids = resolve(pool, "specialty", "specialty", &params.specialties).await?;
    let insurer_ids = resolve(pool, "insurer", "insurer", &params.insurers).await?;
    let certified_ids = resolve(
        pool,
        "modality",
        "certified_in",
        params.certified_in.as_slice(),
    )
    .await?;
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
    if let Some(q) = &params.q {
        b.push("search as materialized (select websearch_to_tsquery('english', ");
        b.push_bind(q.clone());
        // OR the query as typed with a corrected one: each word replaced by the closest
        // taxonomy word (trigram similarity), generic words ("therapy", "counselor") dropped
        // since nearly every listing is about them without saying so.
        b.push(") || websearch_to_tsquery('english', coalesce((select string_agg(c, ' ') from (select coalesce((select v.word from search_vocabulary v where similarity(v.word, w) > 0.3 order by similarity(v.word, w) desc, v.word limit 1), w) as c from regexp_split_to_table(lower(");
        b.push_bind(q.clone());
        b.push("), '[^[:alnum:]]+') w where w <> '') words where c not in ('therapy', 'therapies', 'therapist', 'therapists', 'counseling', 'counselling', 'counselor', 'counsellor', 'near', 'me')), '')) as tsq, ");
        b.push_bind(q.clone());
        b.push("::text as q), ");
    }
    if let Some(near) = &params.near {
        // A bounding box first (GiST), then the exact great-circle distance.
        let dlat = near.radius_km / 110.574;
        let dlng = near.radius_km / (111.320 * near.point.latitude.to_radians().cos().max(0.01));
        b.push("near as materialized (select o.listing_id, min(distance_km(o.location, point(");
        b.push_bind(near.point.longitude);
        b.push(", ");
        b.push_bind(near.point.latitude);
        b.push("))) as d from directory_office o where o.location <@ box(point(");
        b.push_bind(near.point.longitude - dlng);
        b.push(", ");
        b.push_bind(near.point.latitude - dlat);
        b.push("), point(");
        b.push_bind(near.point.longitude + dlng);
        b.push(", ");
        b.push_bind(near.point.latitude + dlat);
        b.push(")) group by o.listing_id having min(distance_km(o.location, point(");
        b.push_bind(near.point.longitude);
        b.push(", ");
        b.push_bind(near.point.latitude);
        b.push("))) <= ");
        b.push_bind(near.radius_km);
        b.push("), ");
    }
    b.push("matched as materialized (select e.listing_id, e.summary, e.modality_ids, e.specialty_ids, e.insurer_ids, e.delivery, e.session_formats, ");
    b.push(if params.near.is_some() {
        "n.d as distance, "
    } else {
        "null::float8 as distance, "
    });
    b.push(match sort {
        Sort::Relevance => {
            "(ts_rank_cd(e.document, (select tsq from search)) + word_similarity((select q from search), e.display_name))::float8 as key "
        }
        Sort::Distance => "n.d::float8 as key ",
        Sort::Fee => "e.fee_floor_cents::float8 as key ",
        Sort::RecentlyConfirmed => {
            "(extract(epoch from e.last_confirmed_at) * 1000000)::float8 as key "
        }
    });
    b.push("from directory_entry e ");
    if params.near.is_some() {
        b.push("left join near n on n.listing_id = e.listing_id ");
    }
    b.push("where true ");
    if params.q.is_some() {
        // `<%`: the query is close to some part of the name (pg_trgm word similarity, GIN-indexed).
        // Scalar subqueries become init plans: computed once, and usable by the GIN indexes.
        b.push("and (e.document @@ (select tsq from search) or (select q from search) <% e.display_name) ");
    }
    if let Some(near) = &params.near {
        // Online-only listings match through telehealth in the searched state.
        b.push("and (n.listing_id is not null or (not e.has_office and e.delivery && '{video,phone}' and ");
        b.push_bind(near.state);
        b.push("::text = any(e.telehealth_states))) ");
    }
    any_of(&mut b, "modality_ids", &modality_ids);
    any_of(&mut b, "specialty_ids", &specialty_ids);
    any_of(&mut b, "insurer_ids", &insurer_ids);
    any_of(&mut b, "certified_modality_ids", &certified_ids);
    any_text(
        &mut b,
        "languages",
        params.languages.iter().map(String::as_str).collect(),
    );
    any_text(&mut b, "delivery", texts(&params.delivery));
    any_text(&mut b, "session_formats", texts(&params.session_formats));
    any_text(&mut b, "states", params.state.into_iter().collect());
    any_text(
        &mut b,
        "age_groups",
        params.age_group.iter().map(|v| v.as_str()).collect(),
    );
    any_text(
        &mut b,
        "communities",
        params.community.iter().map(|v| v.as_str()).collect(),
    );
    any_text(
        &mut b,
        "offering_kinds",
        params.offering.iter().map(|v| v.as_str()).collect(),
    );
    if let Some(accepting) = params.accepting {
        b.push(if accepting {
            "and e.accepting = 'accepting' "
        } else {
            "and e.accepting <> 'accepting' "
        });
    }
    for (column, value) in [
        ("free_consultation", params.free_consultation),
        ("sliding_scale", params.sliding_scale),
        ("license_verified", params.license_verified),
    ] {
        if let Some(v) = value {
            b.push(format!("and e.{column} = "));
            b.push_bind(v);
            b.push(" ");
        }
    }
    if let Some(max) = params.max_fee_cents {
        b.push("and e.fee_floor_cents <= ");
        b.push_bind(max);
        b.push(" ");
    }
    for (column, value) in [
        ("gender", params.gender.map(|g| g.as_str())),
        ("faith", params.faith.map(|f| f.as_str())),
    ] {
        if let Some(v) = value {
            b.push(format!("and e.{column} = "));
            b.push_bind(v);
            b.push(" ");
        }
    }
    b.push("), ");

    // The page: keyset after the cursor, in the sort's order (nulls last, id breaks ties).
    let descending = matches!(sort, Sort::Relevance | Sort::RecentlyConfirmed);
    b.push("page as (select * from matched m where true ");
    if let Some(position) = &after {
        match position.key {
            Some(key) => {
                let (cmp, _) = if descending { ("<", ">") } else { (">", "<") };
                b.push(format!("and (m.key {cmp} "));
                b.push_bind(key);
                b.push(" or (m.key = ");
                b.push_bind(key);
                b.push(" and m.listing_id > ");
                b.push_bind(position.id);
                b.push(") or m.key is null) ");
            }
            None => {
                b.push("and m.key is null and m.listing_id > ");
                b.push_bind(position.id);
                b.push(" ");
            }
        }
    }
    b.push(if descending {
        "order by m.key desc nulls last, m.listing_id "
    } else {
        "order by m.key asc nulls last, m.listing_id "
    });
    b.push("limit ");
    b.push_bind(limit + 1);
    b.push("), ");

    b.push("total as (select count(*) as n from (select 1 from matched limit ");
    b.push_bind(TOTAL_CAP + 1);
    b.push(") capped), facets as (select jsonb_build_object(");
    let mut first = true;
    for facet in &params.facets {
        if !first {
            b.push(", ");
        }
        first = false;
        let (name, sql) = match facet {
            Facet::Modality => (
                "modality",
                "(select coalesce(jsonb_agg(jsonb_build_object('slug', t.slug, 'count', c.n) order by c.n desc, t.slug), '[]') from (select unnest(modality_ids) as id, count(*) as n from matched group by 1) c join modality t on t.id = c.id and t.retired_at is null)",
            ),
            Facet::Specialty => (
                "specialty",
                "(select coalesce(jsonb_agg(jsonb_build_object('slug', t.slug, 'count', c.n) order by c.n desc, t.slug), '[]') from (select unnest(specialty_ids) as id, count(*) as n from matched group by 1) c join specialty t on t.id = c.id and t.retired_at is null)",
            ),
            Facet::Insurer => (
                "insurer",
                "(select coalesce(jsonb_agg(jsonb_build_object('slug', t.slug, 'count', c.n) order by c.n desc, t.slug), '[]') from (select unnest(insurer_ids) as id, count(*) as n from matched group by 1) c join insurer t on t.id = c.id and t.retired_at is null)",
            ),
            Facet::Delivery => (
                "delivery",
                "(select coalesce(jsonb_agg(jsonb_build_object('slug', c.v, 'count', c.n) order by c.n desc, c.v), '[]') from (select unnest(delivery) as v, count(*) as n from matched group by 1) c)",
            ),
            Facet::SessionFormat => (
                "session_format",
                "(select coalesce(jsonb_agg(jsonb_build_object('slug', c.v, 'count', c.n) order by c.n desc, c.v), '[]') from (select unnest(session_formats) as v, count(*) as n from matched group by 1) c)",
            ),
        };
        b.push(format!("'{name}', {sql}"));
    }
    b.push(") as value) ");
    b.push(
        "select t.n as total, f.value as facets, p.listing_id, p.key,
                p.summary || jsonb_build_object('distance_km', round(p.distance::numeric, 1)) as item
         from total t cross join facets f left join page p on true ",
    );
    b.push(if descending {
        "order by p.key desc nulls last, p.listing_id"
    } else {
        "order by p.key asc nulls last, p.listing_id"
    });

    let rows = b.build().fetch_all(pool).await?;
    let mut total = 0;
    let mut facets = Value::Object(Default::default());
    let mut items = Vec::new();
    let mut keys = Vec::new();
    for row in rows {
        total = row.try_get::<i64, _>("total")?;
        facets = row.try_get::<Value, _>("facets")?;
        if let Some(id) = row.try_get::<Option<Uuid>, _>("listing_id")? {
            keys.push((row.try_get::<Option<f64>, _>("key")?, id));
            items.push(row.try_get::<Value, _>("item")?);
        }
    }
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
    Ok(serde_json::json!({
        "items": items,
        "next_cursor": next_cursor,
        "total": total.min(TOTAL_CAP),
        "total_is_exact": total <= TOTAL_CAP,
        "facets": facets,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

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
