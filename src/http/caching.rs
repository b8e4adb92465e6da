//! Cacheable JSON responses: an `ETag` over the exact bytes sent, `Cache-Control`, and a
//! 304 when the client's `If-None-Match` already has them.
//!
//! The tag is the first 128 bits of the body's BLAKE3 digest: a cryptographic hash, so no
//! one can make two bodies share a tag, and one that hashes a search page (tens of kB,
//! every request) several times faster than SHA-256.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::error::ApiError;
use crate::http::Reply;
use crate::http::etag::{self, EntityTag};
use crate::http::language::Lang;

/// Public directory data: browsers and CDNs may keep it briefly, then revalidate.
pub const PUBLIC_SHORT: &str = "public, max-age=60, stale-while-revalidate=60";
/// Taxonomy changes rarely.
pub const PUBLIC_LONG: &str = "public, max-age=300, stale-while-revalidate=600";

pub fn cached_json<T: Serialize>(
    req: &HttpRequest,
    value: &T,
    cache_control: &'static str,
) -> Reply {
    cached(req, value, cache_control, None)
}

/// As `cached_json`, for an answer whose words follow `Accept-Language`: it says its
/// `Content-Language` and varies with `Accept-Language`.
pub fn cached_json_in<T: Serialize>(
    req: &HttpRequest,
    value: &T,
    cache_control: &'static str,
    lang: Lang,
) -> Reply {
    cached(req, value, cache_control, Some(lang))
}

fn cached<T: Serialize>(
    req: &HttpRequest,
    value: &T,
    cache_control: &'static str,
    lang: Option<Lang>,
) -> Reply {
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    let digest = blake3::hash(&body);
    let etag = EntityTag::strong(crate::hex::hex(&digest.as_bytes()[..16]));
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
        .insert_header((
            header::VARY,
            if lang.is_some() {
                "Origin, Accept-Encoding, Accept-Language"
            } else {
                "Origin, Accept-Encoding"
            },
        ));
    if let Some(lang) = lang {
        response.insert_header((header::CONTENT_LANGUAGE, lang.code()));
    }
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
