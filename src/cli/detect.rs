//! `trendwatch detect [--at RFC3339] [--json]`: trends over every entity in the store.
//!
//! Reads the store as of a time (default now) through `detect::load_input`, runs the pure
//! detector and prints either the JSON array of the contract or a ranked table. It never
//! writes to the store: replaying a past moment changes nothing.

use std::io::Write;

use anyhow::anyhow;

use super::{Cli, CommandError, CommandResult};
use crate::detect::{self, Trend};
use crate::store::interchange::format_time;
use crate::store::Store;

pub fn detect(cli: &Cli, at: Option<&str>, json: bool) -> CommandResult {
    let (config, watchlist) = super::load_config(cli)?;
    let at = super::parse_at(at)?;
    let store = Store::open(&config.state_dir).map_err(CommandError::runtime)?;
    let input = detect::load_input(&store, &watchlist, &config.detect, at)
        .map_err(CommandError::runtime)?;
    let trends = detect::detect(&input, &config.detect, at);
    let out = if json {
        let mut s = serde_json::to_string_pretty(&detect::to_json(&trends))
            .map_err(CommandError::runtime)?;
        s.push('\n');
        s
    } else {
        table(&trends, at)
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CommandError::runtime(
            anyhow!(e).context("cannot write the output"),
        )),
        _ => Ok(()),
    }
}

/// A ranked, human table: rank, kind, entity, score, growth, since, evidence.
pub fn table(trends: &[Trend], at: i64) -> String {
    let mut s = format!("Trends as of {}\n", format_time(at));
    if trends.is_empty() {
        s.push_str("No trend above the score threshold.\n");
        return s;
    }
    let width = trends
        .iter()
        .map(|t| t.entity.as_str().chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    s.push_str(&format!(
        "{:>3}  {:<14}  {:<width$}  {:>6}  {:>7}  {:<20}  {}\n",
        "#", "KIND", "ENTITY", "SCORE", "GROWTH", "SINCE", "EVIDENCE"
    ));
    for (i, t) in trends.iter().enumerate() {
        s.push_str(&format!(
            "{:>3}  {:<14}  {:<width$}  {:>6.1}  {:>6.1}x  {:<20}  {}\n",
            i + 1,
            t.kind.as_str(),
            t.entity.as_str(),
            t.score,
            t.growth,
            t.since.map(format_time).unwrap_or_else(|| "-".into()),
            t.evidence
        ));
    }
    s
}
