//! Cacheable JSON responses: an `ETag` over the exact bytes sent, `Cache-Control`, and a
//! 304 when the client's `If-None-Match` already has them.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::http::Reply;
use crate::http::etag::{self, EntityTag};

/// Public directory data: browsers and CDNs may keep it briefly, then revalidate.
pub const PUBLIC_SHORT: &str = "public, max-age=60, stale-while-revalidate=60";
/// Taxonomy changes rarely.
pub const PUBLIC_LONG: &str = "public, max-age=300, stale-while-revalidate=600";

pub fn cached_json<T: Serialize>(
    req: &HttpRequest,
    value: &T,
    cache_control: &'static str,
) -> Reply {
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    let digest = Sha256::digest(&body);
    let etag = EntityTag::strong(
        digest[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    );
    let not_modified = none_match(req, &etag);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag.to_string()))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        ))
        // The same on a 304 as on its 200: the answer varies with the coding the client takes.
        .insert_header((header::VARY, "Origin, Accept-Encoding"));
    if not_modified {
        return Ok(response.finish());
    }
    Ok(response.content_type("application/json").body(body))
}

/// True when the request's `If-None-Match` already names this tag (a malformed one names
/// nothing, and the full answer goes out).
fn none_match(req: &HttpRequest, etag: &EntityTag) -> bool {
    etag::condition(req.headers(), header::IF_NONE_MATCH)
        .is_some_and(|c| c.is_ok_and(|c| c.matches_weak(etag)))
}
