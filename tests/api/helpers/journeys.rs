//! A therapist's way to a listing under review or published, through the API as a
//! therapist takes it.

use serde_json::{Value, json};
use uuid::Uuid;

use super::accounts::access;
use super::app::TestApp;

pub fn complete_profile() -> Value {
    json!({
        "display_name": "Hailey Shafir",
        "credentials": "LPCS, LCAS",
        "professional_title": "Licensed Professional Counselor Supervisor",
        "statement": "I help couples who keep having the same fight find the old story underneath it. \
                      We slow down, listen, and build new ways of being together.",
        "phone": "(919) 555-0123",
        "languages": ["en", "es"],
        "session_formats": ["individual", "couples"],
        "delivery": ["in_person", "video"],
        "telehealth_states": ["NC"],
        "fee_min": {"amount_cents": 12000, "currency": "USD"},
        "fee_max": {"amount_cents": 20000, "currency": "USD"},
        "sliding_scale_min": {"amount_cents": 6000, "currency": "USD"},
        "modalities": ["imago", "gottman"],
        "specialties": ["relationship-issues", "infidelity", "premarital"],
        "top_specialties": ["relationship-issues"],
        "insurers": ["aetna"],
        "npi": "1234567893",
        "taxonomy_code": "101YP2500X"
    })
}

/// A verified therapist whose listing is complete and submitted; returns the login body.
pub async fn submitted_therapist(app: &TestApp, email: &str) -> Value {
    let login = app.verified_therapist(email).await;
    let token = access(&login);
    assert_eq!(
        app.patch_listing(&token, &complete_profile(), None)
            .await
            .status(),
        200
    );
    let office = json!({"address_line1": "1 Fayetteville St", "city": "Raleigh", "state": "NC", "zip": "27601"});
    assert_eq!(app.add_office(&token, &office).await.status(), 201);
    let license =
        json!({"type": "LPCS", "number": "S1234", "state": "NC", "expires_on": "2027-06-30"});
    assert_eq!(app.add_license(&token, &license).await.status(), 201);
    let certification = json!({
        "name": "Certified Imago Relationship Therapist",
        "issuer": "Imago International Training Institute",
        "modality": "imago", "level": "Clinical", "issued_on": "2019-05-01"
    });
    assert_eq!(
        app.add_certification(&token, &certification).await.status(),
        201
    );
    let submit = app.submit_listing(&token).await;
    assert_eq!(submit.status(), 202);
    login
}

/// A therapist with a published listing: (access token, listing id, slug, sign-in email).
pub async fn published_therapist(app: &TestApp, email: &str) -> (String, Uuid, String) {
    let token = access(&submitted_therapist(app, email).await);
    let listing: Value = app.my_listing(&token).await.json().await.unwrap();
    let id: Uuid = listing["id"].as_str().unwrap().parse().unwrap();
    sqlx::query(
        "update listing set status = 'published', published_at = now(), last_confirmed_at = now() where id = $1",
    )
    .bind(id)
    .execute(&app.db)
    .await
    .unwrap();
    (token, id, listing["slug"].as_str().unwrap().to_owned())
}
