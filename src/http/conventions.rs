//! HTTP conventions every response keeps, whatever produced it: `HEAD` wherever `GET` is
//! served, `X-Content-Type-Options: nosniff`, `Cache-Control: no-store` on everything
//! personal (tokens, `/v1/me`, `/v1/admin`), the rate-limit headers of the limits the
//! request counted against, and entity tags that name the content coding they were sent in.

use std::sync::{Arc, Mutex};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError};

use super::etag::{self, Condition, EntityTag};
use super::rate_limit;
use crate::error::{ApiError, ErrorCode};

/// Paths whose every answer is about one signed-in person, or hands out tokens.
const PERSONAL_PREFIXES: &[&str] = &["/v1/me", "/v1/admin", "/v1/auth"];

/// Marks a request that arrived as a HEAD (it is routed as the GET it mirrors).
#[derive(Debug, Clone, Copy)]
struct WasHead;

/// Whether the request arrived as a HEAD.
pub fn is_head(req: &actix_web::HttpRequest) -> bool {
    actix_web::HttpMessage::extensions(req).contains::<WasHead>()
}

pub async fn conventions(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // A HEAD is served as the GET it mirrors; the HTTP/1 codec knows the request was a
    // HEAD and sends the headers without the body.
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
        actix_web::HttpMessage::extensions_mut(&req).insert(WasHead);
    }
    let path = super::path::decoded(req.path());
    let personal = PERSONAL_PREFIXES
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")));
    let if_none_match: Vec<EntityTag> = etag::condition(req.headers(), header::IF_NONE_MATCH)
        .and_then(Result::ok)
        .map(|c| c.tags().to_vec())
        .unwrap_or_default();

    // A client that refuses every coding the service can send, identity included, still
    // gets the answer a request deserves first (an anonymous `/v1/me` is 401); only a
    // representation it cannot take becomes a 406, in problem+json like every error.
    let unacceptable = refuses_every_coding(&req);
    if unacceptable {
        req.headers_mut().remove(header::ACCEPT_ENCODING);
    }
    let counted = Arc::new(Mutex::new(Vec::new()));
    let res = rate_limit::observe(counted.clone(), next.call(req)).await?;
    let mut res = if unacceptable && res.status().as_u16() < 400 {
        let (req, _) = res.into_parts();
        let refused = ApiError::new(
            ErrorCode::NotAcceptable,
            "The answer cannot be sent in any coding Accept-Encoding allows: allow identity, gzip, br or deflate.",
        );
        let mut refused = ServiceResponse::new(req, refused.error_response()).map_into_boxed_body();
        refused
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        refused
    } else {
        res.map_into_boxed_body()
    };

    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if personal {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let counted = counted.lock().map(|c| c.clone()).unwrap_or_default();
    rate_limit::write_headers(headers, &counted);
    let status = res.status();
    tag_content_coding(res.headers_mut(), status, &if_none_match);
    // A draining process hands each client back to its balancer after one answer, so no
    // kept-alive connection is still open here when the listener closes.
    if res
        .request()
        .app_data::<actix_web::web::Data<crate::http::drain::Draining>>()
        .is_some_and(|d| d.is_draining())
    {
        res.response_mut()
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    Ok(res)
}

/// Whether `Accept-Encoding` rules out every coding the service sends, identity included.
fn refuses_every_coding(req: &ServiceRequest) -> bool {
    let Some(accepted) = req.get_header::<header::AcceptEncoding>() else {
        return false;
    };
    let sent = [
        header::Encoding::identity(),
        header::Encoding::brotli(),
        header::Encoding::gzip(),
        header::Encoding::deflate(),
    ];
    accepted.negotiate(sent.iter()).is_none()
}

/// A strong entity tag names one representation: a compressed body gets its own tag
/// (`"abc-gzip"`, as Apache does), and a 304 repeats the tag the client holds. Comparisons
/// (`etag::EntityTag`) take either form back.
fn tag_content_coding(headers: &mut HeaderMap, status: StatusCode, if_none_match: &[EntityTag]) {
    let current = match headers.get(header::ETAG).and_then(|v| v.to_str().ok()) {
        Some(value) => match etag::parse(value) {
            Ok(Condition::Tags(tags)) if tags.len() == 1 && !tags[0].weak => tags[0].clone(),
            _ => return,
        },
        None => return,
    };
    let tagged = if status == StatusCode::NOT_MODIFIED {
        // The representation the client holds, when it named one by its strong tag; `*` or a
        // weak tag names none, and the current tag stays.
        if_none_match
            .iter()
            .find(|held| !held.weak && held.weak_eq(&current))
            .cloned()
    } else {
        let coding = headers
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .filter(|c| etag::CODINGS.contains(c));
        coding.map(|c| current.coded(c))
    };
    if let Some(value) = tagged.and_then(|t| HeaderValue::from_str(&t.to_string()).ok()) {
        headers.insert(header::ETAG, value);
    }
}
