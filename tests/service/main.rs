#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The daemon as a spawned process: lifecycle, signals, sd_notify, reload and crashes; then
//! end to end, a simulated week of the real daemon against a simulated TikTok and an SMTP
//! sink, and the library stages over the same week. (One program, so that the week, which
//! mostly waits on its clock, runs beside the other tests.)

#[path = "../common/mod.rs"]
mod common;

#[path = "../collect_support/mod.rs"]
mod collect_support;
#[path = "../support/mod.rs"]
mod support;

mod crash;
mod lifecycle;
mod pipeline;
mod sim;
mod week;
