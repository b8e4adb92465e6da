//! The codes a field error carries: one closed list, documented as an enum, so a client can
//! branch on them as it does on the problem codes.

use std::fmt;

use serde::Serialize;
use utoipa::ToSchema;

macro_rules! field_codes {
    ($($variant:ident => $code:literal,)*) => {
        /// Why one field or parameter was refused. Stable snake_case; never renamed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum FieldCode { $($variant,)* }

        impl FieldCode {
            pub const ALL: &'static [FieldCode] = &[$(FieldCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(FieldCode::$variant => $code,)* }
            }
        }
    };
}

field_codes! {
    BeforeIssued => "before_issued",
    BeforeStart => "before_start",
    ControlCharacter => "control_character",
    Duplicate => "duplicate",
    GreaterThanFee => "greater_than_fee",
    GreaterThanMax => "greater_than_max",
    Incomplete => "incomplete",
    Incorrect => "incorrect",
    Invalid => "invalid",
    InvalidCharacters => "invalid_characters",
    InvalidEmail => "invalid_email",
    InvalidLanguage => "invalid_language",
    InvalidNpi => "invalid_npi",
    InvalidPhone => "invalid_phone",
    InvalidSlug => "invalid_slug",
    InvalidState => "invalid_state",
    InvalidTaxonomyCode => "invalid_taxonomy_code",
    InvalidType => "invalid_type",
    InvalidUrl => "invalid_url",
    InvalidValue => "invalid_value",
    InvalidZip => "invalid_zip",
    LimitReached => "limit_reached",
    Missing => "missing",
    MustAccept => "must_accept",
    MustConsent => "must_consent",
    NotASpecialty => "not_a_specialty",
    NotAllowed => "not_allowed",
    OutOfRange => "out_of_range",
    PlainTextOnly => "plain_text_only",
    Required => "required",
    RequiresFee => "requires_fee",
    Taken => "taken",
    TooCommon => "too_common",
    TooLong => "too_long",
    TooMany => "too_many",
    TooShort => "too_short",
    UnknownField => "unknown_field",
    UnknownTerm => "unknown_term",
    UnknownZip => "unknown_zip",
    UnknownPlace => "unknown_place",
    ZipStateMismatch => "zip_state_mismatch",
}

impl fmt::Display for FieldCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for FieldCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_and_serialise_as_named() {
        let mut seen = HashSet::new();
        for code in FieldCode::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "{name} twice");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
            assert_eq!(serde_json::to_value(code).unwrap(), name);
        }
    }
}
