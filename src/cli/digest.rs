//! `trendwatch digest [--preview FILE.html] [--send] [--at T]` and `trendwatch outbox
//! [--flush]`.
//!
//! Thin glue: detect from the store as of a time, build and render the digest, then print
//! it, write a preview, or queue it and flush the outbox. A send that fails leaves the
//! digest pending in the outbox and exits 2 saying so; nothing here ever drops a queued
//! message.

use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, Context};

use super::{Cli, CommandError, CommandResult};
use crate::config::Config;
use crate::digest;
use crate::mail::{self, FlushReport};
use crate::model::OutboxState;
use crate::store::interchange::format_time;
use crate::store::Store;

pub(super) fn digest(
    cli: &Cli,
    preview: Option<&Path>,
    send: bool,
    at: Option<&str>,
) -> CommandResult {
    let (config, watchlist) = super::load_config(cli)?;
    let at = super::parse_at(at)?;
    let store = Store::open(&config.state_dir).map_err(CommandError::runtime)?;
    let d = crate::pipeline::digest_as_of(&store, &config, &watchlist, at)
        .map_err(CommandError::runtime)?;
    let lang = config.digest.language;
    if let Some(path) = preview {
        let html = digest::render_preview(&d, lang).map_err(CommandError::runtime)?;
        std::fs::write(path, html)
            .with_context(|| format!("cannot write the preview {}", path.display()))
            .map_err(CommandError::runtime)?;
        eprintln!("preview written to {}", path.display());
    }
    let rendered = digest::render(&d, lang).map_err(CommandError::runtime)?;
    if send {
        let item = mail::queue_digest(&store, &config, &d, &rendered, at, &[])
            .map_err(CommandError::runtime)?;
        println!("queued {} \"{}\"", item.id, item.subject);
        let report = flush(&store, &config, false)?;
        print_report(&report);
        if report.sent.contains(&item.id) {
            return Ok(());
        }
        let why = report
            .failed
            .iter()
            .find(|(id, _)| *id == item.id)
            .map(|(_, e)| e.clone())
            .unwrap_or_else(|| "not due yet".to_owned());
        return Err(CommandError::runtime(anyhow!(
            "the digest was not sent ({why}); it stays pending in the outbox and will be \
             retried (`trendwatch outbox --flush` sends it now)"
        )));
    }
    if preview.is_none() {
        write_stdout(&rendered.text)?;
    }
    Ok(())
}

pub(super) fn outbox(cli: &Cli, do_flush: bool) -> CommandResult {
    let (config, _) = super::load_config_to_read(cli)?;
    let store = Store::open(&config.state_dir).map_err(CommandError::runtime)?;
    if do_flush {
        let report = flush(&store, &config, true)?;
        print_report(&report);
        if !report.failed.is_empty() {
            return Err(CommandError::runtime(anyhow!(
                "{} digest(s) could not be sent and stay pending",
                report.failed.len()
            )));
        }
        return Ok(());
    }
    let items = store.outbox_list().map_err(CommandError::runtime)?;
    let mut out = String::new();
    let pending: Vec<_> = items
        .iter()
        .filter(|i| matches!(i.state, OutboxState::Pending { .. }))
        .collect();
    out.push_str(&format!("Pending: {}\n", pending.len()));
    for i in &pending {
        if let OutboxState::Pending {
            attempts,
            next_attempt_at,
            last_error,
        } = &i.state
        {
            out.push_str(&format!(
                "  {}  {}  attempts {}  next {}{}\n    {}\n",
                format_time(i.created_at),
                i.id,
                attempts,
                format_time(*next_attempt_at),
                last_error
                    .as_ref()
                    .map(|e| format!("  last error: {e}"))
                    .unwrap_or_default(),
                i.subject
            ));
        }
    }
    let sent: Vec<_> = items
        .iter()
        .filter_map(|i| match i.state {
            OutboxState::Sent { at } => Some((i, at)),
            OutboxState::Pending { .. } => None,
        })
        .take(10)
        .collect();
    out.push_str(&format!("Recently sent: {}\n", sent.len()));
    for (i, at) in sent {
        out.push_str(&format!(
            "  {}  {}  sent {}\n    {}\n",
            format_time(i.created_at),
            i.id,
            format_time(at),
            i.subject
        ));
        if !i.delivered_to.is_empty() {
            out.push_str(&format!("    delivered to {}\n", i.delivered_to.join(", ")));
        }
        for (to, why) in &i.rejected {
            out.push_str(&format!("    refused for good: {to} ({why})\n"));
        }
    }
    write_stdout(&out)
}

fn flush(store: &Store, config: &Config, force: bool) -> Result<FlushReport, CommandError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CommandError::runtime)?;
    let now = crate::clock::now();
    runtime
        .block_on(async {
            if force {
                mail::flush_all(store, config, now).await
            } else {
                mail::flush(store, config, now).await
            }
        })
        .map_err(CommandError::runtime)
}

fn print_report(r: &FlushReport) {
    for id in &r.sent {
        println!("sent {id}");
    }
    for (id, e) in &r.failed {
        eprintln!("not sent {id}: {e}");
    }
    for (to, why) in &r.rejected {
        eprintln!("refused for good: {to} ({why}); fix the address in [digest] to");
    }
}

fn write_stdout(s: &str) -> CommandResult {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(s.as_bytes()).and_then(|_| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CommandError::runtime(
            anyhow!(e).context("cannot write the output"),
        )),
        _ => Ok(()),
    }
}
