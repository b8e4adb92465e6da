//! The review queue and listing decisions (approve, reject, suspend, reinstate), and the
//! verification of licenses and certifications. Each decision is allowed only from the
//! right states (409 `invalid_state` otherwise, with nothing changed), is written to the
//! audit log with actor, target, before/after status and reason, and emails the therapist
//! through the outbox where the therapist needs to know.

use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Page, ReasonBody, page_limit, reason};
use crate::audit::AuditEntry;
use crate::auth::{AccountStatus, AdminUser};
use crate::db::like_pattern;
use crate::error::{ApiError, ErrorCode};
use crate::http::cursor::CursorKey;
use crate::http::etag::{self, Condition};
use crate::http::{Db, Json, Query, Reply};
use crate::listings::lifecycle::{ListingStatus, Move};
pub use crate::listings::store::ListingSummary;
use crate::listings::store::{self as listing_store, Change, LockedListing, QueueFilter};
use crate::listings::view::MyListing;
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

/// The review queue and every other listing, oldest first (by when review was requested,
/// else when the listing was created), cursor-paginated.
#[utoipa::path(
    operation_id = "admin_list_listings",
    security(("bearer" = [])),
    params(ListingQuery),
    responses(
        (status = 200, body = Page<ListingSummary>),
    )
)]
#[get("/admin/listings")]
pub async fn list_listings(
    _admin: AdminUser,
    pool: Db,
    cursors: Data<CursorKey>,
    query: Query<ListingQuery>,
) -> Reply {
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
    let filter = QueueFilter {
        status: query.status,
        needs_review: query.needs_review,
        q: query.q.as_deref().map(|q| (like_pattern(q), q)),
        after,
        limit,
    };
    let rows = listing_store::review_queue(pool.get_ref(), filter).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |r| {
        cursors.encode(&(r.queued_at, r.id))
    })))
}

#[derive(Serialize, ToSchema)]
pub struct AdminListing {
    account_id: Uuid,
    account_email: String,
    account_status: AccountStatus,
    #[serde(flatten)]
    listing: MyListing,
}

pub(super) async fn admin_view(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<AdminListing, ApiError> {
    let listing = listing_store::listing_by_id(&mut *conn, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let owner = listing_store::owner(conn, id).await?;
    Ok(AdminListing {
        account_id: owner.account_id,
        account_email: owner.email,
        account_status: owner.status,
        listing,
    })
}

/// The whole listing, with its account and every private field.
#[utoipa::path(
    operation_id = "admin_get_listing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = AdminListing, headers(("ETag" = String, description = "Send it back in If-Match with a decision"))),
    )
)]
#[get("/admin/listings/{id}")]
pub async fn get_listing(_admin: AdminUser, pool: Db, id: web::Path<Uuid>) -> Reply {
    let mut conn = pool.acquire().await?;
    Ok(admin_response(
        &admin_view(&mut conn, id.into_inner()).await?,
    ))
}

