//! Join the directory and directory login: the journey, enumeration resistance, token
//! negatives, refresh rotation, brute-force defence, the password policy and the outbox.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use therapist_directory::mail::OutgoingEmail;
use therapist_directory::mail::transport::{Mailer, SendFuture};

use crate::helpers::{
    PASSWORD, TEST_JWT_SECRET, TestAppBuilder, access, assert_problem, spawn_app, token_in,
};

async fn audit_count(app: &crate::helpers::TestApp, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log where action = $1")
        .bind(action)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn signup_verify_login_and_me_end_to_end() {
    let app = spawn_app().await;
    let response = app
        .signup("hailey@example.com", PASSWORD, "Hailey Shafir")
        .await;
    assert_eq!(response.status(), 202);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "verification_email_sent"})
    );

    // The account and its empty draft listing exist, unverified.
    let (status, slug): (String, String) = sqlx::query_as(
        "select l.status::text, l.slug from listing l join account a on a.id = l.account_id where a.email = 'hailey@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((status.as_str(), slug.as_str()), ("draft", "hailey-shafir"));
    assert_problem(
        app.login("hailey@example.com", PASSWORD).await,
        403,
        "email_not_verified",
    )
    .await;

    let mail = app
        .email_to("hailey@example.com", "Confirm your email")
        .await;
    assert!(
        mail.contains("https://directory.example/verify-email?token="),
        "link from the configured base: {mail}"
    );
    let token = token_in(&mail);
    assert_eq!(token.len(), 43);
    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from email_token")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_ne!(stored, token.as_bytes(), "only the hash is stored");

    let verified = app.verify_email(&token).await;
    assert_eq!(verified.status(), 200);
    // Single use.
    let again = app.verify_email(&token).await;
    assert_problem(again, 400, "invalid_or_expired_token").await;

    let login: Value = app
        .login("HAILEY@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["expires_in"], 900);
    assert_eq!(login["account"]["role"], "therapist");
    let me: Value = app.me(&access(&login)).await.json().await.unwrap();
    assert_eq!(me["email"], "hailey@example.com");
    assert_eq!(me["email_verified"], true);
    assert!(me.get("password_hash").is_none());

    for action in ["account.signed_up", "account.email_verified", "auth.login"] {
        assert_eq!(audit_count(&app, action).await, 1, "{action}");
    }
    let details: String =
        sqlx::query_scalar("select string_agg(details::text, ' ') from audit_log")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(
        !details.contains(PASSWORD) && !details.contains(&token),
        "no secrets in the audit log"
    );
}

#[tokio::test]
async fn existing_and_new_emails_get_identical_answers() {
    let app = spawn_app().await;
    app.verified_therapist("taken@example.com").await;

    let send = |email: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/v1/auth/signup"))
                .header("x-request-id", "same-id")
                .json(&json!({"email": email, "password": PASSWORD, "full_name": "Someone", "accept_terms": true}))
                .send()
                .await
                .unwrap()
        }
    };
    let existing = send("taken@example.com").await;
    let new = send("fresh@example.com").await;
    assert_eq!(existing.status(), new.status());
    assert_eq!(existing.bytes().await.unwrap(), new.bytes().await.unwrap());
    // The owner of the existing account is told, without a new account being made.
    app.email_to("taken@example.com", "You already have a directory account")
        .await;
    let accounts: i64 =
        sqlx::query_scalar("select count(*) from account where email = 'taken@example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(accounts, 1);

    let login = |email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/v1/auth/login"))
                .header("x-request-id", "same-id")
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    let wrong_password = login("taken@example.com", "not the right password").await;
    let unknown = login("nobody@example.com", "not the right password").await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(wrong_password.status(), unknown.status());
    assert_eq!(
        wrong_password.bytes().await.unwrap(),
        unknown.bytes().await.unwrap()
    );
}

