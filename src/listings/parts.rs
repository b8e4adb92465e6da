//! `/v1/me/listing/{offices,licenses,certifications,offerings}`: the parts of the caller's
//! listing. Another therapist's part id is a 404 and changes nothing. Licenses,
//! certifications and offerings share one path (`StoredPart`); offices differ only in
//! where their coordinates come from.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, patch, post, web};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::body::{CertificationBody, LicenseBody, OfferingBody, OfficeBody};
use super::model::{PublicOffering, PublicOffice};
use super::routes::{load, lock, merged};
use super::store::{self, Change, Part};
use super::view::{Certification, License, MyListing};
use crate::auth::TherapistUser;
use crate::error::FieldCode;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::http::{Db, Json, Reply};
use crate::taxonomy::Kind;
use crate::taxonomy::store::{Holder, resolve_slugs};

/// 422 `limit_reached` when the listing already has as many of `part` as it may.
async fn room_for(conn: &mut PgConnection, part: Part, listing_id: Uuid) -> Result<(), ApiError> {
    let (field, max) = part.limit();
    if store::count_parts(conn, part, listing_id).await? >= max {
        return Err(ApiError::field(
            field,
            FieldCode::LimitReached,
            format!("a listing has at most {max} {field}"),
        )
        .with_code(ErrorCode::LimitReached));
    }
    Ok(())
}

/// A part just written: its collection, its id, and whether the write created it.
struct Written {
    part: Part,
    saved: Uuid,
    new: bool,
}

/// Ends a write to one part of the listing: bumps the listing's version (asking for review
/// when `request_review`), commits, and answers with the part as stored: 201 with its
/// `Location` when `new`, else 200.
async fn finish_part<T: Serialize>(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    user: &TherapistUser,
    listing_id: Uuid,
    request_review: bool,
    Written { part, saved, new }: Written,
    pick: impl FnOnce(MyListing) -> Option<T>,
) -> Reply {
    store::bump_version(&mut tx, listing_id, Change::Parts { request_review }).await?;
    let listing = load(&mut tx, user).await?;
    tx.commit().await?;
    // The listing's new tag, so that its editor goes on without reading it again.
    let etag = (header::ETAG, listing.etag().to_string());
    let stored = pick(listing).ok_or_else(ApiError::not_found)?;
    Ok(if new {
        let collection = part.limit().0;
        HttpResponse::Created()
            .insert_header((
                header::LOCATION,
                format!("/v1/me/listing/{collection}/{saved}"),
            ))
            .insert_header(etag)
            .json(&stored)
    } else {
        HttpResponse::Ok().insert_header(etag).json(&stored)
    })
}

async fn delete_part(user: TherapistUser, pool: Db, part: Part, id: Uuid) -> Reply {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    if !store::delete_part(&mut tx, part, locked.id, id).await? {
        return Err(ApiError::not_found());
    }
    let change = Change::Parts {
        request_review: false,
    };
    let version = store::bump_version(&mut tx, locked.id, change).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::ETAG, version.etag(locked.id).to_string()))
        .finish())
}

// --- Licenses, certifications, offerings ----------------------------------------------------

/// A part whose body is stored as sent (after validation).
trait StoredPart:
    Serialize + DeserializeOwned + utoipa::PartialSchema + for<'a> From<&'a Self::Stored>
{
    const PART: Part;
    /// Whether an edit vouches for the therapist, so a published listing goes back in the
    /// review queue.
    const REVIEWED: bool;
    /// The part as the listing view shows it.
    type Stored: Serialize + Clone;

    fn validate(self) -> Result<Self, Vec<FieldError>>;
    /// Every part of this kind on the listing, and each one's id.
    fn all(listing: &MyListing) -> &[Self::Stored];
    fn id(stored: &Self::Stored) -> Uuid;

    /// The part `id` as the listing view shows it.
    fn stored(listing: &MyListing, id: Uuid) -> Option<Self::Stored> {
        Self::all(listing)
            .iter()
            .find(|x| Self::id(x) == id)
            .cloned()
    }
    /// The editable body of the caller's part `id`, for a merge patch.
    fn current(listing: &MyListing, id: Uuid) -> Option<Self> {
        Self::stored(listing, id).as_ref().map(Self::from)
    }
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
    fn all(listing: &MyListing) -> &[License] {
        &listing.licenses
    }
    fn id(stored: &License) -> Uuid {
        stored.id
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
                FieldCode::Duplicate,
                format!(
                    "license {} in {} is already on the listing",
                    license.number, license.state
                ),
            )
        }
        _ => ApiError::from(err),
    }
}

