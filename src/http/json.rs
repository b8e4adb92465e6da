//! A JSON body extractor that answers in problem+json and names the field at fault.
//!
//! actix's own `web::Json` reports serde's message without the field's path; this one runs
//! serde through `serde_path_to_error` so `offices[0].zip` comes back in `errors[].field`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::FieldCode;
use crate::error::{ApiError, ErrorCode, FieldError};

/// Largest request body accepted anywhere in the API but the photo upload.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The largest body a request may declare: the photo upload takes an image, everything
/// else JSON.
pub fn body_limit(method: &actix_web::http::Method, path: &str) -> usize {
    if method == actix_web::http::Method::PUT && path == crate::photos::routes::UPLOAD_PATH {
        crate::photos::routes::UPLOAD_LIMIT_BYTES
    } else {
        BODY_LIMIT_BYTES
    }
}

/// A JSON request body (`application/json` or `application/merge-patch+json`).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let checked = check_headers(req);
        let mut payload = payload.take();
        Box::pin(async move {
            checked?;
            let mut body = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| {
                    ApiError::new(
                        ErrorCode::MalformedJson,
                        "The request body could not be read.",
                    )
                })?;
                if body.len() + chunk.len() > BODY_LIMIT_BYTES {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            parse(&body).map(Json)
        })
    }
}

pub fn too_large() -> ApiError {
    too_large_at(BODY_LIMIT_BYTES)
}

pub fn too_large_at(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("This request's body is limited to {limit} bytes."),
    )
}

fn check_headers(req: &HttpRequest) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT_BYTES) {
        return Err(too_large());
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence == "application/merge-patch+json" {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the body as application/json.",
        ))
    }
}

/// Parses a body: syntax errors are 400 `malformed_json`; well-formed JSON of the wrong
/// shape (wrong type, unknown or missing field, unknown enum value) is 422 naming the field,
/// and so is a string holding a control character other than newline, carriage return or
/// tab (PostgreSQL refuses NUL, and no field of the directory means any of them).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    refuse_control_characters(body)?;
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data => data_error(&path, &message),
            _ if body.iter().all(u8::is_ascii_whitespace) => {
                ApiError::new(ErrorCode::MalformedJson, "The request body is empty.")
            }
            _ => ApiError::new(
                ErrorCode::MalformedJson,
                format!(
                    "The request body is not valid JSON: {message} (line {}, column {}).",
                    inner.line(),
                    inner.column()
                ),
            ),
        }
    })?;
    de.end().map_err(|_| {
        ApiError::new(
            ErrorCode::MalformedJson,
            "The request body has trailing characters after the JSON value.",
        )
    })?;
    Ok(value)
}

fn data_error(path: &str, message: &str) -> ApiError {
    let parent = if path == "." { "" } else { path };
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').nth(1))
            .map(|name| {
                if parent.is_empty() {
                    name.to_owned()
                } else {
                    format!("{parent}.{name}")
                }
            })
    };
    // serde_path_to_error already ends the path with an unknown field's key, but stops at
    // the parent object for a missing one.
    let (field, code) = if message.starts_with("unknown field") && !parent.is_empty() {
        (parent.to_owned(), FieldCode::UnknownField)
    } else if let Some(field) = named("unknown field") {
        (field, FieldCode::UnknownField)
    } else if let Some(field) = named("missing field") {
        (field, FieldCode::Required)
    } else {
        let code = if message.starts_with("invalid type") {
            FieldCode::InvalidType
        } else if message.starts_with("unknown variant") {
            FieldCode::InvalidValue
        } else {
            FieldCode::Invalid
        };
        let field = if parent.is_empty() {
            "body".to_owned()
        } else {
            parent.to_owned()
        };
        (field, code)
    };
    ApiError::validation(vec![FieldError::new(field, code, message)])
}

