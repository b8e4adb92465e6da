//! The editable parts of a listing as request bodies, and their validation.
//!
//! PATCH uses JSON merge patch (RFC 7396): the patch is merged into the current editable
//! representation, and the merged whole is parsed and validated again, so a patch can never
//! leave the listing in a state a full write could not produce. Anything that is not an
//! editable field (`status`, `id`, `account_id`, `slug`, verification fields …) is refused as
//! an unknown field.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::vocab::{
    Accepting, AgeGroup, Community, Delivery, Faith, Gender, PaymentMethod, SessionFormat,
    Vocabulary,
};
use crate::domain::{Email, Invalid, Money, Npi, TaxonomyCode, Text, UsPhone, UsState};
use crate::error::FieldError;
use crate::listings::view::MyListing;

mod parts;

pub use parts::{CertificationBody, LicenseBody, OfferingBody, OfficeBody};

/// RFC 7396: objects merge recursively, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(patch) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(map) = target {
                for (key, value) in patch {
                    if value.is_null() {
                        map.remove(&key);
                    } else {
                        merge_patch(map.entry(key).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other,
    }
}

/// Every field a therapist may write on their listing. Absent optional fields are empty.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingBody {
    #[schema(min_length = 1, max_length = 120)]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 40)]
    pub pronouns: Option<String>,
    /// Credentials suffix, e.g. "LPCS, LCAS".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 80)]
    pub credentials: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 120)]
    pub professional_title: Option<String>,
    /// Plain text, stored as given (never rendered as HTML by the service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 5000)]
    pub statement: Option<String>,
    /// https only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub photo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub website_url: Option<String>,
    /// A US number in any usual spelling; stored as E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 254)]
    pub contact_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    /// ISO 639 codes, at most 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub age_groups: Vec<AgeGroup>,
    #[serde(default)]
    pub communities: Vec<Community>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faith: Option<Faith>,
    #[serde(default)]
    pub session_formats: Vec<SessionFormat>,
    #[serde(default)]
    pub delivery: Vec<Delivery>,
    #[serde(default = "accepting_default")]
    pub accepting: Accepting,
    #[serde(default)]
    pub free_consultation: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_min: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_max: Option<Money>,
    /// The lowest a sliding scale goes; at most `fee_min`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sliding_scale_min: Option<Money>,
    /// Sees clients through insurance only (then no fee is needed to submit).
    #[serde(default)]
    pub insurance_only: bool,
    #[serde(default)]
    pub payment_methods: Vec<PaymentMethod>,
    #[serde(default)]
    pub hsa_fsa: bool,
    /// National Provider Identifier (10 digits, Luhn check digit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npi: Option<String>,
    /// NUCC taxonomy code, e.g. 101YP2500X.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

fn accepting_default() -> Accepting {
    Accepting::Accepting
}

/// Single-line text: length-capped, no control characters; empty means absent.
pub(super) fn line(
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

fn parsed<T>(
    field: &str,
    value: &Option<String>,
    parse: impl Fn(&str) -> Result<T, Invalid>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let raw = value.as_deref().filter(|v| !v.trim().is_empty())?;
    parse(raw).map_err(|e| errors.push(e.at(field))).ok()
}

fn url(
    field: &str,
    value: &Option<String>,
    https_only: bool,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let raw = line(field, value, 500, errors)?;
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
            "invalid_url",
            format!("must be {scheme} URL"),
        ));
    }
    Some(raw)
}

fn capped<T>(field: &str, values: &[T], max: usize, errors: &mut Vec<FieldError>) {
    if values.len() > max {
        errors.push(FieldError::new(
            field,
            "too_many",
            format!("at most {max} entries"),
        ));
    }
}

fn dedup<T: Ord + Clone>(values: &[T]) -> Vec<T> {
    let mut v = values.to_vec();
    v.sort();
    v.dedup();
    v
}

/// The listing's fields after validation, normalised for storage. Taxonomy slugs are
/// checked against the database separately (`store::resolve_terms`).
#[derive(Debug, Clone)]
pub struct ValidListing {
    pub body: ListingBody,
    pub phone: Option<String>,
    pub npi: Option<String>,
    pub taxonomy_code: Option<String>,
    pub telehealth_states: Vec<String>,
}

impl ListingBody {
    pub fn validate(mut self) -> Result<ValidListing, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.display_name.clone();
        if name.trim().is_empty() {
            errors.push(FieldError::new(
                "display_name",
                "required",
                "a display name is required",
            ));
        } else {
            line("display_name", &Some(name), 120, &mut errors);
        }
        self.pronouns = line("pronouns", &self.pronouns, 40, &mut errors);
        self.credentials = line("credentials", &self.credentials, 80, &mut errors);
        self.professional_title = line(
            "professional_title",
            &self.professional_title,
            120,
            &mut errors,
        );
        if let Some(statement) = &self.statement {
            if let Err(invalid) = Text::Paragraphs.check(statement, 5000) {
                errors.push(invalid.at("statement"));
            }
            if statement.trim().is_empty() {
                self.statement = None;
            }
        }
        self.photo_url = url("photo_url", &self.photo_url, true, &mut errors);
        self.website_url = url("website_url", &self.website_url, false, &mut errors);
        let phone = parsed(
            "phone",
            &self.phone,
            |v| UsPhone::parse(v).map(|p| p.as_str().to_owned()),
            &mut errors,
        );
        if let Some(email) = &self.contact_email {
            match Email::parse(email) {
                Ok(email) => self.contact_email = Some(email.as_str().to_owned()),
                Err(e) if email.trim().is_empty() => {
                    let _ = e;
                    self.contact_email = None;
                }
                Err(e) => errors.push(e.at("contact_email")),
            }
        }
        capped("languages", &self.languages, 20, &mut errors);
        for (i, language) in self.languages.iter().enumerate() {
            let ok = (2..=3).contains(&language.len())
                && language.bytes().all(|b| b.is_ascii_lowercase());
            if !ok {
                errors.push(FieldError::new(
                    format!("languages[{i}]"),
                    "invalid_language",
                    "an ISO 639 code such as `en` or `es`",
                ));
            }
        }
        self.languages = dedup(&self.languages);
        self.age_groups = dedup(&self.age_groups);
        self.communities = dedup(&self.communities);
        self.session_formats = dedup(&self.session_formats);
        self.delivery = dedup(&self.delivery);
        self.payment_methods = dedup(&self.payment_methods);

