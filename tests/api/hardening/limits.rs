//! Bounded resources and hostile bodies: metrics that cannot grow, capped credentials,
//! arbitrary JSON on every write route, and decisions bound to the version reviewed.

use serde_json::{Value, json};

use crate::helpers::{TestAppBuilder, assert_problem};

#[tokio::test]
async fn made_up_methods_cannot_grow_the_metrics() {
    let app = crate::helpers::spawn_app().await;
    let size = |app: &'_ crate::helpers::TestApp| {
        let url = app.url("/metrics");
        let client = {
            therapist_directory::photos::media::install_tls_provider();
            reqwest::Client::new()
        };
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let before = size(&app).await;
    let client = {
        therapist_directory::photos::media::install_tls_provider();
        reqwest::Client::new()
    };
    for i in 0..200 {
        let method = reqwest::Method::from_bytes(format!("PROBE{i}").as_bytes()).unwrap();
        client
            .request(method, app.url("/v1/therapists"))
            .send()
            .await
            .unwrap();
    }
    let after = size(&app).await;
    assert!(!after.contains("PROBE"), "a made-up method became a label");
    assert!(after.contains("method=\"other\""));
    assert!(
        after.len() < before.len() + 8 * 1024,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}

#[tokio::test]
async fn metrics_can_live_on_their_own_address() {
    let app = TestAppBuilder::default()
        .env("APP_METRICS_ADDR", "127.0.0.1:0")
        .spawn()
        .await;
    assert_problem(app.get("/metrics").await, 404, "not_found").await;
    let port = app.metrics_port.expect("a metrics listener");
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
}

#[tokio::test]
async fn licenses_certifications_and_offerings_are_capped() {
    let app = crate::helpers::spawn_app().await;
    let token = crate::helpers::access(&app.verified_therapist("caps@example.com").await);
    type Body = Box<dyn Fn(usize) -> Value>;
    let cases: [(&str, usize, Body); 3] = [
        (
            "licenses",
            20,
            Box::new(|i| json!({"type": "LPC", "number": format!("CAP{i}"), "state": "NC"})),
        ),
        (
            "certifications",
            30,
            Box::new(|i| json!({"name": format!("Cert {i}"), "issuer": "Institute"})),
        ),
        (
            "offerings",
            50,
            Box::new(|i| {
                json!({"kind": "workshop", "title": format!("Workshop {i}"), "format": "online",
                       "price": {"amount_cents": 5000, "currency": "USD"}, "duration_minutes": 90})
            }),
        ),
    ];
    for (collection, max, body) in cases {
        let path = format!("/v1/me/listing/{collection}");
        for i in 0..max {
            let created = app.post_as(&path, &token, &body(i)).await;
            assert_eq!(
                created.status(),
                201,
                "{collection} {i}: {}",
                created.text().await.unwrap()
            );
        }
        let problem = assert_problem(
            app.post_as(&path, &token, &body(max)).await,
            422,
            "limit_reached",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], collection);
    }
}

/// Arbitrary JSON: scalars, strings with any characters, nested arrays and objects whose
/// keys are sometimes the body's own field names.
fn arbitrary_json(names: Vec<String>) -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let key = prop_oneof![proptest::sample::select(names), any::<String>()];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Tokens, codes and passwords longer than the document allows are refused before anything
/// looks them up, naming the field.
#[tokio::test]
async fn secrets_longer_than_documented_are_refused_by_name() {
    let app = crate::helpers::spawn_app().await;
    let long = "x".repeat(129);
    let token = crate::helpers::access(&app.verified_therapist("long@example.com").await);
    for (path, body, field) in [
        ("/v1/auth/verify-email", json!({"token": long}), "token"),
        (
            "/v1/auth/refresh",
            json!({"refresh_token": long}),
            "refresh_token",
        ),
        (
            "/v1/auth/logout",
            json!({"refresh_token": long}),
            "refresh_token",
        ),
        (
            "/v1/auth/password-reset/confirm",
            json!({"token": long, "new_password": "a perfectly fine passphrase"}),
            "token",
        ),
    ] {
        let refused =
            assert_problem(app.post_json(path, &body).await, 422, "validation_failed").await;
        assert_eq!(refused["errors"][0]["field"], field, "{path}");
        assert_eq!(refused["errors"][0]["code"], "too_long", "{path}");
    }
    let body = json!({"current_password": long, "new_password": "another fine passphrase"});
    let refused = assert_problem(
        app.post_as("/v1/me/password", &token, &body).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "current_password");
}

#[tokio::test]
async fn arbitrary_json_on_every_write_route_is_an_error_never_a_crash() {
    use proptest::strategy::{Strategy, ValueTree};
    let app = crate::helpers::spawn_app().await;
    let therapist = crate::helpers::access(&app.verified_therapist("fuzz@example.com").await);
    let admin = crate::helpers::access(&app.admin("fuzz-admin@example.com").await);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut sent = 0;
    for route in crate::contract::CONTRACT.write_routes() {
        let names: Vec<String> = route.schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_else(|| vec!["x".to_owned()]);
        let strategy = arbitrary_json(names);
        for _ in 0..24 {
            let value = strategy.new_tree(&mut runner).unwrap().current();
            // The contract client fails the test on an undocumented answer; a 5xx is
            // refused here whatever the document says.
            let status = app
                .send_to(&route, &therapist, &admin, value.to_string())
                .await
                .status();
            assert!(
                status.as_u16() < 500,
                "{} {} with {value}: {status}",
                route.method,
                route.template
            );
            sent += 1;
        }
    }
    assert!(sent >= 24 * 25, "only {sent} bodies sent");
}

