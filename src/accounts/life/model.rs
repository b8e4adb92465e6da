//! The bodies of the account's own routes: its name, its address, its deletion.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts::model::parse_full_name;
use crate::domain::{Email, at_most};
use crate::error::ApiError;

/// The account's new name.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameRequest {
    /// One line: no control characters, and something visible.
    #[schema(
        min_length = 1,
        max_length = 120,
        example = "Hailey Shafir",
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    full_name: String,
}

impl NameRequest {
    pub fn parse(self) -> Result<String, ApiError> {
        parse_full_name(&self.full_name).map_err(|e| ApiError::validation(vec![e.at("full_name")]))
    }
}

/// A move to another sign-in address, with the password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChangeRequest {
    #[schema(max_length = 254, example = "hailey@new.example")]
    new_email: String,
    #[schema(max_length = 128)]
    pub password: String,
}

impl EmailChangeRequest {
    /// The new address, which must differ from `current`.
    pub fn new_email(&self, current: &str) -> Result<Email, ApiError> {
        let email = Email::parse(&self.new_email)
            .map_err(|e| ApiError::validation(vec![e.at("new_email")]))?;
        if email.as_str().eq_ignore_ascii_case(current) {
            return Err(ApiError::validation(vec![crate::error::FieldError::new(
                "new_email",
                crate::error::FieldCode::Invalid,
                "this is already the account's address",
            )]));
        }
        Ok(email)
    }
}

/// The password, and a current code of the second factor when one is on.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    #[schema(max_length = 128)]
    pub password: String,
    /// A code of the authenticator, or an unused recovery code; required when two-step
    /// sign-in is on.
    #[schema(max_length = 32)]
    pub code: Option<String>,
}

impl DeleteAccountRequest {
    pub fn check_lengths(&self) -> Result<(), ApiError> {
        let code = self.code.as_deref().unwrap_or_default();
        at_most(code, 32).map_err(|e| ApiError::validation(vec![e.at("code")]))
    }
}
