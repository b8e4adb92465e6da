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
    assert_eq!(response.headers()["allow"], "GET");
    assert_problem(response, 405, "method_not_allowed").await;
    let response = app.client.delete(app.url("/metrics")).send().await.unwrap();
    assert_problem(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn oversized_body_is_a_413_problem_on_any_route() {
    let app = spawn_app().await;
    let body = vec![b' '; 65 * 1024];
    let response = app.post_raw("/healthz", body, "application/json").await;
    assert_problem(response, 413, "payload_too_large").await;
}
