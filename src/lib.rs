//! trendwatch: trend watching (*veille stratégique*) on short-video platforms.
//!
//! The library follows the pipeline of the product: [`config`] loads and validates the two
//! TOML files, [`collect`] fetches public metrics into [`model::Observation`]s, [`store`]
//! keeps them durably in sled, [`detect`] turns series into ranked trends, [`digest`]
//! renders them for people and [`mail`] delivers the digest through the outbox. [`status`]
//! reports what the store knows of each entity, [`progress`] shows long commands advancing
//! and [`logging`] sets up where log lines go. [`daemon`] runs the whole pipeline on a
//! schedule under systemd; [`cli`] holds the one-shot commands that `main.rs` dispatches to.

pub mod cli;
pub mod clock;
pub mod collect;
pub mod config;
pub mod daemon;
pub mod detect;
pub mod digest;
pub mod logging;
pub mod mail;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod status;
pub mod store;
