use super::Invalid;
use crate::error::FieldCode;

/// A US (NANP) phone number, stored as E.164: `+19195550123`. Accepts the usual ways of
/// writing one: `(919) 555-0123`, `919.555.0123`, `+1 919 555 0123`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsPhone(String);

impl UsPhone {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw.len() > 32
            || !raw
                .chars()
                .all(|c| c.is_ascii_digit() || " ()-.+".contains(c))
        {
            return Err(Invalid::new(
                FieldCode::InvalidPhone,
                "not a US phone number",
            ));
        }
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let national = match digits.len() {
            10 => digits.as_str(),
            11 if digits.starts_with('1') => &digits[1..],
            _ => {
                return Err(Invalid::new(
                    FieldCode::InvalidPhone,
                    "a US phone number has 10 digits",
                ));
            }
        };
        let b = national.as_bytes();
        if b[0] < b'2' || b[3] < b'2' {
            return Err(Invalid::new(
                FieldCode::InvalidPhone,
                "not a valid US area code and exchange",
            ));
        }
        Ok(UsPhone(format!("+1{national}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_common_spellings() {
        for raw in [
            "(919) 555-0123",
            "919.555.0123",
            "+1 919 555 0123",
            "19195550123",
        ] {
            assert_eq!(
                UsPhone::parse(raw).unwrap().as_str(),
                "+19195550123",
                "{raw}"
            );
        }
        for bad in [
            "555-0123",
            "(119) 555-0123",
            "919-155-0123",
            "+44 20 7946 0958",
            "call me",
        ] {
            assert!(UsPhone::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn valid_numbers_normalise_to_e164(area in 200u32..1000, exchange in 200u32..1000, line in 0u32..10000) {
            let raw = format!("({area}) {exchange}-{line:04}");
            let phone = UsPhone::parse(&raw).unwrap();
            prop_assert_eq!(phone.as_str(), format!("+1{area}{exchange}{line:04}"));
        }
    }
}
