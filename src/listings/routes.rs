//! `/v1/me/listing`: a therapist manages their own listing. Every route is scoped to the
//! caller's listing. Every write runs in one transaction with the listing row locked, and
//! bumps the listing's version (its `ETag`). The listing's parts have their routes in
//! `parts`.
//!
//! Review policy for published listings: edits apply at once. Material edits (display name,
//! credentials, adding or editing a license or certification) also put the listing in the
//! admin review queue (`review_requested_at`) while it stays published; edited credentials
//! are `unverified` until an admin verifies them again, so the public profile never shows an
//! unchecked credential as verified.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get, patch, post};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sqlx::PgConnection;

use super::body::merge_patch;
use super::lifecycle::{ListingStatus, Move, require_complete};
use super::model::ListingProfile;
use super::store::{self, Change, LockedListing};
use super::view::MyListing;
use crate::audit::AuditEntry;
use crate::auth::TherapistUser;
use crate::clock::Clock;
use crate::error::FieldCode;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::http::etag;
use crate::http::{Db, Json, Reply};

fn listing_response(status: StatusCode, listing: &MyListing) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, listing.etag().to_string()))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(listing)
}

/// 412 when `If-Match` names another version (or only a weak tag); 400 when it is not a
/// list of entity tags. Without `If-Match` the change applies to the current version (it
/// is still atomic: the row is locked).
fn check_if_match(req: &HttpRequest, locked: &LockedListing) -> Result<(), ApiError> {
    match etag::if_match(req.headers())? {
        None => Ok(()),
        Some(held) if held.matches_strong(&locked.version.etag(locked.id)) => Ok(()),
        Some(_) => Err(ApiError::new(
            ErrorCode::PreconditionFailed,
            "The listing changed since you read it: GET it again, reapply your change, and send the new ETag.",
        )),
    }
}

pub(super) async fn lock(
    conn: &mut PgConnection,
    user: &TherapistUser,
) -> Result<LockedListing, ApiError> {
    store::lock_by_account(conn, user.0.account_id)
        .await?
        .ok_or_else(ApiError::not_found)
}

pub(super) async fn load(
    conn: &mut PgConnection,
    user: &TherapistUser,
) -> Result<MyListing, ApiError> {
    store::my_listing(conn, user.0.account_id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// A merge patch is a JSON object; anything else is refused before it is compared with
/// the listing's version, so a malformed body is 422 whatever `If-Match` says.
fn require_object(patch: &Value) -> Result<(), ApiError> {
    if patch.is_object() {
        Ok(())
    } else {
        Err(ApiError::field(
            "body",
            FieldCode::InvalidType,
            "a merge patch is a JSON object",
        ))
    }
}

/// Merges a JSON merge patch into `current` and parses the result as `T` (naming any field
/// at fault).
pub(super) fn merged<T: Serialize + DeserializeOwned + utoipa::PartialSchema>(
    current: &T,
    patch: Value,
) -> Result<T, ApiError> {
    require_object(&patch)?;
    // A key the body does not have is refused even when it is `null` (which a merge would
    // otherwise apply as a no-op): the patch is not what the client meant.
    let schema = serde_json::to_value(T::schema()).map_err(ApiError::internal)?;
    if let (Some(fields), Some(patch)) = (schema["properties"].as_object(), patch.as_object()) {
        let unknown: Vec<FieldError> = patch
            .keys()
            .filter(|key| !fields.contains_key(*key))
            .map(|key| {
                FieldError::new(
                    key.clone(),
                    FieldCode::UnknownField,
                    "not a field of this body",
                )
            })
            .collect();
        if !unknown.is_empty() {
            return Err(ApiError::validation(unknown));
        }
    }
    let mut doc = serde_json::to_value(current).map_err(ApiError::internal)?;
    merge_patch(&mut doc, patch);
    let bytes = serde_json::to_vec(&doc).map_err(ApiError::internal)?;
    crate::http::json::parse(&bytes)
}

/// The caller's whole listing, with an `ETag` for `If-Match`.
#[utoipa::path(
    operation_id = "get_my_listing",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MyListing, headers(("ETag" = String, description = "Send it back in If-Match"))),
        (status = 403, description = "Not a therapist account"),
    )
)]
#[get("/me/listing")]
pub async fn get_listing(user: TherapistUser, pool: Db) -> Reply {
    let mut conn = pool.acquire().await?;
    let listing = load(&mut conn, &user).await?;
    Ok(listing_response(StatusCode::OK, &listing))
}

