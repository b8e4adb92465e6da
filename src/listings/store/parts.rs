//! SQL for a listing's parts: offices, licenses, certifications and offerings, each
//! scoped to its listing so another listing's id changes nothing.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::vocab::Vocabulary;
use crate::listings::body::{CertificationBody, LicenseBody, OfferingBody};
use crate::listings::model::OfficeInput;

/// Inserts or (with `id`) updates an office; `None` when `id` is not this listing's.
#[tracing::instrument(skip(conn, office))]
pub async fn save_office(
    conn: &mut PgConnection,
    listing_id: Uuid,
    id: Option<Uuid>,
    office: &OfficeInput,
) -> sqlx::Result<Option<Uuid>> {
    let target = id.unwrap_or_else(Uuid::now_v7);
    let sql = if id.is_some() {
        "update office set label = $3, address_line1 = $4, address_line2 = $5, city = $6, state = $7, zip = $8,
             latitude = $9, longitude = $10, wheelchair_accessible = $11
         where id = $1 and listing_id = $2 returning id"
    } else {
        "insert into office (id, listing_id, label, address_line1, address_line2, city, state, zip,
                             latitude, longitude, wheelchair_accessible)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning id"
    };
    let point = office.location();
    sqlx::query_scalar(sql)
        .bind(target)
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
        .fetch_optional(conn)
        .await
}

/// Adds an office and returns its id (test fixtures build listings with it).
pub async fn insert_office(
    conn: &mut PgConnection,
    listing_id: Uuid,
    office: &OfficeInput,
) -> sqlx::Result<Uuid> {
    save_office(conn, listing_id, None, office)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Deletes a part (`office`, `license`, `certification`, `offering`) of this listing only.
#[tracing::instrument(skip(conn))]
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
#[tracing::instrument(skip(conn))]
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

/// Inserts or (with `id`) updates a license; an edit resets its verification.
#[tracing::instrument(skip(conn, body))]
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
#[tracing::instrument(skip(conn, body))]
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

#[tracing::instrument(skip(conn, body))]
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
