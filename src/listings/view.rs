//! The whole listing as its owner (and admins) see it: every field, including review notes
//! and each credential's verification status and note. Field names match what PATCH takes.

use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use sqlx::types::Json;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::lifecycle::{ListingStatus, ListingVersion};
use crate::directory::profile::{OfferingRow, PublicOffering, PublicOffice};
use crate::domain::Money;
use crate::domain::vocab::VerificationStatus;

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
    /// `draft`, `pending_review`, `published`, `rejected`, `suspended` or `unpublished`.
    #[schema(value_type = String)]
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
    pub gender: Option<String>,
    pub languages: Vec<String>,
    pub age_groups: Vec<String>,
    pub communities: Vec<String>,
    pub faith: Option<String>,
    pub session_formats: Vec<String>,
    pub delivery: Vec<String>,
    pub accepting: String,
    pub free_consultation: bool,
    pub fee_min: Option<Money>,
    pub fee_max: Option<Money>,
    pub sliding_scale_min: Option<Money>,
    pub insurance_only: bool,
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

impl MyListing {
    pub fn etag(&self) -> String {
        ListingVersion(self.version).etag()
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    status: ListingStatus,
    slug: String,
    review_note: Option<String>,
    review_requested_at: Option<OffsetDateTime>,
    display_name: String,
    pronouns: Option<String>,
    credentials: Option<String>,
    professional_title: Option<String>,
    statement: Option<String>,
    photo_url: Option<String>,
    website_url: Option<String>,
    phone: Option<String>,
    contact_email: Option<String>,
    gender: Option<String>,
    languages: Vec<String>,
    age_groups: Vec<String>,
    communities: Vec<String>,
    faith: Option<String>,
    session_formats: Vec<String>,
    delivery: Vec<String>,
    accepting: String,
    free_consultation: bool,
    fee_min_cents: Option<i32>,
    fee_max_cents: Option<i32>,
    sliding_scale_min_cents: Option<i32>,
    insurance_only: bool,
    payment_methods: Vec<String>,
    hsa_fsa: bool,
    npi: Option<String>,
    taxonomy_code: Option<String>,
    years_in_practice: Option<i16>,
    telehealth_states: Vec<String>,
    last_confirmed_at: Option<OffsetDateTime>,
    published_at: Option<OffsetDateTime>,
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

const LISTING_SQL: &str = r#"
select l.id, l.status, l.slug, l.review_note, l.review_requested_at, l.display_name,
    l.pronouns, l.credentials, l.professional_title, l.statement, l.photo_url, l.website_url, l.phone,
    l.contact_email::text as contact_email, l.gender, l.languages, l.age_groups, l.communities, l.faith,
    l.session_formats, l.delivery, l.accepting::text as accepting, l.free_consultation, l.fee_min_cents,
    l.fee_max_cents, l.sliding_scale_min_cents, l.insurance_only, l.payment_methods, l.hsa_fsa,
    l.npi::text as npi, l.taxonomy_code, l.years_in_practice, l.telehealth_states, l.last_confirmed_at,
    l.published_at, l.version, l.updated_at,
    array(select m.slug from listing_modality lm join modality m on m.id = lm.modality_id
          where lm.listing_id = l.id order by m.slug) as modalities,
    array(select s.slug from listing_specialty ls join specialty s on s.id = ls.specialty_id
          where ls.listing_id = l.id order by s.slug) as specialties,
    array(select s.slug from listing_specialty ls join specialty s on s.id = ls.specialty_id
          where ls.listing_id = l.id and ls.is_top order by s.slug) as top_specialties,
    array(select i.slug from listing_insurer li join insurer i on i.id = li.insurer_id
          where li.listing_id = l.id order by i.slug) as insurers,
    coalesce((select json_agg(json_build_object(
        'id', o.id, 'label', o.label, 'address_line1', o.address_line1, 'address_line2', o.address_line2,
        'city', o.city, 'state', o.state, 'zip', o.zip, 'latitude', o.latitude, 'longitude', o.longitude,
        'wheelchair_accessible', o.wheelchair_accessible) order by o.created_at, o.id)
        from office o where o.listing_id = l.id), '[]') as offices,
    coalesce((select json_agg(json_build_object(
        'id', c.id, 'type', c.license_type, 'number', c.license_number, 'state', c.state,
        'expires_on', c.expires_on, 'verification_status', c.verification_status,
        'verification_note', c.verification_note) order by c.created_at, c.id)
        from license c where c.listing_id = l.id), '[]') as licenses,
    coalesce((select json_agg(json_build_object(
        'id', c.id, 'name', c.name, 'issuer', c.issuer, 'modality', m.slug, 'level', c.level,
        'credential_id', c.credential_id, 'issued_on', c.issued_on, 'expires_on', c.expires_on,
        'verification_status', c.verification_status, 'verification_note', c.verification_note)
        order by c.created_at, c.id)
        from certification c left join modality m on m.id = c.modality_id where c.listing_id = l.id), '[]') as certifications,
    coalesce((select json_agg(json_build_object(
        'id', f.id, 'kind', f.kind, 'title', f.title, 'description', f.description, 'format', f.format,
        'price_cents', f.price_cents, 'duration_minutes', f.duration_minutes, 'starts_on', f.starts_on,
        'ends_on', f.ends_on, 'location', f.location) order by f.created_at, f.id)
        from offering f where f.listing_id = l.id), '[]') as offerings
from listing l
"#;

fn money(cents: Option<i32>) -> Option<Money> {
    cents.map(|c| Money::from_db(i64::from(c)))
}

impl From<Row> for MyListing {
    fn from(r: Row) -> Self {
        MyListing {
            id: r.id,
            status: r.status,
            slug: r.slug,
            review_note: r.review_note,
            review_requested_at: r.review_requested_at,
            display_name: r.display_name,
            pronouns: r.pronouns,
            credentials: r.credentials,
            professional_title: r.professional_title,
            statement: r.statement,
            photo_url: r.photo_url,
            website_url: r.website_url,
            phone: r.phone,
            contact_email: r.contact_email,
            gender: r.gender,
            languages: r.languages,
            age_groups: r.age_groups,
            communities: r.communities,
            faith: r.faith,
            session_formats: r.session_formats,
            delivery: r.delivery,
            accepting: r.accepting,
            free_consultation: r.free_consultation,
            fee_min: money(r.fee_min_cents),
            fee_max: money(r.fee_max_cents),
            sliding_scale_min: money(r.sliding_scale_min_cents),
            insurance_only: r.insurance_only,
            payment_methods: r.payment_methods,
            hsa_fsa: r.hsa_fsa,
            npi: r.npi,
            taxonomy_code: r.taxonomy_code,
            years_in_practice: r.years_in_practice,
            telehealth_states: r.telehealth_states,
            modalities: r.modalities,
            specialties: r.specialties,
            top_specialties: r.top_specialties,
            insurers: r.insurers,
            offices: r.offices.0,
            licenses: r.licenses.0,
            certifications: r.certifications.0,
            offerings: r
                .offerings
                .0
                .into_iter()
                .map(PublicOffering::from)
                .collect(),
            last_confirmed_at: r.last_confirmed_at,
            published_at: r.published_at,
            version: r.version,
            updated_at: r.updated_at,
        }
    }
}

pub async fn by_account(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> sqlx::Result<Option<MyListing>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{LISTING_SQL} where l.account_id = $1"
    )))
    .bind(account_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(MyListing::from))
}

pub async fn by_id(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<MyListing>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{LISTING_SQL} where l.id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(MyListing::from))
}
