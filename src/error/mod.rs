//! `ApiError`: the one error type handlers return, its table of stable codes, and its
//! RFC 9457 problem+json rendering.
//!
//! Policy: a client error names what was wrong; an internal error is logged with its whole
//! chain (and the request id) and answered with an opaque 500 that says nothing about why.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_id;

mod field_code;
pub use field_code::FieldCode;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

macro_rules! error_codes {
    ($($variant:ident => ($status:expr, $code:literal, $title:literal),)*) => {
        /// Stable snake_case error codes. Frontends branch on these; never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant,)* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => $status,)* }
            }
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }
            pub fn title(self) -> &'static str {
                match self { $(ErrorCode::$variant => $title,)* }
            }
        }
    };
}

error_codes! {
    MalformedJson => (StatusCode::BAD_REQUEST, "malformed_json", "The request body is not valid JSON"),
    InvalidParameter => (StatusCode::BAD_REQUEST, "invalid_parameter", "A query or path parameter is invalid"),
    InvalidCursor => (StatusCode::BAD_REQUEST, "invalid_cursor", "The pagination cursor is invalid"),
    InvalidOrExpiredToken => (StatusCode::BAD_REQUEST, "invalid_or_expired_token", "The token is invalid or has expired"),
    AuthenticationRequired => (StatusCode::UNAUTHORIZED, "authentication_required", "Authentication is required"),
    InvalidToken => (StatusCode::UNAUTHORIZED, "invalid_token", "The access token is invalid or has expired"),
    InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials", "The email or password is incorrect"),
    MfaRequired => (StatusCode::UNAUTHORIZED, "mfa_required", "A second factor is required to sign in"),
    Forbidden => (StatusCode::FORBIDDEN, "forbidden", "This account may not do that"),
    EmailNotVerified => (StatusCode::FORBIDDEN, "email_not_verified", "The email address is not verified yet"),
    AccountSuspended => (StatusCode::FORBIDDEN, "account_suspended", "The account is suspended"),
    MfaEnrollmentRequired => (StatusCode::FORBIDDEN, "mfa_enrollment_required", "Admins must sign in with a second factor"),
    NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found"),
    MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed"),
    NotAcceptable => (StatusCode::NOT_ACCEPTABLE, "not_acceptable", "Not acceptable"),
    Conflict => (StatusCode::CONFLICT, "conflict", "The request conflicts with the current state"),
    InvalidState => (StatusCode::CONFLICT, "invalid_state", "Not allowed in the current state"),
    TermInUse => (StatusCode::CONFLICT, "term_in_use", "The term is in use"),
    NotAcceptingInquiries => (StatusCode::CONFLICT, "not_accepting_inquiries", "The therapist is not taking inquiries"),
    PreconditionFailed => (StatusCode::PRECONDITION_FAILED, "precondition_failed", "The resource has changed since it was read"),
    PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large"),
    UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported media type"),
    ValidationFailed => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "The request is not valid"),
    UnknownPlace => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_place", "No US place has that name"),
    ImageTooLarge => (StatusCode::UNPROCESSABLE_ENTITY, "image_too_large", "The image is too large"),
    InvalidImage => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_image", "The image cannot be used"),
    ListingIncomplete => (StatusCode::UNPROCESSABLE_ENTITY, "listing_incomplete", "The listing is not complete enough to submit"),
    LimitReached => (StatusCode::UNPROCESSABLE_ENTITY, "limit_reached", "The listing already has as many of these as it may"),
    PreconditionRequired => (StatusCode::PRECONDITION_REQUIRED, "precondition_required", "An If-Match header is required"),
    RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many requests"),
    InternalError => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Internal server error"),
    ServiceUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", "The service is not ready"),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing wrong with one field (a body field by its JSON path, or a parameter by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field (`offices[0].zip`) or the parameter name.
    pub field: String,
    pub code: FieldCode,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// The most field errors one answer lists.
pub const MAX_FIELD_ERRORS: usize = 50;

/// The problem+json body (RFC 9457) every error response carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference to this code's entry in the API reference.
    #[serde(rename = "type")]
    #[schema(example = "/docs#error-not_found")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Stable snake_case error code.
    #[schema(example = "not_found")]
    pub code: &'static str,
    /// The request's `x-request-id`, for support and logs.
    pub request_id: String,
    /// The fields at fault: at most `MAX_FIELD_ERRORS`, the first ones found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub errors: Vec<FieldError>,
    /// With `mfa_required`: send it with a code to `POST /v1/auth/login/mfa` (5 minutes,
    /// single use).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub mfa_token: Option<String>,
}

