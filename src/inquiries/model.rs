//! Inquiries' types and rules: what a client may send, the inbox's view of an inquiry and
//! its states.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{Email, Text, at_most};
use crate::error::FieldCode;
use crate::error::{ApiError, FieldError};

pub const NAME_MAX: usize = 100;
pub const MESSAGE_MAX: usize = 4000;
pub const PHONE_MAX: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PreferredContact {
    Email,
    Phone,
}

impl PreferredContact {
    pub fn as_str(self) -> &'static str {
        match self {
            PreferredContact::Email => "email",
            PreferredContact::Phone => "phone",
        }
    }
}

/// A client's first message to a therapist. Plain text only.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInquiry {
    #[schema(min_length = 1, max_length = 100, example = "Sam Rivera")]
    pub name: String,
    #[schema(max_length = 254, example = "sam@example.com")]
    pub email: String,
    /// Needed when `preferred_contact` is `phone`.
    #[schema(max_length = 40, example = "+1 919 555 0142")]
    pub phone: Option<String>,
    #[schema(min_length = 1, max_length = 4000)]
    pub message: String,
    pub preferred_contact: PreferredContact,
    /// The client agrees that the therapist receives this message. Must be true.
    #[schema(schema_with = crate::http::json::must_be_true)]
    pub consent: bool,
    /// Leave empty. A form keeps this field hidden from people; bots fill it in, and such
    /// inquiries are answered like any other but never delivered.
    #[schema(max_length = 200)]
    #[serde(default)]
    pub website: Option<String>,
}

/// A validated inquiry, ready to store.
pub struct ValidInquiry {
    pub name: String,
    pub email: Email,
    pub phone: Option<String>,
    pub message: String,
    pub preferred_contact: PreferredContact,
}

/// Plain text of `kind` (a name is one line, a message paragraphs), nothing that looks like
/// markup (the therapist's mail client must never render a client's HTML).
fn plain_text(
    field: &str,
    kind: Text,
    value: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let value = value.trim();
    let chars = value.chars().count();
    if chars == 0 {
        errors.push(FieldError::new(
            field,
            FieldCode::Required,
            "must not be empty",
        ));
    } else if let Err(invalid) = kind.check(value, max) {
        errors.push(invalid.at(field));
    } else if looks_like_markup(value) {
        errors.push(FieldError::new(
            field,
            FieldCode::PlainTextOnly,
            "plain text only: HTML tags are not accepted",
        ));
    }
    value.replace("\r\n", "\n")
}

fn looks_like_markup(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.windows(2).any(|w| {
        w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!' || w[1] == b'?')
    })
}

/// A phone number as people type it: digits with spaces, dots, dashes, parentheses and a
/// leading plus; 7 to 15 digits (E.164's maximum).
fn phone(value: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || " .-()".contains(c) || (c == '+' && i == 0));
    if value.chars().count() > PHONE_MAX || !allowed || !(7..=15).contains(&digits) {
        errors.push(FieldError::new(
            "phone",
            FieldCode::InvalidPhone,
            "a phone number of 7 to 15 digits, such as +1 919 555 0142",
        ));
        return None;
    }
    Some(value.to_owned())
}

impl NewInquiry {
    /// Every problem at once, each naming its field.
    pub fn validate(&self) -> Result<ValidInquiry, ApiError> {
        let mut errors = Vec::new();
        let name = plain_text("name", Text::Line, &self.name, NAME_MAX, &mut errors);
        let email = Email::parse(&self.email)
            .map_err(|e| errors.push(e.at("email")))
            .ok();
        let phone = self.phone.as_deref().and_then(|p| phone(p, &mut errors));
        let message = plain_text(
            "message",
            Text::Paragraphs,
            &self.message,
            MESSAGE_MAX,
            &mut errors,
        );
        if self.preferred_contact == PreferredContact::Phone && phone.is_none() {
            errors.push(FieldError::new(
                "phone",
                FieldCode::Required,
                "needed when preferred_contact is phone",
            ));
        }
        if !self.consent {
            errors.push(FieldError::new(
                "consent",
                FieldCode::MustConsent,
                "the client must agree that the therapist receives this message",
            ));
        }
        if let Some(Err(invalid)) = self.website.as_deref().map(|w| at_most(w, 200)) {
            errors.push(invalid.at("website"));
        }
        match email {
            Some(email) if errors.is_empty() => Ok(ValidInquiry {
                name,
                email,
                phone,
                message,
                preferred_contact: self.preferred_contact,
            }),
            _ => Err(ApiError::validation(errors)),
        }
    }

