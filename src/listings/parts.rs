//! `/v1/me/listing/{offices,licenses,certifications,offerings}`: the parts of the caller's
//! listing. Another therapist's part id is a 404 and changes nothing. Licenses,
//! certifications and offerings share one path (`StoredPart`); offices differ only in
//! where their coordinates come from.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, patch, post, web};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::body::{CertificationBody, LicenseBody, OfferingBody, OfficeBody};
use super::lifecycle::ListingStatus;
use super::routes::{load, lock, merged};
use super::store::{self, Change, Part};
use super::view::{Certification, License, MyListing};
use crate::auth::TherapistUser;
use crate::directory::profile::{PublicOffering, PublicOffice};
use crate::error::{ApiError, ErrorCode, FieldError, Problem};
use crate::http::Json;
use crate::taxonomy::Kind;
use crate::taxonomy::store::{Holder, resolve_slugs};

/// 422 `limit_reached` when the listing already has as many of `part` as it may.
async fn room_for(conn: &mut PgConnection, part: Part, listing_id: Uuid) -> Result<(), ApiError> {
    let (field, max) = part.limit();
    if store::count_parts(conn, part, listing_id).await? >= max {
        return Err(ApiError::field(
            field,
            "limit_reached",
            format!("a listing has at most {max} {field}"),
        )
        .with_code(ErrorCode::LimitReached));
    }
    Ok(())
}

/// Ends a write to one part of the listing: bumps the listing's version (asking for review
/// when `request_review`), commits, and answers with the part as stored: 201 with its
/// `Location` when `new`, else 200.
async fn finish_part<T: Serialize>(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    user: &TherapistUser,
    (listing_id, request_review): (Uuid, bool),
    (part, saved, new): (Part, Uuid, bool),
    pick: impl FnOnce(MyListing) -> Option<T>,
) -> Result<HttpResponse, ApiError> {
    store::bump_version(&mut tx, listing_id, Change::Parts { request_review }).await?;
    let listing = load(&mut tx, user).await?;
    tx.commit().await?;
    let stored = pick(listing).ok_or_else(ApiError::not_found)?;
    Ok(if new {
        let collection = part.limit().0;
        HttpResponse::Created()
            .insert_header((
                header::LOCATION,
                format!("/v1/me/listing/{collection}/{saved}"),
            ))
            .json(&stored)
    } else {
        HttpResponse::Ok().json(&stored)
    })
}