/// Edits the profile with JSON merge patch semantics (`null` clears a field). Every field is
/// validated; unknown fields (including `status`, `id`, `slug` and verification fields) are
/// refused, unknown taxonomy slugs are 422 naming the slug. With `If-Match`, a stale version
/// is 412 and nothing changes.
#[utoipa::path(
    operation_id = "update_my_listing",
    security(("bearer" = [])),
    request_body(content = ListingProfile, content_type = "application/merge-patch+json", description = "Any subset of the fields"),
    params(("If-Match" = Option<String>, Header, description = "The ETag from GET; recommended")),
    responses(
        (status = 200, body = MyListing),
        (status = 412, description = "`precondition_failed`"),
        (status = 422, description = "`validation_failed`, each field in `errors`"),
    )
)]
#[patch("/me/listing")]
pub async fn patch_listing(
    req: HttpRequest,
    user: TherapistUser,
    pool: Db,
    body: Json<Value>,
) -> Reply {
    let patch = body.0;
    require_object(&patch)?;
    let changed: Vec<String> = patch
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    let current = load(&mut tx, &user).await?;
    let next: ListingProfile = merged(&current.profile, patch)?;
    let valid = next.validate().map_err(ApiError::validation)?;
    // After validation: an invalid body is 422 whatever `If-Match` says; nothing is
    // written before this point, and the row stays locked until commit.
    check_if_match(&req, &locked)?;
    let found = store::find_terms(&mut tx, locked.id, &valid).await?;
    let terms = valid.term_ids(found).map_err(ApiError::validation)?;
    let renamed = valid.display_name != current.profile.display_name;
    // The slug follows the name until the listing is first published, then stays put.
    let new_slug = if renamed && current.published_at.is_none() {
        Some(store::free_slug(&mut tx, locked.id, &valid.display_name).await?)
    } else {
        None
    };
    let material = renamed || valid.credentials != current.profile.credentials;
    let request_review = material && locked.publicly_listed();
    let change = Change::Body {
        profile: &valid,
        new_slug: new_slug.as_deref(),
        request_review,
    };
    store::write_listing(&mut tx, locked.id, change, &terms).await?;
    if material {
        // A verified license vouched for the name and credentials it was checked against;
        // the new ones are not vouched for until an admin verifies again, whatever the
        // listing's state.
        store::unverify_licenses(&mut tx, locked.id).await?;
    }
    AuditEntry::new(user.0.actor(), "listing.updated")
        .target("listing", locked.id)
        .details(json!({ "fields": changed, "review_requested": request_review }))
        .record(&mut tx)
        .await?;
    let listing = load(&mut tx, &user).await?;
    tx.commit().await?;
    Ok(listing_response(StatusCode::OK, &listing))
}

// --- Lifecycle -------------------------------------------------------------------------------

/// Moves the listing to `to` (the state `attempted` allows), records who did it, and reads
/// the listing back.
async fn move_listing(
    tx: &mut PgConnection,
    user: &TherapistUser,
    locked: &LockedListing,
    to: ListingStatus,
    attempted: Move,
) -> Result<MyListing, ApiError> {
    store::bump_version(tx, locked.id, Change::Moved { to }).await?;
    AuditEntry::new(user.0.actor(), attempted.audit_action())
        .target("listing", locked.id)
        .details(json!({ "from": locked.status, "to": to }))
        .record(tx)
        .await?;
    load(tx, user).await
}

/// Sends the listing for review: from `draft`, `rejected` or `unpublished` to
/// `pending_review`, when complete; otherwise 422 `listing_incomplete` naming each missing item.
#[utoipa::path(
    operation_id = "submit_my_listing",
    security(("bearer" = [])),
    responses(
        (status = 202, body = MyListing),
        (status = 409, description = "`invalid_state`"),
        (status = 422, description = "`listing_incomplete`, each missing item in `errors`"),
    )
)]
#[post("/me/listing/submit")]
pub async fn submit(user: TherapistUser, pool: Db) -> Reply {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    let to = locked.status.submit()?;
    require_complete(&load(&mut tx, &user).await?)?;
    let listing = move_listing(&mut tx, &user, &locked, to, Move::Submit).await?;
    tx.commit().await?;
    Ok(listing_response(StatusCode::ACCEPTED, &listing))
}

/// Records that the therapist confirmed the listing is current (`last_confirmed_at`). A
/// listing unconfirmed for 90 days is stale and leaves default search; confirming brings it
/// back at once and clears an "availability unconfirmed" mark left by reports.
#[utoipa::path(
    operation_id = "confirm_my_listing",
    security(("bearer" = [])),
    responses((status = 200, body = MyListing), (status = 409))
)]
#[post("/me/listing/confirm")]
pub async fn confirm(user: TherapistUser, pool: Db, clock: Data<Clock>) -> Reply {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    locked.status.confirm()?;
    // Confirming brings a stale listing back into default search and clears an
    // "availability unconfirmed" mark left by reports.
    let change = Change::Confirmed { at: clock.now() };
    store::bump_version(&mut tx, locked.id, change).await?;
    AuditEntry::new(user.0.actor(), Move::Confirm.audit_action())
        .target("listing", locked.id)
        .record(&mut tx)
        .await?;
    let listing = load(&mut tx, &user).await?;
    tx.commit().await?;
    Ok(listing_response(StatusCode::OK, &listing))
}

/// Hides a published listing until it is submitted and approved again.
#[utoipa::path(
    operation_id = "unpublish_my_listing",
    security(("bearer" = [])),
    responses((status = 200, body = MyListing), (status = 409))
)]
#[post("/me/listing/unpublish")]
pub async fn unpublish(user: TherapistUser, pool: Db) -> Reply {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    let to = locked.status.unpublish()?;
    let listing = move_listing(&mut tx, &user, &locked, to, Move::Unpublish).await?;
    tx.commit().await?;
    Ok(listing_response(StatusCode::OK, &listing))
}