    /// The hidden field was filled in: a bot.
    pub fn is_honeypot_hit(&self) -> bool {
        self.website
            .as_deref()
            .is_some_and(|w| !w.trim().is_empty())
    }
}

#[derive(Serialize, ToSchema)]
pub struct Received {
    #[schema(example = "received")]
    pub status: &'static str,
}

// Where an inquiry stands in the therapist's inbox (`inquiry_status`); a `///` comment
// would enter the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "inquiry_status", rename_all = "snake_case")]
pub enum InquiryStatus {
    New,
    Read,
    Responded,
    Archived,
}

/// An inquiry in the therapist's inbox.
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct Inquiry {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub message: String,
    #[schema(value_type = PreferredContact)]
    pub preferred_contact: String,
    pub status: InquiryStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub responded_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub archived_at: Option<OffsetDateTime>,
}

impl Inquiry {
    /// How long the first answer took, when setting `status` at `now` is the first answer:
    /// the figure the listing's response time is made of.
    pub fn first_response_seconds(
        &self,
        status: InquiryStatus,
        now: OffsetDateTime,
    ) -> Option<i32> {
        if status != InquiryStatus::Responded || self.responded_at.is_some() {
            return None;
        }
        let seconds = (now - self.created_at).whole_seconds().max(0);
        Some(i32::try_from(seconds).unwrap_or(i32::MAX))
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Only inquiries in this state; without it, everything but `archived`.
    pub status: Option<InquiryStatus>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InquiryUpdate {
    /// `read`, `responded` or `archived` (`new` cannot be set). Each state's time is kept
    /// from the first time it was set; `responded` counts towards the response-time figure.
    pub status: InquiryStatus,
}

impl InquiryUpdate {
    /// The state to set: any but `new`, which only arrival sets.
    pub fn status(&self) -> Result<InquiryStatus, ApiError> {
        if self.status == InquiryStatus::New {
            return Err(ApiError::field(
                "status",
                FieldCode::InvalidValue,
                "one of read, responded, archived",
            ));
        }
        Ok(self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inquiry() -> NewInquiry {
        NewInquiry {
            name: "Sam Rivera".into(),
            email: "sam@example.com".into(),
            phone: None,
            message: "Hello,\nare you taking new couples?".into(),
            preferred_contact: PreferredContact::Email,
            consent: true,
            website: None,
        }
    }

    fn fields(i: &NewInquiry) -> Vec<String> {
        i.validate()
            .err()
            .map(|e| e.errors().iter().map(|f| f.field.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_plain_inquiry_is_valid() {
        assert!(inquiry().validate().is_ok());
        assert!(!inquiry().is_honeypot_hit());
    }

    #[test]
    fn each_problem_names_its_field() {
        let mut i = inquiry();
        i.name = " ".into();
        i.email = "nope".into();
        i.message = "<b>hi</b>".into();
        i.consent = false;
        i.preferred_contact = PreferredContact::Phone;
        assert_eq!(fields(&i), ["name", "email", "message", "phone", "consent"]);
        let mut i = inquiry();
        i.message = "x".repeat(MESSAGE_MAX + 1);
        i.phone = Some("call me maybe".into());
        assert_eq!(fields(&i), ["phone", "message"]);
        let mut i = inquiry();
        i.message = "a\u{0}b".into();
        assert_eq!(fields(&i), ["message"]);
        // A name is one line: a carriage return or a line break has no place in it.
        for name in ["Sam\rRivera", "Sam\nRivera"] {
            let mut i = inquiry();
            i.name = name.into();
            assert_eq!(fields(&i), ["name"], "{name:?}");
        }
    }

    #[test]
    fn less_than_signs_in_prose_are_fine() {
        let mut i = inquiry();
        i.message = "I can pay < $100 a session, 3<4".into();
        i.phone = Some("+1 (919) 555-0142".into());
        assert!(i.validate().is_ok());
    }

    #[test]
    fn the_hidden_field_marks_a_bot() {
        let mut i = inquiry();
        i.website = Some("http://spam.example".into());
        assert!(i.is_honeypot_hit());
    }
}
