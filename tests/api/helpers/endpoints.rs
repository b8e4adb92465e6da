//! One method per endpoint that several tests call, grouped as the API is: the public
//! directory, sign-in, a therapist's own listing and inbox, and admin review. Tests whose
//! point is the raw request (malformed bodies, headers, conventions) use `client.rs`.

use std::fmt::Display;

use serde_json::{Value, json};

use super::app::TestApp;

// The public directory.
impl TestApp {
    /// `GET /v1/therapists?{query}`, after the index holds every committed change.
    pub async fn search(&self, query: &str) -> reqwest::Response {
        if query.is_empty() {
            self.get("/v1/therapists").await
        } else {
            self.get(&format!("/v1/therapists?{query}")).await
        }
    }

    /// `GET /v1/therapists/{id or slug}`.
    pub async fn profile(&self, key: impl Display) -> reqwest::Response {
        self.get(&format!("/v1/therapists/{key}")).await
    }

    pub async fn send_inquiry(&self, slug: impl Display, body: &Value) -> reqwest::Response {
        self.post_json(&format!("/v1/therapists/{slug}/inquiries"), body)
            .await
    }

    pub async fn report_listing(&self, slug: impl Display, body: &Value) -> reqwest::Response {
        self.post_json(&format!("/v1/therapists/{slug}/reports"), body)
            .await
    }
}

// Signing in and out.
impl TestApp {
    pub async fn signup(&self, email: &str, password: &str, name: &str) -> reqwest::Response {
        self.post_json(
            "/v1/auth/signup",
            &json!({"email": email, "password": password, "full_name": name, "accept_terms": true}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn verify_email(&self, token: &str) -> reqwest::Response {
        self.post_json("/v1/auth/verify-email", &json!({"token": token}))
            .await
    }

    pub async fn refresh(&self, body: &Value) -> reqwest::Response {
        self.post_json("/v1/auth/refresh", body).await
    }

    pub async fn request_password_reset(&self, body: &Value) -> reqwest::Response {
        self.post_json("/v1/auth/password-reset", body).await
    }

    pub async fn confirm_password_reset(&self, body: &Value) -> reqwest::Response {
        self.post_json("/v1/auth/password-reset/confirm", body)
            .await
    }

    pub async fn login_second_factor(&self, body: &Value) -> reqwest::Response {
        self.post_json("/v1/auth/login/mfa", body).await
    }

    /// `GET /v1/me`.
    pub async fn me(&self, token: &str) -> reqwest::Response {
        self.get_as("/v1/me", token).await
    }
}

// A therapist's own listing and inbox.
impl TestApp {
    pub async fn my_listing(&self, token: &str) -> reqwest::Response {
        self.get_as("/v1/me/listing", token).await
    }

    /// A merge patch of the listing, with `If-Match` when given.
    pub async fn patch_listing(
        &self,
        token: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> reqwest::Response {
        self.patch_as("/v1/me/listing", token, body, if_match).await
    }

    pub async fn submit_listing(&self, token: &str) -> reqwest::Response {
        self.post_as("/v1/me/listing/submit", token, &json!({}))
            .await
    }

    pub async fn confirm_listing(&self, token: &str) -> reqwest::Response {
        self.post_as("/v1/me/listing/confirm", token, &json!({}))
            .await
    }

    pub async fn add_office(&self, token: &str, body: &Value) -> reqwest::Response {
        self.post_as("/v1/me/listing/offices", token, body).await
    }

    pub async fn add_license(&self, token: &str, body: &Value) -> reqwest::Response {
        self.post_as("/v1/me/listing/licenses", token, body).await
    }

    pub async fn add_certification(&self, token: &str, body: &Value) -> reqwest::Response {
        self.post_as("/v1/me/listing/certifications", token, body)
            .await
    }

    pub async fn add_offering(&self, token: &str, body: &Value) -> reqwest::Response {
        self.post_as("/v1/me/listing/offerings", token, body).await
    }

    pub async fn my_inquiries(&self, token: &str) -> reqwest::Response {
        self.get_as("/v1/me/inquiries", token).await
    }

    pub async fn patch_inquiry(
        &self,
        token: &str,
        inquiry: impl Display,
        body: &Value,
    ) -> reqwest::Response {
        self.patch_as(&format!("/v1/me/inquiries/{inquiry}"), token, body, None)
            .await
    }
}

// Admin review.
impl TestApp {
    /// `GET /v1/admin/listings/{id}`.
    pub async fn admin_listing(&self, token: &str, listing: impl Display) -> reqwest::Response {
        self.get_as(&format!("/v1/admin/listings/{listing}"), token)
            .await
    }

    /// Approves a listing at the version the admin reads now.
    pub async fn admin_approve(&self, token: &str, listing: impl Display) -> reqwest::Response {
        self.decide(
            &format!("/v1/admin/listings/{listing}/approve"),
            token,
            &json!({}),
        )
        .await
    }

    /// `GET /v1/admin/audit-log?{query}`.
    pub async fn audit_log(&self, token: &str, query: &str) -> reqwest::Response {
        self.get_as(&format!("/v1/admin/audit-log?{query}"), token)
            .await
    }
}
