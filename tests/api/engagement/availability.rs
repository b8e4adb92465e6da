//! Listing freshness with a moved clock, and problem reports that unconfirm availability.

use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use therapist_directory::clock::Clock;
use therapist_directory::maintenance::{self};
use time::Duration;

use super::{pass, profile, search_ids, settings};
use crate::helpers::{TestAppBuilder, access, assert_problem, published_therapist};

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

/// Reports answered by a confirmation do not count again: after it, one more client is one
/// client, not the fourth of four.
#[tokio::test]
async fn a_confirmation_answers_the_reports_before_it() {
    let app = TestAppBuilder::default()
        .env("APP_TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .await;
    let (token, _, slug) = published_therapist(&app, "answered@example.com").await;
    let unreachable = async |ip: &str| {
        let url = app.url(&format!("/v1/therapists/{slug}/reports"));
        let sent = app
            .client
            .post(url)
            .header("x-forwarded-for", ip)
            .json(&json!({"reason": "unreachable"}))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 202, "{ip}");
    };
    let confirmed = async || profile(&app, &slug).await["availability"]["confirmed"].clone();
    for ip in ["203.0.113.1", "203.0.114.1", "203.0.115.1"] {
        unreachable(ip).await;
    }
    assert_eq!(confirmed().await, false, "three clients unconfirm it");
    assert_eq!(app.confirm_listing(&token).await.status(), 200);
    assert_eq!(confirmed().await, true);
    unreachable("203.0.116.1").await;
    assert_eq!(confirmed().await, true, "one client after the confirmation");
}
