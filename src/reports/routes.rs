//! `POST /v1/therapists/{id_or_slug}/reports`: anyone may report a problem with a public
//! listing.

use actix_web::web::Data;
use actix_web::{HttpResponse, post, web};

use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use super::model::{AVAILABILITY_REPORTS, AVAILABILITY_WINDOW, NewReport, Received};
use super::store::{self, NewReportRow};
use crate::audit::{Actor, AuditEntry};
use crate::clock::Clock;
use crate::directory::store::find_public_listing;
use crate::error::ApiError;
use crate::http::Json;
use crate::http::client_ip::ClientIp;
use crate::http::cursor::CursorKey;
use crate::http::rate_limit::{self, Limit};
use crate::http::{Db, Reply};
use crate::listings::store::mark_availability_unconfirmed;
use crate::mail::{PublicBaseUrl, enqueue, templates};

/// Per client address.
pub const REPORT_IP_LIMIT: Limit = Limit::new("report_ip", 5, 3600);

/// Reports one network (IPv4 /24, IPv6 /56) may send a day, across every listing: one
/// client cannot smear many listings.
pub const REPORT_NETWORK_LIMIT: Limit = Limit::new("report_network", 10, 86_400);

/// Reports one listing takes a day.
pub const REPORT_LISTING_LIMIT: Limit = Limit::new("report_listing", 20, 86_400);

/// Reports a problem with a public listing (404 for anything else). At most 5 per hour
/// from one address (429 with `Retry-After`). Reporters stay anonymous: only a keyed hash of
/// their address is kept, to tell different clients apart.
#[utoipa::path(
    params(("id_or_slug" = String, Path, description = "The listing's UUID or its slug")),
    request_body = NewReport,
    responses(
        (status = 202, body = Received),
        (status = 429),
    )
)]
#[post("/therapists/{id_or_slug}/reports")]
#[tracing::instrument(skip_all)]
pub async fn create_therapist_report(
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
    receive(&mut tx, &public_base_url, &report).await?;
    tx.commit().await?;
    Ok(HttpResponse::Accepted().json(Received { status: "received" }))
}

/// Stores a report and audits it; an availability report may set off the mark below.
async fn receive(
    tx: &mut PgConnection,
    base: &Url,
    report: &NewReportRow<'_>,
) -> Result<(), ApiError> {
    let id = store::insert(tx, report).await?;
    AuditEntry::new(Actor::Anonymous, "report.received")
        .target("listing", report.listing_id)
        .details(json!({ "report_id": id, "reason": report.reason.as_str() }))
        .record(tx)
        .await?;
    if report.reason.questions_availability() {
        mark_if_unreachable(tx, base, report.listing_id, report.now).await?;
    }
    Ok(())
}

/// With enough distinct recent availability reports, marks the listing's availability
/// unconfirmed (once, until the therapist confirms) and asks the therapist to reconfirm.
/// Reports from before the therapist's last confirmation are answered by it and do not
/// count again.
async fn mark_if_unreachable(
    tx: &mut PgConnection,
    base: &Url,
    listing_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), ApiError> {
    let since = now - AVAILABILITY_WINDOW;
    let reporters = store::availability_reporters(&mut *tx, listing_id, since).await?;
    if reporters < AVAILABILITY_REPORTS {
        return Ok(());
    }
    let Some(marked) = mark_availability_unconfirmed(tx, listing_id, now).await? else {
        return Ok(());
    };
    if !marked.is_demo {
        let message = templates::reconfirm_availability(base, &marked.email, &marked.display_name);
        enqueue(&mut *tx, &message).await?;
    }
    AuditEntry::new(Actor::System, "listing.availability_unconfirmed")
        .target("listing", listing_id)
        .details(json!({ "reporters": reporters }))
        .record(tx)
        .await?;
    Ok(())
}
