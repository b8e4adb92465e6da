//! The whole listing as its owner (and admins) see it: every field, including review notes
//! and each credential's verification status and note. Field names match what PATCH takes.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use sqlx::types::Json;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::directory::model::{PublicOffering, PublicOffice};
use crate::directory::store::{
    LISTING_COLUMNS, ListingRow, OfferingRow, Reader, parts_json, with_listing_fields,
};
use crate::domain::Money;
use crate::domain::vocab::{ListingStatus, VerificationStatus};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct License {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub license_type: String,
    pub number: String,
    pub state: String,
    pub expires_on: Option<Date>,
    pub verification_status: VerificationStatus,
    /// The admin's note when verifying or rejecting.
    pub verification_note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Certification {
    pub id: Uuid,
    pub name: String,
    pub issuer: String,
    pub modality: Option<String>,
    pub level: Option<String>,
    pub credential_id: Option<String>,
    pub issued_on: Option<Date>,
    pub expires_on: Option<Date>,
    pub verification_status: VerificationStatus,
    pub verification_note: Option<String>,
}

/// A therapist's own listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyListing {
    pub id: Uuid,
    pub status: ListingStatus,
    pub slug: String,
    /// Why an admin rejected or suspended the listing, for the therapist to act on.
    pub review_note: Option<String>,
    /// Set while the listing waits for an admin (after submit, or after a material edit
    /// to a published listing, which stays published meanwhile).
    #[serde(with = "time::serde::rfc3339::option")]
    pub review_requested_at: Option<OffsetDateTime>,
    pub display_name: String,
    pub pronouns: Option<String>,
    pub credentials: Option<String>,
    pub professional_title: Option<String>,
    pub statement: Option<String>,
    pub photo_url: Option<String>,
    pub website_url: Option<String>,
    pub phone: Option<String>,
    pub contact_email: Option<String>,
    // Stored and sent as their wire strings; documented as the vocabularies they are drawn
    // from, so a client can send them back in a patch as they came.
    #[schema(value_type = Option<crate::domain::vocab::Gender>)]
    pub gender: Option<String>,
    pub languages: Vec<String>,
    #[schema(value_type = Vec<crate::domain::vocab::AgeGroup>)]
    pub age_groups: Vec<String>,
    #[schema(value_type = Vec<crate::domain::vocab::Community>)]
    pub communities: Vec<String>,
    #[schema(value_type = Option<crate::domain::vocab::Faith>)]
    pub faith: Option<String>,
    #[schema(value_type = Vec<crate::domain::vocab::SessionFormat>)]
    pub session_formats: Vec<String>,
    #[schema(value_type = Vec<crate::domain::vocab::Delivery>)]
    pub delivery: Vec<String>,
    #[schema(value_type = crate::domain::vocab::Accepting)]
    pub accepting: String,
    pub free_consultation: bool,
    pub fee_min: Option<Money>,
    pub fee_max: Option<Money>,
    pub sliding_scale_min: Option<Money>,
    pub insurance_only: bool,
    #[schema(value_type = Vec<crate::domain::vocab::PaymentMethod>)]
    pub payment_methods: Vec<String>,
    pub hsa_fsa: bool,
    pub npi: Option<String>,
    pub taxonomy_code: Option<String>,
    pub years_in_practice: Option<i16>,
    pub telehealth_states: Vec<String>,
    /// Modality slugs.
    pub modalities: Vec<String>,
    /// Specialty slugs.
    pub specialties: Vec<String>,
    /// Up to three of `specialties`, shown first.
    pub top_specialties: Vec<String>,
    /// Insurer slugs.
    pub insurers: Vec<String>,
    pub offices: Vec<PublicOffice>,
    pub licenses: Vec<License>,
    pub certifications: Vec<Certification>,
    pub offerings: Vec<PublicOffering>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_confirmed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// Bumped by every change; the `ETag` is derived from it.
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct Row {
    #[sqlx(flatten)]
    listing: ListingRow,
    status: ListingStatus,
    review_note: Option<String>,
    review_requested_at: Option<OffsetDateTime>,
    version: i32,
    updated_at: OffsetDateTime,
    modalities: Vec<String>,
    specialties: Vec<String>,
    top_specialties: Vec<String>,
    insurers: Vec<String>,
    offices: Json<Vec<PublicOffice>>,
    licenses: Json<Vec<License>>,
    certifications: Json<Vec<Certification>>,
    offerings: Json<Vec<OfferingRow>>,
}

/// Every column of the owner's view; the caller adds the `where`.
static LISTING_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
select {LISTING_COLUMNS},
    l.status, l.review_note, l.review_requested_at, l.version, l.updated_at,
    array(select m.slug from listing_modality lm join modality m on m.id = lm.modality_id
          where lm.listing_id = l.id order by m.slug) as modalities,
    array(select s.slug from listing_specialty ls join specialty s on s.id = ls.specialty_id
          where ls.listing_id = l.id order by s.slug) as specialties,
    array(select s.slug from listing_specialty ls join specialty s on s.id = ls.specialty_id
          where ls.listing_id = l.id and ls.is_top order by s.slug) as top_specialties,
    array(select i.slug from listing_insurer li join insurer i on i.id = li.insurer_id
          where li.listing_id = l.id order by i.slug) as insurers,
    {parts}
from listing l
"#,
        parts = parts_json(Reader::Owner)
    )
});

impl From<Row> for MyListing {
    fn from(r: Row) -> Self {
        let l = r.listing;
        let (fee_min, fee_max) = (l.fee_min(), l.fee_max());
        let sliding_scale_min = l.sliding_scale_min();
        with_listing_fields!(MyListing, l, {
            status: r.status,
            review_note: r.review_note,
            review_requested_at: r.review_requested_at,
            fee_min: fee_min,
            fee_max: fee_max,
            sliding_scale_min: sliding_scale_min,
            gender: l.gender,
            age_groups: l.age_groups,
            communities: l.communities,
            faith: l.faith,
            session_formats: l.session_formats,
            delivery: l.delivery,
            accepting: l.accepting,
            free_consultation: l.free_consultation,
            insurance_only: l.insurance_only,
            payment_methods: l.payment_methods,
            hsa_fsa: l.hsa_fsa,
            modalities: r.modalities,
            specialties: r.specialties,
            top_specialties: r.top_specialties,
            insurers: r.insurers,
            offices: r.offices.0,
            licenses: r.licenses.0,
            certifications: r.certifications.0,
            offerings: r.offerings.0.into_iter().map(PublicOffering::from).collect(),
            version: r.version,
            updated_at: r.updated_at,
        })
    }
}

pub async fn by_account(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> sqlx::Result<Option<MyListing>> {
    one_where(db, "l.account_id", account_id).await
}

pub async fn by_id(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<MyListing>> {
    one_where(db, "l.id", id).await
}

/// The listing whose `column` (a column name, never input) is `id`.
async fn one_where(
    db: impl PgExecutor<'_>,
    column: &'static str,
    id: Uuid,
) -> sqlx::Result<Option<MyListing>> {
    let sql = format!("{} where {column} = $1", *LISTING_SQL);
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(MyListing::from))
}