#[tokio::test]
async fn admins_decide_on_the_version_they_reviewed() {
    let app = crate::helpers::spawn_app().await;
    let admin = crate::helpers::access(&app.admin("reviewer@example.com").await);
    let therapist = crate::helpers::access(
        &crate::helpers::submitted_therapist(&app, "swap@example.com").await,
    );
    let mine: Value = app.my_listing(&therapist).await.json().await.unwrap();
    let id = mine["id"].as_str().unwrap().to_owned();
    let license = mine["licenses"][0]["id"].as_str().unwrap().to_owned();
    let read = app.admin_listing(&admin, &id).await;
    let reviewed = read.headers()["etag"].to_str().unwrap().to_owned();

    // The therapist changes the listing after the admin read it.
    let edit = json!({"statement": "Something else entirely than what the admin reviewed, long enough to be a statement of practice and approach."});
    assert_eq!(
        app.patch_listing(&therapist, &edit, None).await.status(),
        200
    );
    let decide = |path: String, tag: Option<String>, body: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let mut request = app
                .client
                .post(app.url(&path))
                .bearer_auth(&admin)
                .json(&body);
            if let Some(tag) = tag {
                request = request.header("if-match", tag);
            }
            request.send().await.unwrap()
        }
    };
    let approve = format!("/v1/admin/listings/{id}/approve");
    let verify = format!("/v1/admin/licenses/{license}/verify");
    let verified = json!({"status": "verified"});
    assert_problem(
        decide(approve.clone(), None, json!({})).await,
        428,
        "precondition_required",
    )
    .await;
    assert_problem(
        decide(approve.clone(), Some("*".into()), json!({})).await,
        428,
        "precondition_required",
    )
    .await;
    assert_problem(
        decide(approve.clone(), Some(reviewed.clone()), json!({})).await,
        412,
        "precondition_failed",
    )
    .await;
    assert_problem(
        decide(verify.clone(), Some(reviewed.clone()), verified.clone()).await,
        412,
        "precondition_failed",
    )
    .await;
    assert_problem(
        decide(
            format!("/v1/admin/listings/{id}/reject"),
            Some(reviewed),
            json!({"reason": "x"}),
        )
        .await,
        412,
        "precondition_failed",
    )
    .await;

    // Read again, decide on what was read; each answer carries the next tag.
    let current = app.admin_listing(&admin, &id).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let verified_answer = decide(verify, Some(current), verified).await;
    assert_eq!(verified_answer.status(), 200);
    let next = verified_answer.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let approved = decide(approve, Some(next), json!({})).await;
    assert_eq!(approved.status(), 200);

    // Published and verified; a new name removes the verification until checked again.
    let mine: Value = app.my_listing(&therapist).await.json().await.unwrap();
    assert_eq!(mine["licenses"][0]["verification_status"], "verified");
    let renamed = json!({"display_name": "Someone Else Entirely"});
    assert_eq!(
        app.patch_listing(&therapist, &renamed, None).await.status(),
        200
    );
    let mine: Value = app.my_listing(&therapist).await.json().await.unwrap();
    assert_eq!(mine["licenses"][0]["verification_status"], "unverified");
    let verified_anywhere: bool = sqlx::query_scalar(
        "select exists (select 1 from license where listing_id = $1::uuid and verification_status = 'verified')",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(!verified_anywhere);
}

#[tokio::test]
async fn a_tag_names_one_listing_and_a_malformed_if_match_is_refused() {
    let app = crate::helpers::spawn_app().await;
    let admin = crate::helpers::access(&app.admin("twins@example.com").await);
    let mut listings = Vec::new();
    for email in ["first-twin@example.com", "second-twin@example.com"] {
        let therapist =
            crate::helpers::access(&crate::helpers::submitted_therapist(&app, email).await);
        let mine: Value = app.my_listing(&therapist).await.json().await.unwrap();
        listings.push((therapist, mine["id"].as_str().unwrap().to_owned(), mine));
    }
    // Both went through the same steps: the same version, so only the listing tells them apart.
    assert_eq!(listings[0].2["version"], listings[1].2["version"]);
    let tag_of = |id: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let read = app.admin_listing(&admin, &id).await;
            read.headers()["etag"].to_str().unwrap().to_owned()
        }
    };
    let first_tag = tag_of(listings[0].1.clone()).await;
    let second_tag = tag_of(listings[1].1.clone()).await;
    assert_ne!(first_tag, second_tag);

    let approve = |id: &str, tag: &str| {
        app.client
            .post(app.url(&format!("/v1/admin/listings/{id}/approve")))
            .bearer_auth(&admin)
            .header("if-match", tag.to_owned())
            .json(&json!({}))
            .send()
    };
    let second = listings[1].1.clone();
    assert_problem(
        approve(&second, &first_tag).await.unwrap(),
        412,
        "precondition_failed",
    )
    .await;
    for malformed in [r#""x", *, "#, "v1", r#"W/"a"x"#] {
        let problem = assert_problem(
            approve(&second, malformed).await.unwrap(),
            400,
            "invalid_parameter",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "If-Match", "{malformed}");
    }
    assert_eq!(approve(&second, &second_tag).await.unwrap().status(), 200);

    // The therapist's own edits: a malformed If-Match is refused before anything changes.
    let (therapist, _, before) = &listings[0];
    let edit = json!({"pronouns": "they/them"});
    assert_problem(
        app.patch_listing(therapist, &edit, Some(r#""x", *, "#))
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    let after: Value = app.my_listing(therapist).await.json().await.unwrap();
    assert_eq!(after["version"], before["version"]);
    assert_eq!(
        app.patch_listing(therapist, &edit, Some("*"))
            .await
            .status(),
        200
    );
}
