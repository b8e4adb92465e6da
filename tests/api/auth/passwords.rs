//! Wrong passwords are throttled, a reset revokes every session, and the mail carrying
//! the link survives a transport outage.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::json;
use therapist_directory::mail::OutgoingEmail;
use therapist_directory::mail::transport::{Mailer, SendFuture};

use super::audit_count;
use crate::helpers::{PASSWORD, TestAppBuilder, access, assert_problem, spawn_app, token_in};

#[tokio::test]
async fn the_sixth_wrong_password_is_throttled_whatever_the_forwarded_ip() {
    let app = spawn_app().await;
    app.verified_therapist("brute@example.com").await;
    for attempt in 1..=5 {
        let response = app
            .client
            .post(app.url("/v1/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.{attempt}"))
            .json(&json!({"email": "brute@example.com", "password": "guess number one"}))
            .send()
            .await
            .unwrap();
        assert_problem(response, 401, "invalid_credentials").await;
    }
    let sixth = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("x-forwarded-for", "203.0.113.77")
        .json(&json!({"email": "brute@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = sixth.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(sixth, 429, "rate_limited").await;
    assert_eq!(audit_count(&app, "auth.lockout").await, 1);
    assert_eq!(audit_count(&app, "auth.login_failed").await, 5);

    // The lock is in the database: a restarted (or second) instance honours it.
    let restarted = app.sibling().await;
    assert_problem(
        restarted.login("brute@example.com", PASSWORD).await,
        429,
        "rate_limited",
    )
    .await;
    // An unknown address locks the same way, so a lock-out reveals nothing.
    for _ in 0..5 {
        assert_problem(
            app.login("ghost@example.com", "guess number one").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_problem(
        app.login("ghost@example.com", "guess number one").await,
        429,
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn password_reset_revokes_every_session() {
    let app = spawn_app().await;
    let login = app.verified_therapist("reset@example.com").await;
    for email in ["reset@example.com", "nobody@example.com"] {
        // Answered no sooner than a floor, so the time says nothing of the account.
        let started = std::time::Instant::now();
        let response = app.request_password_reset(&json!({"email": email})).await;
        assert_eq!(response.status(), 202);
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(250),
            "{email}"
        );
    }
    let mail = app
        .email_to("reset@example.com", "Reset your directory password")
        .await;
    let token = token_in(&mail);

    let weak = app
        .confirm_password_reset(&json!({"token": token, "new_password": "short"}))
        .await;
    assert_problem(weak, 422, "validation_failed").await;
    let done = app
        .confirm_password_reset(&json!({"token": token, "new_password": "an entirely new phrase"}))
        .await;
    assert_eq!(done.status(), 204);
    assert_problem(app.me(&access(&login)).await, 401, "invalid_token").await;
    assert_problem(
        app.refresh(&json!({"refresh_token": login["refresh_token"]}))
            .await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(
        app.login("reset@example.com", "an entirely new phrase")
            .await
            .status(),
        200
    );
    let reused = app
        .confirm_password_reset(&json!({"token": token, "new_password": "yet another new phrase"}))
        .await;
    assert_problem(reused, 400, "invalid_or_expired_token").await;
    // Only one reset email went out: none for the unknown address.
    assert!(
        !app.emails()
            .iter()
            .any(|e| e.contains("nobody@example.com"))
    );
}

/// A transport that fails its first `failures` deliveries, then delivers for real.
struct Flaky {
    failures: u32,
    attempts: AtomicU32,
    inner: Arc<dyn Mailer>,
}

impl Mailer for Flaky {
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> SendFuture<'a> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        if attempt <= self.failures {
            return Box::pin(async move {
                Err(anyhow::anyhow!(
                    "SMTP server unavailable (simulated, attempt {attempt})"
                ))
            });
        }
        self.inner.send(email)
    }
}

#[tokio::test]
async fn mail_survives_a_transport_outage() {
    let mail_dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("flaky-{}", uuid::Uuid::now_v7()));
    let settings = therapist_directory::config::MailSettings {
        transport: therapist_directory::config::MailTransport::File {
            dir: mail_dir.clone(),
        },
        from: "Directory <no-reply@directory.example>".into(),
        outbox: therapist_directory::mail::outbox::OutboxSettings {
            poll_interval: std::time::Duration::from_millis(20),
            retry_base: std::time::Duration::from_millis(10),
            max_attempts: 30,
        },
    };
    let real = Arc::new(
        therapist_directory::mail::transport::LettreMailer::from_settings(&settings).unwrap(),
    );
    let flaky = Arc::new(Flaky {
        failures: 4,
        attempts: AtomicU32::new(0),
        inner: real,
    });
    let app = TestAppBuilder::default()
        .mailer(flaky.clone())
        .spawn()
        .await;

    assert_eq!(
        app.signup("outage@example.com", PASSWORD, "Outage Person")
            .await
            .status(),
        202
    );
    let mut delivered = false;
    for _ in 0..200 {
        let sent: Option<(i32,)> =
            sqlx::query_as("select attempts from outbox_email where sent_at is not null")
                .fetch_optional(&app.db)
                .await
                .unwrap();
        if let Some((attempts,)) = sent {
            assert_eq!(attempts, 5, "four failures, then delivered");
            delivered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(
        delivered,
        "the message was delivered once the transport recovered"
    );
    let files: Vec<_> = std::fs::read_dir(&mail_dir).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "delivered exactly once");
    let last_error: Option<String> = sqlx::query_scalar("select last_error from outbox_email")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(last_error.is_none());
}

#[tokio::test]
async fn a_reset_link_sent_before_a_password_change_no_longer_works() {
    let app = spawn_app().await;
    let login = app.verified_therapist("changed-mind@example.com").await;
    let asked = app
        .request_password_reset(&json!({"email": "changed-mind@example.com"}))
        .await;
    assert_eq!(asked.status(), 202);
    let mail = app
        .email_to("changed-mind@example.com", "Reset your directory password")
        .await;
    let token = token_in(&mail);
    let changed = app
        .post_as(
            "/v1/me/password",
            &access(&login),
            &json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    let late = app
        .confirm_password_reset(&json!({"token": token, "new_password": "someone else's phrase"}))
        .await;
    assert_problem(late, 400, "invalid_or_expired_token").await;
    assert_eq!(
        app.login("changed-mind@example.com", "a brand new passphrase")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn two_spellings_of_one_mailbox_are_one_account() {
    let app = spawn_app().await;
    app.verified_therapist("alice@xn--exmple-cua.com").await;
    // The Unicode spelling of the same domain signs in to the same account.
    let login = app.login("alice@exämple.com", PASSWORD).await;
    assert_eq!(login.status(), 200);
    for literal in ["alice@[127.0.0.1]", "alice@[IPv6:2001:db8::1]"] {
        let refused = app
            .signup(literal, "a long enough passphrase", "Literal Person")
            .await;
        let body = assert_problem(refused, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["code"], "invalid_email", "{literal}");
    }
}

#[tokio::test]
async fn guesses_sent_together_get_the_allowance_and_no_more() {
    let app = TestAppBuilder::default()
        .env("APP_TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .await;
    app.verified_therapist("burst@example.com").await;
    let guess = |network: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/v1/auth/login"))
                .header("x-forwarded-for", network)
                .json(&json!({"email": "burst@example.com", "password": "one more guess"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let count = |statuses: &[u16], status: u16| statuses.iter().filter(|s| **s == status).count();

    // 25 at once from one network: five are checked, the rest wait.
    let one_network: Vec<u16> =
        futures_util::future::join_all((0..25).map(|_| guess("198.51.100.7".to_owned()))).await;
    assert_eq!(count(&one_network, 401), 5, "{one_network:?}");
    assert_eq!(count(&one_network, 429), 20, "{one_network:?}");

    // From 19 more networks, five each, all at once: the day's cap (100) holds exactly.
    let many: Vec<u16> = futures_util::future::join_all(
        (1..=19)
            .flat_map(|n| std::iter::repeat_n(format!("203.0.113.{n}"), 5))
            .map(guess),
    )
    .await;
    assert_eq!(count(&many, 401), 95, "{many:?}");
    assert_eq!(count(&many, 429), 0, "{many:?}");
    let over: Vec<u16> = futures_util::future::join_all(
        (20..=21)
            .flat_map(|n| std::iter::repeat_n(format!("203.0.113.{n}"), 3))
            .map(guess),
    )
    .await;
    assert_eq!(count(&over, 429), 6, "the 101st guess is refused: {over:?}");
}

#[tokio::test]
async fn others_guesses_spend_the_day_but_do_not_lock_the_owner_out() {
    let app = TestAppBuilder::default()
        .env("APP_TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .await;
    let email = "owner@example.com";
    app.verified_therapist(email).await;
    let sign_in = |network: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/v1/auth/login"))
                .header("x-forwarded-for", network)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    // The owner signs in from home once; then the day's hundred failures are spent by
    // others (written as the throttle keeps them).
    assert_eq!(sign_in("198.51.100.20", PASSWORD).await.status(), 200);
    let spend_the_day = "insert into login_daily_failure (email_key, failures, window_start, reset_required_at)
         values (sha256(convert_to(lower($1), 'UTF8')), 100, now(), now())
         on conflict (email_key) do update set failures = 100, window_start = now(), reset_required_at = now()";
    sqlx::query(spend_the_day)
        .bind(email)
        .execute(&app.db)
        .await
        .unwrap();

    // A new network needs the email reset; home still works with the right password.
    assert_problem(sign_in("203.0.113.50", PASSWORD).await, 429, "rate_limited").await;
    assert_eq!(sign_in("198.51.100.20", PASSWORD).await.status(), 200);
    // A wrong password from home is still a failure, not a way in.
    assert_problem(
        sign_in("198.51.100.20", "not the password at all").await,
        401,
        "invalid_credentials",
    )
    .await;

    // The requirement goes with the day's failures.
    sqlx::query(
        "update login_daily_failure set window_start = now() - interval '25 hours'
         where email_key = sha256(convert_to(lower($1), 'UTF8'))",
    )
    .bind(email)
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(sign_in("203.0.113.50", PASSWORD).await.status(), 200);

    // With a second factor, a new network comes in with the password and the code.
    let admin = "factor-owner@example.com";
    app.admin(admin).await;
    sqlx::query(spend_the_day)
        .bind(admin)
        .execute(&app.db)
        .await
        .unwrap();
    let challenge = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("x-forwarded-for", "192.0.2.99")
        .json(&json!({"email": admin, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(challenge, 401, "mfa_required").await;
    let token = problem["mfa_token"].as_str().unwrap();
    assert_eq!(app.second_factor(token, admin, 1).await.status(), 200);
}

/// Signup, reset and change share one rule, zxcvbn's among it: a guessable password is
/// 422 `too_common` on `password`/`new_password`, and the answer never repeats it.
#[tokio::test]
async fn every_route_that_sets_a_password_refuses_a_guessable_one() {
    let app = spawn_app().await;
    let weak = "1qaz2wsx3edc4rfv";
    let check = |field: &'static str| {
        move |problem: serde_json::Value| {
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
            assert_eq!(problem["errors"][0]["code"], "too_common", "{problem}");
            assert!(
                !problem.to_string().contains(weak),
                "the answer repeats the password"
            );
        }
    };
    let signup = app.signup("weak@example.com", weak, "Weak Person").await;
    check("password")(assert_problem(signup, 422, "validation_failed").await);

    let token = access(&app.verified_therapist("strong@example.com").await);
    let body = json!({"current_password": PASSWORD, "new_password": weak});
    let change = app.post_as("/v1/me/password", &token, &body).await;
    check("new_password")(assert_problem(change, 422, "validation_failed").await);

    let asked = app
        .request_password_reset(&json!({"email": "strong@example.com"}))
        .await;
    assert_eq!(asked.status(), 202);
    let link = token_in(
        &app.email_to("strong@example.com", "Reset your directory password")
            .await,
    );
    let reset = app
        .confirm_password_reset(&json!({"token": link, "new_password": weak}))
        .await;
    check("new_password")(assert_problem(reset, 422, "validation_failed").await);
}
