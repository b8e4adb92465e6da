//! One integration-test binary: every test spawns the real server on port 0 against its
//! own database, cloned from a migrated template.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod admin;
mod auth;
mod contract;
mod conventions;
mod cors;
mod demo;
mod deployment;
mod document;
mod embedded;
mod engagement;
mod errors;
mod freshness;
mod hardening;
mod helpers;
mod listing;
mod local_cluster;
mod operational;
mod photos;
mod profile;
mod relevance;
mod schema;
mod search;
mod statistics;
mod taxonomy;
