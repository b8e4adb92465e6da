//! The public taxonomy lists.

use serde_json::Value;

use crate::helpers::spawn_app;

fn slugs(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn modalities_include_the_core_approaches() {
    let app = spawn_app().await;
    let response = app.get("/v1/modalities").await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    let slugs = slugs(&list);
    for slug in [
        "imago",
        "cbt",
        "dbt",
        "act",
        "emdr",
        "gottman",
        "eft",
        "sex-therapy",
    ] {
        assert!(slugs.contains(&slug), "{slug} missing from {slugs:?}");
    }
    let imago = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["slug"] == "imago")
        .unwrap();
    assert_eq!(imago["name"], "Imago Relationship Therapy");
    assert!(!imago["description"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn specialties_carry_a_category_and_insurers_are_listed() {
    let app = spawn_app().await;
    let specialties: Value = app.get("/v1/specialties").await.json().await.unwrap();
    let trauma = specialties
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == "trauma-ptsd")
        .unwrap();
    assert_eq!(trauma["category"], "trauma");
    for slug in [
        "anxiety",
        "depression",
        "ocd",
        "grief",
        "infidelity",
        "premarital",
        "workplace-stress",
    ] {
        assert!(slugs(&specialties).contains(&slug), "{slug}");
    }
    let insurers: Value = app.get("/v1/insurers").await.json().await.unwrap();
    for slug in [
        "aetna",
        "cigna",
        "united-healthcare",
        "medicare",
        "blue-cross-blue-shield",
    ] {
        assert!(slugs(&insurers).contains(&slug), "{slug}");
    }
}

#[tokio::test]
async fn retired_terms_leave_the_lists() {
    let app = spawn_app().await;
    sqlx::query("update modality set retired_at = now() where slug = 'hypnotherapy'")
        .execute(&app.db)
        .await
        .unwrap();
    let list: Value = app.get("/v1/modalities").await.json().await.unwrap();
    assert!(!slugs(&list).contains(&"hypnotherapy"));
    assert!(slugs(&list).contains(&"imago"));
}

#[tokio::test]
async fn lists_are_cacheable_and_revalidate_with_304() {
    let app = spawn_app().await;
    let first = app.get("/v1/insurers").await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        first.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("public")
    );
    let again = app
        .client
        .get(app.url("/v1/insurers"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    let stale = app
        .client
        .get(app.url("/v1/insurers"))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
}

#[tokio::test]
async fn the_taxonomy_routes_are_documented() {
    let doc = therapist_directory::openapi::document();
    for path in [
        "/v1/modalities",
        "/v1/specialties",
        "/v1/insurers",
        "/v1/therapists/{id_or_slug}",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} not in the OpenAPI document"
        );
    }
}