/// 422 naming every string (or key) that holds a control character other than `\n`, `\r`
/// and `\t`. Raw C0 controls are already invalid JSON, so only bodies with an escape, a DEL
/// or a C1 control can hold one: the rest skip the second parse.
fn refuse_control_characters(body: &[u8]) -> Result<(), ApiError> {
    let suspicious = body.windows(2).any(|w| {
        matches!(
            w,
            [b'\\', b'u' | b'b' | b'f'] | [0xC2, 0x80..=0x9F] | [0x7F, _] | [_, 0x7F]
        )
    });
    if !suspicious {
        return Ok(());
    }
    // Syntax errors are reported by the typed parse that follows.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(());
    };
    let mut errors = Vec::new();
    find_control_characters(&value, String::new(), &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

fn is_refused(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

fn find_control_characters(value: &serde_json::Value, path: String, errors: &mut Vec<FieldError>) {
    let field = |path: &str| {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        }
    };
    match value {
        serde_json::Value::String(text) if text.chars().any(is_refused) => {
            errors.push(FieldError::new(
                field(&path),
                FieldCode::ControlCharacter,
                "control characters (other than newline and tab) are not allowed",
            ));
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_control_characters(item, format!("{path}[{i}]"), errors);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.chars().any(is_refused) {
                    errors.push(FieldError::new(
                        field(&path),
                        FieldCode::ControlCharacter,
                        "a key holds a control character",
                    ));
                    continue;
                }
                find_control_characters(item, child, errors);
            }
        }
        _ => {}
    }
}

/// serde_json appends " at line L column C"; the field path says more to an API user.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// A boolean that must be `true` (consent, accepted terms): the only value accepted.
pub fn must_be_true() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Boolean)
        .enum_values(Some([true]))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Office {
        zip: String,
        kind: Kind,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        InPerson,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        offices: Vec<Office>,
    }

    #[test]
    fn control_characters_are_422_naming_the_field() {
        for (body, field) in [
            (r#"{"name": "a\u0000b", "offices": []}"#, "name"),
            (
                r#"{"name": "a", "offices": [{"zip": "\u001b[31m", "kind": "in_person"}]}"#,
                "offices[0].zip",
            ),
            ("{\"name\": \"a\u{7f}\", \"offices\": []}", "name"),
            ("{\"name\": \"a\u{85}\", \"offices\": []}", "name"),
        ] {
            let (code, errors) = error_of(body);
            assert_eq!(code, ErrorCode::ValidationFailed, "{body}");
            assert_eq!(errors[0].field, field, "{body}");
            assert_eq!(errors[0].code, "control_character", "{body}");
        }
        // Newlines and tabs are text; a backslash followed by u0000 is not a NUL.
        assert!(parse::<Body>(br#"{"name": "line\nnext\tcol \\u0000", "offices": []}"#).is_ok());
    }

    fn error_of(body: &str) -> (ErrorCode, Vec<FieldError>) {
        let err = parse::<Body>(body.as_bytes()).expect_err(body);
        (err.code(), err.errors().to_vec())
    }

    #[test]
    fn syntax_errors_are_400() {
        for body in [
            "",
            "{",
            "{\"name\": }",
            "{\"name\": \"a\"",
            "{\"name\": \"a\", \"offices\": []} x",
            "nul",
        ] {
            assert_eq!(error_of(body).0, ErrorCode::MalformedJson, "{body:?}");
        }
    }

    #[test]
    fn shape_errors_name_the_field() {
        let cases = [
            (r#"{"name": 1, "offices": []}"#, "name", "invalid_type"),
            (r#"{"offices": []}"#, "name", "required"),
            (
                r#"{"name": "a", "offices": [], "status": "x"}"#,
                "status",
                "unknown_field",
            ),
            (
                r#"{"name": "a", "offices": [{"zip": "1", "kind": "moon"}]}"#,
                "offices[0].kind",
                "invalid_value",
            ),
            (
                r#"{"name": "a", "offices": [{"zip": 5, "kind": "in_person"}]}"#,
                "offices[0].zip",
                "invalid_type",
            ),
            (
                r#"{"name": "a", "offices": [{"kind": "in_person"}]}"#,
                "offices[0].zip",
                "required",
            ),
        ];
        for (body, field, code) in cases {
            let (status, errors) = error_of(body);
            assert_eq!(status, ErrorCode::ValidationFailed, "{body}");
            assert_eq!(errors[0].field, field, "{body}");
            assert_eq!(errors[0].code, code, "{body}");
        }
    }
}
