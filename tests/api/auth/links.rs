//! Emailed links and short-lived tokens: resending a verification link tells nothing about
//! the address, expired links and sign-in challenges are refused, and every answer that
//! carries a token or an admin's data is `no-store`.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, spawn_app, token_in};

#[tokio::test]
async fn resending_a_verification_link_answers_alike_for_every_address() {
    let app = spawn_app().await;
    assert_eq!(
        app.signup("pending@example.com", PASSWORD, "Pen Ding")
            .await
            .status(),
        202
    );
    let first = token_in(
        &app.email_to("pending@example.com", "Confirm your email")
            .await,
    );
    app.verified_therapist("done@example.com").await;
    let mut answers = Vec::new();
    for email in [
        "pending@example.com",
        "done@example.com",
        "nobody@example.com",
    ] {
        let response = app
            .post_json("/v1/auth/resend-verification", &json!({"email": email}))
            .await;
        assert_eq!(response.status(), 202, "{email}");
        answers.push(response.json::<Value>().await.unwrap());
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    // Only the unverified account gets a second link, and it works.
    let confirmations = |to: &str| {
        app.emails()
            .into_iter()
            .filter(|e| e.contains(&format!("To: {to}")) && e.contains("Confirm your email"))
            .collect::<Vec<_>>()
    };
    for _ in 0..200 {
        if confirmations("pending@example.com").len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let pending = confirmations("pending@example.com");
    assert_eq!(pending.len(), 2);
    assert_eq!(confirmations("done@example.com").len(), 1);
    assert!(confirmations("nobody@example.com").is_empty());
    let resent = pending
        .iter()
        .map(|e| token_in(e))
        .find(|t| *t != first)
        .expect("a new link");
    let verified = app
        .post_json("/v1/auth/verify-email", &json!({"token": resent}))
        .await;
    assert_eq!(verified.status(), 200);
}

#[tokio::test]
async fn expired_links_and_sign_in_challenges_are_refused() {
    let app = spawn_app().await;
    assert_eq!(
        app.signup("late@example.com", PASSWORD, "Late Comer")
            .await
            .status(),
        202
    );
    let token = token_in(&app.email_to("late@example.com", "Confirm your email").await);
    sqlx::query("update email_token set expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_problem(
        app.post_json("/v1/auth/verify-email", &json!({"token": token}))
            .await,
        400,
        "invalid_or_expired_token",
    )
    .await;

    // A second factor's challenge lives five minutes.
    app.admin("slow-admin@example.com").await;
    let challenge = app.mfa_challenge("slow-admin@example.com").await;
    sqlx::query("update mfa_challenge set expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_problem(
        app.second_factor(&challenge, "slow-admin@example.com", 1)
            .await,
        400,
        "invalid_or_expired_token",
    )
    .await;
}

#[tokio::test]
async fn tokens_and_admin_answers_are_never_cached() {
    let app = spawn_app().await;
    let admin = app.admin("cache-admin@example.com").await;
    let token = crate::helpers::access(&admin);
    let no_store = |response: &reqwest::Response, what: &str| {
        assert_eq!(response.headers()["cache-control"], "no-store", "{what}");
    };
    for path in [
        "/v1/admin/listings",
        "/v1/admin/accounts",
        "/v1/admin/audit-log",
    ] {
        let response = app.get_as(path, &token).await;
        assert_eq!(response.status(), 200, "{path}");
        no_store(&response, path);
    }
    let refreshed = app
        .refresh(&json!({"refresh_token": admin["refresh_token"]}))
        .await;
    assert_eq!(refreshed.status(), 200);
    no_store(&refreshed, "refresh");
    let challenge = app.mfa_challenge("cache-admin@example.com").await;
    let signed_in = app
        .second_factor(&challenge, "cache-admin@example.com", 1)
        .await;
    assert_eq!(signed_in.status(), 200);
    no_store(&signed_in, "login/mfa");
}
