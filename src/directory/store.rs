//! The directory's SQL: the public profile read in one round trip (children aggregated as
//! JSON by PostgreSQL), the listing columns the owner's view shares, and rebuilding
//! `directory_entry` (the public row of each listing) in bulk.

use serde::Deserialize;
use std::sync::LazyLock;

use sqlx::PgExecutor;
use sqlx::types::Json;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::domain::Money;
use crate::domain::vocab::{
    Accepting, AgeGroup, Community, Delivery, Faith, Gender, OfferingFormat, OfferingKind,
    PaymentMethod, SessionFormat, Vocabulary,
};

use super::model::*;
use sqlx::PgPool;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

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

// Rebuilding `directory_entry` in bulk. Normal writes never need it (a trigger keeps
// entries current); bulk loads and `reindex-directory` do. Each rebuilt entry is a change
// of the feed, so every running search index picks it up.

const CHUNK: usize = 5_000;

/// Rebuilds the entries of `ids` with `workers` connections at once.
pub async fn refresh(pool: &PgPool, ids: Vec<Uuid>, workers: usize) -> anyhow::Result<()> {
    let chunks: VecDeque<Vec<Uuid>> = ids.chunks(CHUNK).map(<[Uuid]>::to_vec).collect();
    let queue = Arc::new(Mutex::new(chunks));
    let mut tasks = Vec::new();
    for _ in 0..workers.max(1) {
        let queue = queue.clone();
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue
                    .lock()
                    .map_err(|_| anyhow::anyhow!("queue poisoned"))?
                    .pop_front();
                let Some(chunk) = next else {
                    return Ok::<(), anyhow::Error>(());
                };
                let mut tx = crate::db::begin_bulk(&pool).await?;
                sqlx::query("set local work_mem = '64MB'")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("select directory_refresh($1)")
                    .bind(&chunk)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let mut tx = crate::db::begin_bulk(pool).await?;
    sqlx::query("analyze directory_entry")
        .execute(&mut *tx)
        .await?;
    sqlx::query("analyze directory_office")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Every listing's entry, rebuilt (after a restore, or an interrupted bulk load).
pub async fn reindex_all(pool: &PgPool, workers: usize) -> anyhow::Result<usize> {
    let ids: Vec<Uuid> =
        sqlx::query_scalar("select id from listing where status = 'published' order by id")
            .fetch_all(pool)
            .await?;
    let count = ids.len();
    refresh(pool, ids, workers).await?;
    Ok(count)
}
