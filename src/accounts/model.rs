//! The bodies of the `/v1/auth` and `/v1/me` routes and of the admin account list, and the
//! checks a signup passes.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::password::NewPassword;
use crate::auth::{AccountStatus, Role};
use crate::domain::{Email, Invalid, Text, at_most, shows_something};
use crate::error::FieldCode;
use crate::error::{ApiError, FieldError};

// --- Request bodies ----------------------------------------------------------------------

/// "Join the directory". Passwords: 12–128 characters, anything goes but common ones.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    #[schema(max_length = 254, example = "hailey@example.com")]
    email: String,
    #[schema(min_length = 12, max_length = 128)]
    password: String,
    #[schema(min_length = 1, max_length = 120, example = "Hailey Shafir")]
    full_name: String,
    /// Must be true.
    #[schema(schema_with = crate::http::json::must_be_true)]
    accept_terms: bool,
}

/// A signup whose every field passed its checks.
pub struct ValidSignup {
    pub email: Email,
    pub full_name: String,
    pub password: NewPassword,
}

impl SignupRequest {
    /// Every problem at once, each naming its field.
    pub fn validate(self) -> Result<ValidSignup, ApiError> {
        let mut errors = Vec::new();
        let email = Email::parse(&self.email)
            .map_err(|e| errors.push(e.at("email")))
            .ok();
        let full_name = parse_full_name(&self.full_name)
            .map_err(|e| errors.push(e.at("full_name")))
            .ok();
        let password =
            NewPassword::parse(&self.password, &[self.email.trim(), self.full_name.trim()])
                .map_err(|e| errors.push(e.at("password")))
                .ok();
        if !self.accept_terms {
            errors.push(FieldError::new(
                "accept_terms",
                FieldCode::MustAccept,
                "the terms must be accepted",
            ));
        }
        match (email, full_name, password) {
            (Some(email), Some(full_name), Some(password)) if errors.is_empty() => {
                Ok(ValidSignup {
                    email,
                    full_name,
                    password,
                })
            }
            _ => Err(ApiError::validation(errors)),
        }
    }
}

pub(crate) fn parse_full_name(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    if !shows_something(name) {
        return Err(Invalid::new(FieldCode::Required, "your name is required"));
    }
    Text::Line.check(name, 120)?;
    Ok(name.to_owned())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(max_length = 128)]
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    #[schema(max_length = 254)]
    pub email: String,
}

impl EmailRequest {
    /// The answer is the same whether or not the address has an account, but an address
    /// longer than any address can be is refused as the document says (422), not accepted.
    pub fn check_length(&self) -> Result<(), ApiError> {
        at_most(&self.email, 254).map_err(|e| e.at("email"))?;
        Ok(())
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 128)]
    pub password: String,
}

impl LoginRequest {
    /// Both lengths are checked before any work, each named when it is over.
    pub fn check_lengths(&self) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        check_length("email", &self.email, 254, &mut errors);
        check_length("password", &self.password, 128, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

fn check_length(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) {
    if let Err(invalid) = at_most(value, max) {
        errors.push(invalid.at(field));
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(max_length = 128)]
    pub refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmRequest {
    #[schema(max_length = 128)]
    pub token: String,
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(max_length = 128)]
    pub current_password: String,
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

// --- Response bodies ---------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct StatusBody {
    #[schema(example = "verification_email_sent")]
    pub status: &'static str,
}

// The account a token pair was issued to. Named apart from the admin list's
// `AccountSummary`: utoipa keys schemas by name, and the second of two same-named types
// silently replaces the first in the document.
#[derive(Serialize, ToSchema)]
pub struct SignedInAccount {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
}

#[derive(Serialize, ToSchema)]
pub struct TokenPair {
    /// A JWT for `Authorization: Bearer`, valid for `expires_in` seconds.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Opaque; exchange it at /v1/auth/refresh for a new pair. Single use.
    pub refresh_token: String,
    pub account: SignedInAccount,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub status: AccountStatus,
    pub full_name: String,
    pub email_verified: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

// An account as the admin list shows it (a `///` comment would enter the document).
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct AccountSummary {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub status: AccountStatus,
    pub email_verified: bool,
    pub listing_id: Option<Uuid>,
    pub suspended_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

// --- Sign-in throttling ----------------------------------------------------------------
//
// Failures are counted per (account, client network): after `FREE_FAILURES` in a row from
// one network, that network waits a minute, doubling with each further failure up to an
// hour, while the owner signs in from anywhere else. Across networks an account takes at
// most `DAILY_FAILURES` a day; then sign-in needs a password reset by email.

/// Consecutive failures from one network before it waits.
pub const FREE_FAILURES: i32 = 5;
/// Failures an account takes in a day, from every network together.
pub const DAILY_FAILURES: i32 = 100;

/// How long a network waits after its `failures`-th failure in a row, if it waits.
pub fn network_wait(failures: i32) -> Option<i64> {
    (failures >= FREE_FAILURES).then(|| (60i64 << (failures - FREE_FAILURES).min(6)).min(3600))
}

/// What one failure set: a wait for its network (seconds), and whether it was the day's
/// last the account takes.
#[derive(Debug, Default)]
pub struct FailureOutcome {
    pub lock_seconds: Option<i64>,
    pub reset_now_required: bool,
}
