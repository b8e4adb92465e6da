//! `/v1/me/listing…`: a therapist manages their own listing. Every route is scoped to the
//! caller's listing: another therapist's office, license, certification or offering id is
//! a 404 and changes nothing. Every write runs in one transaction with the listing row
//! locked, and bumps the listing's version (its `ETag`).
//!
//! Review policy for published listings: edits apply at once. Material edits (display name,
//! credentials, adding or editing a license or certification) also put the listing in the
//! admin review queue (`review_requested_at`) while it stays published; edited credentials
//! are `unverified` until an admin verifies them again, so the public profile never shows an
//! unchecked credential as verified.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::body::{
    CertificationBody, LicenseBody, ListingBody, OfferingBody, OfficeBody, merge_patch,
};
use super::store::{self, LockedListing, Part};
use super::view::{self, MyListing};
use crate::audit::AuditEntry;
use crate::auth::TherapistUser;
use crate::clock::Clock;
use crate::directory::profile::{PublicOffering, PublicOffice};
use crate::domain::Money;
use crate::domain::vocab::{
    Accepting, AgeGroup, Community, Delivery, Faith, Gender, PaymentMethod, SessionFormat,
    Vocabulary,
};
use crate::error::{ApiError, ErrorCode, FieldError, Problem};
use crate::http::Json;

/// A statement shorter than this cannot be submitted.
pub const MIN_STATEMENT_CHARS: usize = 100;

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

fn listing_response(status: actix_web::http::StatusCode, listing: &MyListing) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, listing.etag()))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(listing)
}

/// 412 when `If-Match` names another version (or only a weak tag). Without `If-Match` the change applies to the
/// current version (it is still atomic: the row is locked).
fn check_if_match(req: &HttpRequest, locked: &LockedListing) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(());
    };
    let current = format!("\"v{}\"", locked.version);
    // Strong comparison (RFC 9110): a weak tag never matches.
    let matches = crate::http::caching::strong_match(value.to_str().unwrap_or(""), &current);
    if matches {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::PreconditionFailed,
            "The listing changed since you read it: GET it again, reapply your change, and send the new ETag.",
        ))
    }
}

async fn lock(conn: &mut PgConnection, user: &TherapistUser) -> Result<LockedListing, ApiError> {
    store::lock_by_account(conn, user.0.account_id)
        .await?
        .ok_or_else(ApiError::not_found)
}

