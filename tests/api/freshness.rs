//! Every API process follows the change feed: a change committed in PostgreSQL is
//! searchable on each of two instances sharing the database within a second, whatever
//! kind of change it is.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::data::Fixture;
use crate::helpers::{TestApp, spawn_app};

/// Polls a search on `app` (without waiting for the feed first) until `done` holds; the
/// time it took.
async fn until(app: &TestApp, query: &str, done: impl Fn(&Value) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let body: Value = app
            .client
            .get(app.url(&format!("/v1/therapists?{query}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done(&body) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{query}: not visible after 5 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What changes, the SQL that changes it, the search that shows it and when it shows.
type Change = (&'static str, &'static str, &'static str, fn(&Value) -> bool);

fn total(body: &Value) -> u64 {
    body["total"].as_u64().unwrap_or(u64::MAX)
}

#[tokio::test]
async fn a_change_is_searchable_within_a_second_on_two_processes() {
    let first = spawn_app().await;
    let second = first.sibling().await;
    let id = Fixture {
        modalities: vec!["gottman"],
        ..Fixture::new("Winifred Quarrington")
    }
    .insert(&first.db)
    .await;
    first.sync_search().await;
    second.sync_search().await;

    let changes: Vec<Change> = vec![
        (
            "listing edit",
            "update listing set display_name = 'Winifred Zabriskie', version = version + 1 where id = $1",
            "q=zabriskie",
            |b| total(b) == 1,
        ),
        (
            "suspension",
            "update listing set status = 'suspended', version = version + 1 where id = $1",
            "q=zabriskie",
            |b| total(b) == 0,
        ),
        (
            "approval",
            "update listing set status = 'published', version = version + 1 where id = $1",
            "q=zabriskie",
            |b| total(b) == 1,
        ),
        (
            "account suspension",
            "update account set status = 'suspended' where id = (select account_id from listing where id = $1)",
            "q=zabriskie",
            |b| total(b) == 0,
        ),
        (
            "account reinstated",
            "update account set status = 'active' where id = (select account_id from listing where id = $1)",
            "q=zabriskie",
            |b| total(b) == 1,
        ),
        (
            "stale marking",
            "update listing set stale_at = now(), version = version + 1 where id = $1",
            "q=zabriskie",
            |b| total(b) == 0,
        ),
        (
            "confirmed again",
            "update listing set stale_at = null, version = version + 1 where id = $1",
            "q=zabriskie",
            |b| total(b) == 1,
        ),
        (
            "taxonomy rename",
            "update modality set name = 'Gottman Sound Relationship House' where slug = 'gottman' and $1 is not null",
            "q=sound+relationship+house",
            |b| total(b) == 1,
        ),
        (
            "taxonomy retirement",
            "update modality set retired_at = now() where slug = 'gottman' and $1 is not null",
            "facets=modality",
            |b| {
                b["facets"]["modality"]
                    .as_array()
                    .is_some_and(|m| m.is_empty())
            },
        ),
    ];
    for (what, sql, query, done) in changes {
        sqlx::query(sql).bind(id).execute(&first.db).await.unwrap();
        for app in [&first, &second] {
            let took = until(app, query, done).await;
            assert!(
                took < Duration::from_secs(1),
                "{what}: visible after {took:?}"
            );
        }
    }
}
