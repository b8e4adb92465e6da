//! Issue 8: client inquiries (journey, abuse controls, retention, privacy from admins),
//! listing freshness with a moved clock, and problem reports.

use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use therapist_directory::clock::Clock;
use therapist_directory::maintenance::{self, MaintenanceSettings, PassReport};
use time::Duration;
use uuid::Uuid;

use crate::helpers::{TestApp, TestAppBuilder, access, assert_problem, published_therapist};

fn inquiry(message: &str) -> Value {
    json!({
        "name": "Sam Rivera",
        "email": "sam.rivera@client.example",
        "phone": "+1 919 555 0142",
        "message": message,
        "preferred_contact": "email",
        "consent": true,
    })
}

fn settings(app: &TestApp) -> MaintenanceSettings {
    MaintenanceSettings {
        interval: std::time::Duration::from_secs(86_400),
        inquiry_retention: Duration::days(180),
        public_base_url: app.public_base_url.clone(),
    }
}

async fn pass(app: &TestApp) -> PassReport {
    let report = maintenance::run_once(&app.db, &app.clock, &settings(app))
        .await
        .expect("maintenance pass");
    assert!(report.ran, "no other pass runs in this test");
    report
}

async fn profile(app: &TestApp, slug: &str) -> Value {
    let response = app.profile(&slug).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn search_ids(app: &TestApp, query: &str) -> Vec<(String, bool)> {
    let response = app.search(&query).await;
    assert_eq!(response.status(), 200, "{query}");
    let body: Value = response.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_owned(),
                i["stale"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_inquiry_reaches_the_therapist_and_responses_become_a_figure() {
    let app = TestAppBuilder::default()
        .clock(Clock::system())
        .spawn()
        .await;
    let (token, listing_id, slug) = published_therapist(&app, "answers@example.com").await;

    let response = app
        .send_inquiry(&slug, &inquiry("Do you see couples on Saturdays?"))
        .await;
    assert_eq!(response.status(), 202);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "received"})
    );
    // The therapist's email quotes the message and replies go to the client.
    let email = app
        .email_to("answers@example.com", "New inquiry from Sam Rivera")
        .await;
    assert!(
        email.contains("Do you see couples on Saturdays?"),
        "{email}"
    );
    assert!(
        email.contains("Reply-To: sam.rivera@client.example"),
        "{email}"
    );
    // The client's receipt does not repeat the message.
    let receipt = app.email_to("sam.rivera@client.example", "was sent").await;
    assert!(!receipt.contains("Saturdays"), "{receipt}");

    for message in [
        "Are you in network with Aetna?",
        "Do you offer video sessions?",
    ] {
        assert_eq!(
            app.send_inquiry(&slug, &inquiry(message)).await.status(),
            202
        );
    }
    let inbox: Value = app.my_inquiries(&token).await.json().await.unwrap();
    let items = inbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[2]["message"], "Do you see couples on Saturdays?");
    assert_eq!(items[2]["status"], "new");
    assert_eq!(items[2]["listing_id"], listing_id.to_string());
    assert_eq!(items[2]["phone"], "+1 919 555 0142");

    // Another therapist sees none of it and cannot touch it.
    let other = access(&app.verified_therapist("other@example.com").await);
    let theirs: Value = app.my_inquiries(&other).await.json().await.unwrap();
    assert_eq!(theirs["items"], json!([]));
    let first = items[2]["id"].as_str().unwrap().to_owned();
    assert_problem(
        app.patch_inquiry(&other, &first, &json!({"status": "responded"}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.patch_inquiry(&token, &first, &json!({"status": "new"}))
            .await,
        422,
        "validation_failed",
    )
    .await;

    // Answered two hours later, one after another: no figure from fewer than three.
    app.clock.advance(Duration::hours(2));
    for (n, item) in items.iter().enumerate() {
        assert!(profile(&app, &slug).await["response_time"].is_null());
        let id = item["id"].as_str().unwrap();
        let read: Value = app
            .patch_inquiry(&token, &id, &json!({"status": "read"}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(read["status"], "read");
        assert!(read["read_at"].is_string() && read["responded_at"].is_null());
        let response = app
            .patch_inquiry(&token, &id, &json!({"status": "responded"}))
            .await;
        assert_eq!(response.status(), 200, "inquiry {n}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "responded");
        assert!(body["responded_at"].is_string());
    }
    let figure = &profile(&app, &slug).await["response_time"];
    assert_eq!(figure["based_on"], 3, "{figure}");
    assert_eq!(figure["label"], "within a few hours");
    let hours = figure["median_hours"].as_f64().unwrap();
    assert!((1.9..=2.1).contains(&hours), "{hours}");
    let samples: i64 =
        sqlx::query_scalar("select count(*) from inquiry_response where listing_id = $1")
            .bind(listing_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(samples, 3);

    // Archived inquiries leave the default inbox.
    app.patch_inquiry(&token, &first, &json!({"status": "archived"}))
        .await;
    let inbox: Value = app.my_inquiries(&token).await.json().await.unwrap();
    assert_eq!(inbox["items"].as_array().unwrap().len(), 2);
    let archived: Value = app
        .get_as("/v1/me/inquiries?status=archived", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(archived["items"][0]["id"], first.as_str());
    // Marking it responded again does not count twice.
    app.patch_inquiry(&token, &first, &json!({"status": "responded"}))
        .await;
    assert_eq!(profile(&app, &slug).await["response_time"]["based_on"], 3);
}

#[tokio::test]
async fn abuse_controls_hold_and_bad_inquiries_name_the_field() {
    let app = TestAppBuilder::default().spawn().await;
    let (_, listing_id, slug) = published_therapist(&app, "limits@example.com").await;

    for (body, field) in [
        (
            json!({"name": "Sam", "email": "sam@client.example", "message": "<script>x</script>",
                   "preferred_contact": "email", "consent": true}),
            "message",
        ),
        (
            json!({"name": "Sam", "email": "sam@client.example", "message": "Hello",
                   "preferred_contact": "email", "consent": false}),
            "consent",
        ),
        (
            json!({"name": "Sam", "email": "sam@client.example", "message": "Hello",
                   "preferred_contact": "phone", "consent": true}),
            "phone",
        ),
        (
            json!({"name": "Sam", "email": "sam@client.example", "message": "x".repeat(4001),
                   "preferred_contact": "email", "consent": true}),
            "message",
        ),
        (
            json!({"name": "Sam", "email": "sam@client.example", "message": "Hello",
                   "preferred_contact": "carrier pigeon", "consent": true}),
            "preferred_contact",
        ),
    ] {
        let problem = assert_problem(
            app.send_inquiry(&slug, &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }

    // A bot fills the hidden field: answered like anyone else, but nothing is kept or sent.
    let mut bot = inquiry("Cheap pills");
    bot["website"] = json!("http://spam.example");
    assert_eq!(app.send_inquiry(&slug, &bot).await.status(), 202);
    // Four more make five within the hour (the bot's counted too); the sixth is refused.
    for n in 0..4 {
        assert_eq!(
            app.send_inquiry(&slug, &inquiry(&format!("Question {n}")))
                .await
                .status(),
            202
        );
    }
    let refused = app.send_inquiry(&slug, &inquiry("One too many")).await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_problem(refused, 429, "rate_limited").await;

    let stored: Vec<String> =
        sqlx::query_scalar("select message from inquiry where listing_id = $1 order by created_at")
            .bind(listing_id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        stored,
        ["Question 0", "Question 1", "Question 2", "Question 3"]
    );
    app.email_to("limits@example.com", "New inquiry").await;
    assert!(
        !app.emails().iter().any(|e| e.contains("Cheap pills")),
        "the honeypot inquiry was delivered"
    );
}

#[tokio::test]
async fn only_public_accepting_listings_take_inquiries() {
    let app = TestAppBuilder::default().spawn().await;
    let draft = crate::helpers::data::listing(&app.db, "a-draft", "draft").await;
    let suspended = crate::helpers::data::listing(&app.db, "a-suspended", "suspended").await;
    let hidden = crate::helpers::data::listing(&app.db, "a-hidden-account", "published").await;
    sqlx::query("update account set status = 'suspended' where id = $1")
        .bind(hidden.account_id)
        .execute(&app.db)
        .await
        .unwrap();
    let full = crate::helpers::data::listing(&app.db, "not-taking-clients", "published").await;
    sqlx::query("update listing set accepting = 'not_accepting' where id = $1")
        .bind(full.id)
        .execute(&app.db)
        .await
        .unwrap();

    for slug in [&draft.slug, &suspended.slug, &hidden.slug] {
        assert_problem(
            app.send_inquiry(slug, &inquiry("Hello")).await,
            404,
            "not_found",
        )
        .await;
    }
    assert_problem(
        app.send_inquiry(&full.slug, &inquiry("Hello")).await,
        409,
        "not_accepting_inquiries",
    )
    .await;
    let stored: i64 = sqlx::query_scalar("select count(*) from inquiry")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    assert_problem(
        app.post_json(
            &format!("/v1/therapists/{}/reports", draft.slug),
            &json!({"reason": "unreachable"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn stale_listings_are_reminded_hidden_and_restored_by_confirming() {
    let app = TestAppBuilder::default()
        .clock(Clock::system())
        .spawn()
        .await;
    let (token, listing_id, slug) = published_therapist(&app, "fresh@example.com").await;
    let id = listing_id.to_string();
    assert_eq!(search_ids(&app, "").await, [(id.clone(), false)]);

    app.clock.advance(Duration::days(59));
    assert_eq!(pass(&app).await.reminders_sent, 0);
    app.clock.advance(Duration::days(2));
    assert_eq!(pass(&app).await.reminders_sent, 1);
    app.email_to("fresh@example.com", "still current").await;
    // Once per confirmation, however often the job runs.
    assert_eq!(pass(&app).await.reminders_sent, 0);
    assert_eq!(search_ids(&app, "").await, [(id.clone(), false)]);

    app.clock.advance(Duration::days(30));
    let report = pass(&app).await;
    assert_eq!((report.marked_stale, report.reminders_sent), (1, 0));
    app.email_to("fresh@example.com", "left the search results")
        .await;
    assert_eq!(search_ids(&app, "").await, []);
    assert_eq!(
        search_ids(&app, "include_stale=true").await,
        [(id.clone(), true)]
    );
    // Radius searches read the flag from the office copies (migration 0013).
    assert_eq!(search_ids(&app, "near=27601").await, []);
    assert_eq!(
        search_ids(&app, "near=27601&include_stale=true").await,
        [(id.clone(), true)]
    );
    assert_eq!(profile(&app, &slug).await["stale"], true);
    assert_eq!(pass(&app).await.marked_stale, 0);

    let confirmed = app.confirm_listing(&token).await;
    assert_eq!(confirmed.status(), 200);
    assert_eq!(search_ids(&app, "").await, [(id.clone(), false)]);
    assert_eq!(search_ids(&app, "near=27601").await, [(id.clone(), false)]);
    assert_eq!(profile(&app, &slug).await["stale"], false);
    let report = pass(&app).await;
    assert_eq!((report.marked_stale, report.reminders_sent), (0, 0));

    // Sixty days after that confirmation, two instances run the job at the same moment:
    // one reminder.
    app.clock.advance(Duration::days(61));
    let second: PgPool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&app.database.url)
        .await
        .unwrap();
    let settings = settings(&app);
    let (a, b) = tokio::join!(
        maintenance::run_once(&app.db, &app.clock, &settings),
        maintenance::run_once(&second, &app.clock, &settings),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.ran || b.ran);
    assert_eq!(a.reminders_sent + b.reminders_sent, 1, "{a:?} {b:?}");
    let reminders: i64 = sqlx::query_scalar(
        "select count(*) from outbox_email where to_address = 'fresh@example.com' and subject like 'Is your directory listing still current%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(reminders, 2, "one per confirmation period");
}

#[tokio::test]
async fn inquiries_are_deleted_after_the_retention_period() {
    let app = TestAppBuilder::default()
        .clock(Clock::system())
        .spawn()
        .await;
    let (token, listing_id, slug) = published_therapist(&app, "retention@example.com").await;
    assert_eq!(
        app.send_inquiry(&slug, &inquiry("The first one"))
            .await
            .status(),
        202
    );
    app.email_to("retention@example.com", "New inquiry").await;
    let first: Uuid = sqlx::query_scalar("select id from inquiry where listing_id = $1")
        .bind(listing_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    app.patch_inquiry(&token, &first, &json!({"status": "responded"}))
        .await;
    // Delivered emails that quote an inquiry leave the outbox at the next pass.
    let report = pass(&app).await;
    assert!(report.emails_purged >= 1, "{report:?}");
    let quoted: i64 = sqlx::query_scalar(
        "select count(*) from outbox_email where body_text like '%The first one%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(quoted, 0);

    app.clock.advance(Duration::days(100));
    assert_eq!(
        app.send_inquiry(&slug, &inquiry("The second one"))
            .await
            .status(),
        202
    );
    app.clock.advance(Duration::days(79));
    assert_eq!(pass(&app).await.inquiries_deleted, 0);
    app.clock.advance(Duration::days(2));
    assert_eq!(pass(&app).await.inquiries_deleted, 1);
    let left: Vec<String> = sqlx::query_scalar("select message from inquiry where listing_id = $1")
        .bind(listing_id)
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(left, ["The second one"]);
    // The response-time sample outlives the inquiry: it holds nothing the client wrote.
    let samples: i64 = sqlx::query_scalar("select count(*) from inquiry_response")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(samples, 1);
}

#[tokio::test]
async fn admin_routes_never_return_inquiry_contents() {
    let app = TestAppBuilder::default().spawn().await;
    let (_, listing_id, slug) = published_therapist(&app, "private@example.com").await;
    let secret = "Private-detail-7f3a about my panic attacks";
    let mut body = inquiry(secret);
    body["email"] = json!("private.client.7f3a@client.example");
    body["name"] = json!("Privateperson Sevenfthree");
    assert_eq!(app.send_inquiry(&slug, &body).await.status(), 202);
    app.email_to("private@example.com", "New inquiry").await;
    assert_eq!(
        app.report_listing(
            &slug,
            &json!({"reason": "inaccurate_info", "details": "Wrong address"}),
        )
        .await
        .status(),
        202
    );
    let admin = access(&app.admin("admin@example.com").await);

    // Every admin GET route in the OpenAPI document.
    let doc = serde_json::to_value(therapist_directory::openapi::document()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/admin") || item.get("get").is_none() {
            continue;
        }
        let url = path.replace("{id}", &listing_id.to_string());
        let response = app.get_as(&url, &admin).await;
        assert_eq!(response.status(), 200, "{url}");
        let text = response.text().await.unwrap();
        for private in ["Private-detail-7f3a", "private.client.7f3a", "Sevenfthree"] {
            assert!(!text.contains(private), "{url} returned {private}");
        }
        checked += 1;
    }
    assert!(checked >= 8, "{checked}");
    assert_problem(app.my_inquiries(&admin).await, 403, "forbidden").await;
}

#[tokio::test]
async fn three_clients_reporting_unreachable_unconfirm_availability_until_confirmed() {
    let app = TestAppBuilder::default()
        .env("APP_TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .await;
    let (token, listing_id, slug) = published_therapist(&app, "reported@example.com").await;
    let report = |ip: &'static str, body: Value| {
        let app = &app;
        let slug = slug.clone();
        async move {
            app.client
                .post(app.url(&format!("/v1/therapists/{slug}/reports")))
                .header("x-forwarded-for", ip)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let problem = assert_problem(
        report("203.0.113.9", json!({"reason": "gone_fishing"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "reason", "{problem}");
    let problem = assert_problem(
        report(
            "203.0.113.9",
            json!({"reason": "other", "details": "x".repeat(2001)}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "details");

    // One client reporting three times is still one client.
    for _ in 0..3 {
        let r = report("203.0.113.1", json!({"reason": "unreachable"})).await;
        assert_eq!(r.status(), 202);
    }
    assert_eq!(
        profile(&app, &slug).await["availability"]["confirmed"],
        true
    );
    assert_eq!(
        report(
            "198.51.100.2",
            json!({"reason": "not_accepting", "details": "Said she is full"})
        )
        .await
        .status(),
        202
    );
    assert_eq!(
        profile(&app, &slug).await["availability"]["confirmed"],
        true
    );
    assert_eq!(
        report("192.0.2.3", json!({"reason": "unreachable"}))
            .await
            .status(),
        202
    );
    assert_eq!(
        profile(&app, &slug).await["availability"]["confirmed"],
        false
    );
    app.email_to("reported@example.com", "confirm your availability")
        .await;
    let hits: Vec<(String, bool)> = search_ids(&app, "").await;
    assert_eq!(hits, [(listing_id.to_string(), false)]);
    let item: Value = app.search("").await.json().await.unwrap();
    assert_eq!(item["items"][0]["availability_confirmed"], false);

    // Admins see the reports (not who sent them) and resolve them.
    let admin = access(&app.admin("admin@example.com").await);
    let open: Value = app
        .get_as("/v1/admin/reports", &admin)
        .await
        .json()
        .await
        .unwrap();
    let items = open["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(items.iter().all(|r| r.get("reporter").is_none()));
    assert_eq!(items[1]["details"], "Said she is full");
    assert_eq!(items[0]["listing_slug"], slug.as_str());
    let id = items[0]["id"].as_str().unwrap();
    let resolved: Value = app
        .post_as(
            &format!("/v1/admin/reports/{id}/resolve"),
            &admin,
            &json!({"resolution": "dismissed", "note": "Reached her by phone"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resolved["resolution"], "dismissed");
    assert!(resolved["resolved_at"].is_string());
    assert_problem(
        app.post_as(
            &format!("/v1/admin/reports/{id}/resolve"),
            &admin,
            &json!({"resolution": "fixed"}),
        )
        .await,
        409,
        "invalid_state",
    )
    .await;
    let done: Value = app
        .get_as("/v1/admin/reports?status=resolved", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["items"].as_array().unwrap().len(), 1);
    assert_problem(
        app.get_as("/v1/admin/reports?status=maybe", &admin).await,
        400,
        "invalid_parameter",
    )
    .await;

    // The therapist confirms: availability is confirmed again.
    assert_eq!(app.confirm_listing(&token).await.status(), 200);
    assert_eq!(
        profile(&app, &slug).await["availability"]["confirmed"],
        true
    );

    // Five reports an hour from one address.
    for _ in 0..2 {
        assert_eq!(
            report("203.0.113.1", json!({"reason": "other"}))
                .await
                .status(),
            202
        );
    }
    assert_problem(
        report("203.0.113.1", json!({"reason": "other"})).await,
        429,
        "rate_limited",
    )
    .await;
}
