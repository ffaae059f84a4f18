#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Detection: the kinds of trend on synthetic series, the evaluation figures, and the
//! `detect` and `backtest` commands.

#[path = "../common/mod.rs"]
mod common;
#[path = "../support/synth/mod.rs"]
#[allow(dead_code)]
mod synth;

mod cli;
mod eval;
mod kinds;
