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

// The test harness starts tests in the order of their names: the week, the longest by far
// (it waits on its simulated clock for two and a half minutes), is named to start first, so
// the others run beside it instead of after it.
mod a_week;
mod crash;
mod installed;
mod lifecycle;
mod pipeline;
mod sim;
