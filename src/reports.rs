//! "Report a problem" with a listing: `POST /v1/therapists/{id_or_slug}/reports`. Admins
//! work through the reports in `admin::reports`.
//!
//! Reports are how the directory learns that a listing is wrong before its therapist says
//! so. Three unresolved reports that the therapist is unreachable or not accepting clients,
//! from three different clients within 30 days, mark the listing's availability as
//! unconfirmed on its profile and ask the therapist to reconfirm it.

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{Actor, AuditEntry};
use crate::clock::Clock;
use crate::directory::profile::find_public_listing;
use crate::error::{ApiError, FieldError, Problem};
use crate::http::Json;
use crate::http::client_ip::ClientIp;
use crate::http::cursor::CursorKey;
use crate::http::rate_limit::{self, Limit};
use crate::mail::PublicBaseUrl;
use crate::mail::{enqueue, templates};

pub const DETAILS_MAX: usize = 2000;
/// Distinct clients whose availability reports mark a listing's availability unconfirmed.
pub const AVAILABILITY_REPORTS: i64 = 3;
pub const AVAILABILITY_WINDOW: Duration = Duration::days(30);

/// Per client address.
pub const REPORT_IP_LIMIT: Limit = Limit {
    bucket: "report_ip",
    max: 5,
    window_secs: 3600,
};

/// Reports one network (IPv4 /24, IPv6 /64) may send a day, across every listing: one
/// client cannot smear many listings.
pub const REPORT_NETWORK_LIMIT: Limit = Limit {
    bucket: "report_network",
    max: 10,
    window_secs: 86_400,
};

/// Reports one listing takes a day.
pub const REPORT_LISTING_LIMIT: Limit = Limit {
    bucket: "report_listing",
    max: 20,
    window_secs: 86_400,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportReason {
    Unreachable,
    NotAccepting,
    InaccurateInfo,
    NotLicensed,
    Other,
}

impl ReportReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportReason::Unreachable => "unreachable",
            ReportReason::NotAccepting => "not_accepting",
            ReportReason::InaccurateInfo => "inaccurate_info",
            ReportReason::NotLicensed => "not_licensed",
            ReportReason::Other => "other",
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    pub reason: ReportReason,
    /// What is wrong, in plain words.
    #[schema(max_length = 2000)]
    pub details: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Received {
    #[schema(example = "received")]
    status: &'static str,
}

/// Reports a problem with a public listing (404 for anything else). At most 5 per hour
/// from one address (429 with `Retry-After`). Reporters stay anonymous: only a keyed hash of
/// their address is kept, to tell different clients apart.
#[utoipa::path(
    tag = "reports",
    params(("id_or_slug" = String, Path, description = "The listing's UUID or its slug")),
    request_body = NewReport,
    responses(
        (status = 202, body = Received),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/therapists/{id_or_slug}/reports")]
#[tracing::instrument(skip_all)]
pub async fn create_report(
    pool: web::Data<PgPool>,
    ip: ClientIp,
    public_base_url: web::Data<PublicBaseUrl>,
    clock: web::Data<Clock>,
    keys: web::Data<CursorKey>,
    id_or_slug: web::Path<crate::http::path::PathText>,
    body: Json<NewReport>,
) -> Result<HttpResponse, ApiError> {
    let details = match body.0.details.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) if d.chars().count() > DETAILS_MAX => {
            return Err(ApiError::validation(vec![FieldError::new(
                "details",
                "too_long",
                format!("at most {DETAILS_MAX} characters"),
            )]));
        }
        Some(d)
            if d.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') =>
        {
            return Err(ApiError::validation(vec![FieldError::new(
                "details",
                "invalid_characters",
                "control characters are not allowed",
            )]));
        }
        Some(d) => Some(d.to_owned()),
    };
    let network = ip.wide_network_key();
    rate_limit::hit(pool.get_ref(), REPORT_IP_LIMIT, &ip.network_key()).await?;
    rate_limit::hit(pool.get_ref(), REPORT_NETWORK_LIMIT, &network).await?;
    let listing = find_public_listing(pool.get_ref(), &id_or_slug)
        .await?
        .ok_or_else(ApiError::not_found)?;
    rate_limit::hit(
        pool.get_ref(),
        REPORT_LISTING_LIMIT,
        &listing.id.to_string(),
    )
    .await?;
    let now = clock.now();
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into listing_report (id, listing_id, reason, details, reporter, created_at)
         values ($1, $2, $3::report_reason, $4, $5, $6)",
    )
    .bind(id)
    .bind(listing.id)
    .bind(body.0.reason.as_str())
    .bind(&details)
    // Reporters are told apart by network, so addresses next to each other count once.
    .bind(keys.pseudonym(&network))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    AuditEntry::new(Actor::Anonymous, "report.received")
        .target("listing", listing.id)
        .details(json!({ "report_id": id, "reason": body.0.reason.as_str() }))
        .record(&mut tx)
        .await?;

    if matches!(
        body.0.reason,
        ReportReason::Unreachable | ReportReason::NotAccepting
    ) {
        mark_if_unreachable(&mut tx, &public_base_url, listing.id, now).await?;
    }
    tx.commit().await?;
    Ok(HttpResponse::Accepted().json(Received { status: "received" }))
}

/// With enough distinct recent availability reports, marks the listing's availability
/// unconfirmed (once, until the therapist confirms) and asks the therapist to reconfirm.
async fn mark_if_unreachable(
    tx: &mut sqlx::PgConnection,
    public_base_url: &url::Url,
    listing_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), ApiError> {
    let reporters: i64 = sqlx::query_scalar(
        "select count(distinct reporter) from listing_report
         where listing_id = $1 and resolved_at is null
           and reason in ('unreachable', 'not_accepting') and created_at > $2",
    )
    .bind(listing_id)
    .bind(now - AVAILABILITY_WINDOW)
    .fetch_one(&mut *tx)
    .await?;
    if reporters < AVAILABILITY_REPORTS {
        return Ok(());
    }
    let marked: Option<(String, bool, String)> = sqlx::query_as(
        "update listing l set availability_unconfirmed_at = $2
         from account a
         where l.id = $1 and a.id = l.account_id and l.availability_unconfirmed_at is null
         returning a.email::text, a.is_demo, l.display_name",
    )
    .bind(listing_id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((email, is_demo, display_name)) = marked {
        if !is_demo {
            enqueue(
                &mut *tx,
                &templates::reconfirm_availability(public_base_url, &email, &display_name),
            )
            .await?;
        }
        AuditEntry::new(Actor::System, "listing.availability_unconfirmed")
            .target("listing", listing_id)
            .details(json!({ "reporters": reporters }))
            .record(&mut *tx)
            .await?;
    }
    Ok(())
}
