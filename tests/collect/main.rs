#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Collection against loopback servers: the TikTok source (plain HTTP and a real headless
//! browser), custom sources, the polite HTTP client and `trendwatch collect`.

#[path = "../common/mod.rs"]
mod common;

#[path = "../collect_support/mod.rs"]
mod collect_support;

mod campaign;
mod cli;
mod http;
mod shop;
mod sources;
mod tiktok;
