//! CORS for browser frontends on the configured origins. Written here rather than with
//! actix-cors because that middleware answers refusals with errors that escape the request
//! context (no request id, not problem+json); here a refused origin simply gets no
//! `Access-Control-Allow-Origin`, which is all a browser needs to block it.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};

/// The browser origins allowed to call the API (`APP_CORS_ALLOWED_ORIGINS`), as app data.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(pub Vec<String>);

/// Every method a route answers (PUT: the photo upload).
pub const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
/// What the service reads (`accept-language`: Spanish names), and what tracing libraries
/// add to every request (W3C Trace Context, Sentry): a preflight that lists a header not
/// here fails the browser's request before it is sent.
pub const ALLOWED_HEADERS: &str = "authorization, content-type, if-match, if-none-match, \
    accept-language, x-request-id, traceparent, tracestate, sentry-trace, baggage";
const EXPOSED_HEADERS: &str =
    "etag, retry-after, location, x-request-id, ratelimit, ratelimit-policy";

pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let Some(origin) = origin else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let allowed = req
        .app_data::<web::Data<AllowedOrigins>>()
        .is_some_and(|allowed| {
            origin
                .to_str()
                .is_ok_and(|o| allowed.0.iter().any(|a| a == o))
        });

    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut res = HttpResponse::NoContent();
        res.insert_header((header::VARY, "Origin"));
        if allowed {
            res.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
                .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS))
                .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, "3600"));
        }
        return Ok(req.into_response(res.finish()));
    }

    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
    Ok(res)
}