#[derive(Debug, Default)]
struct Extras {
    allow: Option<String>,
    mfa_token: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    detail: String,
    errors: Vec<FieldError>,
    retry_after_secs: Option<u64>,
    /// Headers and fields only a few answers carry, boxed to keep `ApiError` small.
    extras: Option<Box<Extras>>,
    /// Only for internal errors: logged, never rendered.
    source: Option<anyhow::Error>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)?;
        if let Some(source) = &self.source {
            write!(f, ": {source:#}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_secs: None,
            extras: None,
            source: None,
        }
    }

    /// An unexpected failure: the cause is logged and the client sees an opaque 500.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        ApiError {
            source: Some(source.into()),
            ..ApiError::new(
                ErrorCode::InternalError,
                "The server could not complete the request. Quote the request_id when reporting it.",
            )
        }
    }

    pub fn not_found() -> Self {
        ApiError::new(ErrorCode::NotFound, "No such resource.")
    }

    /// A 422 listing the fields at fault (the first `MAX_FIELD_ERRORS` of them: a body of
    /// thousands of bad array entries gets a short answer).
    pub fn validation(mut errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many if many.len() > MAX_FIELD_ERRORS => format!(
                "{} fields are invalid; the first {MAX_FIELD_ERRORS} are in `errors`.",
                many.len()
            ),
            many => format!("{} fields are invalid; see `errors`.", many.len()),
        };
        errors.truncate(MAX_FIELD_ERRORS);
        ApiError {
            errors,
            ..ApiError::new(ErrorCode::ValidationFailed, detail)
        }
    }

    /// A 422 about a single field.
    pub fn field(field: impl Into<String>, code: FieldCode, message: impl Into<String>) -> Self {
        ApiError::validation(vec![FieldError::new(field, code, message)])
    }

    /// A 400 naming the query or path parameter at fault.
    pub fn parameter(name: impl Into<String>, message: impl Into<String>) -> Self {
        let name = name.into();
        let message = message.into();
        ApiError {
            errors: vec![FieldError::new(
                name.clone(),
                FieldCode::Invalid,
                message.clone(),
            )],
            ..ApiError::new(ErrorCode::InvalidParameter, format!("{name}: {message}"))
        }
    }

    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.code = code;
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// Overload: 503 with `Retry-After`, for a request that waited its turn too long.
    pub fn busy() -> Self {
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            "The service is busy; try again in a moment.",
        )
        .with_retry_after(1)
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }

    /// `mfa_required`, carrying the challenge the second step answers.
    pub fn mfa_required(mfa_token: String) -> Self {
        ApiError {
            extras: Some(Box::new(Extras {
                allow: None,
                mfa_token: Some(mfa_token),
            })),
            ..ApiError::new(
                ErrorCode::MfaRequired,
                "Send a code from your authenticator app (or a recovery code) with this mfa_token to POST /v1/auth/login/mfa.",
            )
        }
    }

    pub fn with_allow(mut self, methods: String) -> Self {
        self.extras.get_or_insert_with(Default::default).allow = Some(methods);
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("/docs#error-{}", self.code.as_str()),
            title: self.code.title(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code.as_str(),
            request_id: request_id::current().unwrap_or_else(|| "none".into()),
            errors: self.errors.clone(),
            mfa_token: self.extras.as_ref().and_then(|e| e.mfa_token.clone()),
        }
    }
}

/// One field at fault: a 422 naming it.
impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::validation(vec![error])
    }
}

impl From<anyhow::Error> for ApiError {
    /// A database that cannot be reached, found anywhere in the chain, is a 503 (see the
    /// `sqlx::Error` conversion); anything else is an opaque 500.
    fn from(err: anyhow::Error) -> Self {
        if let Some(unavailable) = err
            .chain()
            .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
            .find_map(database_unavailable)
        {
            return unavailable;
        }
        ApiError::internal(err)
    }
}

/// The 503 for a database that is overloaded or out of reach, or `None` for any other
/// database error. Overload: a statement cancelled by the statement timeout, or no free
/// connection in time. Out of reach: the connection broke or could not be made, or the
/// server is shutting down, starting or refusing connections (SQLSTATE 08xxx, 57P0x,
/// 53300). Either way the request did not change anything and can be retried.
fn database_unavailable(err: &sqlx::Error) -> Option<ApiError> {
    let unavailable = match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code == "57014" || code.starts_with("08") || code.starts_with("57P0") || code == "53300"
        }),
        _ => false,
    };
    if !unavailable {
        return None;
    }
    tracing::warn!(error = %err, "database unavailable or overloaded: answering 503");
    Some(
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            "The directory's database is busy or out of reach; try again in a moment.",
        )
        .with_retry_after(1),
    )
}

impl From<sqlx::Error> for ApiError {
    /// A database that is overloaded or out of reach is not a bug: 503 with `Retry-After`
    /// (logged as a warning); anything else is a 500.
    fn from(err: sqlx::Error) -> Self {
        database_unavailable(&err).unwrap_or_else(|| ApiError::internal(err))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(source) = &self.source {
            // `{:#}` prints the whole context chain on one line.
            tracing::error!(error = %format!("{source:#}"), "request failed with an internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(allow) = self.extras.as_ref().and_then(|e| e.allow.as_ref()) {
            response.insert_header((header::ALLOW, allow.as_str()));
        }
        if matches!(
            self.code,
            ErrorCode::AuthenticationRequired | ErrorCode::InvalidToken
        ) {
            // (`mfa_required` is a step of signing in, not a bearer challenge.)
            let challenge = if self.code == ErrorCode::InvalidToken {
                "Bearer error=\"invalid_token\""
            } else {
                "Bearer"
            };
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        // Serialising this plain struct cannot fail; fall back to a minimal body regardless.
        let body = serde_json::to_vec(&self.problem()).unwrap_or_else(|_| b"{}".to_vec());
        response.body(body)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{s} is not snake_case"
            );
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn a_validation_error_lists_at_most_fifty_fields() {
        let errors = (0..20_000)
            .map(|i| {
                FieldError::new(
                    format!("languages[{i}]"),
                    FieldCode::InvalidLanguage,
                    "a code",
                )
            })
            .collect();
        let err = ApiError::validation(errors);
        assert_eq!(err.errors.len(), MAX_FIELD_ERRORS);
        assert_eq!(err.errors[0].field, "languages[0]");
        assert!(
            err.detail.starts_with("20000 fields are invalid"),
            "{}",
            err.detail
        );
    }

    #[test]
    fn internal_errors_render_opaquely() {
        let err = ApiError::internal(anyhow::anyhow!("relation \"secret_table\" does not exist"));
        let body = serde_json::to_string(&err.problem()).unwrap();
        assert!(!body.contains("secret_table"), "{body}");
        assert!(body.contains("\"code\":\"internal_error\""));
    }
}
