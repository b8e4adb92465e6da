//! Operational endpoints: liveness, readiness, metrics, the OpenAPI document and its HTML
//! reference.

pub mod reference;

use std::time::Duration;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use actix_web::web::Data;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use crate::db::read::ReadPool;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};
use crate::http::drain::Draining;
use crate::http::metrics::{HttpMetrics, IndexState};
use crate::http::{Db, Reply};

/// The generated OpenAPI document and its HTML rendering, built once at start-up.
pub struct ApiDocs {
    pub json: String,
    pub html: String,
}

/// Whether this listener serves `/metrics` (false on the public one when
/// `APP_METRICS_ADDR` moves it elsewhere).
pub struct MetricsServedHere(pub bool);

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    status: &'static str,
    /// With a read replica configured (`APP_DATABASE_READ_URL`): `up`, or `down` while
    /// lagging reads (profiles, taxonomy lists, the search index) go to the primary.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "up", nullable = false)]
    read_replica: Option<ReplicaState>,
}

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaState {
    Up,
    Down,
}

/// Liveness: answers while the process runs, without touching the database.
#[utoipa::path(responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok",
        read_replica: None,
    })
}

/// Readiness: the process is not shutting down, the database answers, every migration is
/// applied, and the search index is built and current.
#[utoipa::path(
    responses(
        (status = 200, body = Health),
    )
)]
#[get("/readyz")]
pub async fn readyz(
    pool: Db,
    reads: Data<ReadPool>,
    search: Data<crate::search::SearchIndex>,
    draining: Data<Draining>,
) -> Result<web::Json<Health>, ApiError> {
    if draining.is_draining() {
        return Err(ApiError::new(
            ErrorCode::ServiceUnavailable,
            "This process is shutting down.",
        )
        .with_retry_after(5));
    }
    if !search.is_ready() {
        return Err(ApiError::new(
            ErrorCode::ServiceUnavailable,
            "The search index is being built.",
        )
        .with_retry_after(5));
    }
    if search.is_stale() {
        return Err(ApiError::new(
            ErrorCode::ServiceUnavailable,
            "The search index is behind the change feed.",
        )
        .with_retry_after(5));
    }
    // Bounded, so a load balancer's probe never hangs on a dead database.
    match tokio::time::timeout(Duration::from_secs(3), crate::db::check_ready(&pool)).await {
        Ok(Ok(())) => Ok(web::Json(Health {
            status: "ok",
            read_replica: reads.replica_up().map(|up| {
                if up {
                    ReplicaState::Up
                } else {
                    ReplicaState::Down
                }
            }),
        })),
        Ok(Err(err)) => {
            tracing::warn!(error = %format!("{err:#}"), "not ready");
            Err(ApiError::new(
                ErrorCode::ServiceUnavailable,
                "The database is not available.",
            )
            .with_retry_after(5))
        }
        Err(_) => {
            tracing::warn!("not ready: the readiness check timed out");
            Err(ApiError::new(
                ErrorCode::ServiceUnavailable,
                "The database is not available.",
            )
            .with_retry_after(5))
        }
    }
}

/// Prometheus text exposition: request counts and latencies by route pattern and status,
/// database pool gauges.
/// With `APP_METRICS_ADDR` set it is served only there, and is 404 on the public listener.
#[utoipa::path(
    responses(
        (status = 200, content_type = "text/plain", body = String),
        (status = 404, description = "Served on `APP_METRICS_ADDR` instead"),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    metrics: Data<HttpMetrics>,
    pool: Db,
    (search, reads): (Data<crate::search::SearchIndex>, Data<ReadPool>),
    here: Data<MetricsServedHere>,
) -> Reply {
    if !here.0 {
        return Err(ApiError::not_found());
    }
    let index = IndexState {
        lag_seconds: search.lag().map(|lag| lag.as_secs_f64()),
        feed_errors: search.feed_errors(),
        replica_lag_seconds: reads.replica_lag().map(|lag| lag.as_secs_f64()),
    };
    let text = metrics.render(&pool, index)?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(text))
}

/// This OpenAPI 3.1 document (identical to the committed `openapi/openapi.json`).
#[utoipa::path(responses((status = 200, content_type = "application/json", body = Object)))]
#[get("/openapi.json")]
pub async fn openapi_json(api_docs: Data<ApiDocs>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .body(api_docs.json.clone())
}

/// The interactive API reference (Redoc, served from this binary: works offline), with the
/// error-code table.
#[utoipa::path(responses((status = 200, content_type = "text/html", body = String)))]
#[get("/docs")]
pub async fn docs(api_docs: Data<ApiDocs>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CONTENT_SECURITY_POLICY, reference::CONTENT_SECURITY_POLICY))
        .body(api_docs.html.clone())
}

/// The reference's scripts.
#[utoipa::path(
    params(("asset" = String, Path, pattern = r"^(redoc\.standalone|init)\.js$")),
    responses((status = 200, content_type = "text/javascript", body = String))
)]
#[get("/docs/{asset}")]
pub async fn docs_asset(asset: web::Path<String>) -> Reply {
    let body = match asset.as_str() {
        "redoc.standalone.js" => reference::REDOC_JS,
        "init.js" => reference::INIT_JS,
        _ => return Err(ApiError::not_found()),
    };
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .body(body))
}
