//! Accounts: "join the directory", email verification, sign-in (with a second factor),
//! tokens and sessions, password resets, and the signed-in account's own routes. The
//! checks every request makes are `auth`, below every feature.

pub mod admin;
pub mod life;
pub mod links;
pub mod mfa;
pub mod model;
pub mod routes;
pub mod session;
pub mod store;
