//! Requests as the API's clients send them, and the check every error answer must pass.

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use super::app::TestApp;

impl TestApp {
    /// GET; a search first waits for the index to hold every committed change.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        if path == "/v1/therapists" || path.starts_with("/v1/therapists?") {
            self.sync_search().await;
        }
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        content_type: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_as(&self, path: &str, access_token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("request")
    }

    /// An admin decision (`…/approve`, `…/reject`, `…/verify`, or any admin POST on a listing)
    /// sent with `If-Match`: the ETag of the listing as the admin reads it now.
    pub async fn decide(&self, path: &str, admin_token: &str, body: &Value) -> reqwest::Response {
        let segments: Vec<&str> = path.split('/').collect();
        let listing_id: Option<uuid::Uuid> = match segments.as_slice() {
            ["", "v1", "admin", "listings", id, _] => id.parse().ok(),
            [
                "",
                "v1",
                "admin",
                table @ ("licenses" | "certifications"),
                id,
                _,
            ] => {
                let sql = format!(
                    "select listing_id from {} where id = $1",
                    table.trim_end_matches('s')
                );
                match id.parse::<uuid::Uuid>() {
                    Ok(id) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(&self.db)
                        .await
                        .expect("credential lookup"),
                    Err(_) => None,
                }
            }
            _ => None,
        };
        let mut request = self.client.post(self.url(path)).bearer_auth(admin_token);
        if let Some(listing_id) = listing_id {
            let read = self
                .get_as(&format!("/v1/admin/listings/{listing_id}"), admin_token)
                .await;
            if let Some(etag) = read.headers().get("etag") {
                request = request.header("if-match", etag.to_str().expect("etag").to_owned());
            }
        }
        request.json(body).send().await.expect("request")
    }

    /// Sends `body` to a write route of the document, with the token it needs.
    pub async fn send_to(
        &self,
        route: &crate::contract::WriteRoute,
        therapist: &str,
        admin: &str,
        body: String,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(route.method.clone(), self.url(&route.path))
            .header(CONTENT_TYPE, route.media_type.as_str())
            .body(body);
        match route.needs {
            Some(crate::contract::Identity::Admin) => request = request.bearer_auth(admin),
            Some(crate::contract::Identity::Therapist) => request = request.bearer_auth(therapist),
            None => {}
        }
        request.send().await.expect("request")
    }

    pub async fn post_as(&self, path: &str, access_token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(access_token)
            .json(body)
            .send()
            .await
            .expect("request")
    }
}

impl TestApp {
    pub async fn patch_as(
        &self,
        path: &str,
        token: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .patch(self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string());
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        request.send().await.expect("request")
    }

    pub async fn delete_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }
}

/// Asserts an error response: its status, problem+json media type, `code`, and a request id
/// equal to the `x-request-id` header. Returns the body.
/// The JSON body of `response`, which must have `status`.
pub async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    let got_status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    assert_eq!(got_status, status, "status; body: {text}");
    assert_eq!(
        content_type, "application/problem+json",
        "content type; body: {text}"
    );
    let body: Value = serde_json::from_str(&text).expect("problem body is JSON");
    assert_eq!(body["code"], code, "code; body: {text}");
    assert_eq!(body["status"], status, "status field; body: {text}");
    assert!(!request_id.is_empty(), "x-request-id header missing");
    assert_eq!(
        body["request_id"],
        request_id.as_str(),
        "request_id; body: {text}"
    );
    for key in ["type", "title", "detail"] {
        assert!(body[key].is_string(), "{key} missing: {text}");
    }
    body
}

/// The `field` of each entry of a 422 problem's `errors`, in order.
pub fn error_fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect()
}
