//! Access and refresh tokens: forged, expired and revoked ones are refused, sign-out and
//! suspension revoke them, refresh rotates and reuse revokes the family.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::audit_count;
use crate::helpers::{PASSWORD, TEST_JWT_SECRET, access, assert_problem, spawn_app};

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
    assert_eq!(successes, 1, "{} and {}", a.status(), b.status());
}
