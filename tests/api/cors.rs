//! CORS for browser frontends: what a preflight allows, and that it covers every method the
//! document has and the headers tracing libraries add.

use reqwest::Method;

use crate::helpers::TestAppBuilder;

const ORIGIN: &str = "https://app.example";

fn listed(value: Option<&reqwest::header::HeaderValue>) -> Vec<String> {
    value
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

#[tokio::test]
async fn a_preflight_allows_every_method_and_the_tracing_headers() {
    let app = TestAppBuilder::default()
        .env("APP_CORS_ALLOWED_ORIGINS", ORIGIN)
        .spawn()
        .await;
    let headers = [
        "authorization",
        "content-type",
        "if-match",
        "if-none-match",
        "accept-language",
        "traceparent",
        "tracestate",
        "sentry-trace",
        "baggage",
    ];
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/v1/me/listing/photo"))
        .header("origin", ORIGIN)
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", headers.join(", "))
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], ORIGIN);
    let allowed = listed(preflight.headers().get("access-control-allow-headers"));
    for header in headers {
        assert!(
            allowed.iter().any(|a| a == header),
            "{header} is not allowed: {allowed:?}"
        );
    }
    let methods = listed(preflight.headers().get("access-control-allow-methods"));
    let document = therapist_directory::openapi::document();
    for item in document["paths"].as_object().unwrap().values() {
        for method in item.as_object().unwrap().keys() {
            assert!(
                methods.iter().any(|m| m == method),
                "{method} is in the document but not allowed: {methods:?}"
            );
        }
    }

    // Another origin learns nothing it could use.
    let other = app
        .client
        .request(Method::OPTIONS, app.url("/v1/therapists"))
        .header("origin", "https://elsewhere.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}
