//! Over seeded directories of hundreds of listings, totals, facets and full walks agree
//! with SQL over `directory_entry`, even while listings change between pages.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

/// Walks every page of a search, returning the ids in order and the first page's body.
async fn walk(app: &TestApp, query: &str) -> (Vec<String>, Value) {
    let mut seen = Vec::new();
    let mut first = None;
    let mut url = format!("/v1/therapists?{query}&limit=50");
    loop {
        let response = app.get(&url).await;
        assert_eq!(response.status(), 200, "{url}");
        let body: Value = response.json().await.unwrap();
        for item in body["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        let next = body["next_cursor"].as_str().map(str::to_owned);
        first.get_or_insert(body);
        match next {
            Some(cursor) => url = format!("/v1/therapists?{query}&limit=50&cursor={cursor}"),
            None => return (seen, first.unwrap()),
        }
    }
}

/// The listings a structured search must return, computed by SQL from `directory_entry`
/// (the source the index is built from), and the facet counts of a set of listings.
async fn oracle(db: &PgPool, condition: &str) -> Vec<String> {
    let sql =
        format!("select listing_id::text from directory_entry e where {condition} order by 1");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(db)
        .await
        .unwrap()
}

async fn facet_oracle(db: &PgPool, ids: &[String]) -> Value {
    let ids: Vec<Uuid> = ids.iter().map(|i| i.parse().unwrap()).collect();
    let mut out = serde_json::Map::new();
    for (facet, sql) in [
        (
            "modality",
            "select t.slug, count(*) from directory_entry e join modality t on t.id = any(e.modality_ids) and t.retired_at is null where e.listing_id = any($1) group by 1 order by 2 desc, 1",
        ),
        (
            "specialty",
            "select t.slug, count(*) from directory_entry e join specialty t on t.id = any(e.specialty_ids) and t.retired_at is null where e.listing_id = any($1) group by 1 order by 2 desc, 1",
        ),
        (
            "insurer",
            "select t.slug, count(*) from directory_entry e join insurer t on t.id = any(e.insurer_ids) and t.retired_at is null where e.listing_id = any($1) group by 1 order by 2 desc, 1",
        ),
        (
            "delivery",
            "select d, count(*) from directory_entry e, unnest(e.delivery) d where e.listing_id = any($1) group by 1 order by 2 desc, 1",
        ),
        (
            "session_format",
            "select d, count(*) from directory_entry e, unnest(e.session_formats) d where e.listing_id = any($1) group by 1 order by 2 desc, 1",
        ),
    ] {
        let rows: Vec<(String, i64)> = sqlx::query_as(sql).bind(&ids).fetch_all(db).await.unwrap();
        out.insert(
            facet.into(),
            rows.into_iter()
                .map(|(slug, count)| serde_json::json!({"slug": slug, "count": count}))
                .collect(),
        );
    }
    Value::Object(out)
}

/// Facets as slugs and counts; every value must also carry a name.
fn without_names(facets: &Value) -> Value {
    let mut facets = facets.clone();
    for list in facets.as_object_mut().unwrap().values_mut() {
        for entry in list.as_array_mut().unwrap() {
            let name = entry.as_object_mut().unwrap().remove("name");
            assert!(
                name.is_some_and(|n| n.as_str().is_some_and(|n| !n.is_empty())),
                "{entry}"
            );
        }
    }
    facets
}

const ALL_FACETS: &str = "facets=modality,specialty,insurer,delivery,session_format";

#[tokio::test]
async fn totals_and_facets_are_exact_for_every_sort_past_500_matches() {
    use therapist_directory::demo::{self, SeedOptions};
    let app = spawn_app().await;
    demo::seed(
        &app.db,
        &app.media(),
        SeedOptions {
            count: 900,
            seed: 7,
        },
        |_, _| {},
    )
    .await
    .unwrap();
    let zip = therapist_directory::domain::ZipCode::parse("27601")
        .unwrap()
        .info()
        .point;
    let raleigh = format!(
        "exists (select 1 from directory_office o where o.listing_id = e.listing_id
         and distance_km(o.location, point({}, {})) <= 900)
         or (not e.has_office and e.delivery && '{{video,phone}}' and e.telehealth_states && '{{NC}}')",
        zip.longitude, zip.latitude
    );
    let cases: Vec<(String, String)> = vec![
        ("sort=fee".into(), "not e.stale".into()),
        ("sort=recently_confirmed&include_stale=true".into(), "true".into()),
        ("accepting=true&sort=fee".into(), "not e.stale and e.accepting = 'accepting'".into()),
        ("max_fee_cents=15000&sort=recently_confirmed".into(), "not e.stale and e.fee_floor_cents <= 15000".into()),
        ("language=es&delivery=video&delivery=phone".into(), "not e.stale and e.languages && '{es}' and e.delivery && '{video,phone}'".into()),
        ("modality=cbt&modality=emdr&sort=fee".into(), "not e.stale and e.modality_ids && (select array_agg(id) from modality where slug in ('cbt', 'emdr'))".into()),
        ("near=35.7796,-78.6382&radius_km=500&sort=distance".into(), "not e.stale and (exists (select 1 from directory_office o where o.listing_id = e.listing_id and distance_km(o.location, point(-78.6382, 35.7796)) <= 500))".into()),
        ("near=27601&radius_km=500&sort=fee".into(), format!("not e.stale and ({})", raleigh.replace("900", "500"))),
    ];
    let mut past_500 = 0;
    for (query, condition) in &cases {
        let expected = oracle(&app.db, condition).await;
        let (mut ids, first) = walk(&app, &format!("{query}&{ALL_FACETS}")).await;
        let walked = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), walked, "{query}: a listing came twice");
        let missing: Vec<&String> = expected.iter().filter(|i| !ids.contains(i)).collect();
        let extra: Vec<&String> = ids.iter().filter(|i| !expected.contains(i)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{query}: missing {missing:?}, extra {extra:?}"
        );
        assert_eq!(first["total"], expected.len(), "{query}");
        assert_eq!(first["total_is_exact"], true);
        assert_eq!(first["facets_are_exact"], true);
        assert_eq!(
            without_names(&first["facets"]),
            facet_oracle(&app.db, &expected).await,
            "{query}"
        );
        past_500 += usize::from(expected.len() > 500);
    }
    assert!(past_500 >= 3, "too few searches had more than 500 matches");

    // Free text, ranked: the walk covers `total` listings once each, every one of them
    // matching the words used, and the facets count exactly those listings.
    for query in [
        "q=couples",
        "q=spanish+anxiety",
        "q=cbt+trauma&sort=fee",
        "q=teen",
    ] {
        let (mut ids, first) = walk(&app, &format!("{query}&{ALL_FACETS}")).await;
        let walked = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), walked, "{query}: a listing came twice");
        assert!(walked > 0, "{query}");
        assert_eq!(first["total"], walked, "{query}");
        assert_eq!(
            without_names(&first["facets"]),
            facet_oracle(&app.db, &ids).await,
            "{query}"
        );
    }
    let spanish = oracle(&app.db, "not e.stale and e.languages && '{es}'").await;
    let (mut found, _) = walk(&app, "q=spanish").await;
    found.sort();
    assert!(!spanish.is_empty(), "the fixtures speak Spanish somewhere");
    assert!(
        spanish.iter().all(|id| found.contains(id)),
        "q=spanish finds every Spanish-speaking listing"
    );
}

