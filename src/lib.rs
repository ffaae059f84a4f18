//! trendwatch: trend watching (*veille stratégique*) on short-video platforms.
//!
//! The library follows the pipeline of the product: [`config`] loads and validates the two
//! TOML files once, [`collect`] fetches public metrics into [`model::Observation`]s, [`store`]
//! keeps them durably in sled, [`detect`](mod@detect) turns series into ranked trends,
//! [`campaign`] measures the influencer campaigns a user paid for, [`digest`] renders all of
//! it for people and [`mail`] delivers the digest through the outbox.
//! [`pipeline`] strings these stages together as one collection pass, one digest pass and
//! one outbox flush: the one-shot commands of [`cli`] and the daemon's workers both call it.
//! [`status`] reports what the store knows of each entity, [`logging`] sets up where log
//! lines go and [`error`] says an error once with its causes.
//!
//! The types most callers need are re-exported here. The daemon (scheduler, worker
//! processes, reload), the simulated clock and the progress display are internal: they are
//! reached through `trendwatch run` and the other commands of [`cli`].

#![warn(unreachable_pub)]

pub mod campaign;
pub mod cli;
pub mod collect;
pub mod config;
pub mod detect;
pub mod digest;
pub mod error;
mod files;
pub mod language;
pub mod logging;
pub mod mail;
pub mod model;
pub mod pipeline;
pub mod status;
pub mod store;

mod clock;
mod daemon;
mod progress;

pub use collect::Collector;
pub use config::{Config, ConfigError, Watchlist};
pub use detect::{detect, Trend, TrendKind};
pub use digest::Digest;
pub use model::{EntityId, EntityOutcome, Observation, Sample, UnixSeconds};
pub use pipeline::PipelineError;
pub use store::{Store, StoreError};
