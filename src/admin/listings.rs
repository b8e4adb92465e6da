//! The review queue and listing decisions (approve, reject, suspend, reinstate), and the
//! verification of licenses and certifications. Each decision is allowed only from the
//! right states (409 `invalid_state` otherwise, with nothing changed), is written to the
//! audit log with actor, target, before/after status and reason, and emails the therapist
//! through the outbox where the therapist needs to know.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Page, page_limit};
use crate::audit::AuditEntry;
use crate::auth::AdminUser;
use crate::domain::vocab::{ListingStatus, Vocabulary};
use crate::error::{ApiError, ErrorCode, FieldError, Problem};
use crate::http::cursor::CursorKey;
use crate::http::{Json, Query};
use crate::listings::store::{self as listing_store, LockedListing};
use crate::listings::view::{self, MyListing};
use crate::mail::PublicBaseUrl;
use crate::mail::{OutgoingEmail, enqueue, templates};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListingQuery {
    /// Only listings in this status (`status=pending_review` is the review queue).
    status: Option<ListingStatus>,
    /// Only listings waiting for a decision (submitted, or published with material edits).
    needs_review: Option<bool>,
    /// Part of the display name or account email, or an exact slug.
    #[param(max_length = 200)]
    q: Option<String>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct ListingSummary {
    id: Uuid,
    slug: String,
    display_name: String,
    status: String,
    account_id: Uuid,
    account_email: String,
    account_status: String,
    #[serde(with = "time::serde::rfc3339::option")]
    review_requested_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    #[serde(skip)]
    queued_at: OffsetDateTime,
}

/// Escapes LIKE wildcards so `q` matches literally.
pub fn like_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The review queue and every other listing, oldest first (by when review was requested,
/// else when the listing was created), cursor-paginated.
#[utoipa::path(
    operation_id = "admin_list_listings",
    tag = "admin",
    security(("bearer" = [])),
    params(ListingQuery),
    responses(
        (status = 200, body = inline(Page<ListingSummary>)),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/listings")]
pub async fn list_listings(
    _admin: AdminUser,
    pool: web::Data<PgPool>,
    cursors: web::Data<CursorKey>,
    query: Query<ListingQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let limit = page_limit(query.limit)?;
    if query.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::parameter("q", "at most 200 characters"));
    }
    let after: Option<(OffsetDateTime, Uuid)> = query
        .cursor
        .as_deref()
        .map(|c| cursors.decode(c))
        .transpose()?;
    let rows: Vec<ListingSummary> = sqlx::query_as(
        "select l.id, l.slug, l.display_name, l.status::text as status, a.id as account_id,
                a.email::text as account_email, a.status::text as account_status, l.review_requested_at,
                l.updated_at, coalesce(l.review_requested_at, l.created_at) as queued_at
         from listing l join account a on a.id = l.account_id
         where ($1::text is null or l.status = $1::listing_status)
           and ($2::bool is null or $2 = (l.review_requested_at is not null))
           and ($3::text is null or l.display_name ilike $3 or a.email::text ilike $3 or l.slug = $4)
           and ($5::timestamptz is null or (coalesce(l.review_requested_at, l.created_at), l.id) > ($5, $6))
         order by coalesce(l.review_requested_at, l.created_at), l.id
         limit $7",
    )
    .bind(query.status.map(|s| s.as_str()))
    .bind(query.needs_review)
    .bind(query.q.as_deref().map(like_pattern))
    .bind(query.q.as_deref())
    .bind(after.map(|(t, _)| t))
    .bind(after.map(|(_, id)| id))
    .bind(limit + 1)
    .fetch_all(pool.get_ref())
    .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |r| {
        cursors.encode(&(r.queued_at, r.id))
    })))
}

#[derive(Serialize, ToSchema)]
pub struct AdminListing {
    account_id: Uuid,
    account_email: String,
    account_status: String,
    #[serde(flatten)]
    listing: MyListing,
}

async fn admin_view(conn: &mut PgConnection, id: Uuid) -> Result<AdminListing, ApiError> {
    let listing = view::by_id(&mut *conn, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (account_id, account_email, account_status): (Uuid, String, String) = sqlx::query_as(
        "select a.id, a.email::text, a.status::text from account a join listing l on l.account_id = a.id where l.id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(AdminListing {
        account_id,
        account_email,
        account_status,
        listing,
    })
}

/// The whole listing, with its account and every private field.
#[utoipa::path(
    operation_id = "admin_get_listing",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = AdminListing, headers(("ETag" = String, description = "Send it back in If-Match with a decision"))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/listings/{id}")]
