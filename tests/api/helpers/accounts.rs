//! Accounts in the states tests start from: signed up, verified, admin with a second factor.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use serde_json::Value;

use super::app::TestApp;
use super::mail::token_in;

pub const PASSWORD: &str = "a calm river at dawn";

static TOTP_SECRETS: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);

impl TestApp {
    /// Signs up, verifies through the emailed link and logs in: the login response body.
    pub async fn verified_therapist(&self, email: &str) -> Value {
        assert_eq!(
            self.signup(email, PASSWORD, "Test Therapist")
                .await
                .status(),
            202
        );
        let mail = self.email_to(email, "Confirm your email").await;
        let token = token_in(&mail);
        let verified = self
            .post_json(
                "/v1/auth/verify-email",
                &serde_json::json!({"token": token}),
            )
            .await;
        assert_eq!(verified.status(), 200);
        let login = self.login(email, PASSWORD).await;
        assert_eq!(login.status(), 200);
        login.json().await.expect("login body")
    }

    /// An admin created as `create-admin` does, logged in, with a TOTP authenticator
    /// enrolled and confirmed (admin routes need a session that passed a second factor; the
    /// confirming session does): the login response body. The authenticator's secret is
    /// kept on the account for `totp_code`.
    pub async fn admin(&self, email: &str) -> Value {
        let passwords =
            therapist_directory::auth::password::Passwords::new(19456, 2, 1, 1).expect("hasher");
        therapist_directory::accounts::admin::create_admin(
            &self.db,
            &passwords,
            email,
            "Admin Person",
            PASSWORD,
        )
        .await
        .expect("create admin");
        let login = self.login(email, PASSWORD).await;
        assert_eq!(login.status(), 200);
        let login: Value = login.json().await.expect("login body");
        let token = access(&login);
        let enrolled = self
            .post_as(
                "/v1/me/mfa/totp",
                &token,
                &serde_json::json!({"password": PASSWORD}),
            )
            .await;
        assert_eq!(enrolled.status(), 201);
        let enrolled: Value = enrolled.json().await.expect("enrolment");
        let secret = enrolled["secret"].as_str().expect("secret").to_owned();
        let confirmed = self
            .post_as(
                "/v1/me/mfa/totp/confirm",
                &token,
                &serde_json::json!({"code": self.totp_code(&secret, 0)}),
            )
            .await;
        assert_eq!(confirmed.status(), 200);
        TOTP_SECRETS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(email.to_owned(), secret);
        login
    }

    /// The code an authenticator shows for `secret` at the service's clock, `steps` time
    /// steps ahead (a code is accepted once, so a second sign-in in one step takes the next).
    /// Built from the parameters API.md states (SHA-1, 6 digits, 30 s), not from the
    /// service's own TOTP, so a change in those is caught.
    pub fn totp_code(&self, secret: &str, steps: u64) -> String {
        let secret = totp_rs::Secret::try_from_base32(secret).expect("base32 secret");
        let totp = totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::SHA1)
            .with_digits(6)
            .with_step_duration(30)
            .with_secret(secret.as_bytes().to_vec())
            .build()
            .expect("totp");
        let now = self.clock.now().unix_timestamp() as u64;
        totp.generate(now + 30 * steps).to_string()
    }

    /// Signs in an admin enrolled by `admin()` with the password: the `mfa_token` of the
    /// `mfa_required` answer.
    pub async fn mfa_challenge(&self, email: &str) -> String {
        let challenge =
            super::assert_problem(self.login(email, PASSWORD).await, 401, "mfa_required").await;
        challenge["mfa_token"]
            .as_str()
            .expect("an mfa_token")
            .to_owned()
    }

    /// The second step of signing in an admin enrolled by `admin()`: the authenticator's
    /// code `step` time steps ahead.
    pub async fn second_factor(
        &self,
        mfa_token: &str,
        email: &str,
        step: u64,
    ) -> reqwest::Response {
        let code = self.totp_code(&Self::totp_secret(email), step);
        self.login_second_factor(&serde_json::json!({"mfa_token": mfa_token, "code": code}))
            .await
    }

    /// The TOTP secret `admin()` enrolled for `email`.
    pub fn totp_secret(email: &str) -> String {
        TOTP_SECRETS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(email)
            .cloned()
            .expect("an admin enrolled by admin()")
    }
}

pub fn access(login: &Value) -> String {
    login["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}
