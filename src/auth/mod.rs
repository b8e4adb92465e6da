//! Accounts and sign-in: password policy and hashing, tokens, the request extractors that
//! check them, and the `/v1/auth` and `/v1/me` routes.

pub mod admin;
pub mod extract;
pub mod links;
pub mod model;
pub mod password;
pub mod routes;
pub mod session;
pub mod store;
pub mod tokens;

pub use extract::{AdminUser, AuthUser, TherapistUser};
pub use model::{AccountStatus, Role};