#[tokio::test]
async fn walks_stay_exact_while_listings_change_between_pages() {
    use therapist_directory::demo::{self, SeedOptions};
    let app = spawn_app().await;
    demo::seed(
        &app.db,
        &app.media(),
        SeedOptions {
            count: 600,
            seed: 3,
        },
        |_, _| {},
    )
    .await
    .unwrap();
    for (query, condition) in [
        ("sort=fee", "not e.stale"),
        ("sort=recently_confirmed", "not e.stale"),
        (
            "near=35.7796,-78.6382&radius_km=500&sort=distance",
            "not e.stale and exists (select 1 from directory_office o where o.listing_id = e.listing_id and distance_km(o.location, point(-78.6382, 35.7796)) <= 500)",
        ),
        ("q=anxiety", "true"),
    ] {
        let before = oracle(&app.db, condition).await;
        let mut seen: Vec<String> = Vec::new();
        let mut changed: Vec<String> = Vec::new();
        let mut url = format!("/v1/therapists?{query}&limit=40");
        let mut page = 0;
        loop {
            let body: Value = app.get(&url).await.json().await.unwrap();
            for item in body["items"]
                .as_array()
                .unwrap_or_else(|| panic!("{url}: {body}"))
            {
                seen.push(item["id"].as_str().unwrap().to_owned());
            }
            page += 1;
            if page <= 3 {
                // Change two listings not seen yet (one moves in the order, one leaves the
                // directory) and one already seen.
                let unseen: Vec<&String> = before.iter().filter(|i| !seen.contains(i)).collect();
                for (id, sql) in [
                    (
                        unseen.first().copied(),
                        "update listing set fee_min_cents = coalesce(fee_min_cents, 0) + 700, fee_max_cents = coalesce(fee_max_cents, 0) + 700, sliding_scale_min_cents = null, last_confirmed_at = now(), version = version + 1 where id = $1::uuid",
                    ),
                    (
                        unseen.last().copied(),
                        "update listing set status = 'suspended', version = version + 1 where id = $1::uuid",
                    ),
                    (
                        seen.first(),
                        "update listing set last_confirmed_at = now() - interval '3 days', version = version + 1 where id = $1::uuid",
                    ),
                ] {
                    if let Some(id) = id {
                        sqlx::query(sql).bind(id).execute(&app.db).await.unwrap();
                        changed.push(id.clone());
                    }
                }
            }
            match body["next_cursor"].as_str() {
                Some(c) => url = format!("/v1/therapists?{query}&limit=40&cursor={c}"),
                None => break,
            }
        }
        let after = oracle(&app.db, condition).await;
        // A listing changed during the walk may move past the cursor and come again; any
        // other comes once.
        let mut unchanged: Vec<&String> = seen.iter().filter(|i| !changed.contains(i)).collect();
        let walked = unchanged.len();
        unchanged.sort();
        unchanged.dedup();
        assert_eq!(unchanged.len(), walked, "{query}: a listing came twice");
        if query.starts_with("q=") {
            continue;
        }
        // Every listing that matched throughout and did not change is met exactly once; no
        // listing that never matched is met.
        for id in before
            .iter()
            .filter(|i| after.contains(i) && !changed.contains(i))
        {
            assert!(seen.contains(id), "{query}: {id} was skipped");
        }
        for id in &seen {
            assert!(
                before.contains(id) || after.contains(id),
                "{query}: {id} never matched"
            );
        }
    }
}
