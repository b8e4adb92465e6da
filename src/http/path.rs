//! Text path segments (`{id_or_slug}`, `{slug}`): bounded and free of control characters
//! before any lookup. A segment that fails cannot name anything, so `startup::path_config`
//! answers it with 404, as for an unknown one.

use std::ops::Deref;

use serde::{Deserialize, Deserializer};

/// The request path with every percent-escape decoded: at least as decoded as the path the
/// router matches, so a check by prefix sees every spelling of a route
/// (`/v1/%61dmin/accounts` is `/v1/admin/accounts`).
pub fn decoded(path: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::percent_decode_str(path).decode_utf8_lossy()
}

/// Longest text segment any route accepts (slugs are at most 80 characters).
pub const MAX_SEGMENT_CHARS: usize = 120;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathText(String);

impl<'de> Deserialize<'de> for PathText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.chars().count() > MAX_SEGMENT_CHARS || text.chars().any(char::is_control) {
            return Err(serde::de::Error::custom("not a name any resource has"));
        }
        Ok(PathText(text))
    }
}

impl Deref for PathText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PathText, serde_json::Error> {
        serde_json::from_value(serde_json::Value::String(text.to_owned()))
    }

    #[test]
    fn refuses_control_characters_and_long_text() {
        assert!(parse("jane-doe").is_ok());
        assert!(parse("a\u{0}b").is_err());
        assert!(parse("a\nb").is_err());
        assert!(parse(&"x".repeat(MAX_SEGMENT_CHARS + 1)).is_err());
    }
}
