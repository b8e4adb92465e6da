//! `GET /v1/therapists` and `GET /v1/suggest`: HTTP only; the search itself is
//! `super::search`, the suggestions `super::suggest`.

use actix_web::web::Data;
use actix_web::{HttpRequest, get};

use super::SearchIndex;
use super::model::{SearchResults, Suggestions};
use super::params::SearchParams;
#[allow(unused_imports)] // read by the OpenAPI annotation only
use super::params::Sort;
use super::params::SuggestParams;
#[allow(unused_imports)] // read by the OpenAPI annotation only
use crate::domain::vocab::{
    AgeGroup, Community, Delivery, Faith, Gender, OfferingKind, SessionFormat,
};
use crate::domain::{LanguageCode, Slug};
use crate::http::Reply;
use crate::http::caching::{PUBLIC_SHORT, cached_json_in};
use crate::http::cursor::CursorKey;
use crate::http::language::{AcceptLanguage, Lang};

/// Search published listings. All parameters are optional and combine; repeatable ones
/// (`modality`, `specialty`, `insurer`, `language`, `delivery`, `session_format`) mean "any
/// of". Unknown parameters and bad values are 400 `invalid_parameter` naming the parameter;
/// unknown taxonomy slugs are 422. `total` and facet counts are exact over every match.
/// `q` matches every word of the listing (name, credentials, title, modalities,
/// specialties, insurers, languages, faiths, communities, age groups, formats, delivery,
/// offerings, cities and states by name, the statement), stemmed, with synonyms and typos;
/// when no listing matches every word, the last words are dropped until some do
/// (`query_words_used` says which were used). Keyset cursors are signed and tied to the
/// search they came from. A change to a listing is searchable within a second. Each listing on
/// a page served counts as an appearance in its owner's statistics, and a search that finds
/// fewer than five listings adds to the admins' insights (without anything identifying the
/// visitor; known crawlers are not counted).
#[utoipa::path(
    params(
        ("q" = Option<String>, Query, max_length = 200, description = "Free text over everything a listing says (see above); stemmed, weighted, typo-tolerant, with synonyms"),
        ("modality" = Option<Vec<Slug>>, Query, style = Form, explode, description = "Modality slug; repeat for any of several (`modality=cbt&modality=emdr`, or `modality[]=cbt`). At most 20."),
        ("specialty" = Option<Vec<Slug>>, Query, style = Form, explode, description = "Specialty slug; repeatable"),
        ("insurer" = Option<Vec<Slug>>, Query, style = Form, explode, description = "Insurer slug; repeatable"),
        ("near" = Option<String>, Query, max_length = 100, example = "Austin, TX", description = "Where to search around: a US ZIP code, `lat,lng`, a city (`Austin, TX`, `Austin TX`, `austin` for the largest of the name, USPS names such as `Brooklyn`), or a state (`Texas`, `TX`: the whole state, as `state`). Case, punctuation and one typo in a city's name are forgiven. The response's `place` says what it resolved to. A name no US place has is 422 `unknown_place`; a malformed ZIP or point is 400. Listings licensed for telehealth in the place's state come after those with an office in reach."),
        ("radius_km" = Option<f64>, Query, exclusive_minimum = 0, maximum = 500, description = "Default 40; needs `near` naming a point, ZIP or city (400 without it, or with a state)"),
        ("bbox" = Option<String>, Query, example = "-97.9,30.1,-97.5,30.5", description = "`west,south,east,north` in degrees (WGS84): only listings with an office inside the box, for a map view. Combines with every other parameter; totals and facets stay exact. West greater than east crosses the antimeridian. Wider than 60 degrees, south north of north, or out of range is 400 naming `bbox`."),
        ("state" = Option<String>, Query, pattern = "^[A-Za-z]{2}$", example = "NC", description = "Offices in, or telehealth licensed for, a US state"),
        ("delivery" = Option<Vec<Delivery>>, Query, style = Form, explode, description = "Repeatable"),
        ("session_format" = Option<Vec<SessionFormat>>, Query, style = Form, explode, description = "Repeatable"),
        ("accepting" = Option<bool>, Query, description = "true: accepting new clients now"),
        ("free_consultation" = Option<bool>, Query),
        ("max_fee_cents" = Option<i32>, Query, minimum = 0, maximum = 10000000, description = "Matches when the lowest possible fee (sliding-scale minimum, else fee minimum) is at or below it"),
        ("sliding_scale" = Option<bool>, Query),
        ("language" = Option<Vec<LanguageCode>>, Query, style = Form, explode, description = "ISO 639 code; repeatable"),
        ("gender" = Option<Gender>, Query),
        ("age_group" = Option<AgeGroup>, Query),
        ("community" = Option<Community>, Query),
        ("faith" = Option<Faith>, Query),
        ("certified_in" = Option<Slug>, Query, description = "Modality slug with a verified certification"),
        ("license_verified" = Option<bool>, Query),
        ("offering" = Option<OfferingKind>, Query, description = "Any kind but `session` (400)"),
        ("include_stale" = Option<bool>, Query, description = "true: also listings not confirmed for 90 days, flagged `stale` (left out by default)"),
        ("sort" = Option<Sort>, Query, description = "Default: relevance with q, distance with near, recently_confirmed otherwise"),
        ("facets" = Option<String>, Query, pattern = r"^\s*(modality|specialty|insurer|delivery|session_format)?\s*(,\s*(modality|specialty|insurer|delivery|session_format)?\s*)*$", description = "Comma-separated facets to count: modality, specialty, insurer, delivery, session_format"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 50, description = "Default 20"),
        ("cursor" = Option<String>, Query, max_length = 512, description = "`next_cursor` from the previous page of the same search"),
        AcceptLanguage,
    ),
    responses(
        (status = 200, body = SearchResults),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "`invalid_parameter` or `invalid_cursor`"),
        (status = 422, description = "`validation_failed`: an unknown taxonomy slug; `unknown_place`: `near` names no US place"),
        (status = 503, description = "`service_unavailable` with `Retry-After`: the search index is still being built at start-up (searches read the index alone, so they go on while the database is away)"),
    )
)]
#[get("/therapists")]
pub async fn search_therapists(
    req: HttpRequest,
    media: Data<crate::photos::media::Media>,
    cursors: Data<CursorKey>,
    index: Data<SearchIndex>,
    counters: Data<crate::stats::Counters>,
) -> Reply {
    let mut params = SearchParams::parse(req.query_string())?;
    params.lang = Lang::from_request(&req);
    let (results, read) = super::search(&index, &media, &cursors, &params, req.query_string())?;
    counters.search_served(&req, (&params, &read), &results);
    cached_json_in(&req, &results, PUBLIC_SHORT, params.lang)
}

