//! Photo routes: a therapist uploads or deletes their listing's photo; an admin reviews the
//! queue; anyone fetches the stored variants at `/media/{name}`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::clean::{self, Kind, Refused};
use super::media::{self, Media};
use super::model::{MyPhoto, Photo, PhotoStatus, Variants};
use super::store::{self, QueuedPhoto, StoredPhoto};
use crate::admin::{ReasonBody, page_limit, reason};
use crate::audit::AuditEntry;
use crate::auth::{AdminUser, TherapistUser};
use crate::error::{ApiError, ErrorCode};
use crate::http::cursor::CursorKey;
use crate::http::page::Page;
use crate::http::{Db, Json, Query, Reply};
use crate::listings::store::{self as listing_store, Change};

/// The upload route, which alone takes a body over the JSON limit.
pub const UPLOAD_PATH: &str = "/v1/me/listing/photo";
/// The largest upload.
pub const UPLOAD_LIMIT_BYTES: usize = 10 << 20;
/// How long an upload waits for a turn at decoding before it is told to come back.
const WAIT_FOR_SLOT: Duration = Duration::from_secs(10);

/// An image file's bytes, as a request or response body.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ImageBytes(#[allow(dead_code)] Vec<u8>);

/// How many uploads are decoded at once (each may hold 160 MB of pixels).
pub struct Slots(Arc<Semaphore>);

impl Slots {
    pub fn new(at_once: usize) -> Self {
        Slots(Arc::new(Semaphore::new(at_once)))
    }

    /// One upload at a time per two cores, so decoding never takes every core.
    pub fn half_the_cores() -> Self {
        Slots::new(std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)))
    }
}

fn refused(r: Refused) -> ApiError {
    match r {
        Refused::UnsupportedType(m) => ApiError::new(ErrorCode::UnsupportedMediaType, m),
        Refused::TooLarge(m) => ApiError::new(ErrorCode::ImageTooLarge, m),
        Refused::Invalid(m) => ApiError::new(ErrorCode::InvalidImage, m),
    }
}

fn storage_error(e: object_store::Error) -> ApiError {
    ApiError::internal(anyhow::anyhow!("media store: {e}"))
}

/// `stored` as its owner sees it, with URLs.
pub fn my_photo(media: &Media, stored: StoredPhoto) -> MyPhoto {
    MyPhoto {
        id: stored.id,
        status: stored.status,
        review_note: stored.review_note,
        urls: stored.objects.map(|name| media.url(&name)),
    }
}

/// Deletes the objects of `photos` that no row refers to any more (after the commit that
/// dropped the rows). A failure is logged: the maintenance pass collects what is left.
pub async fn delete_objects(pool: &sqlx::PgPool, media: &Media, photos: Vec<Photo>) {
    let names: Vec<String> = photos
        .iter()
        .flat_map(|p| p.names().map(str::to_owned))
        .collect();
    if names.is_empty() {
        return;
    }
    let unused = match pool.acquire().await {
        Ok(mut conn) => store::unreferenced(&mut conn, &names).await,
        Err(e) => Err(e),
    };
    match unused {
        Ok(unused) => {
            for name in unused {
                if let Err(e) = media.delete(&name).await {
                    tracing::warn!(object = %name, error = %e, "photo object not deleted");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "photo objects not deleted"),
    }
}

/// The body, at most `UPLOAD_LIMIT_BYTES` (413 past it).
async fn read_upload(mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|_| ApiError::new(ErrorCode::InvalidImage, "The upload could not be read."))?;
        if body.len() + chunk.len() > UPLOAD_LIMIT_BYTES {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("A photo is at most {UPLOAD_LIMIT_BYTES} bytes."),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Cleans an upload on a blocking thread once a slot is free (503 after `WAIT_FOR_SLOT`).
async fn clean_in_turn(
    slots: &Slots,
    body: Vec<u8>,
    declared: Kind,
) -> Result<Variants<clean::Encoded>, ApiError> {
    let busy = || {
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            "Too many photos are being processed; try again shortly.",
        )
        .with_retry_after(5)
    };
    let permit = tokio::time::timeout(WAIT_FOR_SLOT, slots.0.clone().acquire_owned())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        clean::clean(&body, declared)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(refused)
}

/// Uploads the listing's photo (the image itself as the body). It is cleaned (turned
/// upright, every metadata block dropped, cropped square) and stored as WebP at 160, 400
/// and 800 px and as a 400 px JPEG, then waits for an admin's review; until it is approved
/// the previous approved photo stays public. A new upload replaces one still waiting.
#[utoipa::path(
    operation_id = "upload_my_photo",
    security(("bearer" = [])),
    request_body(
        content(
            (ImageBytes = "image/jpeg"),
            (ImageBytes = "image/png"),
            (ImageBytes = "image/webp"),
        ),
        description = "A JPEG, PNG or WebP image, at most 10 MiB, 12,000 px on a side and 40 megapixels, at least 160 px on a side"
    ),
    responses(
        (status = 200, body = MyPhoto),
        (status = 413, description = "`payload_too_large`: over 10 MiB"),
        (status = 415, description = "`unsupported_media_type`: not a JPEG, PNG or WebP, or not the type `Content-Type` says"),
        (status = 422, description = "`image_too_large` (over 12,000 px on a side or 40 megapixels, decided from the header) or `invalid_image` (truncated, corrupt, animated, or under 160 px on a side)"),
        (status = 503, description = "`service_unavailable` with `Retry-After`: too many uploads are being processed"),
    )
)]
#[put("/me/listing/photo")]
pub async fn upload(
    req: HttpRequest,
    user: TherapistUser,
    pool: Db,
    media: Data<Media>,
    slots: Data<Slots>,
    payload: web::Payload,
) -> Reply {
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(Kind::from_content_type)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Send the image as image/jpeg, image/png or image/webp.",
            )
        })?;
    let body = read_upload(payload).await?;
    let cleaned = clean_in_turn(&slots, body, declared).await?;
    for encoded in cleaned.each() {
        media
            .put(&encoded.name, encoded.bytes.clone())
            .await
            .map_err(storage_error)?;
    }
    let objects = Photo::from(cleaned.map(|e| e.name));
    let mut tx = pool.begin().await?;
    let listing = listing_store::lock_by_account(&mut tx, user.0.account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (added, replaced) = store::add_pending(&mut tx, listing.id, &objects).await?;
    let version = listing_store::bump_version(
        &mut tx,
        listing.id,
        Change::Parts {
            request_review: false,
        },
    )
    .await?;
    tx.commit().await?;
    delete_objects(&pool, &media, replaced.into_iter().collect()).await;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::ETAG, version.etag(listing.id).to_string()))
        .json(my_photo(&media, added)))
}

