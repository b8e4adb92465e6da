use super::Invalid;
use crate::error::FieldCode;

/// A NUCC Health Care Provider Taxonomy code, e.g. `101YP2500X` (Counselor, Professional)
/// or `106H00000X` (Marriage & Family Therapist): three digits, six letters or digits, `X`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxonomyCode(String);

impl TaxonomyCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim().to_ascii_uppercase();
        let b = code.as_bytes();
        let ok = b.len() == 10
            && b[..3].iter().all(u8::is_ascii_digit)
            && b[3..9]
                .iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            && b[9] == b'X';
        if ok {
            Ok(TaxonomyCode(code))
        } else {
            Err(Invalid::new(
                FieldCode::InvalidTaxonomyCode,
                "a NUCC taxonomy code looks like 101YP2500X",
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
    use proptest::prelude::*;

    #[test]
    fn real_codes_parse() {
        for code in ["101YP2500X", "106H00000X", "103T00000X", "1041c0700x"] {
            assert!(TaxonomyCode::parse(code).is_ok(), "{code}");
        }
        for bad in ["", "101YP2500", "101YP2500Y", "A01YP2500X", "101-P2500X"] {
            assert!(TaxonomyCode::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn shape_is_enough(head in "[0-9]{3}", mid in "[0-9A-Z]{6}") {
            let code = format!("{head}{mid}X");
            prop_assert!(TaxonomyCode::parse(&code).is_ok());
        }
    }
}
