//! The public taxonomy lists, and how an admin's changes to the taxonomy reach them.

use serde_json::{Value, json};

use crate::helpers::{access, assert_problem, spawn_app, submitted_therapist};

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

#[tokio::test]
async fn retiring_a_modality_keeps_history_but_stops_new_use() {
    let app = spawn_app().await;
    let admin = access(&app.admin("admin@example.com").await);
    let therapist = access(&submitted_therapist(&app, "retire@example.com").await);

    // In use: cannot be deleted.
    assert_problem(
        app.client
            .delete(app.url("/v1/admin/modalities/gottman"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
        409,
        "term_in_use",
    )
    .await;

    let retired = app
        .client
        .patch(app.url("/v1/admin/modalities/gottman"))
        .bearer_auth(&admin)
        .json(&json!({"retired": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(retired.status(), 200);
    let public: Value = app.get("/v1/modalities").await.json().await.unwrap();
    assert!(
        !public
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["slug"] == "gottman")
    );

    // The listing that had it still loads and can still be edited with it...
    let mine: Value = app.my_listing(&therapist).await.json().await.unwrap();
    assert!(
        mine["modalities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "gottman")
    );
    let keep = app
        .client
        .patch(app.url("/v1/me/listing"))
        .bearer_auth(&therapist)
        .json(&json!({"pronouns": "she/her"}))
        .send()
        .await
        .unwrap();
    assert_eq!(keep.status(), 200);
    // ...but nobody can add it anew.
    let other = access(&app.verified_therapist("other@example.com").await);
    let add = app
        .client
        .patch(app.url("/v1/me/listing"))
        .bearer_auth(&other)
        .json(&json!({"modalities": ["gottman"]}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(add, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "modalities[0]");

    // Creating, renaming, conflicting and deleting an unused term.
    let created = app
        .post_as("/v1/admin/modalities", &admin, &json!({"slug": "somatic-experiencing", "name": "Somatic Experiencing", "description": "Body-based trauma work."}))
        .await;
    assert_eq!(created.status(), 201);
    let duplicate = app
        .post_as(
            "/v1/admin/modalities",
            &admin,
            &json!({"slug": "somatic-experiencing", "name": "Another"}),
        )
        .await;
    assert_problem(duplicate, 409, "conflict").await;
    let specialty = app
        .post_as(
            "/v1/admin/specialties",
            &admin,
            &json!({"slug": "burnout", "name": "Burnout"}),
        )
        .await;
    let problem = assert_problem(specialty, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "category");
    let deleted = app
        .client
        .delete(app.url("/v1/admin/modalities/somatic-experiencing"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
}
