//! The public profile of a published listing, read in one round trip (children aggregated
//! as JSON by PostgreSQL). It carries only what the therapist chose to publish: no account
//! email, no review notes, no verification notes, no rejected credentials.

use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

use sqlx::PgExecutor;
use sqlx::types::Json;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::Money;
use crate::domain::vocab::{
    Accepting, AgeGroup, Community, Delivery, Faith, Gender, OfferingFormat, OfferingKind,
    PaymentMethod, SessionFormat, SpecialtyCategory, VerificationStatus, Vocabulary,
};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TermRef {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SpecialtyRef {
    pub slug: String,
    pub name: String,
    pub category: SpecialtyCategory,
    /// One of the therapist's (at most three) top specialties.
    pub top: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicOffice {
    pub id: Uuid,
    pub label: Option<String>,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub city: String,
    #[schema(example = "NC")]
    pub state: String,
    #[schema(example = "27601")]
    pub zip: String,
    pub latitude: f64,
    pub longitude: f64,
    pub wheelchair_accessible: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicLicense {
    pub id: Uuid,
    /// e.g. LPC, LMFT, LCSW, LCAS.
    #[serde(rename = "type")]
    pub license_type: String,
    pub number: String,
    pub state: String,
    pub expires_on: Option<Date>,
    /// `verified` or `unverified`: licenses an admin rejected are not shown.
    pub verification_status: VerificationStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicCertification {
    pub id: Uuid,
    pub name: String,
    pub issuer: String,
    /// Slug of the modality the certification is in, if any.
    pub modality: Option<String>,
    pub level: Option<String>,
    pub credential_id: Option<String>,
    pub issued_on: Option<Date>,
    pub expires_on: Option<Date>,
    /// Always `verified`: only verified certifications are public.
    pub verification_status: VerificationStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicOffering {
    pub id: Uuid,
    pub kind: OfferingKind,
    pub title: String,
    pub description: Option<String>,
    pub format: OfferingFormat,
    pub price: Money,
    pub duration_minutes: i32,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub location: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Availability {
    pub accepting: Accepting,
    pub free_consultation: bool,
    /// False after three different clients reported within 30 days that the therapist is
    /// unreachable or not taking clients, until the therapist confirms the listing again.
    pub confirmed: bool,
}

/// How quickly the therapist answers inquiries: the median of their latest responses
/// (at most 20), shown once there are at least 3.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResponseTime {
    #[schema(example = 5.5)]
    pub median_hours: f64,
    /// "within an hour", "within a few hours", "within a day", "within a few days",
    /// "within a week" or "in more than a week".
    #[schema(example = "within a few hours")]
    pub label: &'static str,
    /// Responses the figure is based on.
    pub based_on: i64,
}

/// Fewer responses than this show no figure.
pub const RESPONSE_TIME_MIN_SAMPLES: i64 = 3;

impl ResponseTime {
    fn from_samples(count: i64, median_seconds: Option<f64>) -> Option<Self> {
        let seconds = median_seconds.filter(|_| count >= RESPONSE_TIME_MIN_SAMPLES)?;
        let hours = seconds / 3600.0;
        let label = match hours {
            h if h <= 1.0 => "within an hour",
            h if h <= 6.0 => "within a few hours",
            h if h <= 24.0 => "within a day",
            h if h <= 72.0 => "within a few days",
            h if h <= 168.0 => "within a week",
            _ => "in more than a week",
        };
        Some(ResponseTime {
            median_hours: (hours * 10.0).round() / 10.0,
            label,
            based_on: count,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Fees {
    /// Lowest standard fee per session.
    pub min: Option<Money>,
    /// Highest standard fee per session.
    pub max: Option<Money>,
    /// The lowest a sliding scale goes, when the therapist offers one.
    pub sliding_scale_min: Option<Money>,
    pub insurance_only: bool,
    pub payment_methods: Vec<PaymentMethod>,
    /// Accepts HSA/FSA cards.
    pub hsa_fsa: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicProfile {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub pronouns: Option<String>,
    /// Credentials suffix, e.g. "LPCS, LCAS".
    pub credentials: Option<String>,
    pub professional_title: Option<String>,
    /// Plain text, as the therapist wrote it; render it escaped.
    pub statement: Option<String>,
    pub photo_url: Option<String>,
    pub website_url: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    /// The public contact address the therapist chose (never the account email).
    pub contact_email: Option<String>,
    pub gender: Option<Gender>,
    /// ISO 639 codes.
    pub languages: Vec<String>,
    pub age_groups: Vec<AgeGroup>,
    pub communities: Vec<Community>,
    pub faith: Option<Faith>,
    pub session_formats: Vec<SessionFormat>,
    pub delivery: Vec<Delivery>,
    pub availability: Availability,
    pub fees: Fees,
    pub insurers: Vec<TermRef>,
    pub modalities: Vec<TermRef>,
    pub specialties: Vec<SpecialtyRef>,
    pub npi: Option<String>,
    pub taxonomy_code: Option<String>,
    pub years_in_practice: Option<i16>,
    /// States where the therapist offers telehealth.
    pub telehealth_states: Vec<String>,
    pub offices: Vec<PublicOffice>,
    pub licenses: Vec<PublicLicense>,
    pub certifications: Vec<PublicCertification>,
    pub offerings: Vec<PublicOffering>,
    /// When the therapist last confirmed the listing is current.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_confirmed_at: Option<OffsetDateTime>,
    /// Not confirmed for 90 days: out of default search until the therapist confirms it.
    pub stale: bool,
    /// Null until the therapist has marked at least 3 inquiries responded.
    pub response_time: Option<ResponseTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
}

/// An offering as PostgreSQL aggregates it (price in cents).
#[derive(Deserialize)]
pub struct OfferingRow {
    id: Uuid,
    kind: OfferingKind,
    title: String,
    description: Option<String>,
    format: OfferingFormat,
    price_cents: i64,
    duration_minutes: i32,
    starts_on: Option<Date>,
    ends_on: Option<Date>,
    location: Option<String>,
}

/// The listing columns both the public profile and the owner's view read, as stored.
#[derive(sqlx::FromRow)]
pub struct ListingRow {
    pub(crate) id: Uuid,
    pub(crate) slug: String,
    pub(crate) display_name: String,
    pub(crate) pronouns: Option<String>,
    pub(crate) credentials: Option<String>,
    pub(crate) professional_title: Option<String>,
    pub(crate) statement: Option<String>,
    pub(crate) photo_url: Option<String>,
    pub(crate) website_url: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) contact_email: Option<String>,
    pub(crate) gender: Option<String>,
    pub(crate) languages: Vec<String>,
    pub(crate) age_groups: Vec<String>,
    pub(crate) communities: Vec<String>,
    pub(crate) faith: Option<String>,
    pub(crate) session_formats: Vec<String>,
    pub(crate) delivery: Vec<String>,
    pub(crate) accepting: String,
    pub(crate) free_consultation: bool,
    pub(crate) fee_min_cents: Option<i32>,
    pub(crate) fee_max_cents: Option<i32>,
    pub(crate) sliding_scale_min_cents: Option<i32>,
    pub(crate) insurance_only: bool,
    pub(crate) payment_methods: Vec<String>,
    pub(crate) hsa_fsa: bool,
    pub(crate) npi: Option<String>,
    pub(crate) taxonomy_code: Option<String>,
    pub(crate) years_in_practice: Option<i16>,
    pub(crate) telehealth_states: Vec<String>,
    pub(crate) last_confirmed_at: Option<OffsetDateTime>,
    pub(crate) published_at: Option<OffsetDateTime>,
}

/// The select list of [`ListingRow`], over `listing l`.
pub const LISTING_COLUMNS: &str = "l.id, l.slug, l.display_name, l.pronouns, l.credentials,
    l.professional_title, l.statement, l.photo_url, l.website_url, l.phone,
    l.contact_email::text as contact_email, l.gender, l.languages, l.age_groups, l.communities,
    l.faith, l.session_formats, l.delivery, l.accepting::text as accepting, l.free_consultation,
    l.fee_min_cents, l.fee_max_cents, l.sliding_scale_min_cents, l.insurance_only,
    l.payment_methods, l.hsa_fsa, l.npi::text as npi, l.taxonomy_code, l.years_in_practice,
    l.telehealth_states, l.last_confirmed_at, l.published_at";

/// Who reads a listing's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Only verified certifications and unrejected licenses, without the admin's notes,
    /// in display order.
    Public,
    /// Every part with its verification note, in the order it was added.
    Owner,
}

/// The listing's offices, licenses, certifications and offerings as JSON arrays (`[]` when
/// none), as `reader` may see them, for a query over `listing l`.
pub fn parts_json(reader: Reader) -> String {
    let (
        note,
        licenses_where,
        licenses_order,
        certifications_where,
        certifications_order,
        offerings,
    ) = match reader {
        Reader::Public => (
            "",
            "c.verification_status <> 'rejected'",
            "c.state, c.license_type",
            "c.verification_status = 'verified'",
            "c.name",
            "f.starts_on nulls last, f.title",
        ),
        Reader::Owner => (
            ", 'verification_note', c.verification_note",
            "true",
            "c.created_at, c.id",
            "true",
            "c.created_at, c.id",
            "f.created_at, f.id",
        ),
    };
    format!(
        "coalesce((select json_agg(json_build_object(
            'id', o.id, 'label', o.label, 'address_line1', o.address_line1,
            'address_line2', o.address_line2, 'city', o.city, 'state', o.state, 'zip', o.zip,
            'latitude', o.latitude, 'longitude', o.longitude,
            'wheelchair_accessible', o.wheelchair_accessible) order by o.created_at, o.id)
        from office o where o.listing_id = l.id), '[]') as offices,
    coalesce((select json_agg(json_build_object(
            'id', c.id, 'type', c.license_type, 'number', c.license_number, 'state', c.state,
            'expires_on', c.expires_on, 'verification_status', c.verification_status{note})
            order by {licenses_order})
        from license c where c.listing_id = l.id and {licenses_where}), '[]') as licenses,
    coalesce((select json_agg(json_build_object(
            'id', c.id, 'name', c.name, 'issuer', c.issuer, 'modality', m.slug, 'level', c.level,
            'credential_id', c.credential_id, 'issued_on', c.issued_on, 'expires_on', c.expires_on,
            'verification_status', c.verification_status{note}) order by {certifications_order})
        from certification c left join modality m on m.id = c.modality_id
        where c.listing_id = l.id and {certifications_where}), '[]') as certifications,
    coalesce((select json_agg(json_build_object(
            'id', f.id, 'kind', f.kind, 'title', f.title, 'description', f.description,
            'format', f.format, 'price_cents', f.price_cents, 'duration_minutes', f.duration_minutes,
            'starts_on', f.starts_on, 'ends_on', f.ends_on, 'location', f.location) order by {offerings})
        from offering f where f.listing_id = l.id), '[]') as offerings"
    )
}

/// `$ty { .. }` with every [`ListingRow`] field both views show unchanged taken from `$row`,
/// plus the fields given: the owner's view and the public profile differ only in those.
macro_rules! with_listing_fields {
    ($ty:ident, $row:ident, { $($field:ident: $value:expr),* $(,)? }) => {
        $ty {
            id: $row.id,
            slug: $row.slug,
            display_name: $row.display_name,
            pronouns: $row.pronouns,
            credentials: $row.credentials,
            professional_title: $row.professional_title,
            statement: $row.statement,
            photo_url: $row.photo_url,
            website_url: $row.website_url,
            phone: $row.phone,
            contact_email: $row.contact_email,
            languages: $row.languages,
            npi: $row.npi,
            taxonomy_code: $row.taxonomy_code,
            years_in_practice: $row.years_in_practice,
            telehealth_states: $row.telehealth_states,
            last_confirmed_at: $row.last_confirmed_at,
            published_at: $row.published_at,
            $($field: $value),*
        }
    };
}
pub(crate) use with_listing_fields;

impl ListingRow {
    pub fn fee_min(&self) -> Option<Money> {
        money(self.fee_min_cents)
    }
    pub fn fee_max(&self) -> Option<Money> {
        money(self.fee_max_cents)
    }
    pub fn sliding_scale_min(&self) -> Option<Money> {
        money(self.sliding_scale_min_cents)
    }
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    #[sqlx(flatten)]
    listing: ListingRow,
    stale: bool,
    availability_unconfirmed: bool,
    response_samples: i64,
    response_median_seconds: Option<f64>,
    modalities: Json<Vec<TermRef>>,
    specialties: Json<Vec<SpecialtyRef>>,
    insurers: Json<Vec<TermRef>>,
    offices: Json<Vec<PublicOffice>>,
    licenses: Json<Vec<PublicLicense>>,
    certifications: Json<Vec<PublicCertification>>,
    offerings: Json<Vec<OfferingRow>>,
}

static PROFILE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
select
    {LISTING_COLUMNS},
    l.stale_at is not null as stale, l.availability_unconfirmed_at is not null as availability_unconfirmed,
    rt.samples as response_samples, rt.median as response_median_seconds,
    coalesce((select json_agg(json_build_object('slug', m.slug, 'name', m.name) order by m.name)
              from listing_modality lm join modality m on m.id = lm.modality_id
              where lm.listing_id = l.id), '[]') as modalities,
    coalesce((select json_agg(json_build_object('slug', s.slug, 'name', s.name, 'category', s.category,
                                                'top', ls.is_top) order by ls.is_top desc, s.name)
              from listing_specialty ls join specialty s on s.id = ls.specialty_id
              where ls.listing_id = l.id), '[]') as specialties,
    coalesce((select json_agg(json_build_object('slug', i.slug, 'name', i.name) order by i.name)
              from listing_insurer li join insurer i on i.id = li.insurer_id
              where li.listing_id = l.id), '[]') as insurers,
    {parts}
from listing l
cross join lateral (
    select count(*) as samples, percentile_cont(0.5) within group (order by r.response_seconds) as median
    from (select response_seconds from inquiry_response
          where listing_id = l.id order by responded_at desc limit 20) r
) rt
where l.status = 'published' and (l.id = $1 or l.slug = $2)
  -- A suspended account's listing is hidden without touching the listing's own state.
  and exists (select 1 from account a where a.id = l.account_id and a.status = 'active')
"#,
        parts = parts_json(Reader::Public)
    )
});

/// A path's `{id_or_slug}` as the lookups bind it: a UUID, else a slug.
fn id_or_slug(key: &str) -> (Option<Uuid>, Option<&str>) {
    match Uuid::parse_str(key) {
        Ok(id) => (Some(id), None),
        Err(_) => (None, Some(key)),
    }
}

/// What inquiries and reports need to know about a public listing and its therapist.
#[derive(sqlx::FromRow)]
pub struct PublicListingRef {
    pub id: Uuid,
    pub display_name: String,
    /// `accepting`, `waitlist` or `not_accepting`.
    pub accepting: String,
    /// The therapist's sign-in address (verified).
    pub account_email: String,
    pub is_demo: bool,
}

/// The listing the public can see under `key` (published, account active), or `None`.
pub async fn find_public_listing(
    db: impl PgExecutor<'_>,
    key: &str,
) -> sqlx::Result<Option<PublicListingRef>> {
    if key.is_empty() || key.len() > 80 {
        return Ok(None);
    }
    let (id, slug) = id_or_slug(key);
    sqlx::query_as(
        "select l.id, l.display_name, l.accepting::text as accepting, a.email::text as account_email, a.is_demo
         from listing l join account a on a.id = l.account_id and a.status = 'active'
         where l.status = 'published' and (l.id = $1 or l.slug = $2)",
    )
    .bind(id)
    .bind(slug)
    .fetch_optional(db)
    .await
}

/// The published listing named by `id_or_slug`, or `None` for anything else.
#[tracing::instrument(skip(db))]
pub async fn find_published(
    db: impl PgExecutor<'_>,
    id_or_slug_key: &str,
) -> sqlx::Result<Option<PublicProfile>> {
    let (id, slug) = id_or_slug(id_or_slug_key);
    let row: Option<ProfileRow> = sqlx::query_as(sqlx::AssertSqlSafe(PROFILE_SQL.as_str()))
        .bind(id)
        .bind(slug)
        .fetch_optional(db)
        .await?;
    Ok(row.map(PublicProfile::from))
}

impl From<OfferingRow> for PublicOffering {
    fn from(o: OfferingRow) -> Self {
        PublicOffering {
            id: o.id,
            kind: o.kind,
            title: o.title,
            description: o.description,
            format: o.format,
            price: Money::from_db(o.price_cents),
            duration_minutes: o.duration_minutes,
            starts_on: o.starts_on,
            ends_on: o.ends_on,
            location: o.location,
        }
    }
}

fn money(cents: Option<i32>) -> Option<Money> {
    cents.map(|c| Money::from_db(i64::from(c)))
}

impl From<ProfileRow> for PublicProfile {
    fn from(r: ProfileRow) -> Self {
        let l = r.listing;
        // Read before `with_listing_fields!` moves the row's fields out.
        let fees = Fees {
            min: l.fee_min(),
            max: l.fee_max(),
            sliding_scale_min: l.sliding_scale_min(),
            insurance_only: l.insurance_only,
            payment_methods: PaymentMethod::from_stored(&l.payment_methods),
            hsa_fsa: l.hsa_fsa,
        };
        let availability = Availability {
            accepting: Accepting::parse(&l.accepting).unwrap_or(Accepting::NotAccepting),
            free_consultation: l.free_consultation,
            confirmed: !r.availability_unconfirmed,
        };
        with_listing_fields!(PublicProfile, l, {
            fees: fees,
            availability: availability,
            gender: l.gender.as_deref().and_then(Gender::parse),
            age_groups: AgeGroup::from_stored(&l.age_groups),
            communities: Community::from_stored(&l.communities),
            faith: l.faith.as_deref().and_then(Faith::parse),
            session_formats: SessionFormat::from_stored(&l.session_formats),
            delivery: Delivery::from_stored(&l.delivery),
            insurers: r.insurers.0,
            modalities: r.modalities.0,
            specialties: r.specialties.0,
            offices: r.offices.0,
            licenses: r.licenses.0,
            certifications: r.certifications.0,
            offerings: r.offerings.0.into_iter().map(PublicOffering::from).collect(),
            stale: r.stale,
            response_time: ResponseTime::from_samples(
                r.response_samples,
                r.response_median_seconds,
            ),
        })
    }
}
