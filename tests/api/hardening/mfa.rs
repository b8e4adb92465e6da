//! Second factors: admins must use one; a therapist may enrol, use recovery codes and
//! remove it.

use serde_json::{Value, json};

use super::secrets::database_dump;
use crate::helpers::assert_problem;

#[tokio::test]
async fn admins_need_a_second_factor_and_sign_in_with_it() {
    let app = crate::helpers::spawn_app().await;
    // An admin who has not enrolled is refused every admin route.
    let passwords = therapist_directory::auth::password::Passwords::new(19456, 2, 1, 1).unwrap();
    therapist_directory::accounts::admin::create_admin(
        &app.db,
        &passwords,
        "bare-admin@example.com",
        "Bare Admin",
        crate::helpers::PASSWORD,
    )
    .await
    .unwrap();
    let bare = crate::helpers::access(
        &app.login("bare-admin@example.com", crate::helpers::PASSWORD)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    // However the path is spelled: the router decodes percent-escapes before it matches.
    for path in [
        "/v1/admin/listings",
        "/v1/admin/audit-log",
        "/v1/admin/accounts",
        "/v1/%61dmin/accounts",
        "/v1/%61%64%6D%69%6E/listings",
        "/v1/admin/%61ccounts",
    ] {
        let refused = app.get_as(path, &bare).await;
        assert_eq!(
            refused.headers()["cache-control"],
            "no-store",
            "{path} is personal"
        );
        assert_problem(refused, 403, "mfa_enrollment_required").await;
    }
    // Nor can an admin switch the factor off.
    let enrolled = crate::helpers::access(&app.admin("keeps-mfa@example.com").await);
    let switch_off = app
        .client
        .delete(app.url("/v1/me/mfa/totp"))
        .bearer_auth(&enrolled)
        .json(&json!({"password": crate::helpers::PASSWORD, "code": "000000"}))
        .send()
        .await
        .unwrap();
    assert_problem(switch_off, 403, "forbidden").await;
    assert_eq!(
        app.get_as("/v1/admin/listings", &enrolled).await.status(),
        200
    );

    // An enrolled admin's password alone earns a challenge, not tokens.
    app.admin("mfa-admin@example.com").await;
    let secret = crate::helpers::TestApp::totp_secret("mfa-admin@example.com");
    let challenge = assert_problem(
        app.login("mfa-admin@example.com", crate::helpers::PASSWORD)
            .await,
        401,
        "mfa_required",
    )
    .await;
    let mfa_token = challenge["mfa_token"].as_str().unwrap().to_owned();
    let second = |token: String, code: String| {
        let app = &app;
        async move {
            app.login_second_factor(&json!({"mfa_token": token, "code": code}))
                .await
        }
    };
    assert_problem(
        second(mfa_token.clone(), "000000".into()).await,
        401,
        "invalid_credentials",
    )
    .await;
    // The confirmation used this step's code: the next step's signs in.
    let signed_in = second(mfa_token.clone(), app.totp_code(&secret, 1)).await;
    assert_eq!(signed_in.status(), 200);
    let tokens: Value = signed_in.json().await.unwrap();
    let admin = crate::helpers::access(&tokens);
    assert_eq!(app.get_as("/v1/admin/listings", &admin).await.status(), 200);
    // The challenge is spent, and a code works once.
    assert_problem(
        second(mfa_token, app.totp_code(&secret, 1)).await,
        400,
        "invalid_or_expired_token",
    )
    .await;
    let again = assert_problem(
        app.login("mfa-admin@example.com", crate::helpers::PASSWORD)
            .await,
        401,
        "mfa_required",
    )
    .await;
    let again = again["mfa_token"].as_str().unwrap().to_owned();
    assert_problem(
        second(again.clone(), app.totp_code(&secret, 1)).await,
        401,
        "invalid_credentials",
    )
    .await;

    // The TOTP secret is not readable from the database.
    let dump = database_dump(&app.db).await;
    assert!(!dump.contains(&secret));
    let raw = totp_rs::Secret::try_from_base32(&secret).unwrap();
    let hex: String = raw.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        !dump.contains(&hex),
        "the TOTP secret is stored in the clear"
    );
}

