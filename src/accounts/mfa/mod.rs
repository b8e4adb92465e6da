//! A second factor for signing in: TOTP (RFC 6238, the codes of any authenticator app) with
//! single-use recovery codes. Admins must use one; therapists may.

pub mod model;
pub mod routes;
pub mod store;
