use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::Invalid;
use crate::error::FieldCode;

/// A URL slug: lowercase ASCII letters and digits in hyphen-separated words, 1–80 long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

pub const MAX_SLUG_LEN: usize = 80;

/// The rule of [`Slug::parse`] as a JSON Schema pattern, for the document (a test holds the
/// two to the same answers).
pub const SLUG_PATTERN: &str = r"^[a-z0-9]+(-[a-z0-9]+)*$";

// Documented as `TermSlug`: search parameters name modalities, specialties and insurers by it.
impl utoipa::PartialSchema for Slug {
    // `example`, as the derived schemas of the document write it.
    #[allow(deprecated)]
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A taxonomy term's slug, as search parameters name modalities, specialties and insurers.",
            ))
            .pattern(Some(SLUG_PATTERN))
            .max_length(Some(MAX_SLUG_LEN))
            .example(Some("cbt".into()))
            .into()
    }
}

impl utoipa::ToSchema for Slug {
    fn name() -> Cow<'static, str> {
        "TermSlug".into()
    }
}

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_SLUG_LEN
            && raw.split('-').all(|word| {
                !word.is_empty()
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if ok {
            Ok(Slug(raw.to_owned()))
        } else {
            Err(Invalid::new(
                FieldCode::InvalidSlug,
                format!(
                    "lowercase letters and digits in hyphen-separated words, at most {MAX_SLUG_LEN} characters"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Turns a display name into a slug: accents folded, everything else non-alphanumeric
/// becomes a single hyphen. Returns "therapist" for names with no usable characters.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars() {
        match fold(c) {
            Some(folded) => slug.push_str(&folded),
            None if !slug.ends_with('-') && !slug.is_empty() => slug.push('-'),
            None => {}
        }
    }
    let mut slug = slug.trim_matches('-').to_owned();
    if slug.len() > MAX_SLUG_LEN - 10 {
        // Leave room for a uniqueness suffix.
        slug.truncate(MAX_SLUG_LEN - 10);
        slug = slug.trim_end_matches('-').to_owned();
    }
    if slug.is_empty() {
        "therapist".to_owned()
    } else {
        slug
    }
}

/// A character's contribution: letters (accents folded), nothing for apostrophes
/// ("O'Brien" is "obrien"), or `None` for a word break.
fn fold(c: char) -> Option<String> {
    if c.is_ascii_alphanumeric() {
        return Some(c.to_ascii_lowercase().to_string());
    }
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        '\'' | '’' => "",
        _ => return None,
    };
    Some(folded.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_documented_pattern_is_the_parser_s_rule() {
        let schema = serde_json::to_value(<Slug as utoipa::PartialSchema>::schema()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let long = "a".repeat(MAX_SLUG_LEN + 1);
        for sample in [
            "cbt",
            "imago-therapy",
            "a1-b2",
            "x",
            "",
            "-a",
            "a-",
            "a--b",
            "A",
            "a_b",
            "é",
            "a b",
            &long[1..],
            &long,
        ] {
            assert_eq!(
                validator.is_valid(&serde_json::json!(sample)),
                Slug::parse(sample).is_ok(),
                "{sample:?}"
            );
        }
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs_from_names() {
        assert_eq!(
            slugify("Hailey Shafir, LPCS, LCAS"),
            "hailey-shafir-lpcs-lcas"
        );
        assert_eq!(slugify("  José Núñez  "), "jose-nunez");
        assert_eq!(slugify("!!!"), "therapist");
        assert_eq!(slugify("李"), "therapist");
        assert_eq!(slugify("Siobhán O'Brien"), "siobhan-obrien");
    }

    #[test]
    fn parse_refuses_malformed_slugs() {
        for bad in ["", "-a", "a-", "a--b", "A", "a b", &"a".repeat(81)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert!(Slug::parse("imago").is_ok());
        assert!(Slug::parse("trauma-ptsd").is_ok());
    }

    proptest! {
        #[test]
        fn slugify_always_yields_a_valid_slug(name in "\\PC{0,200}") {
            let slug = slugify(&name);
            prop_assert!(Slug::parse(&slug).is_ok(), "{:?} -> {:?}", name, slug);
        }
    }
}
