use super::Invalid;
use crate::error::FieldCode;

/// US states, DC and the inhabited territories, by USPS code.
pub const US_STATES: [&str; 56] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY", "DC", "PR", "VI", "GU", "AS", "MP",
];

/// A USPS state code (`NC`); lower case is accepted and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsState(&'static str);

impl UsState {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let upper = raw.trim().to_ascii_uppercase();
        US_STATES
            .iter()
            .find(|s| **s == upper)
            .map(|s| UsState(s))
            .ok_or_else(|| {
                Invalid::new(
                    FieldCode::InvalidState,
                    format!("`{}` is not a US state code", raw.trim()),
                )
            })
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes() {
        assert_eq!(UsState::parse("nc").unwrap().as_str(), "NC");
        assert!(UsState::parse("PR").is_ok());
        for bad in ["", "XX", "North Carolina", "N"] {
            assert!(UsState::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn only_listed_codes_parse(code in "[A-Za-z]{2}") {
            let listed = US_STATES.contains(&code.to_ascii_uppercase().as_str());
            prop_assert_eq!(UsState::parse(&code).is_ok(), listed);
        }
    }
}
