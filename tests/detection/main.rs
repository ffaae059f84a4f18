#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Detection: the kinds of trend on synthetic series, the evaluation figures, and the
//! `detect` and `backtest` commands.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod eval;
mod kinds;
