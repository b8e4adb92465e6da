//! A listing's data as one typed profile: what a therapist writes, what the owner's view
//! and the stored row hold, and what the public profile is built from. Each field, its
//! documented limits and its validation rule live here once; `store::profile` names its
//! columns and `directory::model` says which of them the public sees.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::vocab::{
    Accepting, AgeGroup, Community, Delivery, Faith, Gender, PaymentMethod, SessionFormat,
};
use crate::domain::{
    Email, Invalid, LanguageCode, Money, Npi, TaxonomyCode, Text, UsPhone, UsState, shows_something,
};
use crate::error::FieldCode;
use crate::error::FieldError;
use crate::taxonomy::Kind;

mod parts;
pub use parts::{OfficeInput, PublicOffering, PublicOffice};

/// Every field a therapist may write on their listing. Absent optional fields are empty.
// Also the stored row and the owner's view: a PATCH is merged into the current profile and
// the whole is parsed and validated again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
#[schema(as = ListingBody)]
pub struct ListingProfile {
    #[schema(min_length = 1, max_length = 120)]
    pub display_name: String,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub pronouns: Option<String>,
    /// Credentials suffix, e.g. "LPCS, LCAS".
    #[serde(default)]
    #[schema(max_length = 80)]
    pub credentials: Option<String>,
    #[serde(default)]
    #[schema(max_length = 120)]
    pub professional_title: Option<String>,
    /// Plain text, stored as given (never rendered as HTML by the service).
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub statement: Option<String>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub website_url: Option<String>,
    /// A US number in any usual spelling; stored as E.164.
    #[serde(default)]
    #[schema(max_length = 32)]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(max_length = 254)]
    pub contact_email: Option<String>,
    #[serde(default)]
    pub gender: Option<Gender>,
    /// ISO 639 codes, at most 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub age_groups: Vec<AgeGroup>,
    #[serde(default)]
    pub communities: Vec<Community>,
    #[serde(default)]
    pub faith: Option<Faith>,
    #[serde(default)]
    pub session_formats: Vec<SessionFormat>,
    #[serde(default)]
    pub delivery: Vec<Delivery>,
    #[serde(default)]
    pub accepting: Accepting,
    #[serde(default)]
    pub free_consultation: bool,
    #[serde(default)]
    pub fee_min: Option<Money>,
    #[serde(default)]
    pub fee_max: Option<Money>,
    /// The lowest a sliding scale goes; at most `fee_min`.
    #[serde(default)]
    pub sliding_scale_min: Option<Money>,
    /// Sees clients through insurance only (then no fee is needed to submit).
    #[serde(default)]
    pub insurance_only: bool,
    #[serde(default)]
    pub payment_methods: Vec<PaymentMethod>,
    #[serde(default)]
    pub hsa_fsa: bool,
    /// National Provider Identifier (10 digits, Luhn check digit).
    #[serde(default)]
    pub npi: Option<String>,
    /// NUCC taxonomy code, e.g. 101YP2500X.
    #[serde(default)]
    pub taxonomy_code: Option<String>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 70)]
    pub years_in_practice: Option<i16>,
    #[serde(default)]
    pub telehealth_states: Vec<String>,
    /// Modality slugs (see /v1/modalities), at most 15.
    #[serde(default)]
    #[schema(max_items = 15)]
    pub modalities: Vec<String>,
    /// Specialty slugs (see /v1/specialties), at most 25.
    #[serde(default)]
    #[schema(max_items = 25)]
    pub specialties: Vec<String>,
    /// Up to three of `specialties`.
    #[serde(default)]
    #[schema(max_items = 3)]
    pub top_specialties: Vec<String>,
    /// Insurer slugs (see /v1/insurers), at most 40.
    #[serde(default)]
    #[schema(max_items = 40)]
    pub insurers: Vec<String>,
}

/// The limit the document states for a profile field (`maxLength` of a text, `maxItems` of
/// a list): the number in the field's `#[schema]` above is the one enforced.
fn documented_max(field: &str) -> usize {
    static LIMITS: LazyLock<HashMap<String, usize>> = LazyLock::new(|| {
        let schema =
            serde_json::to_value(<ListingProfile as PartialSchema>::schema()).unwrap_or_default();
        let properties = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        properties
            .into_iter()
            .filter_map(|(name, property)| {
                let max = property["maxLength"]
                    .as_u64()
                    .or(property["maxItems"].as_u64())?;
                Some((name, usize::try_from(max).ok()?))
            })
            .collect()
    });
    // A field without a documented limit takes nothing: the unit test below names it.
    LIMITS.get(field).copied().unwrap_or(0)
}

