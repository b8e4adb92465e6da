//! The maintenance pass deletes sign-in records that can no longer change an answer, and
//! keeps every one that can.

use serde_json::json;

use super::pass;
use crate::helpers::{PASSWORD, TestAppBuilder, access};

const TABLES: [&str; 6] = [
    "session",
    "refresh_token",
    "email_token",
    "mfa_challenge",
    "login_throttle",
    "login_daily_failure",
];

async fn rows(db: &sqlx::PgPool) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in TABLES {
        let sql = format!("select count(*) from {table}");
        counts.push(
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(db)
                .await
                .unwrap(),
        );
    }
    counts
}

#[tokio::test]
async fn spent_sign_in_records_are_deleted_and_live_ones_kept() {
    let app = TestAppBuilder::default().spawn().await;
    // A therapist who signed out, failed a sign-in and asked for a reset link.
    let gone = app.verified_therapist("gone@example.com").await;
    let logout = app
        .post_json(
            "/v1/auth/logout",
            &json!({"refresh_token": gone["refresh_token"]}),
        )
        .await;
    assert_eq!(logout.status(), 204);
    assert_eq!(
        app.login("gone@example.com", "not the password at all")
            .await
            .status(),
        401
    );
    let reset = app
        .request_password_reset(&json!({"email": "gone@example.com"}))
        .await;
    assert_eq!(reset.status(), 202);
    // An admin who stopped at the second factor.
    app.admin("halfway@example.com").await;
    assert_eq!(
        app.login("halfway@example.com", PASSWORD).await.status(),
        401
    );
    let before = rows(&app.db).await;
    assert!(before.iter().all(|&n| n > 0), "{TABLES:?}: {before:?}");

    // A month on (the records are stamped by the database's clock, so they are moved back
    // instead), a therapist signs in: their session is live and stays.
    for sql in [
        "update session set created_at = created_at - interval '31 days',
             expires_at = expires_at - interval '31 days', revoked_at = revoked_at - interval '31 days'",
        "update refresh_token set created_at = created_at - interval '31 days',
             expires_at = expires_at - interval '31 days'",
        "update email_token set created_at = created_at - interval '31 days',
             expires_at = expires_at - interval '31 days'",
        "update mfa_challenge set expires_at = expires_at - interval '31 days'",
        "update login_throttle set last_failure_at = last_failure_at - interval '31 days',
             locked_until = locked_until - interval '31 days'",
        "update login_daily_failure set window_start = window_start - interval '31 days'",
    ] {
        sqlx::query(sql).execute(&app.db).await.unwrap();
    }
    let live = access(&app.verified_therapist("live@example.com").await);
    let report = pass(&app).await;
    assert!(report.failed_steps.is_empty(), "{:?}", report.failed_steps);
    let after = rows(&app.db).await;
    // Kept: the live therapist's session and the admin's, which expired only a day ago, each
    // with its refresh token, and the live therapist's verification link, not yet expired.
    assert_eq!(after, [2, 2, 1, 0, 0, 0], "{TABLES:?} left");
    // The live therapist added a session, a refresh token and a verification link.
    // Refresh tokens go with their session and are not counted on their own.
    let added = [1, 1, 1, 0, 0, 0];
    let deleted: Vec<i64> = (0..TABLES.len())
        .map(|t| before[t] + added[t] - after[t])
        .collect();
    assert_eq!(
        report.sign_in_records_pruned as i64,
        deleted.iter().sum::<i64>() - deleted[1]
    );
    assert_eq!(app.me(&live).await.status(), 200);
}
