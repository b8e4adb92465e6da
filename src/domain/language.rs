use serde::Serialize;
use utoipa::ToSchema;

use super::Invalid;
use crate::error::FieldCode;

/// An ISO 639 language code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[schema(value_type = String, pattern = "^[a-z]{2,3}$", example = "es")]
pub struct LanguageCode(String);

impl LanguageCode {
    /// Two or three lower-case letters (ISO 639-1 or -2), as listings and searches name a
    /// language.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if (2..=3).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(LanguageCode(raw.to_owned()))
        } else {
            Err(Invalid::new(
                FieldCode::InvalidLanguage,
                "an ISO 639 code such as `en` or `es`",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_or_three_lower_case_letters() {
        for ok in ["en", "es", "yue"] {
            assert_eq!(LanguageCode::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "e", "EN", "engl", "e1", "é"] {
            assert_eq!(
                LanguageCode::parse(bad).unwrap_err().code,
                "invalid_language"
            );
        }
    }
}
