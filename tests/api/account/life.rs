//! The account's own life: its name, its address, a copy of its data and its deletion.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, access, assert_problem, json_of, published_therapist, token_in,
};
use crate::photos::{jpeg, upload};

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    app.client
        .request(method, app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_name_changes_and_is_checked() {
    let app = crate::helpers::spawn_app().await;
    let token = access(&app.verified_therapist("named@example.com").await);
    let me = json_of(
        send(
            &app,
            Method::PATCH,
            "/v1/me",
            &token,
            &json!({"full_name": "  Hailey Shafir "}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(me["full_name"], "Hailey Shafir");
    assert_eq!(json_of(app.me(&token).await, 200).await, me);
    for (body, field) in [
        (json!({"full_name": " "}), "full_name"),
        (json!({"full_name": "x".repeat(121)}), "full_name"),
        (json!({"full_name": "A", "email": "x@example.com"}), "email"),
    ] {
        let problem = assert_problem(
            send(&app, Method::PATCH, "/v1/me", &token, &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
}

#[tokio::test]
async fn an_address_changes_only_through_the_link_sent_to_it() {
    let app = crate::helpers::spawn_app().await;
    let login = app.verified_therapist("old@example.com").await;
    let token = access(&login);
    let change = |password: &str, new_email: &str| {
        let body = json!({"new_email": new_email, "password": password});
        let (app, token) = (&app, token.clone());
        async move { send(app, Method::POST, "/v1/me/email", &token, &body).await }
    };
    let wrong = assert_problem(
        change("not the password", "new@example.com").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(wrong["errors"][0]["field"], "password");
    let same = assert_problem(
        change(PASSWORD, "OLD@example.com").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(same["errors"][0]["field"], "new_email");
    assert_eq!(change(PASSWORD, "new@example.com").await.status(), 202);

    app.email_to("old@example.com", "A new sign-in address was requested")
        .await;
    let link = app
        .email_to("new@example.com", "Confirm your new sign-in address")
        .await;
    assert!(link.contains("/confirm-email-change?token="), "{link}");
    // Nothing moves before the link is used.
    assert_eq!(app.login("old@example.com", PASSWORD).await.status(), 200);
    assert_eq!(app.login("new@example.com", PASSWORD).await.status(), 401);

    let token_text = token_in(&link);
    let confirm = |t: String| {
        let app = &app;
        async move {
            app.post_json("/v1/auth/confirm-email-change", &json!({"token": t}))
                .await
        }
    };
    let me = json_of(confirm(token_text.clone()).await, 200).await;
    assert_eq!(me["email"], "new@example.com");
    assert_eq!(me["email_verified"], true);
    assert_problem(confirm(token_text).await, 400, "invalid_or_expired_token").await;
    app.email_to("old@example.com", "Your sign-in address was changed")
        .await;

    // The session stays signed in; the old address no longer signs in.
    assert_eq!(
        json_of(app.me(&token).await, 200).await["email"],
        "new@example.com"
    );
    assert_eq!(app.login("old@example.com", PASSWORD).await.status(), 401);
    assert_eq!(app.login("new@example.com", PASSWORD).await.status(), 200);

    // An address another account has: the same answer, and its owner is told instead.
    app.verified_therapist("taken@example.com").await;
    assert_eq!(change(PASSWORD, "taken@example.com").await.status(), 202);
    app.email_to("taken@example.com", "You already have a directory account")
        .await;
    assert!(
        !app.emails()
            .iter()
            .any(|e| e.contains("To: taken@example.com") && e.contains("confirm-email-change")),
        "no link to an address in use"
    );
}

/// A password reset cancels a pending move: the owner takes the account back from
/// whoever knew the password.
#[tokio::test]
async fn a_reset_cancels_a_pending_move() {
    let app = crate::helpers::spawn_app().await;
    let token = access(&app.verified_therapist("owner@example.com").await);
    let body = json!({"new_email": "thief@example.com", "password": PASSWORD});
    assert_eq!(
        send(&app, Method::POST, "/v1/me/email", &token, &body)
            .await
            .status(),
        202
    );
    let link = token_in(
        &app.email_to("thief@example.com", "Confirm your new sign-in address")
            .await,
    );

    assert_eq!(
        app.request_password_reset(&json!({"email": "owner@example.com"}))
            .await
            .status(),
        202
    );
    let reset = token_in(
        &app.email_to("owner@example.com", "Reset your directory password")
            .await,
    );
    let confirmed = app
        .confirm_password_reset(
            &json!({"token": reset, "new_password": "a fresh and private passphrase"}),
        )
        .await;
    assert_eq!(confirmed.status(), 204);
    let used = app
        .post_json("/v1/auth/confirm-email-change", &json!({"token": link}))
        .await;
    assert_problem(used, 400, "invalid_or_expired_token").await;
}

#[tokio::test]
async fn the_export_holds_everything_but_secrets() {
    let app = crate::helpers::spawn_app().await;
    let (token, _, slug) = published_therapist(&app, "export@example.com").await;
    assert_eq!(
        upload(&app, &token, "image/jpeg", jpeg(400, 400, [7, 7, 7]))
            .await
            .status(),
        200
    );
    let inquiry = json!({"name": "Client Person", "email": "client@example.com",
                         "message": "Do you see couples on weekends?",
                         "preferred_contact": "email", "consent": true});
    assert_eq!(app.send_inquiry(&slug, &inquiry).await.status(), 202);

    let response = app.get_as("/v1/me/export", &token).await;
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );
    let export = json_of(response, 200).await;
    assert_eq!(export["account"]["email"], "export@example.com");
    assert_eq!(export["listing"]["slug"], slug);
    assert_eq!(export["listing"]["licenses"][0]["number"], "S1234");
    assert!(
        export["photos"][0]["urls"]["w400"].is_string(),
        "{}",
        export["photos"]
    );
    assert_eq!(
        export["inquiries"][0]["message"],
        "Do you see couples on weekends?"
    );
    assert!(!export["sessions"].as_array().unwrap().is_empty());
    assert!(
        export["audit"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "auth.login"),
        "{}",
        export["audit"]
    );
    assert_eq!(export["second_factor"], false);

    // No hash, token or secret, under any name.
    let text = export.to_string();
    let hash: String =
        sqlx::query_scalar("select password_hash from account where email = 'export@example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    for secret in [
        hash.as_str(),
        "password_hash",
        "token_version",
        "refresh",
        "secret",
        "$argon2",
    ] {
        assert!(!text.contains(secret), "the export holds {secret}");
    }
    // Nobody else's.
    let other = access(&app.verified_therapist("someone-else@example.com").await);
    let theirs = json_of(app.get_as("/v1/me/export", &other).await, 200).await;
    assert!(!theirs.to_string().contains("export@example.com"));
    assert_eq!(theirs["inquiries"], json!([]));
}

/// `pg_dump` of the test's database, as an operator's backup would hold it.
fn dump(app: &TestApp) -> String {
    let installed = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|version| version.path().join("bin/pg_dump"))
        .find(|path| path.exists());
    let program = installed.unwrap_or_else(|| "pg_dump".into());
    let out = std::process::Command::new(program)
        .arg("--data-only")
        .arg(&app.database.url)
        .output()
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn in_search(app: &TestApp, slug: &str) -> bool {
    app.sync_search().await;
    let page = json_of(app.search("limit=50").await, 200).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["slug"] == slug)
}

#[tokio::test]
async fn a_deleted_account_leaves_nothing_behind_but_a_pseudonym() {
    let app = crate::helpers::spawn_app().await;
    let email = "leaving@example.com";
    let (token, listing_id, slug) = published_therapist(&app, email).await;
    assert_eq!(
        upload(&app, &token, "image/jpeg", jpeg(400, 400, [3, 3, 3]))
            .await
            .status(),
        200
    );
    let message = "A very private question about my marriage";
    let inquiry = json!({"name": "Client Person", "email": "client@example.com",
                         "message": message, "preferred_contact": "email", "consent": true});
    assert_eq!(app.send_inquiry(&slug, &inquiry).await.status(), 202);
    app.email_to(email, "New inquiry").await;
    assert!(in_search(&app, &slug).await);
    let account_id: uuid::Uuid = sqlx::query_scalar("select id from account where email = $1")
        .bind(email)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let objects: Vec<String> = sqlx::query_scalar(
        "select value from listing_photo, jsonb_each_text(objects) where listing_id = $1",
    )
    .bind(listing_id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(objects.len(), 4);

    let wrong = send(
        &app,
        Method::DELETE,
        "/v1/me",
        &token,
        &json!({"password": "not it at all"}),
    )
    .await;
    assert_eq!(
        assert_problem(wrong, 422, "validation_failed").await["errors"][0]["field"],
        "password"
    );
    let deleted = send(
        &app,
        Method::DELETE,
        "/v1/me",
        &token,
        &json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(deleted.status(), 204);
    let gone_at = std::time::Instant::now();

    // Out of search and profiles at once, and the session is over.
    assert!(!in_search(&app, &slug).await);
    assert!(
        gone_at.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        gone_at.elapsed()
    );
    assert_eq!(app.profile(&slug).await.status(), 404);
    assert_eq!(app.me(&token).await.status(), 401);
    let media = app.media();
    for name in &objects {
        assert!(
            matches!(media.get(name).await, Ok(None)),
            "object {name} is still stored"
        );
    }

    // Nothing in the database names the address or holds the inquiry; the audit log keeps
    // the account's id, which nothing resolves.
    let backup = dump(&app);
    assert!(
        !backup.to_lowercase().contains(email),
        "the dump holds the address"
    );
    assert!(!backup.contains(message), "the dump holds the inquiry");
    let entries: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where actor_id = $1 and action = 'account.deleted'",
    )
    .bind(account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(entries, 1);
    for table in [
        "account",
        "listing",
        "session",
        "inquiry",
        "listing_photo",
        "directory_entry",
    ] {
        let rows: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert_eq!(rows, 0, "{table}");
    }

    // The address joins again like a new one.
    assert_eq!(
        app.signup(email, PASSWORD, "Back Again").await.status(),
        202
    );
    let mut verified = false;
    for _ in 0..400 {
        let links: Vec<String> = app
            .emails()
            .into_iter()
            .filter(|e| e.contains(&format!("To: {email}")) && e.contains("Confirm your email"))
            .map(|e| token_in(&e))
            .collect();
        if links.len() == 2 {
            for token in links {
                let answer = app.verify_email(&token).await;
                verified |= answer.status() == 200;
            }
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(verified, "the new account's link verifies it");
    assert_eq!(app.login(email, PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn a_second_factor_is_asked_for_and_the_last_admin_stays() {
    let app = crate::helpers::spawn_app().await;
    let first = "first-admin@example.com";
    let token = access(&app.admin(first).await);
    let password_only = send(
        &app,
        Method::DELETE,
        "/v1/me",
        &token,
        &json!({"password": PASSWORD}),
    )
    .await;
    let problem = assert_problem(password_only, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "code");
    let wrong = send(
        &app,
        Method::DELETE,
        "/v1/me",
        &token,
        &json!({"password": PASSWORD, "code": "000000"}),
    )
    .await;
    assert_eq!(
        assert_problem(wrong, 422, "validation_failed").await["errors"][0]["field"],
        "code"
    );

    let code = app.totp_code(&TestApp::totp_secret(first), 1);
    let last = send(
        &app,
        Method::DELETE,
        "/v1/me",
        &token,
        &json!({"password": PASSWORD, "code": code}),
    )
    .await;
    assert_problem(last, 409, "conflict").await;

    app.admin("second-admin@example.com").await;
    // The refused deletion spent nothing: the same code goes on working.
    let deleted = send(
        &app,
        Method::DELETE,
        "/v1/me",
        &token,
        &json!({"password": PASSWORD, "code": code}),
    )
    .await;
    assert_eq!(deleted.status(), 204);
    let left: i64 = sqlx::query_scalar("select count(*) from account where role = 'admin'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 1);
}