pub async fn get_listing(
    _admin: AdminUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = pool.acquire().await?;
    Ok(admin_response(
        &admin_view(&mut conn, id.into_inner()).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Shown to the therapist (reject, suspend) and kept in the audit log.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    reason: String,
}

pub fn reason(body: &ReasonBody) -> Result<String, ApiError> {
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    if reason.chars().count() > 2000 {
        return Err(ApiError::field(
            "reason",
            "too_long",
            "at most 2000 characters",
        ));
    }
    Ok(reason.to_owned())
}

async fn owner_email(conn: &mut PgConnection, listing_id: Uuid) -> sqlx::Result<String> {
    sqlx::query_scalar(
        "select a.email::text from account a join listing l on l.account_id = a.id where l.id = $1",
    )
    .bind(listing_id)
    .fetch_one(conn)
    .await
}

/// Applies one decision: new status, review note and review flag, a version bump, the audit
/// entry and the email, all in the caller's transaction.
struct Decision<'a> {
    action: &'a str,
    to: &'a str,
    /// Stored as the review note the therapist sees.
    note: Option<&'a str>,
    /// The admin's reason, for the audit log.
    reason: Option<&'a str>,
    publish: bool,
    email: Option<OutgoingEmail>,
}

async fn decide(
    conn: &mut PgConnection,
    admin: &AdminUser,
    locked: &LockedListing,
    decision: Decision<'_>,
) -> Result<(), ApiError> {
    sqlx::query(
        "update listing set status = $2::listing_status, review_note = $3, review_requested_at = null,
             published_at = case when $4 then coalesce(published_at, now()) else published_at end,
             last_confirmed_at = case when $4 then coalesce(last_confirmed_at, now()) else last_confirmed_at end,
             version = version + 1
         where id = $1",
    )
    .bind(locked.id)
    .bind(decision.to)
    .bind(decision.note)
    .bind(decision.publish)
    .execute(&mut *conn)
    .await?;
    AuditEntry::new(admin.0.actor(), decision.action)
        .target("listing", locked.id)
        .details(json!({ "from": locked.status, "to": decision.to, "reason": decision.reason }))
        .record(&mut *conn)
        .await?;
    if let Some(email) = decision.email {
        enqueue(conn, &email).await?;
    }
    Ok(())
}

/// Applies a decision, commits, and answers with the listing as it now stands.
async fn conclude(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    admin: &AdminUser,
    locked: &LockedListing,
    decision: Decision<'_>,
) -> Result<HttpResponse, ApiError> {
    decide(&mut tx, admin, locked, decision).await?;
    let view = admin_view(&mut tx, locked.id).await?;
    tx.commit().await?;
    Ok(admin_response(&view))
}

fn invalid_state(status: &str, verb: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidState,
        format!("A {status} listing cannot be {verb}."),
    )
}

/// An admin decision applies to the version the admin reviewed: `If-Match` must carry the
/// ETag of `GET /v1/admin/listings/{id}` (or of the previous decision's answer). Missing (or
/// `*` or anything that is not a list of entity tags: it names no version) is 428; another
/// version is 412.
fn require_reviewed_version(req: &HttpRequest, version: i32) -> Result<(), ApiError> {
    let held = req
        .headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| is_entity_tag_list(v));
    let Some(held) = held else {
        return Err(ApiError::new(
            ErrorCode::PreconditionRequired,
            "Send If-Match with the ETag of the listing as you reviewed it (GET /v1/admin/listings/{id}).",
        ));
    };
    if crate::http::caching::strong_match(held, &listing_etag(version)) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::PreconditionFailed,
            "The listing changed since you reviewed it: read it again before deciding.",
        ))
    }
}

/// `"tag"` or `W/"tag"`, comma-separated (a tag may itself hold a comma): anything else,
/// `*` included, names no version.
fn is_entity_tag_list(value: &str) -> bool {
    let mut rest = value.trim();
    loop {
        rest = rest.strip_prefix("W/").unwrap_or(rest);
        let Some(inner) = rest.strip_prefix('"') else {
            return false;
        };
        let Some(end) = inner.find('"') else {
            return false;
        };
        rest = inner[end + 1..].trim_start();
        if rest.is_empty() {
            return true;
        }
        let Some(next) = rest.strip_prefix(',') else {
            return false;
        };
        rest = next.trim_start();
    }
}

fn listing_etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// The admin view with the ETag the next decision sends back.
fn admin_response(view: &AdminListing) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, view.listing.etag()))
        .json(view)
}