/// An admin's decision on a listing, with what the therapist is told.
#[derive(Clone, Copy)]
enum Verdict<'a> {
    Approve(&'a PublicBaseUrl),
    Reject(&'a str),
    Suspend(&'a str),
    Reinstate(&'a str),
}

impl<'a> Verdict<'a> {
    fn attempted(self) -> Move {
        match self {
            Verdict::Approve(_) => Move::Approve,
            Verdict::Reject(_) => Move::Reject,
            Verdict::Suspend(_) => Move::Suspend,
            Verdict::Reinstate(_) => Move::Reinstate,
        }
    }

    /// The state the listing moves to, or 409 `invalid_state`.
    fn next(self, locked: &LockedListing) -> Result<ListingStatus, ApiError> {
        match self {
            Verdict::Approve(_) => locked.status.approve(locked.review_requested_at.is_some()),
            Verdict::Reject(_) => locked.status.reject(),
            Verdict::Suspend(_) => locked.status.suspend(),
            Verdict::Reinstate(_) => locked.status.reinstate(locked.suspended_from),
        }
    }

    /// The admin's reason, for the audit log.
    fn reason(self) -> Option<&'a str> {
        match self {
            Verdict::Approve(_) => None,
            Verdict::Reject(r) | Verdict::Suspend(r) | Verdict::Reinstate(r) => Some(r),
        }
    }

    /// The review note the therapist sees (reinstating clears it).
    fn note(self) -> Option<&'a str> {
        match self {
            Verdict::Reject(r) | Verdict::Suspend(r) => Some(r),
            Verdict::Approve(_) | Verdict::Reinstate(_) => None,
        }
    }

    /// Decisions on what the admin reviewed need `If-Match`; suspending is urgent and
    /// reinstating undoes it, so neither waits for a fresh read.
    fn needs_reviewed_version(self) -> bool {
        matches!(self, Verdict::Approve(_) | Verdict::Reject(_))
    }

    /// What the therapist is told; a reinstated listing speaks for itself.
    async fn email(
        self,
        conn: &mut PgConnection,
        listing_id: Uuid,
    ) -> Result<Option<OutgoingEmail>, ApiError> {
        let owner = async |conn: &mut PgConnection| listing_store::owner(conn, listing_id).await;
        Ok(match self {
            Verdict::Approve(base) => {
                let to = owner(&mut *conn).await?.email;
                let slug = listing_store::slug_of(conn, listing_id).await?;
                Some(templates::listing_approved(base, &to, &slug))
            }
            Verdict::Reject(reason) => {
                let to = owner(conn).await?.email;
                Some(templates::listing_rejected(&to, reason))
            }
            Verdict::Suspend(reason) => {
                let to = owner(conn).await?.email;
                Some(templates::listing_suspended(&to, reason))
            }
            Verdict::Reinstate(_) => None,
        })
    }
}

/// Applies one decision in one transaction: the state check, the new status and review
/// note with a version bump, the audit entry and the email; answers with the listing as it
/// now stands.
async fn decide(
    req: &HttpRequest,
    admin: &AdminUser,
    pool: &PgPool,
    id: Uuid,
    verdict: Verdict<'_>,
) -> Reply {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, id).await?;
    if verdict.needs_reviewed_version() {
        require_reviewed_version(req, &locked)?;
    }
    let to = verdict.next(&locked)?;
    let email = verdict.email(&mut tx, locked.id).await?;
    let change = match verdict {
        Verdict::Approve(_) | Verdict::Reject(_) => Change::Decided {
            to,
            note: verdict.note(),
            publish: matches!(verdict, Verdict::Approve(_)),
        },
        Verdict::Suspend(reason) => Change::Suspended { note: reason },
        Verdict::Reinstate(_) => Change::Reinstated { to },
    };
    listing_store::bump_version(&mut tx, locked.id, change).await?;
    AuditEntry::new(admin.0.actor(), verdict.attempted().audit_action())
        .target("listing", locked.id)
        .details(json!({ "from": locked.status, "to": to, "reason": verdict.reason() }))
        .record(&mut tx)
        .await?;
    if let Some(email) = email {
        enqueue(&mut tx, &email).await?;
    }
    let view = admin_view(&mut tx, locked.id).await?;
    tx.commit().await?;
    Ok(admin_response(&view))
}

/// The `If-Match` of a decision on what the admin reviewed, as the document describes it
/// (`require_reviewed_version` reads it).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub(super) struct ReviewedVersion {
    /// The listing's ETag as reviewed (from `GET /v1/admin/listings/{id}` or the previous decision)
    #[param(
        rename = "If-Match",
        pattern = r#"^\s*"[!#-~]*"(\s*,\s*"[!#-~]*")*\s*$"#
    )]
    _if_match: String,
}

