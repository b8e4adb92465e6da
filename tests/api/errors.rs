//! Every failure answers in problem+json: unknown routes, wrong methods, oversized bodies.

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    assert_problem(app.get("/nope").await, 404, "not_found").await;
    assert_problem(app.get("/v1/nothing/here").await, 404, "not_found").await;
}

#[tokio::test]
async fn wrong_method_is_a_405_problem_with_allow() {
    let app = spawn_app().await;
    let response = app.client.post(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    assert_problem(response, 405, "method_not_allowed").await;
    let response = app.client.delete(app.url("/metrics")).send().await.unwrap();
    assert_problem(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn oversized_body_is_a_413_problem_on_any_route() {
    let app = spawn_app().await;
    let body = vec![b' '; 65 * 1024];
    let response = app.post_raw("/healthz", body, "application/json").await;
    // Refused before routing, but answered like any other response.
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_problem(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_database_failure_is_an_opaque_500_with_the_cause_in_the_log() {
    let app = spawn_app().await;
    // Sabotage: the table a public route reads is gone.
    sqlx::query("alter table insurer rename to insurer_sabotaged")
        .execute(&app.db)
        .await
        .unwrap();
    let response = app.get("/v1/insurers").await;
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = assert_problem(response, 500, "internal_error").await;
    let text = body.to_string();
    for internal in ["insurer", "relation", "sqlx", "select", "does not exist"] {
        assert!(
            !text.to_lowercase().contains(internal),
            "500 body leaks {internal}: {text}"
        );
    }
    let logged = crate::helpers::log_lines_containing(&request_id);
    assert!(
        logged
            .iter()
            .any(|line| line.contains("relation \\\"insurer\\\" does not exist")),
        "the cause is logged with the request id: {logged:#?}"
    );
}

#[tokio::test]
async fn a_statement_timeout_is_a_503_with_retry_after_not_a_500() {
    let app = crate::helpers::TestAppBuilder::default()
        .env("APP_DATABASE_STATEMENT_TIMEOUT_MS", "300")
        .spawn()
        .await;
    // A profile reads the listing from the database; another session holds the table, so
    // the read waits until its timeout cancels it.
    crate::helpers::data::listing(&app.db, "timeout-listing", "published").await;
    let mut blocker = app.db.begin().await.unwrap();
    sqlx::query("lock table listing in access exclusive mode")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let response = app.profile("timeout-listing").await;
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    crate::helpers::assert_problem(response, 503, "service_unavailable").await;
    blocker.rollback().await.unwrap();
    assert_eq!(app.profile("timeout-listing").await.status(), 200);
}
