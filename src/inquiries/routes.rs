//! `POST /v1/therapists/{id_or_slug}/inquiries` (public) and the therapist's inbox,
//! `GET /v1/me/inquiries` and `PATCH /v1/me/inquiries/{id}`.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::NewInquiry;
use crate::audit::{Actor, AuditEntry};
use crate::auth::TherapistUser;
use crate::clock::Clock;
use crate::directory::profile::find_public_listing;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::http::client_ip::ClientIp;
use crate::http::cursor::CursorKey;
use crate::http::page::{Page, newest_first_after, page_limit};
use crate::http::rate_limit::{self, Limit};
use crate::http::{Json, Query};
use crate::mail::PublicBaseUrl;
use crate::mail::enqueue_sensitive;
use crate::mail::templates::{self, InquiryEmail};

/// Per client address: the 6th inquiry within an hour is refused.
pub const INQUIRY_IP_LIMIT: Limit = Limit {
    bucket: "inquiry_ip",
    max: 5,
    window_secs: 3600,
};
/// Per listing: no therapist is flooded, whatever the number of addresses.
pub const INQUIRY_LISTING_LIMIT: Limit = Limit {
    bucket: "inquiry_listing",
    max: 30,
    window_secs: 86_400,
};

#[derive(Serialize, ToSchema)]
pub struct Received {
    #[schema(example = "received")]
    status: &'static str,
}

/// Sends a message to a therapist. Only published listings that are accepting clients or
/// keeping a waitlist take inquiries (others: 404 if not public, 409
/// `not_accepting_inquiries` if not accepting). The therapist is emailed (reply-to the
/// client) and the client gets a receipt. At most 5 per hour from one address and 30 a day
/// to one listing (429 with `Retry-After`).
#[utoipa::path(
    tag = "inquiries",
    params(("id_or_slug" = String, Path, description = "The listing's UUID or its slug")),
    request_body = NewInquiry,
    responses(
        (status = 202, body = Received),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`not_accepting_inquiries`"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/therapists/{id_or_slug}/inquiries")]
