#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The daemon as a spawned process: lifecycle, signals, sd_notify, reload, and crashes.

#[path = "../collect_support/mod.rs"]
mod collect_support;

mod crash;
mod lifecycle;
