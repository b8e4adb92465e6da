//! The statistics' SQL: a flush's upserts, the reports, an inquiry's count and retention.

use sqlx::{PgConnection, PgExecutor};
use time::Date;
use uuid::Uuid;

use super::model::{DateRange, DemandKind, ListingDay, SearchDay, UnmetSearch};
use super::tally::{DayCounts, Demand, DemandKey, ListingCounts};

/// Adds one interval's listing counts: one row per listing and day, in key order so that
/// processes flushing at once lock rows in the same order. Listings deleted meanwhile are
/// left out.
pub async fn add_listing_counts(
    db: impl PgExecutor<'_>,
    rows: &[((Uuid, Date), ListingCounts)],
) -> sqlx::Result<()> {
    let ids: Vec<Uuid> = rows.iter().map(|((id, _), _)| *id).collect();
    let days: Vec<Date> = rows.iter().map(|((_, day), _)| *day).collect();
    let views: Vec<i64> = rows.iter().map(|(_, c)| c.profile_views.into()).collect();
    let shown: Vec<i64> = rows
        .iter()
        .map(|(_, c)| c.search_appearances.into())
        .collect();
    sqlx::query!(
        "insert into listing_stat_day as s (listing_id, day, profile_views, search_appearances)
         select c.listing_id, c.day, c.views, c.shown
           from unnest($1::uuid[], $2::date[], $3::bigint[], $4::bigint[]) as c(listing_id, day, views, shown)
           join listing l on l.id = c.listing_id
          order by c.listing_id, c.day
         on conflict (listing_id, day) do update
            set profile_views = s.profile_views + excluded.profile_views,
                search_appearances = s.search_appearances + excluded.search_appearances",
        &ids,
        &days,
        &views,
        &shown
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Adds one interval's searches per day.
pub async fn add_search_days(
    db: impl PgExecutor<'_>,
    rows: &[(Date, DayCounts)],
) -> sqlx::Result<()> {
    let days: Vec<Date> = rows.iter().map(|(d, _)| *d).collect();
    let column =
        |f: fn(&DayCounts) -> u64| -> Vec<i64> { rows.iter().map(|(_, c)| f(c) as i64).collect() };
    sqlx::query!(
        "insert into search_day as s (day, searches, without_results, with_few_results)
         select * from unnest($1::date[], $2::bigint[], $3::bigint[], $4::bigint[]) order by 1
         on conflict (day) do update
            set searches = s.searches + excluded.searches,
                without_results = s.without_results + excluded.without_results,
                with_few_results = s.with_few_results + excluded.with_few_results",
        &days,
        &column(|c| c.searches),
        &column(|c| c.without_results),
        &column(|c| c.with_few_results),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Adds one interval's searches that found little: counts add up, network sketches merge
/// by OR while the day is open (a sealed day has none left and keeps its count).
pub async fn add_demand(db: impl PgExecutor<'_>, rows: &[(DemandKey, Demand)]) -> sqlx::Result<()> {
    let days: Vec<Date> = rows.iter().map(|(k, _)| k.day).collect();
    let kinds: Vec<&str> = rows.iter().map(|(k, _)| k.kind.as_str()).collect();
    let terms: Vec<&str> = rows.iter().map(|(k, _)| k.term.as_str()).collect();
    let searches: Vec<i64> = rows.iter().map(|(_, d)| d.searches.into()).collect();
    let empty: Vec<i64> = rows.iter().map(|(_, d)| d.without_results.into()).collect();
    let sketches: Vec<Vec<u8>> = rows.iter().map(|(_, d)| d.networks.to_bytes()).collect();
    sqlx::query!(
        "insert into search_demand_day as d (day, kind, term, searches, without_results, network_sketch, networks)
         select c.day, c.kind::search_demand_kind, c.term, c.searches, c.empty, c.sketch, network_estimate(c.sketch)
           from (select day, kind, term, searches, empty, ('x' || encode(sketch, 'hex'))::bit(1024) as sketch
                   from unnest($1::date[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bytea[])
                        as u(day, kind, term, searches, empty, sketch)) c
          order by 1, 2, 3
         on conflict (day, kind, term) do update
            set searches = d.searches + excluded.searches,
                without_results = d.without_results + excluded.without_results,
                network_sketch = d.network_sketch | excluded.network_sketch,
                networks = greatest(d.networks, excluded.networks,
                                    network_estimate(d.network_sketch | excluded.network_sketch))",
        &days,
        &kinds as &[&str],
        &terms as &[&str],
        &searches,
        &empty,
        &sketches,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Counts an inquiry to `listing_id`, in the transaction that stores it.
pub async fn count_inquiry(
    conn: &mut PgConnection,
    listing_id: Uuid,
    day: Date,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into listing_stat_day as s (listing_id, day, inquiries) values ($1, $2, 1)
         on conflict (listing_id, day) do update set inquiries = s.inquiries + 1",
        listing_id,
        day
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The days of `range` on which the account's listing has counts, in order; `None` when
/// the account has no listing.
pub async fn listing_days(
    pool: &sqlx::PgPool,
    account_id: Uuid,
    range: DateRange,
) -> sqlx::Result<Option<Vec<ListingDay>>> {
    let Some(listing_id) =
        sqlx::query_scalar!("select id from listing where account_id = $1", account_id)
            .fetch_optional(pool)
            .await?
    else {
        return Ok(None);
    };
    let days = sqlx::query_as!(
        ListingDay,
        "select day as date, profile_views, search_appearances, inquiries
           from listing_stat_day where listing_id = $1 and day between $2 and $3 order by day",
        listing_id,
        range.from,
        range.to
    )
    .fetch_all(pool)
    .await?;
    Ok(Some(days))
}

/// Every stored day of the account's listing (at most `KEEP_DAYS`), for its export.
pub async fn all_listing_days(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> sqlx::Result<Vec<ListingDay>> {
    sqlx::query_as!(
        ListingDay,
        "select s.day as date, s.profile_views, s.search_appearances, s.inquiries
           from listing_stat_day s join listing l on l.id = s.listing_id
          where l.account_id = $1 order by s.day",
        account_id
    )
    .fetch_all(db)
    .await
}

/// Searches per day over `range` (days without searches are absent).
pub async fn search_days(
    db: impl PgExecutor<'_>,
    range: DateRange,
) -> sqlx::Result<Vec<SearchDay>> {
    sqlx::query_as!(
        SearchDay,
        "select day as date, searches, without_results, with_few_results
           from search_day where day between $1 and $2 order by day",
        range.from,
        range.to
    )
    .fetch_all(db)
    .await
}

/// The `limit` terms of `kind` sent by the most networks over `range`, counting only the
/// days on which at least `min_networks` networks sent them.
pub async fn unmet(
    db: impl PgExecutor<'_>,
    kind: DemandKind,
    range: DateRange,
    min_networks: i32,
    limit: i64,
) -> sqlx::Result<Vec<UnmetSearch>> {
    sqlx::query_as!(
        UnmetSearch,
        r#"select term, sum(searches)::bigint as "searches!", sum(without_results)::bigint as "without_results!",
                  sum(networks)::bigint as "networks!", count(*) as "days!"
             from search_demand_day
            where kind = $1::text::search_demand_kind and day between $2 and $3 and networks >= $4
            group by term
            order by 4 desc, 2 desc, term
            limit $5"#,
        kind.as_str(),
        range.from,
        range.to,
        min_networks,
        limit
    )
    .fetch_all(db)
    .await
}

/// Seals the days before `open_from`: their sketches are dropped, keeping the count, and
/// the terms fewer than `min_networks` networks sent are deleted. Returns rows changed.
pub async fn seal_demand(
    conn: &mut PgConnection,
    open_from: Date,
    min_networks: i32,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        "delete from search_demand_day where day < $1 and networks < $2",
        open_from,
        min_networks
    )
    .execute(&mut *conn)
    .await?;
    let sealed = sqlx::query!(
        "update search_demand_day set network_sketch = null
          where day < $1 and network_sketch is not null",
        open_from
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected() + sealed.rows_affected())
}

/// Deletes up to `limit` daily counts from before `cutoff`; how many.
pub async fn delete_before(conn: &mut PgConnection, cutoff: Date, limit: i64) -> sqlx::Result<u64> {
    let listing = sqlx::query!(
        "delete from listing_stat_day where ctid = any(array(
             select ctid from listing_stat_day where day < $1 limit $2))",
        cutoff,
        limit
    )
    .execute(&mut *conn)
    .await?;
    let searches = sqlx::query!("delete from search_day where day < $1", cutoff)
        .execute(&mut *conn)
        .await?;
    let demand = sqlx::query!(
        "delete from search_demand_day where ctid = any(array(
             select ctid from search_demand_day where day < $1 limit $2))",
        cutoff,
        limit
    )
    .execute(conn)
    .await?;
    Ok(listing.rows_affected() + searches.rows_affected() + demand.rows_affected())
}

/// An admin's report over `range`: searches on every day, and the top unmet searches of
/// each kind that enough networks sent.
pub async fn search_insights(
    pool: &sqlx::PgPool,
    range: DateRange,
) -> sqlx::Result<super::model::SearchInsights> {
    use super::model::{MIN_NETWORKS, TOP_SEARCHES, every_day};
    let counted = search_days(pool, range).await?;
    let empty = |date| SearchDay {
        date,
        searches: 0,
        without_results: 0,
        with_few_results: 0,
    };
    let days = every_day(range, counted, |d| d.date, empty);
    let top = |kind| unmet(pool, kind, range, MIN_NETWORKS, TOP_SEARCHES);
    Ok(super::model::SearchInsights {
        from: range.from,
        to: range.to,
        days,
        queries: top(DemandKind::Query).await?,
        places: top(DemandKind::Place).await?,
        filters: top(DemandKind::Filters).await?,
        min_networks: MIN_NETWORKS,
    })
}
