//! One integration-test binary: every test spawns the real server on port 0 against its
//! own database, cloned from a migrated template.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod embedded;
mod errors;
mod helpers;
mod operational;
