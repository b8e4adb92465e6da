//! Public directory routes.

use actix_web::web::Data;
use actix_web::{HttpRequest, get, web};

use super::model::PublicProfile;
use super::store;
use crate::db::read::ReadPool;
use crate::error::ApiError;
use crate::http::Reply;
use crate::http::caching::{PUBLIC_SHORT, cached_json};
use crate::stats::Counters;

/// A published listing's public profile, by id or slug, read from the replica when there is
/// one (it may lag the primary by the replica's delay). Anything unpublished, suspended or
/// unknown is 404. Licenses show their verification status (rejected ones are hidden);
/// only verified certifications appear. A GET by anyone but the listing's owner counts as a
/// view in the owner's statistics (`GET /v1/me/stats`); HEAD requests and known crawlers do
/// not.
#[utoipa::path(
    params(("id_or_slug" = String, Path, max_length = 120, description = "The listing's UUID or its slug")),
    responses(
        (status = 200, body = PublicProfile),
        (status = 304, description = "Not modified (If-None-Match)"),
    )
)]
#[get("/therapists/{id_or_slug}")]
pub async fn get_therapist(
    req: HttpRequest,
    reads: Data<ReadPool>,
    media: Data<crate::photos::media::Media>,
    id_or_slug: web::Path<crate::http::path::PathText>,
    counters: Data<Counters>,
) -> Reply {
    let key = id_or_slug.into_inner();
    if key.is_empty() || key.len() > 80 {
        return Err(ApiError::not_found());
    }
    let profile = store::find_published(reads.get(), &key)
        .await?
        .ok_or_else(ApiError::not_found)?
        .with_media(&media);
    if counters.counts(&req) {
        let owner = match crate::auth::extract::token_subject(&req) {
            Some(account) => {
                crate::listings::store::owner(reads.get(), profile.id)
                    .await?
                    .account_id
                    == account
            }
            None => false,
        };
        if !owner {
            counters.profile_viewed(profile.id);
        }
    }
    cached_json(&req, &profile, PUBLIC_SHORT)
}

/// The caller's listing as its public profile shows it, in whatever state it is.
///
/// A draft or a listing waiting for review shows what the public would see once it is
/// published; the photo is the newest upload unless it was rejected, although an upload
/// waiting for review is not public yet.
#[utoipa::path(
    operation_id = "get_my_listing_preview",
    security(("bearer" = [])),
    responses(
        (status = 200, body = PublicProfile),
        (status = 403, description = "Not a therapist account"),
        (status = 404, description = "`not_found`: the account has no listing"),
    )
)]
#[get("/me/listing/preview")]
pub async fn preview(
    user: crate::auth::TherapistUser,
    pool: crate::http::Db,
    media: Data<crate::photos::media::Media>,
) -> Reply {
    let profile = store::preview(pool.get_ref(), user.0.account_id)
        .await?
        .ok_or_else(ApiError::not_found)?
        .with_media(&media);
    Ok(actix_web::HttpResponse::Ok().json(profile))
}
