//! SQL for listings and their parts. Multi-step writes take a connection inside the
//! caller's transaction.

use sqlx::PgConnection;
use uuid::Uuid;

use super::body::{CertificationBody, LicenseBody, ListingBody, OfferingBody, ValidListing};
use super::model::OfficeInput;
use crate::domain::vocab::Vocabulary;
use crate::error::FieldError;

#[tracing::instrument(skip(conn, office))]
pub async fn insert_office(
    conn: &mut PgConnection,
    listing_id: Uuid,
    office: &OfficeInput,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    let point = office.location();
    sqlx::query(
        "insert into office (id, listing_id, label, address_line1, address_line2, city, state, zip,
                             latitude, longitude, wheelchair_accessible)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(listing_id)
    .bind(&office.label)
    .bind(&office.address_line1)
    .bind(&office.address_line2)
    .bind(&office.city)
    .bind(office.state.as_str())
    .bind(office.zip.as_str())
    .bind(point.latitude)
    .bind(point.longitude)
    .bind(office.wheelchair_accessible)
    .execute(conn)
    .await?;
    Ok(id)
}

/// The caller's listing, locked for the rest of the transaction.
#[derive(Debug, sqlx::FromRow)]
pub struct LockedListing {
    pub id: Uuid,
    pub version: i32,
    pub status: String,
    pub published_at: Option<time::OffsetDateTime>,
    pub display_name: String,
    pub credentials: Option<String>,
    pub review_requested_at: Option<time::OffsetDateTime>,
}

pub async fn lock_by_account(
    conn: &mut PgConnection,
    account_id: Uuid,
) -> sqlx::Result<Option<LockedListing>> {
    sqlx::query_as(
        "select id, version, status::text as status, published_at, display_name, credentials, review_requested_at
         from listing where account_id = $1 for update",
    )
    .bind(account_id)
    .fetch_optional(conn)
    .await
}

