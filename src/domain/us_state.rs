use super::Invalid;
use crate::error::FieldCode;

/// US states, DC and the inhabited territories, by USPS code.
pub const US_STATES: [&str; 56] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY", "DC", "PR", "VI", "GU", "AS", "MP",
];

/// Their names, in the order of `US_STATES`.
const NAMES: [&str; 56] = [
    "Alabama",
    "Alaska",
    "Arizona",
    "Arkansas",
    "California",
    "Colorado",
    "Connecticut",
    "Delaware",
    "Florida",
    "Georgia",
    "Hawaii",
    "Idaho",
    "Illinois",
    "Indiana",
    "Iowa",
    "Kansas",
    "Kentucky",
    "Louisiana",
    "Maine",
    "Maryland",
    "Massachusetts",
    "Michigan",
    "Minnesota",
    "Mississippi",
    "Missouri",
    "Montana",
    "Nebraska",
    "Nevada",
    "New Hampshire",
    "New Jersey",
    "New Mexico",
    "New York",
    "North Carolina",
    "North Dakota",
    "Ohio",
    "Oklahoma",
    "Oregon",
    "Pennsylvania",
    "Rhode Island",
    "South Carolina",
    "South Dakota",
    "Tennessee",
    "Texas",
    "Utah",
    "Vermont",
    "Virginia",
    "Washington",
    "West Virginia",
    "Wisconsin",
    "Wyoming",
    "District of Columbia",
    "Puerto Rico",
    "U.S. Virgin Islands",
    "Guam",
    "American Samoa",
    "Northern Mariana Islands",
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

    /// `Texas` for `TX`.
    pub fn name(&self) -> &'static str {
        let at = US_STATES.iter().position(|s| *s == self.0).unwrap_or(0);
        NAMES[at]
    }

    /// The state called `name` (case and a leading "U.S." aside: `texas`, `Virgin Islands`).
    pub fn from_name(name: &str) -> Option<Self> {
        let wanted = name.trim().trim_start_matches("U.S. ");
        NAMES
            .iter()
            .position(|n| n.trim_start_matches("U.S. ").eq_ignore_ascii_case(wanted))
            .map(|at| UsState(US_STATES[at]))
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
        assert_eq!(UsState::parse("TX").unwrap().name(), "Texas");
        assert_eq!(UsState::parse("DC").unwrap().name(), "District of Columbia");
        assert_eq!(UsState::from_name("north carolina").unwrap().as_str(), "NC");
        assert_eq!(UsState::from_name("Virgin Islands").unwrap().as_str(), "VI");
        assert_eq!(UsState::from_name("Carolina"), None);
    }

    proptest! {
        #[test]
        fn only_listed_codes_parse(code in "[A-Za-z]{2}") {
            let listed = US_STATES.contains(&code.to_ascii_uppercase().as_str());
            prop_assert_eq!(UsState::parse(&code).is_ok(), listed);
        }
    }
}
