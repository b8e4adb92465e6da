//! `GET /v1/suggest`: prefixes, a typo from the fourth character, exact counts equal to the
//! search each suggestion stands for, therapists by name (current with the change feed),
//! and bounds on every input.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::data::Fixture;
use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app};

async fn suggest(app: &TestApp, q: &str) -> Vec<Value> {
    let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let response = app.get(&format!("/v1/suggest?q={q}")).await;
    assert_eq!(response.status(), 200, "{q}");
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

async fn total(app: &TestApp, query: &str) -> u64 {
    let body: Value = app.search(query).await.json().await.unwrap();
    body["total"].as_u64().unwrap()
}

fn find<'a>(items: &'a [Value], kind: &str, value: &str) -> Option<&'a Value> {
    items
        .iter()
        .find(|i| i["kind"] == kind && i["value"] == value)
}

#[tokio::test]
async fn prefixes_and_typos_suggest_what_searches_would_find() {
    let app = spawn_app().await;
    for (name, lat, lng) in [
        ("Ana Austin", 30.2711, -97.7437),
        ("Bo Austin", 30.3, -97.7),
        ("Cy Round", 30.5083, -97.6789),
    ] {
        Fixture {
            offices: vec![(lat, lng, "TX")],
            modalities: vec!["emdr"],
            specialties: vec!["anxiety"],
            ..Fixture::new(name)
        }
        .insert(&app.db)
        .await;
    }
    Fixture::new("Raleigh Person").insert(&app.db).await;
    app.sync_search().await;

    // A place: the largest of the name with listings first; its count is what `near` finds.
    let items = suggest(&app, "aus").await;
    let austin = find(&items, "place", "Austin, TX").expect("Austin, TX suggested");
    assert_eq!(items[0], *austin, "{items:#?}");
    assert_eq!(austin["label"], "Austin, TX");
    assert_eq!(austin["count"], total(&app, "near=Austin%2C%20TX").await);
    assert_eq!(austin["count"], 3);
    // A count is never kept past a change of the index.
    Fixture {
        offices: vec![(30.25, -97.75, "TX")],
        ..Fixture::new("Di Newcomer")
    }
    .insert(&app.db)
    .await;
    app.sync_search().await;
    let items = suggest(&app, "aus").await;
    assert_eq!(find(&items, "place", "Austin, TX").unwrap()["count"], 4);

    // A modality by the start of its name, counted exactly.
    let items = suggest(&app, "emd").await;
    let emdr = find(&items, "modality", "emdr").expect("EMDR");
    assert_eq!(emdr["count"], total(&app, "modality=emdr").await);
    assert_eq!(emdr["count"], 3);
    // By a later word of the name.
    let items = suggest(&app, "behav").await;
    assert!(find(&items, "modality", "cbt").is_some(), "{items:#?}");
    // One typo from the fourth character, none before it.
    let items = suggest(&app, "anxeity").await;
    let anxiety = find(&items, "specialty", "anxiety").expect("a typo forgiven");
    assert_eq!(anxiety["count"], total(&app, "specialty=anxiety").await);
    assert!(find(&suggest(&app, "emf").await, "modality", "emdr").is_none());
    // A state, and a language.
    let items = suggest(&app, "texa").await;
    let texas = find(&items, "place", "Texas").expect("Texas");
    assert_eq!(texas["count"], total(&app, "near=Texas").await);
    let items = suggest(&app, "engl").await;
    assert_eq!(
        find(&items, "language", "en").expect("English")["label"],
        "English"
    );

    // Vocabulary no listing offers is not suggested.
    assert!(find(&suggest(&app, "imag").await, "modality", "imago").is_none());
    // At most `limit`, every item typed.
    let response = app.get("/v1/suggest?q=a&limit=3").await;
    let body: Value = response.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
}

#[tokio::test]
async fn therapists_are_suggested_while_published_and_never_after() {
    let app = spawn_app().await;
    let stored = Fixture::new("Dana Whitfield").store(&app.db).await;
    let published = Instant::now();
    // Within a second of its publication, by its first name, a later one, or with a typo.
    let mut found = None;
    while published.elapsed() < Duration::from_secs(1) && found.is_none() {
        let items = suggest(&app, "whitf").await;
        found = find(&items, "therapist", &stored.slug).cloned();
        if found.is_none() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let found = found.expect("suggested within a second of publication");
    assert_eq!(found["label"], "Dana Whitfield");
    assert!(found["count"].is_null());
    for typed in ["dana", "dana whit", "whitfeld"] {
        let items = suggest(&app, typed).await;
        assert!(
            find(&items, "therapist", &stored.slug).is_some(),
            "{typed}: {items:#?}"
        );
    }
    assert!(find(&suggest(&app, "dana x").await, "therapist", &stored.slug).is_none());

    sqlx::query("update listing set status = 'unpublished' where id = $1")
        .bind(stored.id)
        .execute(&app.db)
        .await
        .unwrap();
    app.sync_search().await;
    for typed in ["dana", "whitf"] {
        assert!(find(&suggest(&app, typed).await, "therapist", &stored.slug).is_none());
    }
}

#[tokio::test]
async fn bad_suggest_queries_name_their_parameter() {
    let app = spawn_app().await;
    for (query, parameter) in [
        ("", "q"),
        ("q=", "q"),
        ("q=%20%20", "q"),
        (&format!("q={}", "a".repeat(101)) as &str, "q"),
        ("q=a&limit=0", "limit"),
        ("q=a&limit=21", "limit"),
        ("q=a&limit=x", "limit"),
        ("q=a&q=b", "q"),
        ("q=a&near=27601", "near"),
    ] {
        let response = app.get(&format!("/v1/suggest?{query}")).await;
        let problem = assert_problem(response, 400, "invalid_parameter").await;
        assert_eq!(error_fields(&problem), [parameter], "{query}");
    }
}
