//! Liveness, readiness, request ids, metrics, the OpenAPI document and /docs.

use std::time::Duration;

use therapist_directory::openapi;

use crate::helpers::{TestAppBuilder, assert_problem, spawn_app};

#[tokio::test]
async fn healthz_answers_ok_with_a_request_id() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        uuid::Uuid::parse_str(&id).is_ok(),
        "generated id is a UUID: {id}"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
}

#[tokio::test]
async fn an_incoming_request_id_is_echoed_and_a_hostile_one_replaced() {
    let app = spawn_app().await;
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "frontend-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "frontend-42");

    let replaced = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "x".repeat(300))
        .send()
        .await
        .unwrap();
    let id = replaced.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

#[tokio::test]
async fn readyz_follows_the_database_without_a_restart() {
    let app = TestAppBuilder::default().through_proxy().spawn().await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    let proxy = app.proxy.as_ref().unwrap();
    proxy.set_enabled(false);
    let body = assert_problem(app.get("/readyz").await, 503, "service_unavailable").await;
    assert!(
        !body["detail"].as_str().unwrap().contains("127.0.0.1"),
        "no internals: {body}"
    );

    proxy.set_enabled(true);
    // The pool replaces the connections the outage broke; allow it a few probes.
    let mut status = 0;
    for _ in 0..20 {
        status = app.get("/readyz").await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200, "ready again once the database is back");
}

#[tokio::test]
async fn readyz_is_503_when_migrations_are_missing() {
    let app = spawn_app().await;
    sqlx::query(
        "delete from _sqlx_migrations where version = (select max(version) from _sqlx_migrations)",
    )
    .execute(&app.db)
    .await
    .unwrap();
    assert_problem(app.get("/readyz").await, 503, "service_unavailable").await;
}

#[tokio::test]
async fn metrics_are_labelled_by_route_pattern_and_status() {
    let app = spawn_app().await;
    app.get("/healthz").await;
    app.get("/this-path-is-raw-12345").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="0.005"}"#));
    assert!(text.contains(r#"route="unmatched",status="404""#));
    assert!(
        !text.contains("this-path-is-raw-12345"),
        "raw paths never become labels"
    );
    for gauge in [
        "db_pool_connections",
        "db_pool_idle_connections",
        "db_pool_max_connections 3",
    ] {
        assert!(text.contains(gauge), "{gauge} missing");
    }
}

#[tokio::test]
async fn the_committed_openapi_document_matches_the_code() {
    let generated = openapi::document_json().unwrap();
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: regenerate it with \
         `cargo run -q -- openapi > openapi/openapi.json`"
    );

    let app = spawn_app().await;
    let served: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(served, committed);
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"] {
        assert!(
            served["paths"][path]["get"].is_object(),
            "{path} documented"
        );
    }
}

#[tokio::test]
async fn docs_render_without_loading_anything_from_elsewhere() {
    let app = spawn_app().await;
    let response = app.get("/docs").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(html.contains("<code>/readyz</code>"));
    assert!(html.contains("id=\"error-validation_failed\""));
    for external in ["src=\"http", "href=\"http", "src=\"//", "@import", "url("] {
        assert!(!html.contains(external), "/docs must not load {external}");
    }
    // Its scripts come from this server.
    for script in ["/docs/redoc.standalone.js", "/docs/init.js"] {
        assert!(
            html.contains(&format!("<script src=\"{script}\">")),
            "{script}"
        );
        let response = app.get(script).await;
        assert_eq!(response.status(), 200, "{script}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
        assert!(!response.text().await.unwrap().is_empty());
    }
    assert_eq!(app.get("/docs/other.js").await.status(), 404);
}

/// Polls `/readyz` until it answers `status`, at most `within`.
async fn readyz_turns(app: &crate::helpers::TestApp, status: u16, within: Duration) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if app.get("/readyz").await.status().as_u16() == status {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test]
async fn a_frozen_search_index_is_not_ready_and_says_so() {
    let app = TestAppBuilder::default()
        .env("APP_SEARCH_MAX_LAG_SECS", "2")
        .spawn()
        .await;
    assert!(readyz_turns(&app, 200, Duration::from_secs(10)).await);
    // The feed cannot be read: the index stays where it is.
    sqlx::raw_sql("alter table directory_change rename to directory_change_away")
        .execute(&app.db)
        .await
        .unwrap();
    assert!(
        readyz_turns(&app, 503, Duration::from_secs(10)).await,
        "a stale index still answers ready"
    );
    let body = assert_problem(app.get("/readyz").await, 503, "service_unavailable").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("behind the change feed"),
        "{body}"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert!(value("search_feed_errors_total") >= 1.0);
    assert!(value("search_index_lag_seconds") >= 2.0);

    // The feed comes back: the index catches up and is ready again, by itself.
    sqlx::raw_sql("alter table directory_change_away rename to directory_change")
        .execute(&app.db)
        .await
        .unwrap();
    assert!(readyz_turns(&app, 200, Duration::from_secs(10)).await);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("search_index_lag_seconds 0"), "{metrics}");
}

#[tokio::test]
async fn a_sigterm_drains_unready_while_still_serving_then_closes() {
    use therapist_directory::startup::Stop;
    let app = TestAppBuilder::default()
        .env("APP_SHUTDOWN_DRAIN_SECS", "2")
        .spawn()
        .await;
    assert!(readyz_turns(&app, 200, Duration::from_secs(10)).await);
    let asked = std::time::Instant::now();
    app.stop.send(Stop::Drain).await.unwrap();
    assert!(readyz_turns(&app, 503, Duration::from_secs(1)).await);
    let body = assert_problem(app.get("/readyz").await, 503, "service_unavailable").await;
    assert!(
        body["detail"].as_str().unwrap().contains("shutting down"),
        "{body}"
    );
    // Requests that still arrive are answered, and each connection is handed back.
    let search = app.get("/v1/therapists").await;
    assert_eq!(search.status(), 200);
    assert_eq!(search.headers()["connection"], "close");

    let address = format!("127.0.0.1:{}", app.port);
    let mut closed_after = None;
    while asked.elapsed() < Duration::from_secs(6) {
        if tokio::net::TcpStream::connect(&address).await.is_err() {
            closed_after = Some(asked.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let closed_after = closed_after.expect("the listener closes after the drain");
    assert!(
        closed_after >= Duration::from_millis(1900),
        "the listener closed before the drain ended: {closed_after:?}"
    );
}