#[tracing::instrument(skip_all)]
pub async fn create_inquiry(
    pool: web::Data<PgPool>,
    ip: ClientIp,
    public_base_url: web::Data<PublicBaseUrl>,
    clock: web::Data<Clock>,
    id_or_slug: web::Path<crate::http::path::PathText>,
    body: Json<NewInquiry>,
) -> Result<HttpResponse, ApiError> {
    let inquiry = body.0.validate()?;
    rate_limit::hit(pool.get_ref(), INQUIRY_IP_LIMIT, &ip.network_key()).await?;
    let listing = find_public_listing(pool.get_ref(), &id_or_slug)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if listing.accepting == "not_accepting" {
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
    rate_limit::hit(
        pool.get_ref(),
        INQUIRY_LISTING_LIMIT,
        &listing.id.to_string(),
    )
    .await?;

    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into inquiry (id, listing_id, client_name, client_email, client_phone, message, preferred_contact, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(listing.id)
    .bind(&inquiry.name)
    .bind(inquiry.email.as_str())
    .bind(&inquiry.phone)
    .bind(&inquiry.message)
    .bind(inquiry.preferred_contact.as_str())
    .bind(clock.now())
    .execute(&mut *tx)
    .await?;
    if !listing.is_demo {
        let email = InquiryEmail {
            therapist_email: &listing.account_email,
            client_name: &inquiry.name,
            client_email: inquiry.email.as_str(),
            client_phone: inquiry.phone.as_deref(),
            preferred_contact: inquiry.preferred_contact.as_str(),
            message: &inquiry.message,
        };
        enqueue_sensitive(
            &mut tx,
            &templates::inquiry_to_therapist(&public_base_url, &email),
        )
        .await?;
    }
    // The receipt names the client: it leaves the outbox as the inquiry's own email does.
    enqueue_sensitive(
        &mut tx,
        &templates::inquiry_receipt(inquiry.email.as_str(), &inquiry.name, &listing.display_name),
    )
    .await?;
    // The audit log says that an inquiry arrived, never what it says or who sent it.
    AuditEntry::new(Actor::Anonymous, "inquiry.received")
        .target("listing", listing.id)
        .details(json!({ "inquiry_id": id }))
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(received)
}

/// An inquiry in the therapist's inbox.
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct Inquiry {
    id: Uuid,
    listing_id: Uuid,
    name: String,
    email: String,
    phone: Option<String>,
    message: String,
    /// `email` or `phone`.
    preferred_contact: String,
    /// `new`, `read`, `responded` or `archived`.
    status: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    read_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    responded_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    archived_at: Option<OffsetDateTime>,
}

const INQUIRY_COLUMNS: &str = "i.id, i.listing_id, i.client_name as name, i.client_email as email, i.client_phone as phone,
    i.message, i.preferred_contact, i.status::text as status, i.created_at, i.read_at, i.responded_at, i.archived_at";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InquiryStatus {
    New,
    Read,
    Responded,
    Archived,
}

impl InquiryStatus {
    fn as_str(self) -> &'static str {
        match self {
            InquiryStatus::New => "new",
            InquiryStatus::Read => "read",
            InquiryStatus::Responded => "responded",
            InquiryStatus::Archived => "archived",
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Only inquiries in this state; without it, everything but `archived`.
    status: Option<InquiryStatus>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The therapist's inquiries, newest first.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    params(InboxQuery),
    responses((status = 200, body = inline(Page<Inquiry>)), (status = 400, body = Problem, content_type = "application/problem+json"))
)]
#[get("/me/inquiries")]
pub async fn list_my_inquiries(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    cursors: web::Data<CursorKey>,
    query: Query<InboxQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let limit = page_limit(query.limit)?;
    let before = newest_first_after(&cursors, query.cursor.as_deref())?;
    let rows: Vec<Inquiry> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {INQUIRY_COLUMNS} from inquiry i join listing l on l.id = i.listing_id
         where l.account_id = $1
           and (case when $2::text is null then i.status <> 'archived' else i.status::text = $2 end)
           and ($3::timestamptz is null or (i.created_at, i.id) < ($3, $4))
         order by i.created_at desc, i.id desc
         limit $5"
    )))
    .bind(user.0.account_id)
    .bind(query.status.map(InquiryStatus::as_str))
    .bind(before.map(|(t, _)| t))
    .bind(before.map(|(_, id)| id))
    .bind(limit + 1)
    .fetch_all(pool.get_ref())
    .await?;
    Ok(
        HttpResponse::Ok().json(Page::newest_first(rows, limit, &cursors, |r| {
            (r.created_at, r.id)
        })),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InquiryUpdate {
    /// `read`, `responded` or `archived` (`new` cannot be set). Each state's time is kept
    /// from the first time it was set; `responded` counts towards the response-time figure.
    status: InquiryStatus,
}

async fn find_mine(
    conn: &mut PgConnection,
    account_id: Uuid,
    id: Uuid,
) -> Result<Inquiry, ApiError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {INQUIRY_COLUMNS} from inquiry i join listing l on l.id = i.listing_id
         where i.id = $1 and l.account_id = $2"
    )))
    .bind(id)
    .bind(account_id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(ApiError::not_found)
}

/// Marks an inquiry read, responded or archived. Another therapist's inquiry is 404.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = InquiryUpdate,
    responses(
        (status = 200, body = Inquiry),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/me/inquiries/{id}")]
pub async fn update_my_inquiry(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    clock: web::Data<Clock>,
    id: web::Path<Uuid>,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let now = clock.now();
    let mut tx = pool.begin().await?;
    // Someone else's inquiry is 404 whatever the body says.
    let current = find_mine(&mut tx, user.0.account_id, *id).await?;
    let update: InquiryUpdate = crate::http::json::parse(body.0.to_string().as_bytes())?;
    let status = update.status;
    if status == InquiryStatus::New {
        return Err(ApiError::field(
            "status",
            "invalid_value",
            "one of read, responded, archived",
        ));
    }
    sqlx::query(
        "update inquiry set status = $2::inquiry_status,
             read_at = coalesce(read_at, $3),
             responded_at = case when $2 = 'responded' then coalesce(responded_at, $3) else responded_at end,
             archived_at = case when $2 = 'archived' then coalesce(archived_at, $3) else archived_at end
         where id = $1",
    )
    .bind(current.id)
    .bind(status.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if status == InquiryStatus::Responded && current.responded_at.is_none() {
        let seconds = (now - current.created_at).whole_seconds().max(0);
        sqlx::query(
            "insert into inquiry_response (inquiry_id, listing_id, responded_at, response_seconds)
             values ($1, $2, $3, $4) on conflict (inquiry_id) do nothing",
        )
        .bind(current.id)
        .bind(current.listing_id)
        .bind(now)
        .bind(i32::try_from(seconds).unwrap_or(i32::MAX))
        .execute(&mut *tx)
        .await?;
    }
    let updated = find_mine(&mut tx, user.0.account_id, current.id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(updated))
}