/// An admin decision applies to the version the admin reviewed: `If-Match` must carry the
/// ETag of `GET /v1/admin/listings/{id}` (or of the previous decision's answer). Missing (or
/// `*`: it names no version) is 428; not a list of entity tags is 400; another version, or
/// another listing's, is 412.
pub(super) fn require_reviewed_version(
    req: &HttpRequest,
    locked: &LockedListing,
) -> Result<(), ApiError> {
    let Some(Condition::Tags(held)) = etag::if_match(req.headers())? else {
        return Err(ApiError::new(
            ErrorCode::PreconditionRequired,
            "Send If-Match with the ETag of the listing as you reviewed it (GET /v1/admin/listings/{id}).",
        ));
    };
    if held
        .iter()
        .any(|tag| tag.strong_eq(&locked.version.etag(locked.id)))
    {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::PreconditionFailed,
            "The listing changed since you reviewed it: read it again before deciding.",
        ))
    }
}

/// The admin view with the ETag the next decision sends back.
pub(super) fn admin_response(view: &AdminListing) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, view.listing.etag().to_string()))
        .json(view)
}

pub(super) async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<LockedListing, ApiError> {
    listing_store::lock_by_id(conn, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Publishes a listing waiting for review (`pending_review` → `published`), or accepts the
/// material edits of a published one. It is public at once.
#[utoipa::path(
    operation_id = "admin_approve_listing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ReviewedVersion),
    responses(
        (status = 200, body = AdminListing),
        (status = 409, description = "`invalid_state`"),
    )
)]
#[post("/admin/listings/{id}/approve")]
pub async fn approve(
    req: HttpRequest,
    admin: AdminUser,
    pool: Db,
    public_base_url: Data<PublicBaseUrl>,
    id: web::Path<Uuid>,
) -> Reply {
    let verdict = Verdict::Approve(&public_base_url);
    decide(&req, &admin, &pool, id.into_inner(), verdict).await
}

/// Sends a listing waiting for review back to the therapist (`pending_review` →
/// `rejected`) with a reason they see.
#[utoipa::path(
    operation_id = "admin_reject_listing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ReviewedVersion),
    request_body = ReasonBody,
    responses(
        (status = 200, body = AdminListing),
        (status = 409, description = "`invalid_state`"),
    )
)]
#[post("/admin/listings/{id}/reject")]
pub async fn reject(
    req: HttpRequest,
    admin: AdminUser,
    pool: Db,
    id: web::Path<Uuid>,
    body: Json<ReasonBody>,
) -> Reply {
    let reason = reason(&body.0)?;
    let verdict = Verdict::Reject(&reason);
    decide(&req, &admin, &pool, id.into_inner(), verdict).await
}

/// Suspends a listing in any state but `suspended`: it leaves the directory at once.
#[utoipa::path(
    operation_id = "admin_suspend_listing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = AdminListing), (status = 409))
)]
#[post("/admin/listings/{id}/suspend")]
pub async fn suspend(
    req: HttpRequest,
    admin: AdminUser,
    pool: Db,
    id: web::Path<Uuid>,
    body: Json<ReasonBody>,
) -> Reply {
    let reason = reason(&body.0)?;
    let verdict = Verdict::Suspend(&reason);
    decide(&req, &admin, &pool, id.into_inner(), verdict).await
}

/// Lifts a suspension: the listing goes back to the state the suspension interrupted
/// (published, waiting for review, rejected, hidden by its therapist, or a draft).
#[utoipa::path(
    operation_id = "admin_reinstate_listing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = AdminListing), (status = 409))
)]
#[post("/admin/listings/{id}/reinstate")]
pub async fn reinstate(
    req: HttpRequest,
    admin: AdminUser,
    pool: Db,
    id: web::Path<Uuid>,
    body: Json<ReasonBody>,
) -> Reply {
    let reason = reason(&body.0)?;
    let verdict = Verdict::Reinstate(&reason);
    decide(&req, &admin, &pool, id.into_inner(), verdict).await
}