/// Suggestions for a search box as the user types: places (for `near`), modalities,
/// specialties, insurers, languages and offerings (for their filters) and published
/// therapists (by name; `value` is the listing's slug). The typed text matches the start of
/// a name or of a later word of it (`emd` finds EMDR, `behav` Cognitive Behavioral
/// Therapy); from the fourth character one typo is forgiven. Ranked by how well the text
/// matches (the whole name, its start, a later word, with a typo), then by `count`, the
/// exact number of published listings the suggestion would find. A listing is suggested
/// within a second of its publication, and never after it leaves the directory.
#[utoipa::path(
    params(
        ("q" = String, Query, min_length = 1, max_length = 100, pattern = r"\S", example = "aus", description = "What the user typed so far: at least one character that is not a space (it is trimmed)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 20, description = "Default 8"),
        AcceptLanguage,
    ),
    responses(
        (status = 200, body = Suggestions),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "`invalid_parameter`: `q` missing, empty or longer than 100 characters, a bad `limit`, or an unknown parameter"),
        (status = 503, description = "`service_unavailable` with `Retry-After`: the search index is still being built at start-up (searches read the index alone, so they go on while the database is away)"),
    )
)]
#[get("/suggest")]
pub async fn suggest(req: HttpRequest, index: Data<SearchIndex>) -> Reply {
    let params = SuggestParams::parse(req.query_string())?;
    let lang = Lang::from_request(&req);
    let items = index
        .read(|s| super::suggest::suggest(&s.index, &s.lexicon, &params.q, params.limit, lang))?;
    cached_json_in(&req, &Suggestions { items }, PUBLIC_SHORT, lang)
}