        for (field, money) in [
            ("fee_min", &mut self.fee_min),
            ("fee_max", &mut self.fee_max),
            ("sliding_scale_min", &mut self.sliding_scale_min),
        ] {
            if let Some(Err(e)) = money.map(|m| m.validated()) {
                errors.push(e.at(format!("{field}.amount_cents")));
            }
        }
        match (self.fee_min, self.fee_max) {
            (Some(min), Some(max)) if min.amount_cents > max.amount_cents => {
                errors.push(FieldError::new(
                    "fee_min",
                    "greater_than_max",
                    "fee_min must not exceed fee_max",
                ));
            }
            (Some(_), None) => errors.push(FieldError::new(
                "fee_max",
                "required",
                "give fee_max with fee_min",
            )),
            (None, Some(_)) => errors.push(FieldError::new(
                "fee_min",
                "required",
                "give fee_min with fee_max",
            )),
            _ => {}
        }
        if let Some(sliding) = self.sliding_scale_min {
            match self.fee_min {
                None => errors.push(FieldError::new(
                    "sliding_scale_min",
                    "requires_fee",
                    "a sliding scale needs a standard fee",
                )),
                Some(min) if sliding.amount_cents > min.amount_cents => {
                    errors.push(FieldError::new(
                        "sliding_scale_min",
                        "greater_than_fee",
                        "the sliding scale must reach at or below fee_min",
                    ))
                }
                _ => {}
            }
        }
        let npi = parsed(
            "npi",
            &self.npi,
            |v| Npi::parse(v).map(|n| n.as_str().to_owned()),
            &mut errors,
        );
        let taxonomy_code = parsed(
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
                "out_of_range",
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
        let telehealth_states = dedup(&telehealth_states);
        capped("modalities", &self.modalities, 15, &mut errors);
        capped("specialties", &self.specialties, 25, &mut errors);
        capped("insurers", &self.insurers, 40, &mut errors);
        capped("top_specialties", &self.top_specialties, 3, &mut errors);
        // Taxonomy slugs keep their order here, so an unknown one is reported at the index
        // the client sent; duplicates are dropped when they are resolved to ids.
        for (i, top) in self.top_specialties.iter().enumerate() {
            if !self.specialties.contains(top) {
                errors.push(FieldError::new(
                    format!("top_specialties[{i}]"),
                    "not_a_specialty",
                    format!("`{top}` must also be listed in specialties"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(ValidListing {
                body: self,
                phone,
                npi,
                taxonomy_code,
                telehealth_states,
            })
        } else {
            Err(errors)
        }
    }
}

impl From<&MyListing> for ListingBody {
    fn from(l: &MyListing) -> Self {
        ListingBody {
            display_name: l.display_name.clone(),
            pronouns: l.pronouns.clone(),
            credentials: l.credentials.clone(),
            professional_title: l.professional_title.clone(),
            statement: l.statement.clone(),
            photo_url: l.photo_url.clone(),
            website_url: l.website_url.clone(),
            phone: l.phone.clone(),
            contact_email: l.contact_email.clone(),
            gender: l.gender.as_deref().and_then(Gender::parse),
            languages: l.languages.clone(),
            age_groups: AgeGroup::from_stored(&l.age_groups),
            communities: Community::from_stored(&l.communities),
            faith: l.faith.as_deref().and_then(Faith::parse),
            session_formats: SessionFormat::from_stored(&l.session_formats),
            delivery: Delivery::from_stored(&l.delivery),
            accepting: Accepting::parse(&l.accepting).unwrap_or_default(),
            free_consultation: l.free_consultation,
            fee_min: l.fee_min,
            fee_max: l.fee_max,
            sliding_scale_min: l.sliding_scale_min,
            insurance_only: l.insurance_only,
            payment_methods: PaymentMethod::from_stored(&l.payment_methods),
            hsa_fsa: l.hsa_fsa,
            npi: l.npi.clone(),
            taxonomy_code: l.taxonomy_code.clone(),
            years_in_practice: l.years_in_practice,
            telehealth_states: l.telehealth_states.clone(),
            modalities: l.modalities.clone(),
            specialties: l.specialties.clone(),
            top_specialties: l.top_specialties.clone(),
            insurers: l.insurers.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]});
        merge_patch(
            &mut doc,
            json!({"a": "z", "c": {"f": null}, "list": [3], "new": true}),
        );
        assert_eq!(
            doc,
            json!({"a": "z", "c": {"d": "e"}, "list": [3], "new": true})
        );
    }

    #[test]
    fn cross_field_rules() {
        let body = ListingBody {
            display_name: "A".into(),
            fee_min: Some(Money::usd(10_000).unwrap()),
            fee_max: Some(Money::usd(5_000).unwrap()),
            sliding_scale_min: Some(Money::usd(20_000).unwrap()),
            specialties: vec!["anxiety".into()],
            top_specialties: vec!["grief".into()],
            ..Default::default()
        };
        let errors = body.validate().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["fee_min", "sliding_scale_min", "top_specialties[0]"]
        );
    }
}
