//! Shared helpers of the end-to-end tests: the simulated TikTok platform and a loopback SMTP
//! sink. Each test file includes them with `mod support;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod sim;
pub mod smtp;
