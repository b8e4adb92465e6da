//! What a deployment relies on: a schema one release ahead is served by the release before
//! it (rolling deploys), reads move off a read replica that stops answering and back, and
//! the `healthcheck` subcommand tells a container runtime whether the instance is ready.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{TestAppBuilder, spawn_app};

#[tokio::test]
async fn a_database_migrated_one_release_ahead_is_served_by_this_release() {
    let app = spawn_app().await;
    // What the next release's additive migration does: a new nullable column, recorded
    // as a migration this binary does not know.
    sqlx::query("alter table listing add column pronouns_note text")
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query(
        "insert into _sqlx_migrations (version, description, success, checksum, execution_time)
         values (99990001, 'listing pronouns note', true, '\\x00', 1)",
    )
    .execute(&app.db)
    .await
    .unwrap();

    // A restart of this release, as during a rolling deploy.
    let restarted = app.sibling().await;
    assert_eq!(restarted.get("/readyz").await.status(), 200);
    let signup = restarted
        .signup(
            "ahead@example.com",
            "a long enough passphrase",
            "Ahead Person",
        )
        .await;
    assert_eq!(signup.status(), 202, "a write on the newer schema");
    assert_eq!(restarted.get("/v1/therapists").await.status(), 200);
}

async fn readiness(app: &crate::helpers::TestApp) -> Value {
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200, "ready whatever the replica does");
    response.json().await.unwrap()
}

#[tokio::test]
async fn readiness_says_whether_the_read_replica_answers_and_reads_fall_back() {
    let primary_only = spawn_app().await;
    assert_eq!(
        readiness(&primary_only).await,
        serde_json::json!({"status": "ok"})
    );

    // A replica that answers (the same server stands in for one).
    let with_replica = TestAppBuilder::default()
        .database(primary_only.database.clone())
        .env("APP_DATABASE_READ_URL", &primary_only.database.url)
        .spawn()
        .await;
    let mut state = Value::Null;
    for _ in 0..50 {
        state = readiness(&with_replica).await["read_replica"].clone();
        if state == "up" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "up");

    // A replica that does not answer: lagging reads go to the primary.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let without = TestAppBuilder::default()
        .database(primary_only.database.clone())
        .env(
            "APP_DATABASE_READ_URL",
            &format!("postgres://nobody:nothing@127.0.0.1:{port}/none"),
        )
        .spawn()
        .await;
    assert_eq!(readiness(&without).await["read_replica"], "down");
    assert_eq!(without.get("/v1/therapists").await.status(), 200);
    assert_eq!(without.get("/v1/modalities").await.status(), 200);
}

fn healthcheck(port: u16) -> std::process::ExitStatus {
    std::process::Command::new(env!("CARGO_BIN_EXE_therapist-directory"))
        .arg("healthcheck")
        .env("APP_HOST", "127.0.0.1")
        .env("APP_PORT", port.to_string())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
}

#[tokio::test]
async fn the_healthcheck_command_succeeds_only_against_a_ready_instance() {
    let app = spawn_app().await;
    let port = app.port;
    let ready = tokio::task::spawn_blocking(move || healthcheck(port))
        .await
        .unwrap();
    assert!(ready.success());

    // Running but not ready (a migration is missing): /readyz answers 503.
    sqlx::query(
        "delete from _sqlx_migrations where version = (select max(version) from _sqlx_migrations)",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let not_ready = tokio::task::spawn_blocking(move || healthcheck(port))
        .await
        .unwrap();
    assert!(!not_ready.success());

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let down = tokio::task::spawn_blocking(move || healthcheck(port))
        .await
        .unwrap();
    assert!(!down.success());
}
