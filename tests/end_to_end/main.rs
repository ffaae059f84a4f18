#![allow(clippy::unwrap_used, clippy::expect_used)]
//! End to end: a simulated TikTok and SMTP sink, a week of the real daemon, the library
//! stages over the same week.

#[path = "../support/mod.rs"]
mod support;

mod pipeline;
mod sim;
mod week;
