//! The directory's SQL: the public profile read in one round trip (children aggregated as
//! JSON by PostgreSQL, the profile's columns as the listing feature names them), and
//! rebuilding `directory_entry` (the public row of each listing) in bulk.

use std::sync::LazyLock;

use sqlx::PgExecutor;
use uuid::Uuid;

use super::model::{PublicProfile, PublishedListing};
use crate::domain::vocab::Accepting;
use crate::listings::store::{PROFILE_COLUMNS, Reader, parts_json};
use sqlx::PgPool;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// The profile read, for the listings `filter` admits (binding `$1`); `photo` picks the
/// photo row shown.
fn profile_sql(filter: &str, photo: &str) -> String {
    format!(
        r#"
select
    l.id, l.slug, {PROFILE_COLUMNS}, l.last_confirmed_at, l.published_at, l.updated_at,
    l.stale_at is not null as stale, l.availability_unconfirmed_at is not null as availability_unconfirmed,
    rt.samples as response_samples, rt.median as response_median_seconds,
    (select ph.objects from listing_photo ph where ph.listing_id = l.id and {photo}) as photo,
    coalesce((select json_agg(json_build_object('slug', m.slug, 'name', m.name) order by m.name)
              from listing_modality lm join modality m on m.id = lm.modality_id
              where lm.listing_id = l.id), '[]') as modality_terms,
    coalesce((select json_agg(json_build_object('slug', s.slug, 'name', s.name, 'category', s.category,
                                                'top', ls.is_top) order by ls.is_top desc, s.name)
              from listing_specialty ls join specialty s on s.id = ls.specialty_id
              where ls.listing_id = l.id), '[]') as specialty_terms,
    coalesce((select json_agg(json_build_object('slug', i.slug, 'name', i.name) order by i.name)
              from listing_insurer li join insurer i on i.id = li.insurer_id
              where li.listing_id = l.id), '[]') as insurer_terms,
    {parts}
from listing l
cross join lateral (
    select count(*) as samples, percentile_cont(0.5) within group (order by r.response_seconds) as median
    from (select response_seconds from inquiry_response
          where listing_id = l.id order by responded_at desc limit 20) r
) rt
where {filter}
"#,
        parts = parts_json(Reader::Public)
    )
}

/// A published listing by id or slug (`$1`, `$2`) whose account is active.
static PROFILE_SQL: LazyLock<String> = LazyLock::new(|| {
    profile_sql(
        "l.status = 'published' and (l.id = $1 or l.slug = $2)
  -- A suspended account's listing is hidden without touching the listing's own state.
  and exists (select 1 from account a where a.id = l.account_id and a.status = 'active')",
        "ph.status = 'approved'",
    )
});

/// The listing of account `$1` in any state, with the photo it would show once reviewed:
/// the newest upload unless it was rejected, else the approved one.
static PREVIEW_SQL: LazyLock<String> = LazyLock::new(|| {
    profile_sql(
        "l.account_id = $1",
        "ph.status <> 'rejected' order by ph.status = 'approved', ph.created_at desc limit 1",
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
pub struct PublicListingRef {
    pub id: Uuid,
    pub display_name: String,
    pub accepting: Accepting,
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
    sqlx::query_as!(
        PublicListingRef,
        r#"select l.id, l.display_name, l.accepting as "accepting: Accepting",
                a.email::text as "account_email!", a.is_demo
         from listing l join account a on a.id = l.account_id and a.status = 'active'
         where l.status = 'published' and (l.id = $1 or l.slug = $2)"#,
        id,
        slug
    )
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
    let row: Option<PublishedListing> = sqlx::query_as(sqlx::AssertSqlSafe(PROFILE_SQL.as_str()))
        .bind(id)
        .bind(slug)
        .fetch_optional(db)
        .await?;
    Ok(row.map(PublicProfile::from))
}

/// The listing of `account_id` as its public profile would show it now, whatever its state.
#[tracing::instrument(skip(db))]
pub async fn preview(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> sqlx::Result<Option<PublicProfile>> {
    let row: Option<PublishedListing> = sqlx::query_as(sqlx::AssertSqlSafe(PREVIEW_SQL.as_str()))
        .bind(account_id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(PublicProfile::from))
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
                sqlx::query!("set local work_mem = '64MB'")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query!("select directory_refresh($1)", &chunk)
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
    sqlx::query!("analyze directory_entry")
        .execute(&mut *tx)
        .await?;
    sqlx::query!("analyze directory_office")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Every listing's entry, rebuilt (after a restore, or an interrupted bulk load).
pub async fn reindex_all(pool: &PgPool, workers: usize) -> anyhow::Result<usize> {
    let ids: Vec<Uuid> =
        sqlx::query_scalar!("select id from listing where status = 'published' order by id")
            .fetch_all(pool)
            .await?;
    let count = ids.len();
    refresh(pool, ids, workers).await?;
    Ok(count)
}