#[tokio::test]
async fn a_therapist_may_enrol_use_recovery_codes_and_remove_the_factor() {
    let app = crate::helpers::spawn_app().await;
    let token = crate::helpers::access(&app.verified_therapist("factor@example.com").await);
    // Enrolling takes the password: a stolen access token alone puts no factor on it.
    assert_problem(
        app.post_as(
            "/v1/me/mfa/totp",
            &token,
            &json!({"password": "not the password"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let enrolled: Value = app
        .post_as(
            "/v1/me/mfa/totp",
            &token,
            &json!({"password": crate::helpers::PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = enrolled["secret"].as_str().unwrap().to_owned();
    // What an authenticator app reads from the QR code: this secret, SHA-1, 6 digits, 30 s.
    let uri = enrolled["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let scanned = totp_rs::Totp::from_url(uri).expect("an otpauth URI an app can read");
    let now = app.clock.now().unix_timestamp() as u64;
    assert_eq!(
        scanned.generate(now).to_string(),
        app.totp_code(&secret, 0),
        "{uri}"
    );
    assert_problem(
        app.post_as(
            "/v1/me/mfa/totp/confirm",
            &token,
            &json!({"code": "000000"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let confirmed = app
        .post_as(
            "/v1/me/mfa/totp/confirm",
            &token,
            &json!({"code": app.totp_code(&secret, 0)}),
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    let codes: Value = confirmed.json().await.unwrap();
    let codes: Vec<String> = codes["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    assert_problem(
        app.post_as(
            "/v1/me/mfa/totp",
            &token,
            &json!({"password": crate::helpers::PASSWORD}),
        )
        .await,
        409,
        "conflict",
    )
    .await;

    let challenge = |_: ()| {
        let app = &app;
        async move {
            let problem = assert_problem(
                app.login("factor@example.com", crate::helpers::PASSWORD)
                    .await,
                401,
                "mfa_required",
            )
            .await;
            problem["mfa_token"].as_str().unwrap().to_owned()
        }
    };
    // A recovery code signs in once.
    let first = challenge(()).await;
    let used = app
        .login_second_factor(&json!({"mfa_token": first, "code": codes[0].to_uppercase()}))
        .await;
    assert_eq!(used.status(), 200);
    let second = challenge(()).await;
    assert_problem(
        app.login_second_factor(&json!({"mfa_token": second, "code": codes[0]}))
            .await,
        401,
        "invalid_credentials",
    )
    .await;

    // Removing it needs the password and a current code; then the password alone signs in.
    let remove = |body: Value| {
        let (app, token) = (&app, &token);
        async move {
            app.client
                .delete(app.url("/v1/me/mfa/totp"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let password = crate::helpers::PASSWORD;
    let refused = [
        json!({"password": password}),
        json!({"password": "not the password", "code": app.totp_code(&secret, 1)}),
        json!({"password": password, "code": "000000"}),
        json!({"password": password, "code": codes[0]}),
    ];
    for body in refused {
        let problem = assert_problem(remove(body.clone()).await, 422, "validation_failed").await;
        assert!(
            problem["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }
    let removed = remove(json!({"password": password, "code": codes[1]})).await;
    assert_eq!(removed.status(), 204);
    // The owner is told, with the link that would take the account back.
    let notice = app
        .email_to("factor@example.com", "Two-step sign-in was turned off")
        .await;
    assert!(!crate::helpers::token_in(&notice).is_empty());
    assert_eq!(
        app.login("factor@example.com", crate::helpers::PASSWORD)
            .await
            .status(),
        200
    );
}

/// Removing the factor asks for the password, so it is throttled as a sign-in is: a stolen
/// access token cannot try passwords one after another.
#[tokio::test]
async fn removing_the_factor_cannot_be_used_to_guess_the_password() {
    let app = crate::helpers::spawn_app().await;
    let token = crate::helpers::access(&app.verified_therapist("guessed@example.com").await);
    let remove = |password: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            app.client
                .delete(app.url("/v1/me/mfa/totp"))
                .bearer_auth(token)
                .json(&json!({ "password": password, "code": "000000" }))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..5 {
        assert_problem(remove("a wrong guess").await, 422, "validation_failed").await;
    }
    let locked = remove(crate::helpers::PASSWORD).await;
    assert!(locked.headers().contains_key("retry-after"));
    assert_problem(locked, 429, "rate_limited").await;
}

#[tokio::test]
async fn second_steps_at_once_never_wait_for_a_second_connection() {
    // The default pool: four connections, one of them the search index's change listener.
    let app = crate::helpers::TestAppBuilder::default()
        .env("APP_DATABASE_POOL_SIZE", "4")
        .spawn()
        .await;
    let email = "three-at-once@example.com";
    let signed_in = crate::helpers::access(&app.admin(email).await);
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(app.mfa_challenge(email).await);
    }
    let started = std::time::Instant::now();
    let bodies: Vec<Value> = tokens
        .iter()
        .map(|token| json!({"mfa_token": token, "code": "000000"}))
        .collect();
    let steps = bodies.iter().map(|body| app.login_second_factor(body));
    let (answers, me) = tokio::join!(futures_util::future::join_all(steps), app.me(&signed_in));
    assert_eq!(me.status(), 200);
    for answer in answers {
        assert_problem(answer, 401, "invalid_credentials").await;
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "three second steps took {:?}",
        started.elapsed()
    );
    // Each challenge failed once and is still open: the right code completes one.
    let right = app.second_factor(&tokens[0], email, 1).await;
    assert_eq!(right.status(), 200);
}

#[tokio::test]
async fn an_enrolment_is_confirmed_only_by_its_session_and_an_operator_resets_a_lost_factor() {
    let app = crate::helpers::spawn_app().await;
    let password = crate::helpers::PASSWORD;
    // A new admin enrols from one session; a second session (a stolen token) racing it
    // cannot confirm the enrolment, nor replace it with its own and confirm that.
    let passwords = therapist_directory::auth::password::Passwords::new(19456, 2, 1, 1).unwrap();
    therapist_directory::accounts::admin::create_admin(
        &app.db,
        &passwords,
        "racing@example.com",
        "Racing Admin",
        password,
    )
    .await
    .unwrap();
    let sign_in = || async {
        let login: Value = app
            .login("racing@example.com", password)
            .await
            .json()
            .await
            .unwrap();
        crate::helpers::access(&login)
    };
    let (owner, other) = (sign_in().await, sign_in().await);
    let started: Value = app
        .post_as("/v1/me/mfa/totp", &owner, &json!({"password": password}))
        .await
        .json()
        .await
        .unwrap();
    let secret = started["secret"].as_str().unwrap().to_owned();
    let code = json!({"code": app.totp_code(&secret, 0)});
    assert_problem(
        app.post_as("/v1/me/mfa/totp/confirm", &other, &code).await,
        409,
        "conflict",
    )
    .await;
    let confirmed = app.post_as("/v1/me/mfa/totp/confirm", &owner, &code).await;
    assert_eq!(confirmed.status(), 200);

    // The factor is lost: only the server resets it, ending every session.
    therapist_directory::accounts::admin::reset_admin_mfa(&app.db, "racing@example.com")
        .await
        .unwrap();
    assert_problem(app.me(&owner).await, 401, "invalid_token").await;
    let fresh = sign_in().await;
    assert_problem(
        app.get_as("/v1/admin/listings", &fresh).await,
        403,
        "mfa_enrollment_required",
    )
    .await;
    let reset: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'auth.mfa_reset'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(reset, 1);
    // A therapist's account is not an admin's: the command refuses it.
    app.verified_therapist("not-an-admin@example.com").await;
    assert!(
        therapist_directory::accounts::admin::reset_admin_mfa(&app.db, "not-an-admin@example.com")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_factor_turned_on_behind_the_owner_s_back_is_undone_from_the_notice() {
    let app = crate::helpers::spawn_app().await;
    let email = "noticed@example.com";
    let token = crate::helpers::access(&app.verified_therapist(email).await);
    // Someone with the password (and a session) turns a factor on.
    let started: Value = app
        .post_as(
            "/v1/me/mfa/totp",
            &token,
            &json!({"password": crate::helpers::PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = started["secret"].as_str().unwrap().to_owned();
    let confirmed = app
        .post_as(
            "/v1/me/mfa/totp/confirm",
            &token,
            &json!({"code": app.totp_code(&secret, 0)}),
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    // The owner reads the notice and takes the account back with its link.
    let notice = app.email_to(email, "Two-step sign-in was turned on").await;
    let link = crate::helpers::token_in(&notice);
    let taken_back = app
        .confirm_password_reset(&json!({"token": link, "new_password": "the owner's own phrase"}))
        .await;
    assert_eq!(taken_back.status(), 204);
    assert_problem(app.me(&token).await, 401, "invalid_token").await;
    let again = app
        .confirm_password_reset(&json!({"token": link, "new_password": "the owner's own phrase"}))
        .await;
    assert_problem(again, 400, "invalid_or_expired_token").await;
    // No factor any more: the new password alone signs in.
    let login = app.login(email, "the owner's own phrase").await;
    assert_eq!(login.status(), 200);
    let taken: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'auth.account_taken_back'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(taken, 1);
}
