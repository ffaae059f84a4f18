#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The store, the config files and the data commands (`import`, `export`, `status`, `show`).

#[path = "../common/mod.rs"]
mod common;

mod commands;
mod config;
mod store;
