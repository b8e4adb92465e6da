//! Client inquiries: the journey to the therapist's inbox, abuse controls, which listings
//! take them, retention, and privacy from admins.

use serde_json::{Value, json};
use therapist_directory::clock::Clock;
use time::Duration;
use uuid::Uuid;

use super::{inquiry, pass, profile};
use crate::helpers::{TestAppBuilder, access, assert_problem, published_therapist};

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
    let patched = app
        .patch_inquiry(&token, &first, &json!({"status": "archived"}))
        .await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["status"], "archived");
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
    let patched = app
        .patch_inquiry(&token, &first, &json!({"status": "responded"}))
        .await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["status"], "responded");
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
    let patched = app
        .patch_inquiry(&token, &first, &json!({"status": "responded"}))
        .await;
    assert_eq!(patched.status(), 200);
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