async fn load(conn: &mut PgConnection, user: &TherapistUser) -> Result<MyListing, ApiError> {
    view::by_account(conn, user.0.account_id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Merges a JSON merge patch into `current` and parses the result as `T` (naming any field
/// at fault).
/// A merge patch is a JSON object; anything else is refused before it is compared with
/// the listing's version, so a malformed body is 422 whatever `If-Match` says.
fn require_object(patch: &Value) -> Result<(), ApiError> {
    if patch.is_object() {
        Ok(())
    } else {
        Err(ApiError::field(
            "body",
            "invalid_type",
            "a merge patch is a JSON object",
        ))
    }
}

fn merged<T: Serialize + DeserializeOwned + utoipa::PartialSchema>(
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
            .map(|key| FieldError::new(key.clone(), "unknown_field", "not a field of this body"))
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

/// The current editable body of one part of the caller's listing (found by `pick`), with a
/// merge patch applied; the caller validates the result.
async fn patched_part<B: Serialize + DeserializeOwned + utoipa::PartialSchema>(
    pool: &PgPool,
    user: &TherapistUser,
    patch: Value,
    pick: impl FnOnce(&MyListing) -> Option<B>,
) -> Result<B, ApiError> {
    let current = {
        let mut conn = pool.acquire().await?;
        load(&mut conn, user).await?
    };
    let base = pick(&current).ok_or_else(ApiError::not_found)?;
    merged(&base, patch)
}

impl From<&super::view::License> for LicenseBody {
    fn from(l: &super::view::License) -> Self {
        LicenseBody {
            license_type: l.license_type.clone(),
            number: l.number.clone(),
            state: l.state.clone(),
            expires_on: l.expires_on,
        }
    }
}

impl From<&super::view::Certification> for CertificationBody {
    fn from(c: &super::view::Certification) -> Self {
        CertificationBody {
            name: c.name.clone(),
            issuer: c.issuer.clone(),
            modality: c.modality.clone(),
            level: c.level.clone(),
            credential_id: c.credential_id.clone(),
            issued_on: c.issued_on,
            expires_on: c.expires_on,
        }
    }
}

impl From<&MyListing> for ListingBody {
    fn from(l: &MyListing) -> Self {
        ListingBody {
            display_name: l.display_name.clone(),
            pronouns: l.pronouns.clone(),
            credentials: l.credentials.clone(),
            professional_title: l.professional_title.clone(),
            statement: l.statement.clone(),
            photo_url: l.photo_url.clone(),
            website_url: l.website_url.clone(),
            phone: l.phone.clone(),
            contact_email: l.contact_email.clone(),
            gender: l.gender.as_deref().and_then(Gender::parse),
            languages: l.languages.clone(),
            age_groups: AgeGroup::from_stored(&l.age_groups),
            communities: Community::from_stored(&l.communities),
            faith: l.faith.as_deref().and_then(Faith::parse),
            session_formats: SessionFormat::from_stored(&l.session_formats),
            delivery: Delivery::from_stored(&l.delivery),
            accepting: Accepting::parse(&l.accepting).unwrap_or_default(),
            free_consultation: l.free_consultation,
            fee_min: l.fee_min,
            fee_max: l.fee_max,
            sliding_scale_min: l.sliding_scale_min,
            insurance_only: l.insurance_only,
            payment_methods: PaymentMethod::from_stored(&l.payment_methods),
            hsa_fsa: l.hsa_fsa,
            npi: l.npi.clone(),
            taxonomy_code: l.taxonomy_code.clone(),
            years_in_practice: l.years_in_practice,
            telehealth_states: l.telehealth_states.clone(),
            modalities: l.modalities.clone(),
            specialties: l.specialties.clone(),
            top_specialties: l.top_specialties.clone(),
            insurers: l.insurers.clone(),
        }
    }
}

/// The caller's whole listing, with an `ETag` for `If-Match`.
#[utoipa::path(
    operation_id = "get_my_listing",
    tag = "my listing",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MyListing, headers(("ETag" = String, description = "Send it back in If-Match"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "Not a therapist account"),
    )
)]
#[get("/me/listing")]
pub async fn get_listing(
    user: TherapistUser,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = pool.acquire().await?;
    let listing = load(&mut conn, &user).await?;
    Ok(listing_response(actix_web::http::StatusCode::OK, &listing))
}

/// Edits the profile with JSON merge patch semantics (`null` clears a field). Every field is
/// validated; unknown fields (including `status`, `id`, `slug` and verification fields) are
/// refused, unknown taxonomy slugs are 422 naming the slug. With `If-Match`, a stale version
/// is 412 and nothing changes.
#[utoipa::path(
    operation_id = "patch_my_listing",
    tag = "my listing",
    security(("bearer" = [])),
    request_body(content = ListingBody, content_type = "application/merge-patch+json", description = "Any subset of the fields"),
    params(("If-Match" = Option<String>, Header, description = "The ETag from GET; recommended")),
    responses(
        (status = 200, body = MyListing),
        (status = 412, body = Problem, content_type = "application/problem+json", description = "`precondition_failed`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`validation_failed`, each field in `errors`"),
    )
)]
#[patch("/me/listing")]
pub async fn patch_listing(
    req: HttpRequest,
    user: TherapistUser,
    pool: web::Data<PgPool>,
    body: Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    require_object(&patch)?;
    let changed: Vec<String> = patch
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    let current = load(&mut tx, &user).await?;
    let next: ListingBody = merged(&ListingBody::from(&current), patch)?;
    let valid = next.validate().map_err(ApiError::validation)?;
    // After validation: an invalid body is 422 whatever `If-Match` says; nothing is
    // written before this point, and the row stays locked until commit.
    check_if_match(&req, &locked)?;
    let terms = store::resolve_terms(&mut tx, locked.id, &valid.body)
        .await?
        .map_err(ApiError::validation)?;
    let renamed = valid.body.display_name != current.display_name;
    // The slug follows the name until the listing is first published, then stays put.
    let new_slug = if renamed && current.published_at.is_none() {
        Some(store::free_slug(&mut tx, locked.id, &valid.body.display_name).await?)
    } else {
        None
    };
    let material = renamed || valid.body.credentials != current.credentials;
    let request_review = material && current.status == "published";
    store::write_listing(
        &mut tx,
        locked.id,
        &valid,
        &terms,
        new_slug.as_deref(),
        request_review,
    )
    .await?;
    if request_review {
        // A verified license vouched for the name and credentials it was checked against;
        // the new ones are not vouched for until an admin verifies again.
        store::unverify_licenses(&mut tx, locked.id).await?;
    }
    AuditEntry::new(user.0.actor(), "listing.updated")
        .target("listing", locked.id)
        .details(json!({ "fields": changed, "review_requested": request_review }))
        .record(&mut tx)
        .await?;
    let listing = load(&mut tx, &user).await?;
    tx.commit().await?;
    Ok(listing_response(actix_web::http::StatusCode::OK, &listing))
}

