//! Joining: signup, verification, login and `/v1/me` end to end, identical answers for
//! known and new emails, the password policy, malformed bodies.

use serde_json::{Value, json};

use super::audit_count;
use crate::helpers::{PASSWORD, access, assert_problem, error_fields, spawn_app, token_in};

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
    assert_eq!(
        stored,
        therapist_directory::auth::tokens::secret_hash(&token),
        "only the token's hash is stored"
    );

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
    let fields: Vec<&str> = error_fields(&body);
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
