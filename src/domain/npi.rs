use super::Invalid;
use crate::error::FieldCode;

/// A National Provider Identifier: ten digits whose last is a Luhn check digit computed over
/// the number prefixed with 80840 (the CMS standard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Npi(String);

impl Npi {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let npi = raw.trim();
        if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new(
                FieldCode::InvalidNpi,
                "an NPI is exactly 10 digits",
            ));
        }
        if check_digit(&npi[..9]) != npi.as_bytes()[9] - b'0' {
            return Err(Invalid::new(
                FieldCode::InvalidNpi,
                "the NPI's check digit is wrong",
            ));
        }
        Ok(Npi(npi.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Luhn check digit for nine NPI digits.
pub fn check_digit(first_nine: &str) -> u8 {
    let digits = format!("80840{first_nine}");
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            // Rightmost payload digit is doubled, since the check digit will follow it.
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_npis() {
        assert!(Npi::parse("1234567893").is_ok(), "the CMS example");
        assert_eq!(Npi::parse("1234567890").unwrap_err().code, "invalid_npi");
        for bad in ["", "123456789", "12345678901", "12345678a3"] {
            assert!(Npi::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_is_valid(prefix in "[0-9]{9}", wrong in 0u8..9) {
            let good = check_digit(&prefix);
            let valid = format!("{prefix}{good}");
            prop_assert!(Npi::parse(&valid).is_ok());
            let invalid = format!("{}{}", prefix, (good + 1 + wrong) % 10);
            prop_assert!(Npi::parse(&invalid).is_err());
        }
    }
}
