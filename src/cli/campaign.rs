//! `trendwatch campaign [NAME] [--format text|json|csv|html] [--at T]`: a campaign's report,
//! from the store as of a time (default now). Reads only; the KPIs are `campaign::kpis`.

use std::io::Write;

use anyhow::anyhow;

use super::{Cli, CommandError, CommandResult};
use crate::campaign::{self, report};

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// For a terminal, in the digest's language.
    Text,
    /// One object per campaign (an array without NAME), the contract's fields.
    Json,
    /// One row per video.
    Csv,
    /// A self-contained page for a client.
    Html,
}

pub(super) fn campaign(
    cli: &Cli,
    name: Option<&str>,
    format: ReportFormat,
    at: Option<&str>,
) -> CommandResult {
    let (config, watchlist) = super::load_config_to_read(cli)?;
    let at = super::parse_at(at)?;
    if watchlist.campaigns.is_empty() {
        return Err(CommandError::user(anyhow!(
            "the watchlist has no campaign: add a [[campaign]] to {} (see the example watchlist)",
            watchlist.path.display()
        )));
    }
    let chosen: Vec<_> = match name {
        Some(wanted) => {
            let found: Vec<_> = watchlist
                .campaigns
                .iter()
                .filter(|c| c.name.to_lowercase() == wanted.trim().to_lowercase())
                .collect();
            if found.is_empty() {
                let names: Vec<String> = watchlist
                    .campaigns
                    .iter()
                    .map(|c| format!("\"{}\"", c.name))
                    .collect();
                return Err(CommandError::user(anyhow!(
                    "no campaign named \"{wanted}\" in the watchlist; its campaigns: {}",
                    names.join(", ")
                )));
            }
            found
        }
        None => watchlist.campaigns.iter().collect(),
    };
    let store = super::data::open_to_read(&config.state_dir)?;
    let mut all = Vec::new();
    for c in chosen {
        let input =
            crate::pipeline::campaign_input(&store, c, at).map_err(CommandError::runtime)?;
        all.push(campaign::kpis(c, &input, at));
    }
    drop(store);
    let lang = config.digest.language;
    let tz = config.timezone;
    let fail = |e: report::ReportError| CommandError::runtime(anyhow::Error::new(e));
    let out = match format {
        ReportFormat::Text => all
            .iter()
            .map(|k| report::text(k, lang, tz))
            .collect::<Vec<_>>()
            .join("\n"),
        ReportFormat::Json => {
            let value = match all.as_slice() {
                [one] if name.is_some() => serde_json::to_value(one),
                many => serde_json::to_value(many),
            }
            .map_err(|e| CommandError::runtime(anyhow::Error::new(e)))?;
            serde_json::to_string_pretty(&value)
                .map_err(|e| CommandError::runtime(anyhow::Error::new(e)))?
                + "\n"
        }
        ReportFormat::Csv => {
            let mut buf = Vec::new();
            for (i, k) in all.iter().enumerate() {
                let mut one = Vec::new();
                report::csv(k, &mut one).map_err(fail)?;
                // One header for every campaign.
                let body = if i == 0 {
                    &one[..]
                } else {
                    let start = one
                        .iter()
                        .position(|b| *b == b'\n')
                        .map_or(one.len(), |p| p + 1);
                    &one[start..]
                };
                buf.extend_from_slice(body);
            }
            String::from_utf8_lossy(&buf).into_owned()
        }
        ReportFormat::Html => {
            let [one] = all.as_slice() else {
                return Err(CommandError::user(anyhow!(
                    "the HTML report is one page per campaign: name it (`trendwatch campaign \"{}\" --format html`)",
                    all.first().map_or("…", |k| k.campaign.as_str())
                )));
            };
            report::html(one, lang, tz).map_err(fail)?
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CommandError::runtime(
            anyhow::Error::new(e).context("cannot write the output"),
        )),
        _ => Ok(()),
    }
}
