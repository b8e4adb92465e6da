//! Cacheable JSON responses: an `ETag` over the exact bytes sent, `Cache-Control`, and a
//! 304 when the client's `If-None-Match` already has them.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::http::Reply;

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
    let etag = format!(
        "\"{}\"",
        digest[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let not_modified = none_match(req, &etag);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        ))
        .insert_header((header::VARY, "Origin"));
    if not_modified {
        return Ok(response.finish());
    }
    Ok(response.content_type("application/json").body(body))
}

/// Content codings whose representations carry their own entity tag (see
/// `http::conventions`).
pub const CODINGS: &[&str] = &["gzip", "br"];

/// The tag without the content-coding suffix `http::conventions` adds: `"abc-gzip"` → `"abc"`.
fn without_coding(tag: &str) -> std::borrow::Cow<'_, str> {
    for coding in CODINGS {
        if let Some(opaque) = tag.strip_suffix(&format!("-{coding}\"")) {
            return format!("{opaque}\"").into();
        }
    }
    tag.into()
}

/// Weak comparison (RFC 9110 §8.8.3.2), as `If-None-Match` uses: the opaque tags are equal,
/// whatever their `W/` prefix or content coding.
pub fn same_entity(held: &str, current: &str) -> bool {
    held == "*"
        || without_coding(held.trim_start_matches("W/"))
            == without_coding(current.trim_start_matches("W/"))
}

/// Strong comparison, as `If-Match` uses: a weak tag never matches.
pub fn strong_match(header_value: &str, current: &str) -> bool {
    header_value.split(',').map(str::trim).any(|held| {
        held == "*"
            || (!held.starts_with("W/")
                && !current.starts_with("W/")
                && without_coding(held) == without_coding(current))
    })
}

/// True when `If-None-Match` lists this tag.
fn none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| same_entity(t.trim(), etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_comparison_ignores_prefix_and_coding() {
        assert!(same_entity("W/\"abc\"", "\"abc\""));
        assert!(same_entity("\"abc-gzip\"", "\"abc\""));
        assert!(same_entity("\"abc-br\"", "\"abc\""));
        assert!(same_entity("*", "\"abc\""));
        assert!(!same_entity("\"abd\"", "\"abc\""));
    }

    #[test]
    fn strong_comparison_refuses_weak_tags() {
        assert!(strong_match("\"v3\"", "\"v3\""));
        assert!(strong_match("\"v2\", \"v3-gzip\"", "\"v3\""));
        assert!(strong_match("*", "\"v3\""));
        assert!(!strong_match("W/\"v3\"", "\"v3\""));
        assert!(!strong_match("\"v4\"", "\"v3\""));
    }
}
