//! The outermost middleware: gives every request an id (echoed in `x-request-id`), a tracing
//! span carrying it, an access-log line, and its metrics sample.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use tracing::Instrument;

use super::json::{body_limit, too_large_at};
use super::metrics::{HttpMetrics, UNMATCHED_ROUTE};
use crate::request_id;

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = request_id::accept_or_generate(
        req.headers()
            .get(request_id::HEADER)
            .and_then(|v| v.to_str().ok()),
    );
    let metrics = req.app_data::<web::Data<HttpMetrics>>().cloned();
    let method = req.method().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        path = %req.path(),
    );
    let started = Instant::now();

    // Handlers and extractors turn their errors into responses inside this scope, so every
    // problem body carries the request id. (Nothing below this middleware returns `Err`; the
    // request cannot be cloned before routing to render one here.)
    let mut res = request_id::scope(id.clone(), next.call(req))
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();

    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    if let Some(metrics) = metrics {
        metrics.observe(&method, &route, status, elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            route = %route,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request completed"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(request_id::HEADER), value);
    }
    Ok(res)
}

/// Refuses a write whose declared body is over the limit before routing, so no route can be
/// made to buffer it. It sits inside the CORS and conventions layers, so the 413 carries
/// their headers like any other answer. Reads (GET, HEAD) take no body and are not refused.
pub async fn refuse_oversized(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let writes = [Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
    let limit = body_limit(req.method(), req.path());
    if writes.contains(req.method()) && declared_length(&req).is_some_and(|n| n > limit) {
        let refused = too_large_at(limit).error_response();
        return Ok(req.into_response(refused));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn declared_length(req: &ServiceRequest) -> Option<usize> {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}