/// The listing's photo as its owner sees it: the upload waiting for review or rejected
/// (with the reason), else the approved one; 404 without any.
#[utoipa::path(
    operation_id = "get_my_photo",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MyPhoto),
        (status = 404, description = "`not_found`: no photo"),
    )
)]
#[get("/me/listing/photo")]
pub async fn mine(user: TherapistUser, pool: Db, media: Data<Media>) -> Reply {
    let mut conn = pool.acquire().await?;
    let listing = listing_store::my_listing(&mut *conn, user.0.account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let photo = store::current(&mut conn, listing.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(my_photo(&media, photo)))
}

/// Deletes the listing's photos, the approved one included, and their stored objects.
#[utoipa::path(
    operation_id = "delete_my_photo",
    security(("bearer" = [])),
    responses((status = 204, description = "No photo any more"))
)]
#[delete("/me/listing/photo")]
pub async fn remove(user: TherapistUser, pool: Db, media: Data<Media>) -> Reply {
    let mut tx = pool.begin().await?;
    let listing = listing_store::lock_by_account(&mut tx, user.0.account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let gone = store::delete_all(&mut tx, listing.id).await?;
    let version = if gone.is_empty() {
        listing.version
    } else {
        listing_store::bump_version(
            &mut tx,
            listing.id,
            Change::Parts {
                request_review: false,
            },
        )
        .await?
    };
    tx.commit().await?;
    delete_objects(&pool, &media, gone).await;
    Ok(HttpResponse::NoContent()
        .insert_header((header::ETAG, version.etag(listing.id).to_string()))
        .finish())
}

/// A photo in the review queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminPhoto {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub listing_slug: String,
    pub display_name: String,
    pub status: PhotoStatus,
    /// The reason given with a rejection.
    #[schema(required = true)]
    pub review_note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    pub urls: Photo,
}

fn admin_photo(media: &Media, q: QueuedPhoto) -> AdminPhoto {
    AdminPhoto {
        id: q.photo.id,
        listing_id: q.photo.listing_id,
        listing_slug: q.listing_slug,
        display_name: q.display_name,
        status: q.photo.status,
        review_note: q.photo.review_note,
        created_at: q.photo.created_at,
        urls: q.photo.objects.map(|name| media.url(&name)),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PhotoQuery {
    /// Default `pending_review`: the queue.
    status: Option<PhotoStatus>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    #[param(max_length = 512)]
    cursor: Option<String>,
}

/// Photos by status, oldest first (the review queue by default), cursor-paginated.
#[utoipa::path(
    operation_id = "admin_list_photos",
    security(("bearer" = [])),
    params(PhotoQuery),
    responses((status = 200, body = Page<AdminPhoto>))
)]
#[get("/admin/photos")]
pub async fn list(
    _admin: AdminUser,
    pool: Db,
    media: Data<Media>,
    cursors: Data<CursorKey>,
    query: Query<PhotoQuery>,
) -> Reply {
    let query = query.0;
    let limit = page_limit(query.limit)?;
    let after: Option<(OffsetDateTime, Uuid)> = query
        .cursor
        .as_deref()
        .map(|c| cursors.decode(c))
        .transpose()?;
    let status = query.status.unwrap_or(PhotoStatus::PendingReview);
    let rows = store::queue(&pool, status, after, limit + 1).await?;
    let page = Page::from_rows(rows, limit, |q| {
        cursors.encode(&(q.photo.created_at, q.photo.id))
    });
    let items: Vec<AdminPhoto> = page
        .items
        .into_iter()
        .map(|q| admin_photo(&media, q))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(json!({ "items": items, "next_cursor": page.next_cursor })))
}