// --- Offices -------------------------------------------------------------------------------

fn created<T: Serialize>(location: String, value: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(value)
}

/// Ends a write to one part of the listing: bumps the listing's version (asking for review
/// when `request_review`), commits, and answers with the part as stored: 201 with its
/// `Location` when `new`, else 200.
#[allow(clippy::too_many_arguments)]
async fn finish_part<T: Serialize>(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    user: &TherapistUser,
    listing_id: Uuid,
    request_review: bool,
    collection: &str,
    saved: Uuid,
    new: bool,
    pick: impl FnOnce(MyListing) -> Option<T>,
) -> Result<HttpResponse, ApiError> {
    store::touch(&mut tx, listing_id, request_review).await?;
    let listing = load(&mut tx, user).await?;
    tx.commit().await?;
    let part = pick(listing).ok_or_else(ApiError::not_found)?;
    Ok(if new {
        created(format!("/v1/me/listing/{collection}/{saved}"), &part)
    } else {
        HttpResponse::Ok().json(&part)
    })
}

fn office_body(o: &PublicOffice) -> OfficeBody {
    OfficeBody {
        label: o.label.clone(),
        address_line1: o.address_line1.clone(),
        address_line2: o.address_line2.clone(),
        city: o.city.clone(),
        state: o.state.clone(),
        zip: o.zip.clone(),
        latitude: Some(o.latitude),
        longitude: Some(o.longitude),
        wheelchair_accessible: o.wheelchair_accessible,
    }
}

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
    finish_part(tx, &user, locked.id, false, "offices", id, true, pick).await
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
    let mut base = office_body(existing);
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
    finish_part(tx, &user, locked.id, false, "offices", id, false, pick).await
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
    store::touch(&mut tx, locked.id, false).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
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
    let license = body.0.validate().map_err(ApiError::validation)?;
    save_license(user, pool, None, license).await
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
    let id = id.into_inner();
    let pick = |l: &MyListing| {
        l.licenses
            .iter()
            .find(|x| x.id == id)
            .map(LicenseBody::from)
    };
    let license = patched_part(&pool, &user, body.0, pick)
        .await?
        .validate()
        .map_err(ApiError::validation)?;
    save_license(user, pool, Some(id), license).await
}

async fn save_license(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: Option<Uuid>,
    license: LicenseBody,
) -> Result<HttpResponse, ApiError> {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    if id.is_none() {
        room_for(&mut tx, Part::License, locked.id).await?;
    }
    let saved = store::save_license(&mut tx, locked.id, id, &license)
        .await
        .map_err(|e| duplicate_license(e, &license))?
        .ok_or_else(ApiError::not_found)?;
    let pick = |l: MyListing| l.licenses.into_iter().find(|x| x.id == saved);
    finish_part(
        tx,
        &user,
        locked.id,
        locked.status == "published",
        "licenses",
        saved,
        id.is_none(),
        pick,
    )
    .await
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
    let certification = body.0.validate().map_err(ApiError::validation)?;
    save_certification(user, pool, None, certification).await
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
    let id = id.into_inner();
    let pick = |l: &MyListing| {
        l.certifications
            .iter()
            .find(|x| x.id == id)
            .map(CertificationBody::from)
    };
    let certification = patched_part(&pool, &user, body.0, pick)
        .await?
        .validate()
        .map_err(ApiError::validation)?;
    save_certification(user, pool, Some(id), certification).await
}

