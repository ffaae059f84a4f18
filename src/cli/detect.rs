//! `trendwatch detect [--at RFC3339] [--json]`: trends over every entity in the store, and
//! `trendwatch backtest --from T --to T [--every 3h] [--json]`: their onsets over a period.
//!
//! Reads the store as of a time (default now) through `detect::load_input`, runs the pure
//! detector and prints either the JSON array of the contract or a ranked table. `backtest`
//! reads the store once and replays the same detector at each step, so each onset is what
//! `detect --at` said at that moment. Neither writes to the store: replaying a past moment
//! changes nothing.

use std::io::Write;

use anyhow::anyhow;

use super::{Cli, CommandError, CommandResult};
use crate::detect::{self, Trend};
use crate::language::tr;
use crate::store::interchange::format_time;

pub(super) fn detect(cli: &Cli, at: Option<&str>, json: bool) -> CommandResult {
    let (config, watchlist) = super::load_config_to_read(cli)?;
    let at = super::parse_at(at)?;
    let store = super::data::open_to_read(&config.state_dir)?;
    let input = detect::load_input(&store, &watchlist, &config.detect, at)
        .map_err(CommandError::runtime)?;
    let trends = detect::detect(&input, &config.detect, at);
    let out = if json {
        pretty(&detect::to_json(&trends))?
    } else {
        table(&trends, at, config.timezone)
    };
    print(&out)
}

pub(super) fn backtest(
    cli: &Cli,
    from: &str,
    to: &str,
    every: &str,
    json: bool,
    summary: bool,
) -> CommandResult {
    let (config, watchlist) = super::load_config_to_read(cli)?;
    let time = |flag: &str, raw: &str| {
        crate::store::interchange::parse_time(raw).ok_or_else(|| {
            CommandError::user(anyhow!(
                "--{flag} `{raw}` is neither RFC 3339 (2026-11-23T08:00:00Z) nor unix seconds"
            ))
        })
    };
    let (from, to) = (time("from", from)?, time("to", to)?);
    if to < from {
        return Err(CommandError::user(anyhow!(
            "--to ({}) is before --from ({})",
            format_time(to),
            format_time(from)
        )));
    }
    let step = humantime::parse_duration(every.trim())
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .filter(|s| *s >= 60)
        .ok_or_else(|| {
            CommandError::user(anyhow!(
                "--every `{every}` is not a duration of at least a minute (e.g. `3h`)"
            ))
        })?;
    let store = super::data::open_to_read(&config.state_dir)?;
    let input = detect::load_input_between(&store, &watchlist, &config.detect, from, to)
        .map_err(CommandError::runtime)?;
    let steps = usize::try_from((to - from).max(0) / step.max(1) + 1).unwrap_or(usize::MAX);
    let progress = crate::progress::Reporter::new("steps", steps);
    let onsets = detect::backtest_reporting(&input, &config.detect, from, to, step, &progress);
    progress.finish();
    let out = if summary {
        let volume = detect::AlertVolume::of(&input, &onsets, from, to);
        if json {
            pretty(&volume.to_json())?
        } else {
            volume_table(&volume)
        }
    } else if json {
        pretty(&detect::onsets_to_json(&onsets))?
    } else {
        onset_table(&onsets, from, to)
    };
    print(&out)
}

/// The alert volume per kind, per entity-week and per week for the whole watchlist.
fn volume_table(v: &detect::AlertVolume) -> String {
    let mut s = format!(
        "Alerts from {} to {} ({:.1} weeks, {} hashtags, {} creators)\n",
        format_time(v.from),
        format_time(v.to),
        v.weeks,
        v.hashtags,
        v.creators
    );
    s.push_str(&format!(
        "{:<14}  {:>6}  {:>17}  {:>8}\n",
        "KIND", "ALERTS", "PER ENTITY-WEEK", "PER WEEK"
    ));
    let number = |x: Option<f64>, digits: usize| match x {
        Some(x) => format!("{x:.digits$}"),
        None => "-".into(),
    };
    let mut total = 0;
    for &(kind, n) in &v.onsets {
        total += n;
        s.push_str(&format!(
            "{:<14}  {:>6}  {:>17}  {:>8}\n",
            kind.as_str(),
            n,
            number(v.per_entity_week(kind, n), 4),
            number(v.per_week(n), 1)
        ));
    }
    s.push_str(&format!(
        "{:<14}  {:>6}  {:>17}  {:>8}\n",
        "all",
        total,
        "",
        number(v.per_week(total), 1)
    ));
    s.push_str(
        "The defaults aim at one false alarm per tag in about six months (0.04 a week) on \
         quiet tags; raise [detect] min_score or min_views to receive fewer alerts.\n",
    );
    s
}

fn pretty(v: &serde_json::Value) -> Result<String, CommandError> {
    let mut s = serde_json::to_string_pretty(v).map_err(CommandError::runtime)?;
    s.push('\n');
    Ok(s)
}

/// Onsets in time order: when, kind, entity, score, growth, evidence.
fn onset_table(onsets: &[detect::Onset], from: i64, to: i64) -> String {
    let mut s = format!(
        "Alert onsets from {} to {}\n",
        format_time(from),
        format_time(to)
    );
    if onsets.is_empty() {
        s.push_str("No trend above the score threshold in this period.\n");
        return s;
    }
    let width = onsets
        .iter()
        .map(|o| o.trend.entity.as_str().chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    s.push_str(&format!(
        "{:<20}  {:<14}  {:<width$}  {:>6}  {:>7}  {}\n",
        "AT", "KIND", "ENTITY", "SCORE", "GROWTH", "EVIDENCE"
    ));
    for o in onsets {
        let t = &o.trend;
        s.push_str(&format!(
            "{:<20}  {:<14}  {:<width$}  {:>6.1}  {:>6.1}x  {}\n",
            format_time(o.at),
            t.kind.as_str(),
            t.entity.as_str(),
            t.score,
            t.growth,
            t.evidence
        ));
    }
    s
}

fn print(out: &str) -> CommandResult {
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
pub(super) fn table(trends: &[Trend], at: i64, tz: chrono_tz::Tz) -> String {
    let when = crate::language::local_time(at, tz);
    let mut s = tr!(
        format!("Tendances au {when} ({tz})\n"),
        format!("Trends as of {when} ({tz})\n")
    );
    if trends.is_empty() {
        s.push_str(tr!(
            "Aucune tendance au-dessus du seuil (min_score).\n",
            "No trend above the score threshold.\n"
        ));
        return s;
    }
    let width = trends
        .iter()
        .map(|t| t.entity.as_str().chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let (kind, entity, score, growth, since, evidence) = tr!(
        ("TYPE", "ÉLÉMENT", "SCORE", "HAUSSE", "DEPUIS", "PREUVE"),
        ("KIND", "ENTITY", "SCORE", "GROWTH", "SINCE", "EVIDENCE")
    );
    s.push_str(&format!(
        "{:>3}  {kind:<14}  {entity:<width$}  {score:>6}  {growth:>7}  {since:<20}  {evidence}\n",
        "#"
    ));
    for (i, t) in trends.iter().enumerate() {
        s.push_str(&format!(
            "{:>3}  {:<14}  {:<width$}  {:>6.1}  {:>6.1}x  {:<20}  {}\n",
            i + 1,
            t.kind.as_str(),
            t.entity.as_str(),
            t.score,
            t.growth,
            t.since
                .map(|t| crate::language::local_time(t, tz))
                .unwrap_or_else(|| "-".into()),
            t.evidence
        ));
    }
    s
}