/// Single-line text: length-capped, no control characters; empty means absent.
pub fn line(
    field: &str,
    value: &Option<String>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = value.as_deref()?;
    if value.trim().is_empty() {
        return None;
    }
    if let Err(invalid) = Text::Line.check(value, max) {
        errors.push(invalid.at(field));
    }
    Some(value.to_owned())
}

/// `value` parsed and normalised by `parse` (blank means absent), or the fault recorded.
fn parsed(
    field: &str,
    value: &Option<String>,
    parse: impl Fn(&str) -> Result<String, Invalid>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let raw = value.as_deref().filter(|v| !v.trim().is_empty())?;
    parse(raw).map_err(|e| errors.push(e.at(field))).ok()
}

fn url(
    field: &str,
    value: &Option<String>,
    https_only: bool,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let raw = line(field, value, documented_max(field), errors)?;
    // Stored as written, so written as stored links are: the parser alone would also take
    // `HTTPS://…`, ` https://…` and `https:host`.
    let written = raw.starts_with("https://") || (!https_only && raw.starts_with("http://"));
    let ok = written
        && url::Url::parse(&raw).is_ok_and(|u| {
            u.host().is_some() && (u.scheme() == "https" || (!https_only && u.scheme() == "http"))
        });
    if !ok {
        let scheme = if https_only { "an https" } else { "an http(s)" };
        errors.push(FieldError::new(
            field,
            FieldCode::InvalidUrl,
            format!("must be {scheme} URL"),
        ));
    }
    Some(raw)
}

fn capped<T>(field: &str, values: &[T], errors: &mut Vec<FieldError>) {
    let max = documented_max(field);
    if values.len() > max {
        errors.push(FieldError::new(
            field,
            FieldCode::TooMany,
            format!("at most {max} entries"),
        ));
    }
}

fn dedup<T: Ord>(values: &mut Vec<T>) {
    values.sort();
    values.dedup();
}

impl ListingProfile {
    /// The profile normalised for storage (phone as E.164, codes and states upper-case,
    /// lists sorted and without repeats, blanks absent), or every field at fault. Taxonomy
    /// slugs are checked against the database separately (`store::find_terms`, `term_ids`).
    pub fn validate(mut self) -> Result<ListingProfile, Vec<FieldError>> {
        let mut errors = Vec::new();
        if !shows_something(&self.display_name) {
            errors.push(FieldError::new(
                "display_name",
                FieldCode::Required,
                "a display name is required",
            ));
        } else {
            let max = documented_max("display_name");
            line(
                "display_name",
                &Some(self.display_name.clone()),
                max,
                &mut errors,
            );
        }
        self.pronouns = line(
            "pronouns",
            &self.pronouns,
            documented_max("pronouns"),
            &mut errors,
        );
        self.credentials = line(
            "credentials",
            &self.credentials,
            documented_max("credentials"),
            &mut errors,
        );
        self.professional_title = line(
            "professional_title",
            &self.professional_title,
            documented_max("professional_title"),
            &mut errors,
        );
        if let Some(statement) = &self.statement {
            if let Err(invalid) = Text::Paragraphs.check(statement, documented_max("statement")) {
                errors.push(invalid.at("statement"));
            }
            if statement.trim().is_empty() {
                self.statement = None;
            }
        }
        self.website_url = url("website_url", &self.website_url, false, &mut errors);
        self.phone = parsed(
            "phone",
            &self.phone,
            |v| UsPhone::parse(v).map(|p| p.as_str().to_owned()),
            &mut errors,
        );
        self.contact_email = parsed(
            "contact_email",
            &self.contact_email,
            |v| Email::parse(v).map(|e| e.as_str().to_owned()),
            &mut errors,
        );
        capped("languages", &self.languages, &mut errors);
        for (i, language) in self.languages.iter().enumerate() {
            if let Err(invalid) = LanguageCode::parse(language) {
                errors.push(invalid.at(format!("languages[{i}]")));
            }
        }
        dedup(&mut self.languages);
        dedup(&mut self.age_groups);
        dedup(&mut self.communities);
        dedup(&mut self.session_formats);
        dedup(&mut self.delivery);
        dedup(&mut self.payment_methods);
        self.check_fees(&mut errors);
        self.npi = parsed(
            "npi",
            &self.npi,
            |v| Npi::parse(v).map(|n| n.as_str().to_owned()),
            &mut errors,
        );
        self.taxonomy_code = parsed(
            "taxonomy_code",
            &self.taxonomy_code,
            |v| TaxonomyCode::parse(v).map(|t| t.as_str().to_owned()),
            &mut errors,
        );
        if let Some(years) = self.years_in_practice
            && !(0..=70).contains(&years)
        {
            errors.push(FieldError::new(
                "years_in_practice",
                FieldCode::OutOfRange,
                "between 0 and 70",
            ));
        }
        let mut telehealth_states = Vec::new();
        for (i, state) in self.telehealth_states.iter().enumerate() {
            match UsState::parse(state) {
                Ok(s) => telehealth_states.push(s.as_str().to_owned()),
                Err(e) => errors.push(e.at(format!("telehealth_states[{i}]"))),
            }
        }
        dedup(&mut telehealth_states);
        self.telehealth_states = telehealth_states;
        self.check_terms(&mut errors);
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }

