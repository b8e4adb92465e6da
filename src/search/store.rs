//! The SQL of search: the index's reads of `directory_entry` and the change feed, in bulk
//! and by subject. A search itself reads no SQL: the index holds what its items show.

use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::model::Summary;

use super::card::Card;
use super::index::{Entry, Taxonomy, Term};
use super::map_order::Placement;

/// The subject of a taxonomy change in `directory_change`.
pub const TAXONOMY_SUBJECT: Uuid = Uuid::nil();

const ENTRY_COLUMNS: &str =
    "e.listing_id, e.display_name, e.summary->>'credentials' as credentials,
    e.summary->>'professional_title' as professional_title, e.statement, e.offering_titles,
    array(select o->>'city' from jsonb_array_elements(e.summary->'offices') o) as cities,
    e.accepting = 'accepting' as accepting, e.free_consultation, e.fee_floor_cents,
    e.sliding_scale, e.gender, e.faith, e.languages, e.age_groups, e.communities,
    e.session_formats, e.delivery, e.states, e.telehealth_states, e.modality_ids,
    e.specialty_ids, e.insurer_ids, e.certified_modality_ids, e.license_verified,
    e.offering_kinds, e.last_confirmed_at, e.stale,
    coalesce(o.lat, '{}') as office_lat, coalesce(o.lng, '{}') as office_lng,
    e.summary, e.availability_unconfirmed, l.updated_at, e.photo";

/// Offices as two arrays (latitudes, longitudes) per listing.
const OFFICES: &str = "select f.listing_id, array_agg(f.location[1] order by f.position) as lat,
    array_agg(f.location[0] order by f.position) as lng from directory_office f";

fn entry(row: &PgRow) -> Result<Entry, sqlx::Error> {
    let lat: Vec<f64> = row.try_get("office_lat")?;
    let lng: Vec<f64> = row.try_get("office_lng")?;
    Ok(Entry {
        listing_id: row.try_get("listing_id")?,
        display_name: row.try_get("display_name")?,
        credentials: row.try_get("credentials")?,
        professional_title: row.try_get("professional_title")?,
        statement: row.try_get("statement")?,
        offering_titles: row.try_get("offering_titles")?,
        cities: row.try_get("cities")?,
        accepting: row.try_get("accepting")?,
        free_consultation: row.try_get("free_consultation")?,
        fee_floor_cents: row.try_get("fee_floor_cents")?,
        sliding_scale: row.try_get("sliding_scale")?,
        gender: row.try_get("gender")?,
        faith: row.try_get("faith")?,
        languages: row.try_get("languages")?,
        age_groups: row.try_get("age_groups")?,
        communities: row.try_get("communities")?,
        session_formats: row.try_get("session_formats")?,
        delivery: row.try_get("delivery")?,
        states: row.try_get("states")?,
        telehealth_states: row.try_get("telehealth_states")?,
        modality_ids: row.try_get("modality_ids")?,
        specialty_ids: row.try_get("specialty_ids")?,
        insurer_ids: row.try_get("insurer_ids")?,
        certified_modality_ids: row.try_get("certified_modality_ids")?,
        license_verified: row.try_get("license_verified")?,
        offering_kinds: row.try_get("offering_kinds")?,
        last_confirmed_at: row.try_get::<Option<OffsetDateTime>, _>("last_confirmed_at")?,
        stale: row.try_get("stale")?,
        offices: lat.into_iter().zip(lng).collect(),
        card: Some(Card {
            summary: row.try_get::<Json<Summary>, _>("summary")?.0,
            updated_at: row.try_get("updated_at")?,
            availability_unconfirmed: row.try_get("availability_unconfirmed")?,
            photo: row
                .try_get::<Option<Json<crate::photos::model::Photo>>, _>("photo")?
                .map(|p| p.0),
        }),
    })
}

/// The taxonomy, retired terms included (they stay known so that filters naming them are
/// refused as retired, and facets leave them out).
pub async fn taxonomy(conn: &mut PgConnection) -> Result<Taxonomy, sqlx::Error> {
    let mut taxonomy = Taxonomy::default();
    for (table, into) in [
        ("modality", &mut taxonomy.modality),
        ("specialty", &mut taxonomy.specialty),
        ("insurer", &mut taxonomy.insurer),
    ] {
        let sql = format!(
            "select id, slug, name, name_es, retired_at is not null as retired from {table} order by id"
        );
        *into = sqlx::query_as::<_, (i32, String, String, Option<String>, bool)>(
            sqlx::AssertSqlSafe(sql),
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(id, slug, name, name_es, retired)| Term {
            id,
            slug,
            name,
            name_es,
            retired,
        })
        .collect();
    }
    Ok(taxonomy)
}

/// The feed's position: the latest change number committed.
pub async fn latest_change(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!("select coalesce(max(seq), 0) as \"seq!\" from directory_change")
        .fetch_one(conn)
        .await
}

/// The change feed's epoch (migration 0033) and the database's name: which database a
/// snapshot of the index belongs to.
pub async fn feed_identity(conn: &mut PgConnection) -> Result<(Uuid, String), sqlx::Error> {
    let row = sqlx::query!(
        r#"select epoch, current_database() as "database!" from directory_feed_epoch"#
    )
    .fetch_one(conn)
    .await?;
    Ok((row.epoch, row.database))
}

/// Where each public listing is, for the order a build reads them in (`map_order`).
pub async fn placements(conn: &mut PgConnection) -> Result<Vec<Placement>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select e.listing_id, f.location[1] as "lat?", f.location[0] as "lng?",
                  e.states[1] as "state?"
           from directory_entry e
           left join directory_office f on f.listing_id = e.listing_id and f.position = 0"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Placement {
            listing_id: r.listing_id,
            office: r.lat.zip(r.lng).map(|(lat, lng)| [lat, lng]),
            state: r.state,
        })
        .collect())
}

/// Subjects changed after `after`, at most `limit`, in change order.
pub async fn changes_after(
    pool: &PgPool,
    after: i64,
    limit: i64,
) -> Result<Vec<(Uuid, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        "select subject, seq from directory_change where seq > $1 order by seq limit $2",
        after,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.subject, r.seq)).collect())
}

/// The current entries of `ids` (absent: no longer public).
pub async fn entries(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Entry>, sqlx::Error> {
    let sql = format!(
        "select {ENTRY_COLUMNS} from directory_entry e
         join listing l on l.id = e.listing_id
         left join lateral ({OFFICES} where f.listing_id = e.listing_id group by f.listing_id) o on true
         where e.listing_id = any($1)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ids)
        .fetch_all(conn)
        .await?
        .iter()
        .map(entry)
        .collect()
}