#[tokio::test]
async fn the_password_policy_names_each_problem() {
    let app = spawn_app().await;
    let long_ok: String =
        "the quiet orchard keeps its secrets under snow; ".repeat(3)[..128].to_owned();
    assert_eq!(long_ok.chars().count(), 128);
    assert_eq!(
        app.signup("long@example.com", &long_ok, "Long Password")
            .await
            .status(),
        202
    );
    assert_eq!(
        app.signup(
            "unicode@example.com",
            "ñandú corre rápido 🦤",
            "Unicode Password"
        )
        .await
        .status(),
        202
    );

    let cases = [
        (format!("{long_ok}x"), "too_long"),
        ("elevenchars".to_owned(), "too_short"),
        ("password1234".to_owned(), "too_common"),
    ];
    for (password, code) in cases {
        let body = assert_problem(
            app.signup("weak@example.com", &password, "Weak").await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "password", "{password}");
        assert_eq!(body["errors"][0]["code"], code, "{password}");
    }
    let body = assert_problem(
        app.post_json(
            "/v1/auth/signup",
            &json!({"email": "not-an-email", "password": "x", "full_name": "", "accept_terms": false}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "full_name", "password", "accept_terms"]);

    let hashes: Vec<String> = sqlx::query_scalar("select password_hash from account")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(hashes.len(), 2);
    for hash in hashes {
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }
    // Both long and non-ASCII passwords sign in once verified (no truncation: one more
    // character is a different password).
    sqlx::query("update account set email_verified_at = now()")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(app.login("long@example.com", &long_ok).await.status(), 200);
    assert_eq!(
        app.login("long@example.com", &long_ok[..127])
            .await
            .status(),
        401
    );
    assert_eq!(
        app.login("unicode@example.com", "ñandú corre rápido 🦤")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = spawn_app().await;
    let response = app
        .post_raw("/v1/auth/login", "{\"email\": ", "application/json")
        .await;
    assert_problem(response, 400, "malformed_json").await;
    let response = app
        .post_raw(
            "/v1/auth/login",
            "email=x",
            "application/x-www-form-urlencoded",
        )
        .await;
    assert_problem(response, 415, "unsupported_media_type").await;
    let body = assert_problem(
        app.post_json(
            "/v1/auth/login",
            &json!({"email": "a@b.co", "password": "x", "role": "admin"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "role");
    assert_eq!(body["errors"][0]["code"], "unknown_field");
    let body = assert_problem(
        app.post_json("/v1/auth/login", &json!({"email": 5, "password": "x"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "email");
}

fn claims(sub: &str, overrides: Value) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut base = json!({
        "sub": sub, "role": "therapist", "iat": now, "exp": now + 600,
        "aud": "therapist-directory-api", "iss": "therapist-directory",
        "jti": uuid::Uuid::now_v7(), "sid": uuid::Uuid::nil(), "ver": 0
    });
    for (k, v) in overrides.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// Signs as the service does: with the access-token key derived from `secret`, named by
/// its `kid`.
fn sign(alg: Algorithm, claims: &Value, secret: &str) -> String {
    use therapist_directory::keys::{Purpose, derive, key_id};
    let key = derive(
        &secrecy::SecretString::from(secret.to_owned()),
        Purpose::AccessTokens,
    );
    let mut header = Header::new(alg);
    header.kid = Some(key_id(&key));
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(&key)).unwrap()
}

#[tokio::test]
async fn forged_expired_and_revoked_tokens_are_refused() {
    let app = spawn_app().await;
    let login = app.verified_therapist("tokens@example.com").await;
    let good = access(&login);
    assert_eq!(app.me(&good).await.status(), 200);

    // Re-sign the real claims, changing one thing at a time.
    let payload = good.split('.').nth(1).unwrap();
    use base64::Engine;
    let real: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let sub = real["sub"].as_str().unwrap().to_owned();
    let with = |o: Value| {
        let mut c = claims(&sub, json!({"sid": real["sid"], "jti": real["jti"]}));
        for (k, v) in o.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    assert_eq!(
        app.get_as(
            "/v1/me",
            &sign(Algorithm::HS256, &with(json!({})), TEST_JWT_SECRET)
        )
        .await
        .status(),
        200,
        "control: a correctly signed token works"
    );
    let none = {
        let enc =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            enc(&json!({"alg": "none", "typ": "JWT"})),
            enc(&with(json!({})))
        )
    };
    let mut missing_jti = with(json!({}));
    missing_jti.as_object_mut().unwrap().remove("jti");
    let cases = [
        (
            "bad signature",
            sign(
                Algorithm::HS256,
                &with(json!({})),
                "another-secret-another-secret-0000",
            ),
        ),
        ("alg none", none),
        (
            "another algorithm",
            sign(Algorithm::HS384, &with(json!({})), TEST_JWT_SECRET),
        ),
        (
            "wrong audience",
            sign(
                Algorithm::HS256,
                &with(json!({"aud": "someone-else"})),
                TEST_JWT_SECRET,
            ),
        ),
        (
            "wrong issuer",
            sign(
                Algorithm::HS256,
                &with(json!({"iss": "evil"})),
                TEST_JWT_SECRET,
            ),
        ),
        (
            "expired",
            sign(
                Algorithm::HS256,
                &with(json!({"iat": 1_600_000_000, "exp": 1_600_000_600})),
                TEST_JWT_SECRET,
            ),
        ),
        (
            "missing claim",
            sign(Algorithm::HS256, &missing_jti, TEST_JWT_SECRET),
        ),
        (
            "elevated role",
            sign(
                Algorithm::HS256,
                &with(json!({"role": "admin"})),
                TEST_JWT_SECRET,
            ),
        ),
        (
            "refresh token as access token",
            login["refresh_token"].as_str().unwrap().to_owned(),
        ),
        ("garbage", "abc.def.ghi".to_owned()),
    ];
    for (case, token) in cases {
        let response = app.me(&token).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\"",
            "{case}"
        );
        let body = assert_problem(response, 401, "invalid_token").await;
        assert!(!body.to_string().contains(&token), "{case}");
    }
    assert_problem(app.get("/v1/me").await, 401, "authentication_required").await;
}

#[tokio::test]
async fn logout_password_change_and_suspension_revoke_access_tokens() {
    let app = spawn_app().await;

    // Logout kills the family's access token.
    let login = app.verified_therapist("logout@example.com").await;
    let logout = app
        .post_json(
            "/v1/auth/logout",
            &json!({"refresh_token": login["refresh_token"]}),
        )
        .await;
    assert_eq!(logout.status(), 204);
    assert_problem(app.me(&access(&login)).await, 401, "invalid_token").await;
    assert_problem(
        app.refresh(&json!({"refresh_token": login["refresh_token"]}))
            .await,
        401,
        "invalid_token",
    )
    .await;

    // A password change keeps this session and ends the others.
    let first = app
        .login("logout@example.com", PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let second = app
        .login("logout@example.com", PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let wrong = app
        .post_as(
            "/v1/me/password",
            &access(&second),
            &json!({"current_password": "not it at all", "new_password": "a brand new passphrase"}),
        )
        .await;
    let body = assert_problem(wrong, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "current_password");
    let changed = app
        .post_as(
            "/v1/me/password",
            &access(&second),
            &json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(app.me(&access(&second)).await.status(), 200);
    assert_problem(app.me(&access(&first)).await, 401, "invalid_token").await;
    assert_problem(
        app.login("logout@example.com", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        app.login("logout@example.com", "a brand new passphrase")
            .await
            .status(),
        200
    );
    app.email_to("logout@example.com", "password was changed")
        .await;

    // Suspension: the token dies with the account's status.
    let other = app.verified_therapist("suspended@example.com").await;
    sqlx::query("update account set status = 'suspended' where email = 'suspended@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_problem(app.me(&access(&other)).await, 401, "invalid_token").await;
    assert_problem(
        app.login("suspended@example.com", PASSWORD).await,
        403,
        "account_suspended",
    )
    .await;
    assert_problem(
        app.login("suspended@example.com", "wrong password here")
            .await,
        401,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let login = app.verified_therapist("rotate@example.com").await;
    let first = login["refresh_token"].as_str().unwrap().to_owned();

    let rotated: Value = app
        .refresh(&json!({"refresh_token": first}))
        .await
        .json()
        .await
        .unwrap();
    let second = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(app.me(&access(&rotated)).await.status(), 200);

    // Replaying the rotated token: 401, and the family's newest token dies too.
    assert_problem(
        app.refresh(&json!({"refresh_token": first})).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(
        app.refresh(&json!({"refresh_token": second})).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(app.me(&access(&rotated)).await, 401, "invalid_token").await;
    assert_eq!(audit_count(&app, "auth.refresh_reuse_detected").await, 1);

    // Two concurrent refreshes of one token: at most one succeeds.
    let fresh = app
        .login("rotate@example.com", PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let body = json!({"refresh_token": fresh["refresh_token"]});
    let (a, b) = tokio::join!(app.refresh(&body), app.refresh(&body));
    let successes = [a.status(), b.status()]
        .iter()
        .filter(|s| s.as_u16() == 200)
        .count();
    assert!(successes <= 1, "{} and {}", a.status(), b.status());
}

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
        let response = app.request_password_reset(&json!({"email": email})).await;
        assert_eq!(response.status(), 202);
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
