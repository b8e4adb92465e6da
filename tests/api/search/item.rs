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
use crate::helpers::spawn_app;

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

#[tokio::test]
async fn the_stored_summary_is_the_rust_search_item() {
    let app = spawn_app().await;
    let rich = Fixture::complete("summary-rich", "published")
        .insert(&app.db)
        .await;
    sqlx::query(
        "update listing set pronouns = 'she/her', photo_url = 'https://photos.example/h.jpg'
         where id = $1",
    )
    .bind(rich)
    .execute(&app.db)
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
    .insert(&app.db)
    .await;

    for (listing, id) in [("rich", rich), ("sparse", sparse)] {
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
                summary.photo_url.is_some(),
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