async fn save_certification(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: Option<Uuid>,
    certification: CertificationBody,
) -> Result<HttpResponse, ApiError> {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    if id.is_none() {
        room_for(&mut tx, Part::Certification, locked.id).await?;
    }
    let modality_id = match &certification.modality {
        None => None,
        Some(slug) => Some(
            sqlx::query_scalar::<_, i32>(
                "select id from modality where slug = $1 and (retired_at is null
                     or id in (select modality_id from certification where id = $2))",
            )
            .bind(slug)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                ApiError::field(
                    "modality",
                    "unknown_term",
                    format!("`{slug}` is not a known modality (see /v1/modalities)"),
                )
            })?,
        ),
    };
    let saved = store::save_certification(&mut tx, locked.id, id, &certification, modality_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let pick = |l: MyListing| l.certifications.into_iter().find(|x| x.id == saved);
    finish_part(
        tx,
        &user,
        locked.id,
        locked.status == "published",
        "certifications",
        saved,
        id.is_none(),
        pick,
    )
    .await
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
    let offering = body.0.validate().map_err(ApiError::validation)?;
    save_offering(user, pool, None, offering).await
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
    let id = id.into_inner();
    let pick = |l: &MyListing| {
        l.offerings
            .iter()
            .find(|x| x.id == id)
            .map(OfferingBody::from)
    };
    let offering = patched_part(&pool, &user, body.0, pick)
        .await?
        .validate()
        .map_err(ApiError::validation)?;
    save_offering(user, pool, Some(id), offering).await
}

async fn save_offering(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    id: Option<Uuid>,
    offering: OfferingBody,
) -> Result<HttpResponse, ApiError> {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    if id.is_none() {
        room_for(&mut tx, Part::Offering, locked.id).await?;
    }
    let saved = store::save_offering(&mut tx, locked.id, id, &offering)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let pick = |l: MyListing| l.offerings.into_iter().find(|x| x.id == saved);
    finish_part(
        tx,
        &user,
        locked.id,
        false,
        "offerings",
        saved,
        id.is_none(),
        pick,
    )
    .await
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

// --- Lifecycle -------------------------------------------------------------------------------

/// What a listing still lacks before it can be submitted; empty when complete.
pub fn missing_for_submission(l: &MyListing) -> Vec<FieldError> {
    let mut missing = Vec::new();
    let mut need =
        |field: &str, message: &str| missing.push(FieldError::new(field, "missing", message));
    if l.display_name.trim().is_empty() {
        need("display_name", "a display name");
    }
    if l.statement
        .as_deref()
        .map_or(0, |s| s.trim().chars().count())
        < MIN_STATEMENT_CHARS
    {
        need(
            "statement",
            "a statement of at least 100 characters about how you work",
        );
    }
    if l.modalities.is_empty() {
        need("modalities", "at least one modality");
    }
    if l.specialties.is_empty() {
        need("specialties", "at least one specialty");
    }
    if l.fee_min.is_none() && !l.insurance_only {
        need("fee_min", "a fee range, or insurance_only");
    }
    let reachable_remotely =
        l.delivery.iter().any(|d| d == "video" || d == "phone") && !l.telehealth_states.is_empty();
    if l.offices.is_empty() && !reachable_remotely {
        need(
            "offices",
            "an office, or video/phone delivery with telehealth_states",
        );
    }
    if l.licenses.is_empty() && l.certifications.is_empty() {
        need("licenses", "at least one license or certification");
    }
    missing
}

async fn set_status(
    tx: &mut PgConnection,
    user: &TherapistUser,
    locked: &LockedListing,
    to: &str,
    action: &str,
) -> Result<MyListing, ApiError> {
    let (review, submitted) = match to {
        "pending_review" => (true, true),
        _ => (false, false),
    };
    sqlx::query(
        "update listing set status = $2::listing_status, version = version + 1,
             review_requested_at = case when $3 then now() else null end,
             submitted_at = case when $4 then now() else submitted_at end
         where id = $1",
    )
    .bind(locked.id)
    .bind(to)
    .bind(review)
    .bind(submitted)
    .execute(&mut *tx)
    .await?;
    AuditEntry::new(user.0.actor(), action)
        .target("listing", locked.id)
        .details(json!({ "from": locked.status, "to": to }))
        .record(tx)
        .await?;
    load(tx, user).await
}

fn invalid_state(status: &str, action: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidState,
        format!("A listing that is {status} cannot be {action}."),
    )
}