/// Decides on a pending photo: approve (it replaces the listing's public photo at once) or
/// reject with a reason the therapist sees. Audited. 409 `invalid_state` unless pending.
async fn decide(
    admin: AdminUser,
    pool: Db,
    media: Data<Media>,
    id: Uuid,
    rejection: Option<String>,
) -> Reply {
    let mut tx = pool.begin().await?;
    let photo = store::lock(&mut tx, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if photo.status != PhotoStatus::PendingReview {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            "Only a photo waiting for review can be approved or rejected.",
        ));
    }
    let (replaced, action, status) = match &rejection {
        None => {
            let replaced = store::approve(&mut tx, &photo, admin.0.account_id).await?;
            (replaced, "photo.approved", PhotoStatus::Approved)
        }
        Some(reason) => {
            let status = PhotoStatus::Rejected;
            store::decide(&mut tx, id, status, Some(reason), admin.0.account_id).await?;
            (None, "photo.rejected", status)
        }
    };
    listing_store::bump_version(
        &mut tx,
        photo.listing_id,
        Change::Parts {
            request_review: false,
        },
    )
    .await?;
    AuditEntry::new(admin.0.actor(), action)
        .target("listing_photo", id)
        .details(json!({ "listing_id": photo.listing_id, "reason": rejection }))
        .record(&mut tx)
        .await?;
    let queued = store::queue_entry(&mut tx, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    debug_assert_eq!(queued.photo.status, status);
    delete_objects(&pool, &media, replaced.into_iter().collect()).await;
    Ok(HttpResponse::Ok().json(admin_photo(&media, queued)))
}

/// Approves a pending photo: it becomes the listing's public photo at once (profiles and
/// search), replacing the approved one.
#[utoipa::path(
    operation_id = "admin_approve_photo",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = AdminPhoto),
        (status = 409, description = "`invalid_state`: the photo is not waiting for review"),
    )
)]
#[post("/admin/photos/{id}/approve")]
pub async fn approve(admin: AdminUser, pool: Db, media: Data<Media>, id: web::Path<Uuid>) -> Reply {
    decide(admin, pool, media, id.into_inner(), None).await
}

/// Rejects a pending photo with a reason the therapist sees; the approved photo, if any,
/// stays public.
#[utoipa::path(
    operation_id = "admin_reject_photo",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReasonBody,
    responses(
        (status = 200, body = AdminPhoto),
        (status = 409, description = "`invalid_state`: the photo is not waiting for review"),
    )
)]
#[post("/admin/photos/{id}/reject")]
pub async fn reject(
    admin: AdminUser,
    pool: Db,
    media: Data<Media>,
    id: web::Path<Uuid>,
    body: Json<ReasonBody>,
) -> Reply {
    let reason = reason(&body.0)?;
    decide(admin, pool, media, id.into_inner(), Some(reason)).await
}

/// A stored photo variant. Names are content hashes, so a response never changes:
/// `Cache-Control: public, max-age=31536000, immutable`, a strong `ETag`, 304 to
/// `If-None-Match`.
#[utoipa::path(
    operation_id = "get_media",
    params(("name" = String, Path, pattern = r"^[0-9a-f]{64}\.(webp|jpg)$")),
    responses(
        (status = 200, description = "The image", content(
            (ImageBytes = "image/webp"),
            (ImageBytes = "image/jpeg"),
        )),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "`not_found`"),
    )
)]
#[get("/media/{name}")]
pub async fn serve(req: HttpRequest, media: Data<Media>, name: web::Path<String>) -> Reply {
    let name = name.into_inner();
    if !media::is_object_name(&name) {
        return Err(ApiError::not_found());
    }
    let tag = format!("\"{}\"", name.split('.').next().unwrap_or_default());
    let cache = HeaderValue::from_static("public, max-age=31536000, immutable");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let bytes = media
        .get(&name)
        .await
        .map_err(storage_error)?
        .ok_or_else(ApiError::not_found)?;
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, media::content_type(&name)))
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}
