//! Authentication plumbing every feature uses: password policy and hashing, tokens, and
//! the request extractors that check them. Signing up, signing in and the account's own
//! routes are the `accounts` feature.

pub mod extract;
pub mod model;
pub mod password;
pub mod store;
pub mod tokens;

pub use extract::{AdminUser, AuthUser, TherapistUser};
pub use model::{AccountStatus, Role};
