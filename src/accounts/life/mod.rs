//! The account's own life: its name, its address, a copy of its data, and its deletion.

pub mod export;
pub mod model;
pub mod routes;
pub mod store;
