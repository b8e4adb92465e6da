//! `spawn_app()` and friends, one module per concern; tests import them from here.

// Shared by every test file; not each file uses each helper.
#![allow(dead_code)]

mod accounts;
mod app;
mod client;
mod cluster;
pub mod data;
mod endpoints;
mod journeys;
mod logs;
mod mail;
mod proxy;
pub mod s3;

pub use accounts::{PASSWORD, access};
pub use app::{TEST_JWT_SECRET, TestApp, TestAppBuilder, spawn_app};
pub use client::{assert_problem, error_fields, json_of};
pub use journeys::{complete_profile, published_therapist, submitted_therapist};
pub use logs::log_lines_containing;
pub use mail::{emails_in, token_in};
