//! The search result's summary has one SQL definition (`directory_rebuild`) and one Rust
//! type (`search::model::Summary`): what the database stores parses into the type, and the
//! type writes back exactly what was stored, for a listing with every field and one with
//! none of the optional ones.

use serde_json::Value;
use therapist_directory::search::model::Summary;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::helpers::data::Fixture;
use crate::helpers::{TestAppBuilder, assert_problem, spawn_app};

async fn stored_summary(db: &sqlx::PgPool, id: Uuid) -> Value {
    sqlx::query_scalar("select summary from directory_entry where listing_id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
}

fn instant(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().unwrap(), &Rfc3339).unwrap()
}

/// `written` is `stored` key for key; timestamps are compared as instants (PostgreSQL
/// writes `+00:00` where Rust writes `Z`).
fn assert_same_object(stored: &Value, written: &Value, listing: &str) {
    let (stored, written) = (stored.as_object().unwrap(), written.as_object().unwrap());
    let mut stored_keys: Vec<&String> = stored.keys().collect();
    let mut written_keys: Vec<&String> = written.keys().collect();
    stored_keys.sort();
    written_keys.sort();
    assert_eq!(stored_keys, written_keys, "{listing}: the keys differ");
    for (key, value) in stored {
        if key == "last_confirmed_at" && !value.is_null() {
            assert_eq!(instant(value), instant(&written[key]), "{listing}: {key}");
        } else {
            assert_eq!(value, &written[key], "{listing}: {key}");
        }
    }
}

/// A listing with every optional field of the summary and one with none, by name.
async fn rich_and_sparse(db: &sqlx::PgPool) -> [(&'static str, Uuid); 2] {
    let rich = Fixture::complete("summary-rich", "published")
        .insert(db)
        .await;
    sqlx::query("update listing set pronouns = 'she/her' where id = $1")
        .bind(rich)
        .execute(db)
        .await
        .unwrap();
    let sparse = Fixture {
        fee_min: None,
        delivery: vec!["video"],
        telehealth: vec![],
        offices: vec![],
        languages: vec![],
        ..Fixture::new("Summary Sparse")
    }
    .insert(db)
    .await;

    [("rich", rich), ("sparse", sparse)]
}

#[tokio::test]
async fn the_stored_summary_is_the_rust_search_item() {
    let app = spawn_app().await;
    for (listing, id) in rich_and_sparse(&app.db).await {
        let stored = stored_summary(&app.db, id).await;
        let summary: Summary = serde_json::from_value(stored.clone())
            .unwrap_or_else(|e| panic!("{listing}: the stored summary does not parse: {e}"));
        let written = serde_json::to_value(&summary).unwrap();
        assert_same_object(&stored, &written, listing);
        if listing == "rich" {
            let every_option = [
                summary.pronouns.is_some(),
                summary.credentials.is_some(),
                summary.professional_title.is_some(),
                summary.fees.min.is_some(),
                summary.fees.max.is_some(),
                summary.fees.sliding_scale_min.is_some(),
                summary.last_confirmed_at.is_some(),
                !summary.offices.is_empty(),
                !summary.top_specialties.is_empty(),
            ];
            assert!(every_option.iter().all(|set| *set), "{every_option:?}");
        } else {
            assert!(summary.fees.min.is_none() && summary.offices.is_empty());
        }
    }
}

/// A search page and typeahead answer from the process's memory, not from PostgreSQL: with
/// the database cut off they still answer, and each item says what the stored summary
/// says, with the listing's `updated_at` and flags. The profile, which reads the database,
/// is 503 meanwhile.
#[tokio::test]
async fn search_answers_from_memory_what_the_database_stores() {
    let app = TestAppBuilder::default().through_proxy().spawn().await;
    let listings = rich_and_sparse(&app.db).await;
    sqlx::query("update listing set availability_unconfirmed_at = now() where id = $1")
        .bind(listings[1].1)
        .execute(&app.db)
        .await
        .unwrap();
    let mut stored = Vec::new();
    for (listing, id) in listings {
        let updated_at: OffsetDateTime =
            sqlx::query_scalar("select updated_at from listing where id = $1")
                .bind(id)
                .fetch_one(&app.db)
                .await
                .unwrap();
        stored.push((listing, id, stored_summary(&app.db, id).await, updated_at));
    }
    app.sync_search().await;
    app.proxy.as_ref().unwrap().set_enabled(false);

    let page: Value = app.search("limit=50").await.json().await.unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page}");
    for (listing, id, summary, updated_at) in &stored {
        let mut item = items
            .iter()
            .find(|i| i["id"] == id.to_string())
            .unwrap_or_else(|| panic!("{listing} is not on the page: {page}"))
            .clone();
        let fields = item.as_object_mut().unwrap();
        assert_eq!(instant(&fields["updated_at"]), *updated_at, "{listing}");
        assert_eq!(fields["stale"], false, "{listing}");
        assert_eq!(
            fields["availability_confirmed"],
            *listing == "rich",
            "{listing}"
        );
        for shown_by_search in [
            "photo",
            "distance_km",
            "latitude",
            "longitude",
            "updated_at",
            "stale",
            "availability_confirmed",
        ] {
            fields.remove(shown_by_search);
        }
        assert_same_object(summary, &item, listing);
    }

    let typed = app.get("/v1/suggest?q=hail").await;
    assert_eq!(typed.status(), 200);
    let typed: Value = typed.json().await.unwrap();
    assert!(
        typed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "therapist" && s["value"] == stored[0].2["slug"]),
        "{typed}"
    );
    assert_problem(app.profile(listings[0].1).await, 503, "service_unavailable").await;
}