async fn delete_part(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    part: Part,
    id: Uuid,
) -> Result<HttpResponse, ApiError> {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    if !store::delete_part(&mut tx, part, locked.id, id).await? {
        return Err(ApiError::not_found());
    }
    let change = Change::Parts {
        request_review: false,
    };
    store::bump_version(&mut tx, locked.id, change).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

// --- Licenses, certifications, offerings ----------------------------------------------------

/// A part whose body is stored as sent (after validation).
trait StoredPart: Serialize + DeserializeOwned + utoipa::PartialSchema + Sized {
    const PART: Part;
    /// Whether an edit vouches for the therapist, so a published listing goes back in the
    /// review queue.
    const REVIEWED: bool;
    /// The part as the listing view shows it.
    type Stored: Serialize;

    fn validate(self) -> Result<Self, Vec<FieldError>>;
    /// The editable body of the caller's part `id`, for a merge patch.
    fn current(listing: &MyListing, id: Uuid) -> Option<Self>;
    fn stored(listing: MyListing, id: Uuid) -> Option<Self::Stored>;
    /// Inserts (no `id`) or updates the part; `None` when `id` is not the listing's.
    async fn save(
        &self,
        conn: &mut PgConnection,
        listing_id: Uuid,
        id: Option<Uuid>,
    ) -> Result<Option<Uuid>, ApiError>;
}

impl StoredPart for LicenseBody {
    const PART: Part = Part::License;
    const REVIEWED: bool = true;
    type Stored = License;

    fn validate(self) -> Result<Self, Vec<FieldError>> {
        LicenseBody::validate(self)
    }
    fn current(listing: &MyListing, id: Uuid) -> Option<Self> {
        listing.licenses.iter().find(|x| x.id == id).map(Self::from)
    }
    fn stored(listing: MyListing, id: Uuid) -> Option<License> {
        listing.licenses.into_iter().find(|x| x.id == id)
    }
    async fn save(
        &self,
        conn: &mut PgConnection,
        listing_id: Uuid,
        id: Option<Uuid>,
    ) -> Result<Option<Uuid>, ApiError> {
        store::save_license(conn, listing_id, id, self)
            .await
            .map_err(|e| duplicate_license(e, self))
    }
}

fn duplicate_license(err: sqlx::Error, license: &LicenseBody) -> ApiError {
    match &err {
        sqlx::Error::Database(db) if db.constraint() == Some("license_number_key") => {
            ApiError::field(
                "number",
                "duplicate",
                format!(
                    "license {} in {} is already on the listing",
                    license.number, license.state
                ),
            )
        }
        _ => ApiError::internal(err),
    }
}

impl StoredPart for CertificationBody {
    const PART: Part = Part::Certification;
    const REVIEWED: bool = true;
    type Stored = Certification;

    fn validate(self) -> Result<Self, Vec<FieldError>> {
        CertificationBody::validate(self)
    }
    fn current(listing: &MyListing, id: Uuid) -> Option<Self> {
        listing
            .certifications
            .iter()
            .find(|x| x.id == id)
            .map(Self::from)
    }
    fn stored(listing: MyListing, id: Uuid) -> Option<Certification> {
        listing.certifications.into_iter().find(|x| x.id == id)
    }
    /// A certification's modality must be active, or the one it already has.
    async fn save(
        &self,
        conn: &mut PgConnection,
        listing_id: Uuid,
        id: Option<Uuid>,
    ) -> Result<Option<Uuid>, ApiError> {
        let modality_id = match &self.modality {
            None => None,
            Some(slug) => {
                let slugs = std::slice::from_ref(slug);
                let found = resolve_slugs(conn, Kind::Modality, slugs, Holder::Certification(id));
                match found.await?.first() {
                    Some((_, modality_id)) => Some(*modality_id),
                    None => {
                        let unknown = Kind::Modality.unknown("modality", slug);
                        return Err(ApiError::validation(vec![unknown]));
                    }
                }
            }
        };
        Ok(store::save_certification(conn, listing_id, id, self, modality_id).await?)
    }
}

impl StoredPart for OfferingBody {
    const PART: Part = Part::Offering;
    const REVIEWED: bool = false;
    type Stored = PublicOffering;

    fn validate(self) -> Result<Self, Vec<FieldError>> {
        OfferingBody::validate(self)
    }
    fn current(listing: &MyListing, id: Uuid) -> Option<Self> {
        listing
            .offerings
            .iter()
            .find(|x| x.id == id)
            .map(Self::from)
    }
    fn stored(listing: MyListing, id: Uuid) -> Option<PublicOffering> {
        listing.offerings.into_iter().find(|x| x.id == id)
    }
    async fn save(
        &self,
        conn: &mut PgConnection,
        listing_id: Uuid,
        id: Option<Uuid>,
    ) -> Result<Option<Uuid>, ApiError> {
        Ok(store::save_offering(conn, listing_id, id, self).await?)
    }
}

async fn create_part<B: StoredPart>(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    body: B,
) -> Result<HttpResponse, ApiError> {
    let body = body.validate().map_err(ApiError::validation)?;
    save_part(user, pool, None, body).await
}

/// Applies a merge patch to the caller's part `id` as it stands, then saves it.
async fn patch_part<B: StoredPart>(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: Uuid,
    patch: Value,
) -> Result<HttpResponse, ApiError> {
    let current = {
        let mut conn = pool.acquire().await?;
        load(&mut conn, &user).await?
    };
    let base = B::current(&current, id).ok_or_else(ApiError::not_found)?;
    let body = merged(&base, patch)?
        .validate()
        .map_err(ApiError::validation)?;
    save_part(user, pool, Some(id), body).await
}

async fn save_part<B: StoredPart>(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: Option<Uuid>,
    body: B,
) -> Result<HttpResponse, ApiError> {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    if id.is_none() {
        room_for(&mut tx, B::PART, locked.id).await?;
    }
    let saved = body
        .save(&mut tx, locked.id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let request_review = B::REVIEWED && locked.status == ListingStatus::Published;
    let pick = |l: MyListing| B::stored(l, saved);
    let listing = (locked.id, request_review);
    finish_part(tx, &user, listing, (B::PART, saved, id.is_none()), pick).await
}

// --- Offices ---------------------------------------------------------------------------------

/// Adds an office (at most five). Without coordinates it is placed at its ZIP's centroid;
/// an unknown ZIP, or a ZIP in another state, is 422.
#[utoipa::path(
    tag = "my listing",
    security(("bearer" = [])),
    request_body = OfficeBody,
    responses((status = 201, body = PublicOffice), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[post("/me/listing/offices")]
pub async fn create_office(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    body: Json<OfficeBody>,
) -> Result<HttpResponse, ApiError> {
    let office = body.0.validate().map_err(ApiError::validation)?;
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    room_for(&mut tx, Part::Office, locked.id).await?;
    let id = store::insert_office(&mut tx, locked.id, &office).await?;
    let pick = |l: MyListing| l.offices.into_iter().find(|x| x.id == id);
    finish_part(
        tx,
        &user,
        (locked.id, false),
        (Part::Office, id, true),
        pick,
    )
    .await
}

/// Edits an office (merge patch). Changing the ZIP without coordinates re-places it at the
/// new ZIP's centroid.
#[utoipa::path(
    tag = "my listing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body(content = OfficeBody, content_type = "application/merge-patch+json"),
    responses((status = 200, body = PublicOffice), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[patch("/me/listing/offices/{id}")]
pub async fn patch_office(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    body: Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    let current = load(&mut tx, &user).await?;
    let existing = current
        .offices
        .iter()
        .find(|o| o.id == id)
        .ok_or_else(ApiError::not_found)?;
    let mut base = OfficeBody::from(existing);
    let patch = body.0;
    if patch.get("zip").is_some() && patch.get("latitude").is_none() {
        base.latitude = None;
        base.longitude = None;
    }
    let office = merged(&base, patch)?
        .validate()
        .map_err(ApiError::validation)?;
    store::update_office(&mut tx, locked.id, id, &office).await?;
    let pick = |l: MyListing| l.offices.into_iter().find(|x| x.id == id);
    finish_part(
        tx,
        &user,
        (locked.id, false),
        (Part::Office, id, false),
        pick,
    )
    .await
}

/// Removes an office.
#[utoipa::path(tag = "my listing", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/listing/offices/{id}")]
pub async fn delete_office(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    delete_part(user, pool, Part::Office, id.into_inner()).await
}

// --- Licenses and certifications -------------------------------------------------------------

/// Adds a license; it starts `unverified`.
#[utoipa::path(
    tag = "my listing",
    security(("bearer" = [])),
    request_body = LicenseBody,
    responses((status = 201, body = super::view::License), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[post("/me/listing/licenses")]
pub async fn create_license(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    body: Json<LicenseBody>,
) -> Result<HttpResponse, ApiError> {
    create_part(user, pool, body.0).await
}

/// Edits a license (merge patch). Any edit resets it to `unverified`.
#[utoipa::path(
    tag = "my listing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body(content = LicenseBody, content_type = "application/merge-patch+json"),
    responses((status = 200, body = super::view::License), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[patch("/me/listing/licenses/{id}")]
pub async fn patch_license(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    body: Json<Value>,
) -> Result<HttpResponse, ApiError> {
    patch_part::<LicenseBody>(user, pool, id.into_inner(), body.0).await
}

/// Removes a license.
#[utoipa::path(tag = "my listing", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/listing/licenses/{id}")]
pub async fn delete_license(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    delete_part(user, pool, Part::License, id.into_inner()).await
}

/// Adds a certification (e.g. Certified Imago Relationship Therapist from the Imago
/// International Training Institute); it starts `unverified`.
#[utoipa::path(
    tag = "my listing",
    security(("bearer" = [])),
    request_body = CertificationBody,
    responses((status = 201, body = super::view::Certification), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[post("/me/listing/certifications")]
pub async fn create_certification(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    body: Json<CertificationBody>,
) -> Result<HttpResponse, ApiError> {
    create_part(user, pool, body.0).await
}

/// Edits a certification (merge patch). Any edit resets it to `unverified`.
#[utoipa::path(
    tag = "my listing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body(content = CertificationBody, content_type = "application/merge-patch+json"),
    responses((status = 200, body = super::view::Certification), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[patch("/me/listing/certifications/{id}")]
pub async fn patch_certification(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    body: Json<Value>,
) -> Result<HttpResponse, ApiError> {
    patch_part::<CertificationBody>(user, pool, id.into_inner(), body.0).await
}

/// Removes a certification.
#[utoipa::path(tag = "my listing", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/listing/certifications/{id}")]
pub async fn delete_certification(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    delete_part(user, pool, Part::Certification, id.into_inner()).await
}

// --- Offerings -------------------------------------------------------------------------------

/// Adds an offering: a session type, workshop, retreat, online course, group or intensive.
#[utoipa::path(
    tag = "my listing",
    security(("bearer" = [])),
    request_body = OfferingBody,
    responses((status = 201, body = PublicOffering), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
#[post("/me/listing/offerings")]
pub async fn create_offering(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    body: Json<OfferingBody>,
) -> Result<HttpResponse, ApiError> {
    create_part(user, pool, body.0).await
}

/// Edits an offering (merge patch).
#[utoipa::path(
    tag = "my listing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body(content = OfferingBody, content_type = "application/merge-patch+json"),
    responses((status = 200, body = PublicOffering), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[patch("/me/listing/offerings/{id}")]
pub async fn patch_offering(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
    body: Json<Value>,
) -> Result<HttpResponse, ApiError> {
    patch_part::<OfferingBody>(user, pool, id.into_inner(), body.0).await
}

/// Removes an offering.
#[utoipa::path(tag = "my listing", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/listing/offerings/{id}")]
pub async fn delete_offering(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    delete_part(user, pool, Part::Offering, id.into_inner()).await
}
