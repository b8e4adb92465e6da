//! Join the directory and directory login: the journey, enumeration resistance, token
//! negatives, refresh rotation, brute-force defence, the password policy and the outbox.

mod links;
mod passwords;
mod signup;
mod tokens;

async fn audit_count(app: &crate::helpers::TestApp, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log where action = $1")
        .bind(action)
        .fetch_one(&app.db)
        .await
        .unwrap()
}