pub async fn lock_by_id(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<LockedListing>> {
    sqlx::query_as(
        "select id, version, status::text as status, published_at, display_name, credentials, review_requested_at
         from listing where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub struct TermIds {
    pub modalities: Vec<i32>,
    pub specialties: Vec<(i32, bool)>,
    pub insurers: Vec<i32>,
}

/// Turns slugs into ids. A slug must name an active term, or one the listing already has
/// (a retired term stays on listings that had it, but cannot be added).
pub async fn resolve_terms(
    conn: &mut PgConnection,
    listing_id: Uuid,
    body: &ListingBody,
) -> sqlx::Result<Result<TermIds, Vec<FieldError>>> {
    let mut errors = Vec::new();
    let mut lookup = async |table: &str,
                            join: &str,
                            column: &str,
                            slugs: &[String],
                            field: &str|
           -> sqlx::Result<Vec<(String, i32)>> {
        let sql = format!(
            "select slug, id from {table} where slug = any($1)
             and (retired_at is null or id in (select {column} from {join} where listing_id = $2))"
        );
        let found: Vec<(String, i32)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(slugs)
            .bind(listing_id)
            .fetch_all(&mut *conn)
            .await?;
        for (i, slug) in slugs.iter().enumerate() {
            if !found.iter().any(|(s, _)| s == slug) {
                errors.push(FieldError::new(
                    format!("{field}[{i}]"),
                    "unknown_term",
                    format!("`{slug}` is not a known {table} (see /v1/{field})"),
                ));
            }
        }
        Ok(found)
    };
    let modalities = lookup(
        "modality",
        "listing_modality",
        "modality_id",
        &body.modalities,
        "modalities",
    )
    .await?;
    let specialties = lookup(
        "specialty",
        "listing_specialty",
        "specialty_id",
        &body.specialties,
        "specialties",
    )
    .await?;
    let insurers = lookup(
        "insurer",
        "listing_insurer",
        "insurer_id",
        &body.insurers,
        "insurers",
    )
    .await?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    // `found` has one row per distinct slug, so duplicates in the request collapse here.
    Ok(Ok(TermIds {
        modalities: modalities.into_iter().map(|(_, id)| id).collect(),
        specialties: specialties
            .into_iter()
            .map(|(slug, id)| (id, body.top_specialties.contains(&slug)))
            .collect(),
        insurers: insurers.into_iter().map(|(_, id)| id).collect(),
    }))
}

fn texts<T: Vocabulary>(values: &[T]) -> Vec<&'static str> {
    values.iter().map(|v| v.as_str()).collect()
}

/// Writes every editable field and the taxonomy links, bumps the version and, when asked,
/// records that the listing wants review. Returns the new version.
pub async fn write_listing(
    conn: &mut PgConnection,
    listing_id: Uuid,
    listing: &ValidListing,
    terms: &TermIds,
    new_slug: Option<&str>,
    request_review: bool,
) -> sqlx::Result<i32> {
    let b = &listing.body;
    let cents = |m: Option<crate::domain::Money>| m.map(|m| m.amount_cents as i32);
    let version: i32 = sqlx::query_scalar(
        "update listing set
             display_name = $2, pronouns = $3, credentials = $4, professional_title = $5, statement = $6,
             photo_url = $7, website_url = $8, phone = $9, contact_email = $10, gender = $11, languages = $12,
             age_groups = $13, communities = $14, faith = $15, session_formats = $16, delivery = $17,
             accepting = $18::accepting_status, free_consultation = $19, fee_min_cents = $20, fee_max_cents = $21,
             sliding_scale_min_cents = $22, insurance_only = $23, payment_methods = $24, hsa_fsa = $25,
             npi = $26, taxonomy_code = $27, years_in_practice = $28, telehealth_states = $29,
             slug = coalesce($30, slug),
             review_requested_at = case when $31 then coalesce(review_requested_at, now()) else review_requested_at end,
             version = version + 1
         where id = $1
         returning version",
    )
    .bind(listing_id)
    .bind(&b.display_name)
    .bind(&b.pronouns)
    .bind(&b.credentials)
    .bind(&b.professional_title)
    .bind(&b.statement)
    .bind(&b.photo_url)
    .bind(&b.website_url)
    .bind(&listing.phone)
    .bind(&b.contact_email)
    .bind(b.gender.map(|g| g.as_str()))
    .bind(&b.languages)
    .bind(texts(&b.age_groups))
    .bind(texts(&b.communities))
    .bind(b.faith.map(|f| f.as_str()))
    .bind(texts(&b.session_formats))
    .bind(texts(&b.delivery))
    .bind(b.accepting.as_str())
    .bind(b.free_consultation)
    .bind(cents(b.fee_min))
    .bind(cents(b.fee_max))
    .bind(cents(b.sliding_scale_min))
    .bind(b.insurance_only)
    .bind(texts(&b.payment_methods))
    .bind(b.hsa_fsa)
    .bind(&listing.npi)
    .bind(&listing.taxonomy_code)
    .bind(b.years_in_practice)
    .bind(&listing.telehealth_states)
    .bind(new_slug)
    .bind(request_review)
    .fetch_one(&mut *conn)
    .await?;

    sqlx::query("delete from listing_modality where listing_id = $1")
        .bind(listing_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into listing_modality (listing_id, modality_id) select $1, unnest($2::int[])",
    )
    .bind(listing_id)
    .bind(&terms.modalities)
    .execute(&mut *conn)
    .await?;
    sqlx::query("delete from listing_specialty where listing_id = $1")
        .bind(listing_id)
        .execute(&mut *conn)
        .await?;
    let (ids, tops): (Vec<i32>, Vec<bool>) = terms.specialties.iter().copied().unzip();
    sqlx::query("insert into listing_specialty (listing_id, specialty_id, is_top) select $1, * from unnest($2::int[], $3::bool[])")
        .bind(listing_id)
        .bind(&ids)
        .bind(&tops)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from listing_insurer where listing_id = $1")
        .bind(listing_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into listing_insurer (listing_id, insurer_id) select $1, unnest($2::int[])",
    )
    .bind(listing_id)
    .bind(&terms.insurers)
    .execute(&mut *conn)
    .await?;
    Ok(version)
}

/// A free slug for `display_name` (used until the listing is first published).
pub async fn free_slug(
    conn: &mut PgConnection,
    listing_id: Uuid,
    display_name: &str,
) -> sqlx::Result<String> {
    let base = crate::domain::slugify(display_name);
    for attempt in 0..8 {
        let candidate = if attempt == 0 {
            base.clone()
        } else {
            format!("{base}-{:04x}", rand::random::<u16>())
        };
        let taken: bool = sqlx::query_scalar(
            "select exists (select 1 from listing where slug = $1 and id <> $2)",
        )
        .bind(&candidate)
        .bind(listing_id)
        .fetch_one(&mut *conn)
        .await?;
        if !taken {
            return Ok(candidate);
        }
    }
    Err(sqlx::Error::Protocol("could not find a free slug".into()))
}

/// Records a change to a listing's parts: a new version, and a review request when asked.
pub async fn touch(
    conn: &mut PgConnection,
    listing_id: Uuid,
    request_review: bool,
) -> sqlx::Result<i32> {
    sqlx::query_scalar(
        "update listing set version = version + 1,
             review_requested_at = case when $2 then coalesce(review_requested_at, now()) else review_requested_at end
         where id = $1 returning version",
    )
    .bind(listing_id)
    .bind(request_review)
    .fetch_one(conn)
    .await
}

pub async fn update_office(
    conn: &mut PgConnection,
    listing_id: Uuid,
    office_id: Uuid,
    office: &OfficeInput,
) -> sqlx::Result<bool> {
    let point = office.location();
    let updated = sqlx::query(
        "update office set label = $3, address_line1 = $4, address_line2 = $5, city = $6, state = $7, zip = $8,
             latitude = $9, longitude = $10, wheelchair_accessible = $11
         where id = $1 and listing_id = $2",
    )
    .bind(office_id)
    .bind(listing_id)
    .bind(&office.label)
    .bind(&office.address_line1)
    .bind(&office.address_line2)
    .bind(&office.city)
    .bind(office.state.as_str())
    .bind(office.zip.as_str())
    .bind(point.latitude)
    .bind(point.longitude)
    .bind(office.wheelchair_accessible)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Deletes a part (`office`, `license`, `certification`, `offering`) of this listing only.
pub async fn delete_part(
    conn: &mut PgConnection,
    table: Part,
    listing_id: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    let sql = format!(
        "delete from {} where id = $1 and listing_id = $2",
        table.table()
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(listing_id)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Office,
    License,
    Certification,
    Offering,
}

impl Part {
    pub fn table(self) -> &'static str {
        match self {
            Part::Office => "office",
            Part::License => "license",
            Part::Certification => "certification",
            Part::Offering => "offering",
        }
    }
}

impl Part {
    /// The most of this part one listing may have, and the field that names them: every
    /// collection a therapist can grow is bounded (a megabyte profile helps no one).
    pub fn limit(self) -> (&'static str, i64) {
        match self {
            Part::Office => ("offices", 5),
            Part::License => ("licenses", 20),
            Part::Certification => ("certifications", 30),
            Part::Offering => ("offerings", 50),
        }
    }
}

/// How many of `part` the listing has (its row is locked by the caller, so the count
/// holds until commit).
pub async fn count_parts(
    conn: &mut PgConnection,
    part: Part,
    listing_id: Uuid,
) -> sqlx::Result<i64> {
    let sql = match part {
        Part::Office => "select count(*) from office where listing_id = $1",
        Part::License => "select count(*) from license where listing_id = $1",
        Part::Certification => "select count(*) from certification where listing_id = $1",
        Part::Offering => "select count(*) from offering where listing_id = $1",
    };
    sqlx::query_scalar(sql)
        .bind(listing_id)
        .fetch_one(conn)
        .await
}

/// Returns the listing's verified licenses to `unverified` (its name or credentials changed).
pub async fn unverify_licenses(conn: &mut PgConnection, listing_id: Uuid) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update license set verification_status = 'unverified', verified_at = null, verified_by = null
         where listing_id = $1 and verification_status = 'verified'",
    )
    .bind(listing_id)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Inserts or (with `id`) updates a license; an edit resets its verification.
pub async fn save_license(
    conn: &mut PgConnection,
    listing_id: Uuid,
    id: Option<Uuid>,
    body: &LicenseBody,
) -> sqlx::Result<Option<Uuid>> {
    let target = id.unwrap_or_else(Uuid::now_v7);
    let sql = if id.is_some() {
        "update license set license_type = $3, license_number = $4, state = $5, expires_on = $6,
             verification_status = 'unverified', verification_note = null, verified_by = null, verified_at = null
         where id = $1 and listing_id = $2 returning id"
    } else {
        "insert into license (id, listing_id, license_type, license_number, state, expires_on)
         values ($1, $2, $3, $4, $5, $6) returning id"
    };
    sqlx::query_scalar(sql)
        .bind(target)
        .bind(listing_id)
        .bind(&body.license_type)
        .bind(&body.number)
        .bind(&body.state)
        .bind(body.expires_on)
        .fetch_optional(conn)
        .await
}

/// Inserts or (with `id`) updates a certification; an edit resets its verification.
/// `modality_id` is the resolved modality slug.
pub async fn save_certification(
    conn: &mut PgConnection,
    listing_id: Uuid,
    id: Option<Uuid>,
    body: &CertificationBody,
    modality_id: Option<i32>,
) -> sqlx::Result<Option<Uuid>> {
    let target = id.unwrap_or_else(Uuid::now_v7);
    let sql = if id.is_some() {
        "update certification set name = $3, issuer = $4, modality_id = $5, level = $6, credential_id = $7,
             issued_on = $8, expires_on = $9,
             verification_status = 'unverified', verification_note = null, verified_by = null, verified_at = null
         where id = $1 and listing_id = $2 returning id"
    } else {
        "insert into certification (id, listing_id, name, issuer, modality_id, level, credential_id, issued_on, expires_on)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id"
    };
    sqlx::query_scalar(sql)
        .bind(target)
        .bind(listing_id)
        .bind(&body.name)
        .bind(&body.issuer)
        .bind(modality_id)
        .bind(&body.level)
        .bind(&body.credential_id)
        .bind(body.issued_on)
        .bind(body.expires_on)
        .fetch_optional(conn)
        .await
}

pub async fn save_offering(
    conn: &mut PgConnection,
    listing_id: Uuid,
    id: Option<Uuid>,
    body: &OfferingBody,
) -> sqlx::Result<Option<Uuid>> {
    let target = id.unwrap_or_else(Uuid::now_v7);
    let sql = if id.is_some() {
        "update offering set kind = $3::offering_kind, title = $4, description = $5, format = $6::offering_format,
             price_cents = $7, duration_minutes = $8, starts_on = $9, ends_on = $10, location = $11
         where id = $1 and listing_id = $2 returning id"
    } else {
        "insert into offering (id, listing_id, kind, title, description, format, price_cents, duration_minutes,
             starts_on, ends_on, location)
         values ($1, $2, $3::offering_kind, $4, $5, $6::offering_format, $7, $8, $9, $10, $11) returning id"
    };
    sqlx::query_scalar(sql)
        .bind(target)
        .bind(listing_id)
        .bind(body.kind.as_str())
        .bind(&body.title)
        .bind(&body.description)
        .bind(body.format.as_str())
        .bind(body.price.amount_cents as i32)
        .bind(body.duration_minutes)
        .bind(body.starts_on)
        .bind(body.ends_on)
        .bind(&body.location)
        .fetch_optional(conn)
        .await
}
