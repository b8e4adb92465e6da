//! `POST /v1/therapists/{id_or_slug}/reports`: anyone may report a problem with a public
//! listing.

use actix_web::web::Data;
use actix_web::{HttpResponse, post, web};

use super::model::{NewReport, Received};
use super::store::{self, NewReportRow};
use crate::clock::Clock;
use crate::directory::store::find_public_listing;
use crate::error::ApiError;
use crate::http::Json;
use crate::http::client_ip::ClientIp;
use crate::http::cursor::CursorKey;
use crate::http::rate_limit::{self, Limit};
use crate::http::{Db, Reply};
use crate::mail::PublicBaseUrl;

/// Per client address.
pub const REPORT_IP_LIMIT: Limit = Limit::new("report_ip", 5, 3600);

/// Reports one network (IPv4 /24, IPv6 /64) may send a day, across every listing: one
/// client cannot smear many listings.
pub const REPORT_NETWORK_LIMIT: Limit = Limit::new("report_network", 10, 86_400);

/// Reports one listing takes a day.
pub const REPORT_LISTING_LIMIT: Limit = Limit::new("report_listing", 20, 86_400);

/// Reports a problem with a public listing (404 for anything else). At most 5 per hour
/// from one address (429 with `Retry-After`). Reporters stay anonymous: only a keyed hash of
/// their address is kept, to tell different clients apart.
#[utoipa::path(
    tag = "reports",
    params(("id_or_slug" = String, Path, description = "The listing's UUID or its slug")),
    request_body = NewReport,
    responses(
        (status = 202, body = Received),
        (status = 429),
    )
)]
#[post("/therapists/{id_or_slug}/reports")]
#[tracing::instrument(skip_all)]
pub async fn create_report(
    pool: Db,
    ip: ClientIp,
    public_base_url: Data<PublicBaseUrl>,
    clock: Data<Clock>,
    keys: Data<CursorKey>,
    id_or_slug: web::Path<crate::http::path::PathText>,
    body: Json<NewReport>,
) -> Reply {
    let details = body.0.details()?;
    let network = ip.wide_network_key();
    rate_limit::hit(pool.get_ref(), REPORT_IP_LIMIT, &ip.network_key()).await?;
    rate_limit::hit(pool.get_ref(), REPORT_NETWORK_LIMIT, &network).await?;
    let listing = find_public_listing(pool.get_ref(), &id_or_slug)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let listing_key = listing.id.to_string();
    rate_limit::hit(pool.get_ref(), REPORT_LISTING_LIMIT, &listing_key).await?;
    // Reporters are told apart by network, so addresses next to each other count once.
    let reporter = keys.pseudonym(&network);
    let report = NewReportRow {
        listing_id: listing.id,
        reason: body.0.reason,
        details: details.as_deref(),
        reporter: &reporter,
        now: clock.now(),
    };
    let mut tx = pool.begin().await?;
    store::receive(&mut tx, &public_base_url, report).await?;
    tx.commit().await?;
    Ok(HttpResponse::Accepted().json(Received { status: "received" }))
}
