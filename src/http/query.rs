//! A query-string extractor that answers 400 `invalid_parameter` naming the parameter, and
//! the one decoding of query strings every parameter goes through: the bracket form of a
//! repeated parameter (`modality[]=a`, as many HTTP clients send it) is read as the plain
//! one, and control characters or invalid UTF-8 are refused before any handler sees them.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::FieldCode;
use crate::error::{ApiError, ErrorCode, FieldError};

/// Longest query string accepted; longer ones are refused before parsing.
pub const QUERY_LIMIT_BYTES: usize = 8 * 1024;

#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(Query))
    }
}

/// The decoded `(name, value)` pairs of a query string, in order.
pub fn pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    if query.len() > QUERY_LIMIT_BYTES {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("Query strings are limited to {QUERY_LIMIT_BYTES} bytes."),
        ));
    }
    form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| {
            let key = key.strip_suffix("[]").unwrap_or(&key).to_owned();
            let shown: String = key.chars().take(40).collect();
            if key.contains('\u{FFFD}') || value.contains('\u{FFFD}') {
                return Err(ApiError::parameter(shown, "not valid UTF-8"));
            }
            if key.chars().chain(value.chars()).any(char::is_control) {
                return Err(ApiError::parameter(
                    shown,
                    "control characters are not allowed",
                ));
            }
            Ok((key, value.into_owned()))
        })
        .collect()
}

pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let normalised = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs(query)?)
        .finish();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(normalised.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let field = match message.split('`').nth(1) {
            Some(name)
                if message.starts_with("unknown field") || message.starts_with("missing field") =>
            {
                name.to_owned()
            }
            _ if path == "." => "query".to_owned(),
            _ => path,
        };
        ApiError::new(ErrorCode::InvalidParameter, format!("{field}: {message}"))
            .with_errors(vec![FieldError::new(field, FieldCode::Invalid, message)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Page {
        limit: Option<u32>,
        cursor: Option<String>,
    }

    #[test]
    fn names_the_parameter() {
        for (query, field) in [
            ("limit=abc", "limit"),
            ("limit=-1", "limit"),
            ("colour=red", "colour"),
        ] {
            let err = parse::<Page>(query).expect_err(query);
            assert_eq!(err.code(), ErrorCode::InvalidParameter);
            assert_eq!(err.errors()[0].field, field, "{query}");
        }
        assert!(parse::<Page>("limit=5&cursor=x").is_ok());
    }

    #[test]
    fn brackets_name_the_plain_parameter() {
        let got = pairs("modality[]=cbt&modality%5B%5D=emdr&q=a").unwrap();
        assert_eq!(got[0], ("modality".to_owned(), "cbt".to_owned()));
        assert_eq!(got[1], ("modality".to_owned(), "emdr".to_owned()));
        assert!(parse::<Page>("limit[]=5").is_ok());
    }

    #[test]
    fn control_characters_are_refused() {
        for query in ["cursor=a%00b", "cursor=%0A", "cur%01sor=x", "cursor=%C3%28"] {
            let err = parse::<Page>(query).expect_err(query);
            assert_eq!(err.code(), ErrorCode::InvalidParameter, "{query}");
        }
    }
}