impl StoredPart for CertificationBody {
    const PART: Part = Part::Certification;
    const REVIEWED: bool = true;
    type Stored = Certification;

    fn validate(self) -> Result<Self, Vec<FieldError>> {
        CertificationBody::validate(self)
    }
    fn all(listing: &MyListing) -> &[Certification] {
        &listing.certifications
    }
    fn id(stored: &Certification) -> Uuid {
        stored.id
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
    fn all(listing: &MyListing) -> &[PublicOffering] {
        &listing.offerings
    }
    fn id(stored: &PublicOffering) -> Uuid {
        stored.id
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

async fn create_part<B: StoredPart>(user: TherapistUser, pool: Db, body: B) -> Reply {
    let body = body.validate().map_err(ApiError::validation)?;
    save_part(user, pool, Edit::New(body)).await
}

/// Applies a merge patch to the caller's part `id` as it stands, then saves it.
async fn patch_part<B: StoredPart>(user: TherapistUser, pool: Db, id: Uuid, patch: Value) -> Reply {
    save_part::<B>(user, pool, Edit::Patch(id, patch)).await
}

/// What a save writes: a new part, or a merge patch of the part `id`.
enum Edit<B> {
    New(B),
    Patch(Uuid, Value),
}

async fn save_part<B: StoredPart>(user: TherapistUser, pool: Db, edit: Edit<B>) -> Reply {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    let (id, body) = match edit {
        Edit::New(body) => {
            room_for(&mut tx, B::PART, locked.id).await?;
            (None, body)
        }
        Edit::Patch(id, patch) => {
            // Read with the listing locked, so two patches of one part cannot each write
            // back the other's fields as they were.
            let current = load(&mut tx, &user).await?;
            let base = B::current(&current, id).ok_or_else(ApiError::not_found)?;
            let body = merged(&base, patch)?
                .validate()
                .map_err(ApiError::validation)?;
            (Some(id), body)
        }
    };
    let saved = body
        .save(&mut tx, locked.id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let request_review = B::REVIEWED && locked.publicly_listed();
    let pick = |l: MyListing| B::stored(&l, saved);
    let written = Written {
        part: B::PART,
        saved,
        new: id.is_none(),
    };
    finish_part(tx, &user, locked.id, request_review, written, pick).await
}

// --- Offices ---------------------------------------------------------------------------------

/// Adds an office (at most five). Without coordinates it is placed at its ZIP's centroid;
/// an unknown ZIP, or a ZIP in another state, is 422.
#[utoipa::path(
    security(("bearer" = [])),
    request_body = OfficeBody,
    responses((status = 201, body = PublicOffice))
)]
#[post("/me/listing/offices")]
pub async fn create_my_office(user: TherapistUser, pool: Db, body: Json<OfficeBody>) -> Reply {
    let office = body.0.validate().map_err(ApiError::validation)?;
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    room_for(&mut tx, Part::Office, locked.id).await?;
    let id = store::save_office(&mut tx, locked.id, None, &office)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let pick = |l: MyListing| l.offices.into_iter().find(|x| x.id == id);
    let written = Written {
        part: Part::Office,
        saved: id,
        new: true,
    };
    finish_part(tx, &user, locked.id, false, written, pick).await
}

/// Edits an office (merge patch). Changing the ZIP without coordinates re-places it at the
/// new ZIP's centroid.
#[utoipa::path(
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body(content = OfficeBody, content_type = "application/merge-patch+json"),
    responses((status = 200, body = PublicOffice))
)]
#[patch("/me/listing/offices/{id}")]
pub async fn update_my_office(
    user: TherapistUser,
    pool: Db,
    id: web::Path<Uuid>,
    body: Json<Value>,
) -> Reply {
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
    store::save_office(&mut tx, locked.id, Some(id), &office)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let pick = |l: MyListing| l.offices.into_iter().find(|x| x.id == id);
    let written = Written {
        part: Part::Office,
        saved: id,
        new: false,
    };
    finish_part(tx, &user, locked.id, false, written, pick).await
}

