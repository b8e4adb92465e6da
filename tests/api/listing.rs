//! A therapist manages their listing: the journey to review, authorization, mass
//! assignment, optimistic concurrency and validation.

use serde_json::{Value, json};

use crate::helpers::{
    access, assert_problem, complete_profile, error_fields, spawn_app, submitted_therapist,
};

#[tokio::test]
async fn from_signup_to_pending_review() {
    let app = spawn_app().await;
    let login = app.verified_therapist("journey@example.com").await;
    let token = access(&login);

    let draft = app.my_listing(&token).await;
    // Opaque: it names this version of this listing, not a counter a client could guess.
    let tag = draft.headers()["etag"].to_str().unwrap().to_owned();
    assert!(!tag.contains("v1") && tag.len() == 26, "{tag}");
    let draft: Value = draft.json().await.unwrap();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["version"], 1);

    let patched = app
        .patch_listing(&token, &complete_profile(), Some(&tag))
        .await;
    assert_eq!(patched.status(), 200);
    let listing: Value = patched.json().await.unwrap();
    assert_eq!(listing["phone"], "+19195550123", "stored as E.164");
    assert_eq!(
        listing["slug"], "hailey-shafir",
        "the slug follows the name before publication"
    );
    assert_eq!(listing["top_specialties"], json!(["relationship-issues"]));

    // Not complete yet: no office, license or certification.
    let incomplete =
        assert_problem(app.submit_listing(&token).await, 422, "listing_incomplete").await;
    let missing: Vec<&str> = error_fields(&incomplete);
    assert_eq!(
        missing,
        ["licenses"],
        "video delivery with telehealth states counts as a location"
    );

    let office: Value = app
        .add_office(&token, &json!({"address_line1": "1 Fayetteville St", "city": "Raleigh", "state": "NC", "zip": "27601"}))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        (office["latitude"].as_f64().unwrap() - 35.77).abs() < 0.2,
        "placed by ZIP: {office}"
    );
    let license = app
        .add_license(
            &token,
            &json!({"type": "LPCS", "number": "S1234", "state": "nc", "expires_on": "2027-06-30"}),
        )
        .await;
    assert_eq!(license.status(), 201);
    assert!(
        license.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/v1/me/listing/licenses/")
    );
    let license: Value = license.json().await.unwrap();
    assert_eq!(
        (
            license["state"].as_str(),
            license["verification_status"].as_str()
        ),
        (Some("NC"), Some("unverified"))
    );
    let certification: Value = app
        .add_certification(&token,
            &json!({"name": "Certified Imago Relationship Therapist", "issuer": "Imago International Training Institute",
                    "modality": "imago", "level": "Clinical"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(certification["verification_status"], "unverified");
    let workshop: Value = app
        .add_offering(&token,
            &json!({"kind": "workshop", "title": "Getting the Love You Want weekend", "format": "in_person",
                    "price": {"amount_cents": 70000, "currency": "USD"}, "duration_minutes": 960,
                    "starts_on": "2027-03-06", "ends_on": "2027-03-07", "location": "Raleigh, NC"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(workshop["price"]["amount_cents"], 70000);

    let submitted = app.submit_listing(&token).await;
    assert_eq!(submitted.status(), 202);
    let submitted: Value = submitted.json().await.unwrap();
    assert_eq!(submitted["status"], "pending_review");
    assert!(submitted["review_requested_at"].is_string());
    assert_problem(app.submit_listing(&token).await, 409, "invalid_state").await;

    let stored: (String, i64) = sqlx::query_as(
        "select l.status::text, (select count(*) from audit_log where action = 'listing.submitted' and target_id = l.id)
         from listing l where l.slug = 'hailey-shafir'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(stored, ("pending_review".into(), 1));
    // Still not public until an admin approves it.
    assert_problem(
        app.get("/v1/therapists/hailey-shafir").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn every_me_route_checks_who_is_asking() {
    let app = spawn_app().await;
    let owner = access(&submitted_therapist(&app, "owner@example.com").await);
    let intruder = access(&app.verified_therapist("intruder@example.com").await);
    let admin = access(&app.admin("admin@example.com").await);
    let mine: Value = app.my_listing(&owner).await.json().await.unwrap();
    let offering: Value = app
        .add_offering(
            &owner,
            &json!({"kind": "group", "title": "Group", "format": "online",
            "price": {"amount_cents": 4000, "currency": "USD"}, "duration_minutes": 90}),
        )
        .await
        .json()
        .await
        .unwrap();
    let before: Value = app.my_listing(&owner).await.json().await.unwrap();
    let ids = [
        (
            "offices",
            mine["offices"][0]["id"].as_str().unwrap().to_owned(),
        ),
        (
            "licenses",
            mine["licenses"][0]["id"].as_str().unwrap().to_owned(),
        ),
        (
            "certifications",
            mine["certifications"][0]["id"].as_str().unwrap().to_owned(),
        ),
        ("offerings", offering["id"].as_str().unwrap().to_owned()),
        (
            "inquiries",
            crate::helpers::data::inquiry(&app.db, mine["id"].as_str().unwrap().parse().unwrap())
                .await
                .to_string(),
        ),
    ];

    // Every /v1/me route in the OpenAPI document, so a new one cannot be forgotten.
    let doc = serde_json::to_value(therapist_directory::openapi::document()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/me") {
            continue;
        }
        for method in ["get", "post", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            checked += 1;
            let concrete = |id: &str| path.replace("{id}", id);
            let send = |token: Option<&str>, url: String| {
                let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let mut request = app
                    .client
                    .request(method, app.url(&url))
                    .header("content-type", "application/json")
                    .body("{}");
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                request.send()
            };
            let some_id = ids[0].1.clone();
            assert_problem(
                send(None, concrete(&some_id)).await.unwrap(),
                401,
                "authentication_required",
            )
            .await;
            let is_listing_route =
                path.starts_with("/v1/me/listing") || path.starts_with("/v1/me/inquiries");
            if is_listing_route {
                assert_problem(
                    send(Some(&admin), concrete(&some_id)).await.unwrap(),
                    403,
                    "forbidden",
                )
                .await;
            }
            if path.contains("{id}") {
                let segments: Vec<&str> = path.split('/').collect();
                let at = segments.iter().position(|s| *s == "{id}").unwrap();
                let part = segments[at - 1];
                let (_, id) = ids.iter().find(|(p, _)| *p == part).unwrap();
                let response = send(Some(&intruder), concrete(id)).await.unwrap();
                assert_problem(response, 404, "not_found").await;
            }
        }
    }
    assert!(
        checked >= 21,
        "all /v1/me routes were exercised ({checked})"
    );
    let after: Value = app.my_listing(&owner).await.json().await.unwrap();
    assert_eq!(before, after, "the owner's listing is unchanged");
}

#[tokio::test]
async fn protected_fields_cannot_be_written() {
    let app = spawn_app().await;
    let token = access(&app.verified_therapist("mass@example.com").await);
    let before: Value = app.my_listing(&token).await.json().await.unwrap();
    for (field, value) in [
        ("status", json!("published")),
        ("id", json!("00000000-0000-0000-0000-000000000000")),
        ("account_id", json!("00000000-0000-0000-0000-000000000000")),
        ("slug", json!("someone-famous")),
        ("verification_status", json!("verified")),
        ("review_note", json!("approved")),
        ("version", json!(99)),
        ("published_at", json!("2020-01-01T00:00:00Z")),
    ] {
        let body = json!({ field: value, "display_name": "Sneaky Name" });
        let problem = assert_problem(
            app.patch_listing(&token, &body, None).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field);
        assert_eq!(problem["errors"][0]["code"], "unknown_field");
    }
    let license =
        json!({"type": "LPC", "number": "1", "state": "NC", "verification_status": "verified"});
    let problem = assert_problem(
        app.add_license(&token, &license).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "verification_status");
    let after: Value = app.my_listing(&token).await.json().await.unwrap();
    assert_eq!(before, after, "nothing changed");
}

#[tokio::test]
async fn concurrent_patches_with_one_etag_cannot_both_win() {
    let app = spawn_app().await;
    let token = access(&app.verified_therapist("race@example.com").await);
    let etag = app.my_listing(&token).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let a = json!({"pronouns": "she/her"});
    let b = json!({"professional_title": "Counselor"});
    let (first, second) = tokio::join!(
        app.patch_listing(&token, &a, Some(&etag)),
        app.patch_listing(&token, &b, Some(&etag)),
    );
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    let loser = if first.status() == 412 { first } else { second };
    assert_problem(loser, 412, "precondition_failed").await;
    let listing: Value = app.my_listing(&token).await.json().await.unwrap();
    assert_eq!(listing["version"], 2, "exactly one change applied");
    // Without If-Match, patches apply one after the other and neither is lost.
    let (p, q) = (
        json!({"pronouns": "they/them"}),
        json!({"years_in_practice": 9}),
    );
    let (x, y) = tokio::join!(
        app.patch_listing(&token, &p, None),
        app.patch_listing(&token, &q, None),
    );
    assert_eq!((x.status().as_u16(), y.status().as_u16()), (200, 200));
    let listing: Value = app.my_listing(&token).await.json().await.unwrap();
    assert_eq!(
        (
            listing["pronouns"].as_str(),
            listing["years_in_practice"].as_i64()
        ),
        (Some("they/them"), Some(9))
    );
}

#[tokio::test]
async fn invalid_values_are_422_naming_the_field() {
    let app = spawn_app().await;
    let token = access(&app.verified_therapist("invalid@example.com").await);
    let money = |cents: i64| json!({"amount_cents": cents, "currency": "USD"});
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "negative fee",
            json!({"fee_min": money(-100), "fee_max": money(100)}),
            "fee_min.amount_cents",
        ),
        (
            "min above max",
            json!({"fee_min": money(20000), "fee_max": money(10000)}),
            "fee_min",
        ),
        (
            "unknown modality",
            json!({"modalities": ["imago", "astrology"]}),
            "modalities[1]",
        ),
        (
            "bad state",
            json!({"telehealth_states": ["NC", "ZZ"]}),
            "telehealth_states[1]",
        ),
        ("bad NPI", json!({"npi": "1234567890"}), "npi"),
        (
            "long statement",
            json!({"statement": "x".repeat(10_000)}),
            "statement",
        ),
        (
            "unknown enum",
            json!({"delivery": ["teleport"]}),
            "delivery[0]",
        ),
        (
            "wrong type",
            json!({"years_in_practice": "ten"}),
            "years_in_practice",
        ),
        (
            "top not listed",
            json!({"specialties": ["anxiety"], "top_specialties": ["grief"]}),
            "top_specialties[0]",
        ),
        (
            "four tops",
            json!({"specialties": ["anxiety", "grief", "ocd", "adhd"], "top_specialties": ["anxiety", "grief", "ocd", "adhd"]}),
            "top_specialties",
        ),
        (
            "http photo",
            json!({"photo_url": "http://example.com/me.jpg"}),
            "photo_url",
        ),
        (
            "capital scheme",
            json!({"photo_url": "HTTPS://example.com/me.jpg"}),
            "photo_url",
        ),
        (
            "space before the scheme",
            json!({"website_url": " http://example.com"}),
            "website_url",
        ),
        (
            "no slashes",
            json!({"website_url": "https:example.com"}),
            "website_url",
        ),
        ("bad phone", json!({"phone": "555-0123"}), "phone"),
        ("null name", json!({"display_name": null}), "display_name"),
        (
            "other currency",
            json!({"fee_min": {"amount_cents": 100, "currency": "EUR"}, "fee_max": money(200)}),
            "fee_min.currency",
        ),
    ];
    for (case, body, field) in cases {
        let problem = assert_problem(
            app.patch_listing(&token, &body, None).await,
            422,
            "validation_failed",
        )
        .await;
        let fields: Vec<&str> = error_fields(&problem);
        assert!(
            fields.contains(&field),
            "{case}: expected {field} in {fields:?}"
        );
    }
    let office_cases = [
        (
            json!({"address_line1": "1 Main", "city": "X", "state": "NC", "zip": "00000"}),
            "zip",
        ),
        (
            json!({"address_line1": "1 Main", "city": "X", "state": "NC", "zip": "2760"}),
            "zip",
        ),
        (
            json!({"address_line1": "1 Main", "city": "X", "state": "QQ", "zip": "27601"}),
            "state",
        ),
        (
            json!({"address_line1": "1 Main", "city": "X", "state": "CA", "zip": "27601"}),
            "zip",
        ),
        (
            json!({"address_line1": "", "city": "X", "state": "NC", "zip": "27601"}),
            "address_line1",
        ),
    ];
    for (body, field) in office_cases {
        let problem = assert_problem(
            app.add_office(&token, &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let ancient = json!({"type": "LPC", "number": "1", "state": "NC", "expires_on": "-5000-01-01"});
    let problem = assert_problem(
        app.add_license(&token, &ancient).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "expires_on", "{problem}");
    let listing: Value = app.my_listing(&token).await.json().await.unwrap();
    assert_eq!(listing["version"], 1, "no invalid write changed anything");
    assert!(listing["offices"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn incomplete_listings_name_every_missing_item() {
    let app = spawn_app().await;
    let token = access(&app.verified_therapist("empty@example.com").await);
    let problem = assert_problem(app.submit_listing(&token).await, 422, "listing_incomplete").await;
    let missing: Vec<&str> = error_fields(&problem);
    assert_eq!(
        missing,
        [
            "statement",
            "modalities",
            "specialties",
            "fee_min",
            "offices",
            "licenses"
        ]
    );
    assert!(
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["code"] == "missing")
    );
}

#[tokio::test]
async fn editing_a_verified_credential_resets_it_and_offices_are_capped() {
    let app = spawn_app().await;
    let token = access(&submitted_therapist(&app, "edit@example.com").await);
    let listing: Value = app.my_listing(&token).await.json().await.unwrap();
    let license_id = listing["licenses"][0]["id"].as_str().unwrap().to_owned();
    sqlx::query("update license set verification_status = 'verified', verified_at = now() where id = $1::uuid")
        .bind(&license_id)
        .execute(&app.db)
        .await
        .unwrap();
    let edited: Value = app
        .patch_as(
            &format!("/v1/me/listing/licenses/{license_id}"),
            &token,
            &json!({"expires_on": "2029-01-31"}),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(edited["verification_status"], "unverified");
    assert_eq!(edited["expires_on"], "2029-01-31");

    let certification_id = listing["certifications"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sqlx::query("update certification set verification_status = 'verified', verified_at = now() where id = $1::uuid")
        .bind(&certification_id)
        .execute(&app.db)
        .await
        .unwrap();
    let path = format!("/v1/me/listing/certifications/{certification_id}");
    let edited: Value = app
        .patch_as(&path, &token, &json!({"level": "Supervisor"}), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(edited["level"], "Supervisor");
    assert_eq!(edited["verification_status"], "unverified");
    assert_eq!(
        edited["issuer"], "Imago International Training Institute",
        "untouched fields keep their values"
    );
    let retreat = json!({"kind": "retreat", "title": "Retreat", "format": "in_person",
        "price": {"amount_cents": 150000, "currency": "USD"}, "duration_minutes": 1440});
    let offering: Value = app
        .add_offering(&token, &retreat)
        .await
        .json()
        .await
        .unwrap();
    let path = format!(
        "/v1/me/listing/offerings/{}",
        offering["id"].as_str().unwrap()
    );
    let cheaper = json!({"price": {"amount_cents": 120000, "currency": "USD"}});
    let repriced: Value = app
        .patch_as(&path, &token, &cheaper, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(repriced["price"]["amount_cents"], 120000);
    assert_eq!(repriced["title"], "Retreat");
    let missing = format!("/v1/me/listing/offerings/{}", uuid::Uuid::now_v7());
    assert_problem(
        app.patch_as(&missing, &token, &json!({"title": "x"}), None)
            .await,
        404,
        "not_found",
    )
    .await;

    for n in 0..4 {
        let office = json!({"address_line1": format!("{n} Main St"), "city": "Raleigh", "state": "NC", "zip": "27601"});
        assert_eq!(app.add_office(&token, &office).await.status(), 201);
    }
    let sixth =
        json!({"address_line1": "6 Main St", "city": "Raleigh", "state": "NC", "zip": "27601"});
    let problem = assert_problem(app.add_office(&token, &sixth).await, 422, "limit_reached").await;
    assert_eq!(problem["errors"][0]["code"], "limit_reached");
    let office_id = listing["offices"][0]["id"].as_str().unwrap();
    assert_eq!(
        app.delete_as(&format!("/v1/me/listing/offices/{office_id}"), &token)
            .await
            .status(),
        204
    );
    assert_problem(
        app.delete_as(&format!("/v1/me/listing/offices/{office_id}"), &token)
            .await,
        404,
        "not_found",
    )
    .await;
}