    /// Each amount in range; a fee range is given whole and in order; a sliding scale
    /// reaches at or below the standard fee.
    fn check_fees(&self, errors: &mut Vec<FieldError>) {
        for (field, money) in [
            ("fee_min", self.fee_min),
            ("fee_max", self.fee_max),
            ("sliding_scale_min", self.sliding_scale_min),
        ] {
            if let Some(Err(e)) = money.map(Money::validated) {
                errors.push(e.at(format!("{field}.amount_cents")));
            }
        }
        match (self.fee_min, self.fee_max) {
            (Some(min), Some(max)) if min.amount_cents > max.amount_cents => {
                errors.push(FieldError::new(
                    "fee_min",
                    FieldCode::GreaterThanMax,
                    "fee_min must not exceed fee_max",
                ));
            }
            (Some(_), None) => errors.push(FieldError::new(
                "fee_max",
                FieldCode::Required,
                "give fee_max with fee_min",
            )),
            (None, Some(_)) => errors.push(FieldError::new(
                "fee_min",
                FieldCode::Required,
                "give fee_min with fee_max",
            )),
            _ => {}
        }
        if let Some(sliding) = self.sliding_scale_min {
            match self.fee_min {
                None => errors.push(FieldError::new(
                    "sliding_scale_min",
                    FieldCode::RequiresFee,
                    "a sliding scale needs a standard fee",
                )),
                Some(min) if sliding.amount_cents > min.amount_cents => {
                    errors.push(FieldError::new(
                        "sliding_scale_min",
                        FieldCode::GreaterThanFee,
                        "the sliding scale must reach at or below fee_min",
                    ))
                }
                _ => {}
            }
        }
    }

    /// How many terms of each kind, and top specialties among the specialties. Slugs keep
    /// their order here, so an unknown one is reported at the index the client sent;
    /// duplicates are dropped when they are resolved to ids.
    fn check_terms(&self, errors: &mut Vec<FieldError>) {
        capped("modalities", &self.modalities, errors);
        capped("specialties", &self.specialties, errors);
        capped("insurers", &self.insurers, errors);
        capped("top_specialties", &self.top_specialties, errors);
        for (i, top) in self.top_specialties.iter().enumerate() {
            if !self.specialties.contains(top) {
                errors.push(FieldError::new(
                    format!("top_specialties[{i}]"),
                    FieldCode::NotASpecialty,
                    format!("`{top}` must also be listed in specialties"),
                ));
            }
        }
    }

    /// The profile's taxonomy slugs by kind.
    pub fn term_slugs(&self) -> [(Kind, &[String]); 3] {
        [
            (Kind::Modality, &self.modalities),
            (Kind::Specialty, &self.specialties),
            (Kind::Insurer, &self.insurers),
        ]
    }

