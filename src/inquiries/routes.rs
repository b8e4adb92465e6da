//! `POST /v1/therapists/{id_or_slug}/inquiries` (public) and the therapist's inbox,
//! `GET /v1/me/inquiries` and `PATCH /v1/me/inquiries/{id}`.

use actix_web::web::Data;
use actix_web::{HttpResponse, get, patch, post, web};
use serde_json::json;
use sqlx::{PgConnection, Postgres, Transaction};
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use super::model::{InboxQuery, Inquiry, InquiryUpdate, NewInquiry, Received, ValidInquiry};
use super::store;
use crate::audit::{Actor, AuditEntry};
use crate::auth::TherapistUser;
use crate::clock::Clock;
use crate::directory::store::{PublicListingRef, find_public_listing};
use crate::domain::vocab::Accepting;
use crate::error::{ApiError, ErrorCode};
use crate::http::client_ip::ClientIp;
use crate::http::cursor::CursorKey;
use crate::http::page::{NewestFirstPage, Page};
use crate::http::rate_limit::{self, Limit};
use crate::http::{Db, Json, Query, Reply};
use crate::mail::templates::{self, InquiryEmail};
use crate::mail::{PublicBaseUrl, enqueue_sensitive};

// The contract tests name the state type at this path.
pub use super::model::InquiryStatus;

/// Per client address: the 6th inquiry within an hour is refused.
pub const INQUIRY_IP_LIMIT: Limit = Limit::new("inquiry_ip", 5, 3600);
/// Per listing: no therapist is flooded, whatever the number of addresses.
pub const INQUIRY_LISTING_LIMIT: Limit = Limit::new("inquiry_listing", 30, 86_400);

/// Sends a message to a therapist. Only published listings that are accepting clients or
/// keeping a waitlist take inquiries (others: 404 if not public, 409
/// `not_accepting_inquiries` if not accepting). The therapist is emailed (reply-to the
/// client) and the client gets a receipt. At most 5 per hour from one address and 30 a day
/// to one listing (429 with `Retry-After`).
#[utoipa::path(
    params(("id_or_slug" = String, Path, description = "The listing's UUID or its slug")),
    request_body = NewInquiry,
    responses(
        (status = 202, body = Received),
        (status = 409, description = "`not_accepting_inquiries`"),
        (status = 429),
    )
)]
#[post("/therapists/{id_or_slug}/inquiries")]
#[tracing::instrument(skip_all)]
pub async fn create_therapist_inquiry(
    pool: Db,
    ip: ClientIp,
    public_base_url: Data<PublicBaseUrl>,
    clock: Data<Clock>,
    id_or_slug: web::Path<crate::http::path::PathText>,
    body: Json<NewInquiry>,
) -> Reply {
    let inquiry = body.0.validate()?;
    rate_limit::hit(pool.get_ref(), INQUIRY_IP_LIMIT, &ip.network_key()).await?;
    let listing = find_public_listing(pool.get_ref(), &id_or_slug)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if listing.accepting == Accepting::NotAccepting {
        return Err(ApiError::new(
            ErrorCode::NotAcceptingInquiries,
            "This therapist is not taking new clients or keeping a waitlist.",
        ));
    }
    let received = HttpResponse::Accepted().json(Received { status: "received" });
    if body.0.is_honeypot_hit() {
        // Answered like any other, so the bot learns nothing; nothing is stored or sent.
        // Checked before the listing's daily quota: a bot spends only its own address's
        // budget and can never close a therapist's inbox.
        tracing::info!(listing_id = %listing.id, "inquiry dropped: honeypot field filled");
        return Ok(received);
    }
    let listing_key = listing.id.to_string();
    rate_limit::hit(pool.get_ref(), INQUIRY_LISTING_LIMIT, &listing_key).await?;
    let mut tx = pool.begin().await?;
    receive(&mut tx, &public_base_url, &listing, &inquiry, clock.now()).await?;
    tx.commit().await?;
    Ok(received)
}

/// The therapist's inquiries, newest first.
#[utoipa::path(
    security(("bearer" = [])),
    params(InboxQuery),
    responses((status = 200, body = Page<Inquiry>))
)]
#[get("/me/inquiries")]
pub async fn list_my_inquiries(
    user: TherapistUser,
    pool: Db,
    cursors: Data<CursorKey>,
    query: Query<InboxQuery>,
) -> Reply {
    let query = query.0;
    let page = NewestFirstPage::read(&cursors, query.limit, query.cursor.as_deref())?;
    let rows = store::list_mine(pool.get_ref(), user.0.account_id, query.status, page).await?;
    Ok(HttpResponse::Ok().json(page.page(rows, &cursors, |r| (r.created_at, r.id))))
}

/// The account's inquiry, or 404 (another therapist's inquiry included).
async fn find_mine(
    tx: &mut Transaction<'_, Postgres>,
    user: TherapistUser,
    id: Uuid,
) -> Result<Inquiry, ApiError> {
    store::find_mine(&mut **tx, user.0.account_id, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Marks an inquiry read, responded or archived. Another therapist's inquiry is 404.
#[utoipa::path(
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = InquiryUpdate,
    responses(
        (status = 200, body = Inquiry),
    )
)]
#[patch("/me/inquiries/{id}")]
pub async fn update_my_inquiry(
    user: TherapistUser,
    pool: Db,
    clock: Data<Clock>,
    id: web::Path<Uuid>,
    body: Json<serde_json::Value>,
) -> Reply {
    let now = clock.now();
    let mut tx = pool.begin().await?;
    // Someone else's inquiry is 404 whatever the body says.
    let current = find_mine(&mut tx, user, *id).await?;
    let update: InquiryUpdate = crate::http::json::parse(body.0.to_string().as_bytes())?;
    store::set_status(&mut tx, &current, update.status()?, now).await?;
    let updated = find_mine(&mut tx, user, current.id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(updated))
}

/// Stores an inquiry to `listing`, queues its email to the therapist (not for demo
/// listings) and the client's receipt, and audits its arrival.
async fn receive(
    tx: &mut PgConnection,
    base: &Url,
    listing: &PublicListingRef,
    inquiry: &ValidInquiry,
    now: OffsetDateTime,
) -> Result<(), ApiError> {
    let id = store::insert(tx, listing.id, inquiry, now).await?;
    let day = now.to_offset(time::UtcOffset::UTC).date();
    crate::stats::store::count_inquiry(tx, listing.id, day).await?;
    if !listing.is_demo {
        let email = InquiryEmail {
            therapist_email: &listing.account_email,
            client_name: &inquiry.name,
            client_email: inquiry.email.as_str(),
            client_phone: inquiry.phone.as_deref(),
            preferred_contact: inquiry.preferred_contact.as_str(),
            message: &inquiry.message,
        };
        enqueue_sensitive(tx, &templates::inquiry_to_therapist(base, &email)).await?;
    }
    // The receipt names the client: it leaves the outbox as the inquiry's own email does.
    let receipt = templates::inquiry_receipt(inquiry.email.as_str(), &listing.display_name);
    enqueue_sensitive(tx, &receipt).await?;
    // The audit log says that an inquiry arrived, never what it says or who sent it.
    AuditEntry::new(Actor::Anonymous, "inquiry.received")
        .target("listing", listing.id)
        .details(json!({ "inquiry_id": id }))
        .record(tx)
        .await?;
    Ok(())
}
