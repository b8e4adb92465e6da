//! Parse-don't-validate types: each constructor is the only way in, so a value of the type
//! is valid wherever it travels.

mod email;
mod language;
pub mod money;
mod npi;
mod phone;
pub mod place;
mod slug;
mod taxonomy_code;
mod text;
mod us_state;
pub mod vocab;
pub mod zip;

pub use email::Email;
pub use language::LanguageCode;
pub use money::Money;
pub use npi::{Npi, check_digit as npi_check_digit};
pub use phone::UsPhone;
pub use slug::{Slug, slugify};
pub use taxonomy_code::TaxonomyCode;
pub use text::{Text, at_most, shows_something};
pub use us_state::{US_STATES, UsState};
pub use zip::{GeoPoint, ZipCode};

use crate::error::FieldCode;

/// Why a value was refused: a stable snake_case code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: FieldCode,
    pub message: String,
}

impl Invalid {
    pub fn new(code: FieldCode, message: impl Into<String>) -> Self {
        Invalid {
            code,
            message: message.into(),
        }
    }

    /// As a field error for `field`.
    pub fn at(self, field: impl Into<String>) -> crate::error::FieldError {
        crate::error::FieldError::new(field, self.code, self.message)
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