    /// The ids of the terms `found` for [`Self::term_slugs`], or a 422 naming each slug that
    /// names no term at the index the client sent. Repeated slugs collapse to one link.
    pub fn term_ids(&self, found: FoundTerms) -> Result<TermIds, Vec<FieldError>> {
        let mut errors = Vec::new();
        for ((kind, slugs), ids) in self.term_slugs().into_iter().zip(&found) {
            for (i, slug) in slugs.iter().enumerate() {
                if !ids.iter().any(|(s, _)| s == slug) {
                    errors.push(kind.unknown(format!("{}[{i}]", kind.plural()), slug));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let [modalities, specialties, insurers] = found;
        Ok(TermIds {
            modalities: modalities.into_iter().map(|(_, id)| id).collect(),
            specialties: specialties
                .into_iter()
                .map(|(slug, id)| (id, self.top_specialties.contains(&slug)))
                .collect(),
            insurers: insurers.into_iter().map(|(_, id)| id).collect(),
        })
    }

    /// Reachable without an office: video or phone sessions, in states it names.
    pub fn reachable_remotely(&self) -> bool {
        self.delivery
            .iter()
            .any(|d| matches!(d, Delivery::Video | Delivery::Phone))
            && !self.telehealth_states.is_empty()
    }
}

/// The terms a profile's slugs name, as (slug, id) per kind (see `term_slugs`).
pub type FoundTerms = [Vec<(String, i32)>; 3];

/// The ids of a profile's taxonomy terms, as the store links them (specialties with
/// whether they are top).
pub struct TermIds {
    pub modalities: Vec<i32>,
    pub specialties: Vec<(i32, bool)>,
    pub insurers: Vec<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_field_rules() {
        let profile = ListingProfile {
            display_name: "A".into(),
            fee_min: Some(Money::usd(10_000).unwrap()),
            fee_max: Some(Money::usd(5_000).unwrap()),
            sliding_scale_min: Some(Money::usd(20_000).unwrap()),
            specialties: vec!["anxiety".into()],
            top_specialties: vec!["grief".into()],
            ..Default::default()
        };
        let errors = profile.validate().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["fee_min", "sliding_scale_min", "top_specialties[0]"]
        );
    }

    #[test]
    fn the_documented_limits_are_the_enforced_ones() {
        let texts = [
            "display_name",
            "pronouns",
            "credentials",
            "professional_title",
            "statement",
            "website_url",
        ];
        let lists = [
            "languages",
            "modalities",
            "specialties",
            "top_specialties",
            "insurers",
        ];
        for field in texts.into_iter().chain(lists) {
            let max = documented_max(field);
            assert!(max > 0, "{field} has no documented limit");
            for (length, refused) in [(max, false), (max + 1, true)] {
                let mut profile = serde_json::to_value(ListingProfile {
                    display_name: "Dana".into(),
                    ..Default::default()
                })
                .unwrap();
                profile[field] = if texts.contains(&field) {
                    let prefix = if field.ends_with("_url") {
                        "https://a.example/"
                    } else {
                        ""
                    };
                    serde_json::json!(format!("{prefix}{}", "a".repeat(length - prefix.len())))
                } else if field == "languages" {
                    serde_json::json!(vec!["en"; length])
                } else {
                    let items: Vec<String> = (0..length).map(|i| format!("s{i}")).collect();
                    if field == "top_specialties" {
                        profile["specialties"] = serde_json::json!(items);
                    }
                    serde_json::json!(items)
                };
                let parsed: ListingProfile = serde_json::from_value(profile).unwrap();
                let faults = parsed.validate().err().unwrap_or_default();
                let named = faults.iter().any(|e| {
                    e.field == field && matches!(e.code, FieldCode::TooLong | FieldCode::TooMany)
                });
                assert_eq!(named, refused, "{field} at {length}: {faults:?}");
            }
        }
    }

    #[test]
    fn a_display_name_must_show_something() {
        for name in ["", "   ", "\u{200B}\u{202E}\u{2066}", "\u{FEFF}\u{00AD}"] {
            let profile = ListingProfile {
                display_name: name.into(),
                ..Default::default()
            };
            let faults = profile.validate().unwrap_err();
            assert_eq!(faults[0].field, "display_name", "{name:?}");
            assert_eq!(faults[0].code, FieldCode::Required, "{name:?}");
        }
    }

    #[test]
    fn validation_normalises_what_it_stores() {
        let profile = ListingProfile {
            display_name: "Dana Reyes".into(),
            phone: Some("(919) 555-0142".into()),
            contact_email: Some("  ".into()),
            languages: vec!["es".into(), "en".into(), "es".into()],
            telehealth_states: vec!["nc".into(), "NC".into(), "va".into()],
            delivery: vec![Delivery::Video, Delivery::InPerson, Delivery::Video],
            ..Default::default()
        };
        let valid = profile.validate().unwrap();
        assert_eq!(valid.phone.as_deref(), Some("+19195550142"));
        assert_eq!(valid.contact_email, None);
        assert_eq!(valid.languages, ["en", "es"]);
        assert_eq!(valid.telehealth_states, ["NC", "VA"]);
        assert_eq!(valid.delivery, [Delivery::InPerson, Delivery::Video]);
        assert!(valid.reachable_remotely());
    }
}
