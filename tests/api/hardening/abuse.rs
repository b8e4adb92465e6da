//! Abuse that must not close an inbox, smear listings or lock an owner out.

use serde_json::{Value, json};

use super::inquiry;
use crate::helpers::{TestAppBuilder, assert_problem, published_therapist};

#[tokio::test]
async fn honeypot_submissions_cannot_close_a_listings_inbox() {
    let app = TestAppBuilder::default()
        .env("APP_TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .await;
    let (_, _, slug) = published_therapist(&app, "inbox@example.com").await;
    let send = |ip: String, body: Value| {
        let app = &app;
        let path = format!("/v1/therapists/{slug}/inquiries");
        async move {
            app.client
                .post(app.url(&path))
                .header("x-forwarded-for", ip)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let mut bot = inquiry();
    bot["website"] = json!("http://spam.example");
    // More bot submissions than the listing's daily quota (30), from many addresses.
    for i in 0..35 {
        let answer = send(format!("198.51.100.{i}"), bot.clone()).await;
        assert_eq!(answer.status(), 202, "bot {i} is answered like anyone");
    }
    let real = send("203.0.113.50".to_owned(), inquiry()).await;
    assert_eq!(
        real.status(),
        202,
        "a real client still reaches the therapist"
    );
    app.email_to("inbox@example.com", "inquiry").await;
    // The bot's own address is still limited.
    for _ in 0..5 {
        send("198.51.100.200".to_owned(), bot.clone()).await;
    }
    assert_problem(
        send("198.51.100.200".to_owned(), bot.clone()).await,
        429,
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn one_network_cannot_mark_listings_unconfirmed_or_smear_many() {
    // Behind a proxy that writes RFC 7239 `Forwarded`.
    let app = TestAppBuilder::default()
        .env("APP_TRUSTED_PROXIES", "127.0.0.0/8")
        .env("APP_FORWARDED_HEADER", "forwarded")
        .spawn()
        .await;
    let (_, _, slug) = published_therapist(&app, "smeared@example.com").await;
    let report = |ip: &'static str, slug: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url(&format!("/v1/therapists/{slug}/reports")))
                .header("forwarded", format!("for={ip}"))
                .json(&json!({"reason": "unreachable"}))
                .send()
                .await
                .unwrap()
        }
    };
    // Three addresses of one /24: one reporter.
    for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        assert_eq!(report(ip, slug.clone()).await.status(), 202);
    }
    let profile: Value = app.profile(&slug).await.json().await.unwrap();
    assert_eq!(profile["availability"]["confirmed"], true);
    // Rotating through one IPv6 /64 is one client too, for the hourly budget.
    for i in 0..5 {
        let ip: &'static str = Box::leak(format!("\"[2001:db8:7:7::{i}]\"").into_boxed_str());
        assert_eq!(report(ip, slug.clone()).await.status(), 202);
    }
    assert_problem(
        report("\"[2001:db8:7:7::99]\"", slug.clone()).await,
        429,
        "rate_limited",
    )
    .await;
    // One network's reports across listings are capped for the day.
    let mut others = Vec::new();
    for i in 0..6 {
        others.push(
            published_therapist(&app, &format!("other{i}@example.com"))
                .await
                .2,
        );
    }
    let mut statuses = Vec::new();
    for (n, other) in others.iter().enumerate() {
        // Different addresses (and hours' budgets) within one /24.
        let ip: &'static str = Box::leak(format!("203.0.113.{}", 10 + n).into_boxed_str());
        statuses.push(report(ip, other.clone()).await.status().as_u16());
    }
    for n in 40..45 {
        let ip: &'static str = Box::leak(format!("203.0.113.{n}").into_boxed_str());
        statuses.push(report(ip, others[0].clone()).await.status().as_u16());
    }
    // Ten a day from the /24, then refused.
    assert_eq!(
        statuses,
        [vec![202; 10], vec![429]].concat(),
        "one /24's reports in a day"
    );
}

#[tokio::test]
async fn someone_elses_guesses_never_lock_the_owner_out() {
    let app = TestAppBuilder::default()
        .env("APP_TRUSTED_PROXIES", "127.0.0.0/8")
        .spawn()
        .await;
    app.verified_therapist("owner@example.com").await;
    let login = |ip: String, password: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/v1/auth/login"))
                .header("x-forwarded-for", ip)
                .json(&json!({"email": "owner@example.com", "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    // Five wrong guesses from one network: that network waits.
    for _ in 0..5 {
        assert_eq!(
            login("203.0.113.66".into(), "wrong guess here")
                .await
                .status(),
            401
        );
    }
    assert_problem(
        login("203.0.113.66".into(), crate::helpers::PASSWORD).await,
        429,
        "rate_limited",
    )
    .await;
    // The owner, elsewhere, signs in.
    assert_eq!(
        login("198.51.100.20".into(), crate::helpers::PASSWORD)
            .await
            .status(),
        200
    );

    // A hundred failures in a day (the five above included) from many networks, none of
    // them waiting: sign-in then needs a reset by email.
    for n in 0..95 {
        let status = login(format!("192.0.2.{}", n / 4), "wrong guess here")
            .await
            .status();
        assert_eq!(status, 401, "failure {}", n + 6);
    }
    let refused = assert_problem(
        login("198.51.100.21".into(), crate::helpers::PASSWORD).await,
        429,
        "rate_limited",
    )
    .await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("reset the password")
    );
    let reset = app
        .request_password_reset(&json!({"email": "owner@example.com"}))
        .await;
    assert_eq!(reset.status(), 202);
    let token = crate::helpers::token_in(&app.email_to("owner@example.com", "Reset").await);
    let confirmed = app
        .confirm_password_reset(
            &json!({"token": token, "new_password": "a fresh and private phrase"}),
        )
        .await;
    assert_eq!(confirmed.status(), 204);
    let again = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("x-forwarded-for", "198.51.100.21")
        .json(&json!({"email": "owner@example.com", "password": "a fresh and private phrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "the reset unlocks sign-in");
}