async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<LockedListing, ApiError> {
    listing_store::lock_by_id(conn, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Publishes a listing waiting for review (`pending_review` → `published`), or accepts the
/// material edits of a published one. It is public at once.
#[utoipa::path(
    operation_id = "admin_approve_listing",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, pattern = r#"^\s*"[!#-~]*"(\s*,\s*"[!#-~]*")*\s*$"#, description = "The listing's ETag as reviewed (from `GET /v1/admin/listings/{id}` or the previous decision)")),
    responses((status = 412, body = Problem, content_type = "application/problem+json", description = "The listing changed since it was reviewed"), (status = 428, body = Problem, content_type = "application/problem+json", description = "`If-Match` is missing"), 
        (status = 200, body = AdminListing),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`invalid_state`"),
    )
)]
#[post("/admin/listings/{id}/approve")]
pub async fn approve(
    req: HttpRequest,
    admin: AdminUser,
    pool: web::Data<PgPool>,
    public_base_url: web::Data<PublicBaseUrl>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, id.into_inner()).await?;
    require_reviewed_version(&req, locked.version)?;
    let waiting = locked.status == "pending_review"
        || (locked.status == "published" && locked.review_requested_at.is_some());
    if !waiting {
        return Err(invalid_state(&locked.status, "approved"));
    }
    let email = owner_email(&mut tx, locked.id).await?;
    let slug: String = sqlx::query_scalar("select slug from listing where id = $1")
        .bind(locked.id)
        .fetch_one(&mut *tx)
        .await?;
    let decision = Decision {
        action: "listing.approved",
        to: "published",
        note: None,
        reason: None,
        publish: true,
        email: Some(templates::listing_approved(&public_base_url, &email, &slug)),
    };
    conclude(tx, &admin, &locked, decision).await
}

/// Sends a listing waiting for review back to the therapist (`pending_review` →
/// `rejected`) with a reason they see.
#[utoipa::path(
    operation_id = "admin_reject_listing",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, pattern = r#"^\s*"[!#-~]*"(\s*,\s*"[!#-~]*")*\s*$"#, description = "The listing's ETag as reviewed (from `GET /v1/admin/listings/{id}` or the previous decision)")),
    request_body = ReasonBody,
    responses((status = 412, body = Problem, content_type = "application/problem+json", description = "The listing changed since it was reviewed"), (status = 428, body = Problem, content_type = "application/problem+json", description = "`If-Match` is missing"), 
        (status = 200, body = AdminListing),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`invalid_state`"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/listings/{id}/reject")]
pub async fn reject(
    req: HttpRequest,
    admin: AdminUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let reason = reason(&body.0)?;
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, id.into_inner()).await?;
    require_reviewed_version(&req, locked.version)?;
    if locked.status != "pending_review" {
        return Err(invalid_state(&locked.status, "rejected"));
    }
    let email = owner_email(&mut tx, locked.id).await?;
    let decision = Decision {
        action: "listing.rejected",
        to: "rejected",
        note: Some(&reason),
        reason: Some(&reason),
        publish: false,
        email: Some(templates::listing_rejected(&email, &reason)),
    };
    conclude(tx, &admin, &locked, decision).await
}

/// Suspends a listing in any state but `suspended`: it leaves the directory at once.
#[utoipa::path(
    operation_id = "admin_suspend_listing",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = AdminListing), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[post("/admin/listings/{id}/suspend")]
pub async fn suspend(
    admin: AdminUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let reason = reason(&body.0)?;
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, id.into_inner()).await?;
    if locked.status == "suspended" {
        return Err(invalid_state("suspended", "suspended again"));
    }
    let email = owner_email(&mut tx, locked.id).await?;
    let decision = Decision {
        action: "listing.suspended",
        to: "suspended",
        note: Some(&reason),
        reason: Some(&reason),
        publish: false,
        email: Some(templates::listing_suspended(&email, &reason)),
    };
    conclude(tx, &admin, &locked, decision).await
}

/// Lifts a suspension: back to `published` if the listing had been published, else to
/// `draft`.
#[utoipa::path(
    operation_id = "admin_reinstate_listing",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = AdminListing), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[post("/admin/listings/{id}/reinstate")]
pub async fn reinstate(
    admin: AdminUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let reason = reason(&body.0)?;
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, id.into_inner()).await?;
    if locked.status != "suspended" {
        return Err(invalid_state(&locked.status, "reinstated"));
    }
    let to = if locked.published_at.is_some() {
        "published"
    } else {
        "draft"
    };
    let decision = Decision {
        action: "listing.reinstated",
        to,
        note: None,
        reason: Some(&reason),
        publish: false,
        email: None,
    };
    conclude(tx, &admin, &locked, decision).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// `verified` or `rejected`.
    status: VerifyStatus,
    /// Shown to the therapist; kept in the audit log.
    #[schema(max_length = 1000)]
    note: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerifyStatus {
    Verified,
    Rejected,
}

