//! HTTP plumbing shared by every feature: request context (ids, logs, metrics), body and
//! query extractors that answer in problem+json, and the 404/405 fallback.

pub mod caching;
pub mod client_ip;
pub mod context;
pub mod conventions;
pub mod cors;
pub mod cursor;
pub mod drain;
pub mod etag;
pub mod fallback;
pub mod json;
pub mod language;
pub mod metrics;
pub mod page;
pub mod path;
pub mod query;
pub mod rate_limit;

pub use json::Json;
pub use query::Query;

/// What a handler answers: a response, or a problem+json error.
pub type Reply = Result<actix_web::HttpResponse, crate::error::ApiError>;

/// The database pool, as a handler takes it.
pub type Db = actix_web::web::Data<sqlx::PgPool>;