/// Sends the listing for review: from `draft`, `rejected` or `unpublished` to
/// `pending_review`, when complete; otherwise 422 `listing_incomplete` naming each missing item.
#[utoipa::path(
    operation_id = "submit_my_listing",
    tag = "my listing",
    security(("bearer" = [])),
    responses(
        (status = 202, body = MyListing),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`invalid_state`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`listing_incomplete`, each missing item in `errors`"),
    )
)]
#[post("/me/listing/submit")]
pub async fn submit(
    user: TherapistUser,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    if !["draft", "rejected", "unpublished"].contains(&locked.status.as_str()) {
        return Err(invalid_state(&locked.status, "submitted"));
    }
    let current = load(&mut tx, &user).await?;
    let missing = missing_for_submission(&current);
    if !missing.is_empty() {
        return Err(ApiError::new(
            ErrorCode::ListingIncomplete,
            format!("{} items are missing; see `errors`.", missing.len()),
        )
        .with_errors(missing));
    }
    let listing = set_status(
        &mut tx,
        &user,
        &locked,
        "pending_review",
        "listing.submitted",
    )
    .await?;
    tx.commit().await?;
    Ok(listing_response(
        actix_web::http::StatusCode::ACCEPTED,
        &listing,
    ))
}

/// Records that the therapist confirmed the listing is current (`last_confirmed_at`). A
/// listing unconfirmed for 90 days is stale and leaves default search; confirming brings it
/// back at once and clears an "availability unconfirmed" mark left by reports.
#[utoipa::path(
    operation_id = "confirm_my_listing",
    tag = "my listing",
    security(("bearer" = [])),
    responses((status = 200, body = MyListing), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[post("/me/listing/confirm")]
pub async fn confirm(
    user: TherapistUser,
    pool: web::Data<PgPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    if locked.status == "suspended" {
        return Err(invalid_state("suspended", "confirmed"));
    }
    // Confirming brings a stale listing back into default search and clears an
    // "availability unconfirmed" mark left by reports.
    sqlx::query(
        "update listing set last_confirmed_at = $2, stale_at = null, availability_unconfirmed_at = null,
             version = version + 1
         where id = $1",
    )
    .bind(locked.id)
    .bind(clock.now())
    .execute(&mut *tx)
    .await?;
    AuditEntry::new(user.0.actor(), "listing.confirmed")
        .target("listing", locked.id)
        .record(&mut tx)
        .await?;
    let listing = load(&mut tx, &user).await?;
    tx.commit().await?;
    Ok(listing_response(actix_web::http::StatusCode::OK, &listing))
}

/// Hides a published listing until it is submitted and approved again.
#[utoipa::path(
    operation_id = "unpublish_my_listing",
    tag = "my listing",
    security(("bearer" = [])),
    responses((status = 200, body = MyListing), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[post("/me/listing/unpublish")]
pub async fn unpublish(
    user: TherapistUser,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, &user).await?;
    if locked.status != "published" {
        return Err(invalid_state(&locked.status, "unpublished"));
    }
    let listing = set_status(
        &mut tx,
        &user,
        &locked,
        "unpublished",
        "listing.unpublished",
    )
    .await?;
    tx.commit().await?;
    Ok(listing_response(actix_web::http::StatusCode::OK, &listing))
}

impl From<&PublicOffering> for OfferingBody {
    fn from(o: &PublicOffering) -> Self {
        OfferingBody {
            kind: o.kind,
            title: o.title.clone(),
            description: o.description.clone(),
            format: o.format,
            price: Money::from_db(o.price.amount_cents),
            duration_minutes: o.duration_minutes,
            starts_on: o.starts_on,
            ends_on: o.ends_on,
            location: o.location.clone(),
        }
    }
}