async fn verify_credential(
    req: HttpRequest,
    admin: AdminUser,
    pool: web::Data<PgPool>,
    table: &'static str,
    id: Uuid,
    body: VerifyBody,
) -> Result<HttpResponse, ApiError> {
    if body.note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(ApiError::validation(vec![FieldError::new(
            "note",
            "too_long",
            "at most 1000 characters",
        )]));
    }
    let status = match body.status {
        VerifyStatus::Verified => "verified",
        VerifyStatus::Rejected => "rejected",
    };
    let mut tx = pool.begin().await?;
    // The decision is about the listing as the admin saw it: lock it and compare versions
    // before changing the credential.
    let owner_sql = format!("select listing_id from {table} where id = $1");
    let owner: Uuid = sqlx::query_scalar(sqlx::AssertSqlSafe(owner_sql))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let locked = lock(&mut tx, owner).await?;
    require_reviewed_version(&req, locked.version)?;
    let sql = format!(
        "update {table} set verification_status = $2::verification_status, verification_note = $3,
             verified_by = $4, verified_at = now()
         where id = $1 returning listing_id"
    );
    let listing_id: Uuid = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(status)
        .bind(
            body.note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty()),
        )
        .bind(admin.0.account_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    listing_store::touch(&mut tx, listing_id, false).await?;
    let action = format!("{table}.{status}");
    AuditEntry::new(admin.0.actor(), &action)
        .target(table, id)
        .details(json!({ "listing_id": listing_id, "note": body.note }))
        .record(&mut tx)
        .await?;
    let view = admin_view(&mut tx, listing_id).await?;
    tx.commit().await?;
    Ok(admin_response(&view))
}

/// Marks a license `verified` or `rejected`, with a note. The public profile shows licenses
/// with their status and hides rejected ones.
#[utoipa::path(
    operation_id = "admin_verify_license",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, pattern = r#"^\s*"[!#-~]*"(\s*,\s*"[!#-~]*")*\s*$"#, description = "The listing's ETag as reviewed (from `GET /v1/admin/listings/{id}` or the previous decision)")),
    request_body = VerifyBody,
    responses((status = 412, body = Problem, content_type = "application/problem+json", description = "The listing changed since it was reviewed"), (status = 428, body = Problem, content_type = "application/problem+json", description = "`If-Match` is missing"), (status = 200, body = AdminListing), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[post("/admin/licenses/{id}/verify")]
pub async fn verify_license(
    req: HttpRequest,
    admin: AdminUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    body: Json<VerifyBody>,
) -> Result<HttpResponse, ApiError> {
    verify_credential(req, admin, pool, "license", id.into_inner(), body.0).await
}

/// Marks a certification `verified` or `rejected`, with a note. Only verified
/// certifications appear on the public profile.
#[utoipa::path(
    operation_id = "admin_verify_certification",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, pattern = r#"^\s*"[!#-~]*"(\s*,\s*"[!#-~]*")*\s*$"#, description = "The listing's ETag as reviewed (from `GET /v1/admin/listings/{id}` or the previous decision)")),
    request_body = VerifyBody,
    responses((status = 412, body = Problem, content_type = "application/problem+json", description = "The listing changed since it was reviewed"), (status = 428, body = Problem, content_type = "application/problem+json", description = "`If-Match` is missing"), (status = 200, body = AdminListing), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[post("/admin/certifications/{id}/verify")]
pub async fn verify_certification(
    req: HttpRequest,
    admin: AdminUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    body: Json<VerifyBody>,
) -> Result<HttpResponse, ApiError> {
    verify_credential(req, admin, pool, "certification", id.into_inner(), body.0).await
}

#[cfg(test)]
mod tests {
    use super::is_entity_tag_list;

    #[test]
    fn lists_of_entity_tags_are_recognised() {
        for good in [
            "\"v3\"",
            " W/\"v3\" ",
            "\"a,b\", \"v3\"",
            "\"\"",
            "\"x\"\t,\t\"y\"",
        ] {
            assert!(is_entity_tag_list(good), "{good}");
        }
        for bad in ["", "*", "v3", "\"v3", "\"v3\" x", "\"a\",", "0"] {
            assert!(!is_entity_tag_list(bad), "{bad}");
        }
    }
}
