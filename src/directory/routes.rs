//! Public directory routes.

use actix_web::{HttpRequest, HttpResponse, get, web};
use sqlx::PgPool;

use super::gate::SearchGate;
use super::profile::{self, PublicProfile};
use super::search::{self, SearchParams, SearchResults};
use crate::error::{ApiError, Problem};
use crate::http::caching::{PUBLIC_SHORT, cached_json};
use crate::http::cursor::CursorKey;

/// A published listing's public profile, by id or slug. Anything unpublished, suspended or
/// unknown is 404. Licenses show their verification status (rejected ones are hidden);
/// only verified certifications appear.
#[utoipa::path(
    tag = "directory",
    params(("id_or_slug" = String, Path, description = "The listing's UUID or its slug")),
    responses(
        (status = 200, body = PublicProfile),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/therapists/{id_or_slug}")]
pub async fn get_profile(
    req: HttpRequest,
    pool: web::Data<PgPool>,
    id_or_slug: web::Path<crate::http::path::PathText>,
) -> Result<HttpResponse, ApiError> {
    let key = id_or_slug.into_inner();
    if key.is_empty() || key.len() > 80 {
        return Err(ApiError::not_found());
    }
    let profile = profile::find_published(pool.get_ref(), &key)
        .await?
        .ok_or_else(ApiError::not_found)?;
    cached_json(&req, &profile, PUBLIC_SHORT)
}

/// Search published listings. All parameters are optional and combine; repeatable ones
/// (`modality`, `specialty`, `insurer`, `language`, `delivery`, `session_format`) mean "any
/// of". Unknown parameters and bad values are 400 `invalid_parameter` naming the parameter;
/// unknown taxonomy slugs are 422. A search counts, facets and ranks at most N matches, its
/// result window (500 by default): `total` is exact up to N, then N with `total_is_exact:
/// false`, and facets then count the window (`facets_are_exact: false`). Sorted by
/// relevance, the window is the N most recently confirmed matches and pages walk it; sorted by distance,
/// fee or confirmation, pages walk every match. Keyset cursors are signed and tied to the
/// search they came from.
#[utoipa::path(
    tag = "directory",
    params(
        ("q" = Option<String>, Query, description = "Free text over name, credentials, statement, modalities, specialties and city; stemmed, weighted, typo-tolerant; at most 200 characters"),
        ("modality" = Option<Vec<String>>, Query, description = "Modality slug, repeatable"),
        ("specialty" = Option<Vec<String>>, Query, description = "Specialty slug, repeatable"),
        ("insurer" = Option<Vec<String>>, Query, description = "Insurer slug, repeatable"),
        ("near" = Option<String>, Query, description = "A US ZIP code or `lat,lng`"),
        ("radius_km" = Option<f64>, Query, description = "Default 40, at most 500; needs `near`"),
        ("state" = Option<String>, Query, description = "Offices in, or telehealth licensed for, a US state"),
        ("delivery" = Option<Vec<String>>, Query, description = "in_person, video, phone; repeatable"),
        ("session_format" = Option<Vec<String>>, Query, description = "individual, couples, family, group; repeatable"),
        ("accepting" = Option<bool>, Query, description = "true: accepting new clients now"),
        ("free_consultation" = Option<bool>, Query),
        ("max_fee_cents" = Option<i32>, Query, description = "Matches when the lowest possible fee (sliding-scale minimum, else fee minimum) is at or below it"),
        ("sliding_scale" = Option<bool>, Query),
        ("language" = Option<Vec<String>>, Query, description = "ISO 639 code, repeatable"),
        ("gender" = Option<String>, Query, description = "female, male, non_binary"),
        ("age_group" = Option<String>, Query, description = "children, teens, adults, elders"),
        ("community" = Option<String>, Query),
        ("faith" = Option<String>, Query),
        ("certified_in" = Option<String>, Query, description = "Modality slug with a verified certification"),
        ("license_verified" = Option<bool>, Query),
        ("offering" = Option<String>, Query, description = "workshop, retreat, online_course, group, intensive"),
        ("include_stale" = Option<bool>, Query, description = "true: also listings not confirmed for 90 days, flagged `stale` (left out by default)"),
        ("sort" = Option<String>, Query, description = "relevance (default with q), distance (default with near), fee, recently_confirmed (default otherwise)"),
        ("facets" = Option<String>, Query, description = "Comma-separated: modality, specialty, insurer, delivery, session_format"),
        ("limit" = Option<u32>, Query, description = "1–50, default 20"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` from the previous page"),
    ),
    responses(
        (status = 200, body = SearchResults),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "`invalid_parameter` or `invalid_cursor`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Unknown taxonomy slug"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "`service_unavailable` with `Retry-After`: the search waited longer than the pool's acquire timeout for its turn (`APP_SEARCH_CONCURRENCY`)"),
    )
)]
#[get("/therapists")]
pub async fn search_listings(
    req: HttpRequest,
    pool: web::Data<PgPool>,
    cursors: web::Data<CursorKey>,
    config: web::Data<crate::config::Config>,
    gate: web::Data<SearchGate>,
) -> Result<HttpResponse, ApiError> {
    let params = SearchParams::parse(req.query_string())?;
    let _turn = gate.enter().await?;
    let results = search::search(
        &pool,
        &cursors,
        &params,
        req.query_string(),
        config.search_result_window,
    )
    .await?;
    cached_json(&req, &results, PUBLIC_SHORT)
}
