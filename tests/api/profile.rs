//! `GET /v1/therapists/{id-or-slug}`: published listings only, public fields only.

use serde_json::Value;

use crate::helpers::data::{self, HIDDEN_STATUSES};
use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn a_published_profile_shows_offices_located_by_zip() {
    let app = spawn_app().await;
    let listing = data::listing(&app.db, "hailey-shafir", "published").await;

    for key in [listing.id.to_string(), listing.slug.clone()] {
        let response = app.profile(&key).await;
        assert_eq!(response.status(), 200, "by {key}");
        let profile: Value = response.json().await.unwrap();
        assert_eq!(profile["id"], listing.id.to_string());
        let office = &profile["offices"][0];
        assert_eq!(office["zip"], "27601");
        // The fixture gave no coordinates: they are Raleigh's ZIP centroid.
        let (lat, lng) = (
            office["latitude"].as_f64().unwrap(),
            office["longitude"].as_f64().unwrap(),
        );
        assert!(
            (lat - 35.77).abs() < 0.2 && (lng + 78.63).abs() < 0.2,
            "{lat},{lng}"
        );
    }
}

#[tokio::test]
async fn only_verified_certifications_and_unrejected_licenses_are_public() {
    let app = spawn_app().await;
    let listing = data::listing(&app.db, "cert-check", "published").await;
    let profile: Value = app.profile(&listing.slug).await.json().await.unwrap();
    let certs = profile["certifications"].as_array().unwrap();
    assert_eq!(certs.len(), 1, "{certs:?}");
    assert_eq!(certs[0]["issuer"], "Imago International Training Institute");
    assert_eq!(certs[0]["modality"], "imago");
    assert_eq!(certs[0]["verification_status"], "verified");
    let licenses = profile["licenses"].as_array().unwrap();
    assert_eq!(
        licenses.len(),
        1,
        "the rejected license is hidden: {licenses:?}"
    );
    assert_eq!(licenses[0]["verification_status"], "verified");
    assert_eq!(
        profile["offerings"][0]["price"],
        serde_json::json!({"amount_cents": 70000, "currency": "USD"})
    );
    assert_eq!(profile["fees"]["sliding_scale_min"]["amount_cents"], 6000);
}

#[tokio::test]
async fn anything_not_published_is_404_by_id_and_by_slug() {
    let app = spawn_app().await;
    for status in HIDDEN_STATUSES {
        let slug = format!("hidden-{}", status.replace('_', "-"));
        let listing = data::listing(&app.db, &slug, status).await;
        for key in [listing.id.to_string(), slug.clone()] {
            let response = app.profile(&key).await;
            assert_problem(response, 404, "not_found").await;
        }
    }
    for key in [
        "nobody",
        "00000000-0000-0000-0000-000000000000",
        "a%20b",
        &"x".repeat(300),
    ] {
        assert_problem(app.profile(&key).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn the_public_profile_carries_no_private_fields() {
    let app = spawn_app().await;
    let listing = data::listing(&app.db, "snapshot-therapist", "published").await;
    let text = app.profile(&listing.slug).await.text().await.unwrap();
    for private in [
        listing.account_email.as_str(),
        "account_id",
        "password",
        "review_note",
        "internal:",
        "verification_note",
        "verified_by",
        "Fixture Person",
        "Unverified Cert",
        "X999",
    ] {
        assert!(
            !text.contains(private),
            "public profile leaks {private}: {text}"
        );
    }
    let profile: Value = serde_json::from_str(&text).unwrap();
    insta::assert_json_snapshot!("public_profile", profile, {
        ".id" => "[id]",
        ".**.id" => "[id]",
        ".last_confirmed_at" => "[timestamp]",
        ".published_at" => "[timestamp]",
        ".updated_at" => "[timestamp]",
    });
}