/// Removes an office.
#[utoipa::path(security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204)))]
#[delete("/me/listing/offices/{id}")]
pub async fn delete_my_office(user: TherapistUser, pool: Db, id: web::Path<Uuid>) -> Reply {
    delete_part(user, pool, Part::Office, id.into_inner()).await
}

// --- Licenses, certifications and offerings: their routes ------------------------------------

/// The create, patch and delete routes of a [`StoredPart`] collection: they differ only in
/// their path, types and docs.
macro_rules! stored_part_routes {
    (
        $body:ident, $stored:ident, $part:expr, $collection:literal, $item:literal,
        $(#[doc = $create_doc:literal])+ create: $create:ident,
        $(#[doc = $patch_doc:literal])+ patch: $patch:ident,
        $(#[doc = $delete_doc:literal])+ delete: $delete:ident $(,)?
    ) => {
        $(#[doc = $create_doc])+
        #[utoipa::path(
            security(("bearer" = [])),
            request_body = $body,
            responses((status = 201, body = $stored))
        )]
        #[post($collection)]
        pub async fn $create(
            user: TherapistUser,
            pool: Db,
            body: Json<$body>,
        ) -> Reply {
            create_part(user, pool, body.0).await
        }

        $(#[doc = $patch_doc])+
        #[utoipa::path(
            security(("bearer" = [])),
            params(("id" = Uuid, Path)),
            request_body(content = $body, content_type = "application/merge-patch+json"),
            responses((status = 200, body = $stored), (status = 404))
        )]
        #[patch($item)]
        pub async fn $patch(
            user: TherapistUser,
            pool: Db,
            id: web::Path<Uuid>,
            body: Json<Value>,
        ) -> Reply {
            patch_part::<$body>(user, pool, id.into_inner(), body.0).await
        }

        $(#[doc = $delete_doc])+
        #[utoipa::path(security(("bearer" = [])), params(("id" = Uuid, Path)),
            responses((status = 204), (status = 404)))]
        #[delete($item)]
        pub async fn $delete(
            user: TherapistUser,
            pool: Db,
            id: web::Path<Uuid>,
        ) -> Reply {
            delete_part(user, pool, $part, id.into_inner()).await
        }
    };
}

stored_part_routes!(
    LicenseBody,
    License,
    Part::License,
    "/me/listing/licenses",
    "/me/listing/licenses/{id}",
    /// Adds a license; it starts `unverified`.
    create: create_my_license,
    /// Edits a license (merge patch). Any edit resets it to `unverified`.
    patch: update_my_license,
    /// Removes a license.
    delete: delete_my_license,
);

stored_part_routes!(
    CertificationBody,
    Certification,
    Part::Certification,
    "/me/listing/certifications",
    "/me/listing/certifications/{id}",
    /// Adds a certification (e.g. Certified Imago Relationship Therapist from the Imago
    /// International Training Institute); it starts `unverified`.
    create: create_my_certification,
    /// Edits a certification (merge patch). Any edit resets it to `unverified`.
    patch: update_my_certification,
    /// Removes a certification.
    delete: delete_my_certification,
);

stored_part_routes!(
    OfferingBody,
    PublicOffering,
    Part::Offering,
    "/me/listing/offerings",
    "/me/listing/offerings/{id}",
    /// Adds an offering: a session type, workshop, retreat, online course, group or intensive.
    create: create_my_offering,
    /// Edits an offering (merge patch).
    patch: update_my_offering,
    /// Removes an offering.
    delete: delete_my_offering,
);
