//! `trendwatch digest [--preview FILE.html] [--send] [--at T]` and `trendwatch outbox
//! [--flush]`.
//!
//! Thin glue: detect from the store as of a time, build and render the digest, then print
//! it, write a preview, or queue it and flush the outbox. A send that fails leaves the
//! digest pending in the outbox and exits 2 saying so; nothing here ever drops a queued
//! message.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, Context};

use super::{Cli, CommandError, CommandResult};
use crate::config::Config;
use crate::digest;
use crate::language::tr;
use crate::mail::{self, FlushReport};
use crate::model::OutboxState;

pub(super) fn digest(
    cli: &Cli,
    preview: Option<&Path>,
    send: bool,
    at: Option<&str>,
) -> CommandResult {
    let (mut config, watchlist) = super::load_config_only(cli)?;
    let at = super::parse_at(at)?;
    // The preview is the person's file, opened as them before the command acts as the
    // store's user (`cli::owner`), who may not write where they are.
    let preview_file = preview
        .map(|path| {
            std::fs::File::create(path)
                .with_context(|| format!("cannot write the preview {}", path.display()))
                .map_err(CommandError::user)
        })
        .transpose()?;
    super::owner::become_store_owner(&mut config.state_dir)?;
    let store = super::data::open(&config.state_dir)?;
    let d = crate::pipeline::digest_as_of(&store, &config, &watchlist, at)
        .map_err(CommandError::runtime)?;
    let lang = config.digest.language;
    if let (Some(path), Some(mut file)) = (preview, preview_file) {
        let html = digest::render_preview(&d, lang).map_err(CommandError::runtime)?;
        file.write_all(html.as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write the preview {}", path.display()))
            .map_err(CommandError::runtime)?;
        eprintln!(
            "{}",
            tr!(
                format!("aperçu écrit dans {}", path.display()),
                format!("preview written to {}", path.display())
            )
        );
    }
    let rendered = digest::render(&d, lang).map_err(CommandError::runtime)?;
    if send {
        let item = mail::queue_digest(&store, &config, &d, &rendered, at, &[])
            .map_err(CommandError::runtime)?;
        println!(
            "{}",
            tr!(
                format!("mis en file {} « {} »", item.id, item.subject),
                format!("queued {} \"{}\"", item.id, item.subject)
            )
        );
        // Let go of the store while the mail server answers.
        drop(store);
        let report = flush(&config, false)?;
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

pub(super) fn outbox(cli: &Cli, do_flush: bool, show: Option<&str>) -> CommandResult {
    let (config, _) = super::load_config_to_read(cli)?;
    if do_flush {
        let report = flush(&config, true)?;
        print_report(&report);
        if !report.failed.is_empty() {
            return Err(CommandError::runtime(anyhow!(
                "{} digest(s) could not be sent and stay pending",
                report.failed.len()
            )));
        }
        return Ok(());
    }
    let store = super::data::open(&config.state_dir)?;
    let items = store.outbox_list().map_err(CommandError::runtime)?;
    drop(store);
    if let Some(wanted) = show {
        let item = find_item(&items, wanted)?;
        return write_stdout(&message_text(item)?);
    }
    let mut out = String::new();
    let pending: Vec<_> = items
        .iter()
        .filter(|i| matches!(i.state, OutboxState::Pending { .. }))
        .collect();
    let tz = config.timezone;
    let time = |t: i64| crate::language::local_time(t, tz);
    out.push_str(&tr!(
        format!("En attente : {}\n", pending.len()),
        format!("Pending: {}\n", pending.len())
    ));
    for i in &pending {
        if let OutboxState::Pending {
            attempts,
            next_attempt_at,
            last_error,
        } = &i.state
        {
            let last = last_error
                .as_ref()
                .map(|e| {
                    tr!(
                        format!("  dernière erreur : {e}"),
                        format!("  last error: {e}")
                    )
                })
                .unwrap_or_default();
            let (created, next) = (time(i.created_at), time(*next_attempt_at));
            out.push_str(&tr!(
                format!(
                    "  {created}  {}  essais {attempts}  prochain {next}{last}\n    {}\n",
                    i.id, i.subject
                ),
                format!(
                    "  {created}  {}  attempts {attempts}  next {next}{last}\n    {}\n",
                    i.id, i.subject
                )
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
    out.push_str(&tr!(
        format!("Envoyés récemment : {}\n", sent.len()),
        format!("Recently sent: {}\n", sent.len())
    ));
    for (i, at) in sent {
        let (created, at) = (time(i.created_at), time(at));
        out.push_str(&tr!(
            format!("  {created}  {}  envoyé le {at}\n    {}\n", i.id, i.subject),
            format!("  {created}  {}  sent {at}\n    {}\n", i.id, i.subject)
        ));
        if !i.delivered_to.is_empty() {
            let to = i.delivered_to.join(", ");
            out.push_str(&tr!(
                format!("    remis à {to}\n"),
                format!("    delivered to {to}\n")
            ));
        }
        for (to, why) in &i.rejected {
            out.push_str(&tr!(
                format!("    refusé définitivement : {to} ({why})\n"),
                format!("    refused for good: {to} ({why})\n")
            ));
        }
    }
    if !items.is_empty() {
        out.push_str(tr!(
            "(`trendwatch outbox --show last` affiche le dernier résumé tel qu'il est parti)\n",
            "(`trendwatch outbox --show last` prints the last digest as it went out)\n"
        ));
    }
    write_stdout(&out)
}

/// The outbox item `wanted` names: `last`, or its Message-ID or any part of it that only it
/// has (as `outbox` lists them).
fn find_item<'a>(
    items: &'a [crate::model::OutboxItem],
    wanted: &str,
) -> Result<&'a crate::model::OutboxItem, CommandError> {
    let wanted = wanted.trim().trim_matches(['<', '>']);
    if wanted.eq_ignore_ascii_case("last") {
        // The outbox lists newest first.
        return items.first().ok_or_else(|| {
            CommandError::user(anyhow!("the outbox is empty: no digest was written yet"))
        });
    }
    let found: Vec<_> = items.iter().filter(|i| i.id.contains(wanted)).collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(CommandError::user(anyhow!(
            "no digest in the outbox has the id `{wanted}`: `trendwatch outbox` lists them (or say `last`)"
        ))),
        _ => Err(CommandError::user(anyhow!(
            "{} digests have `{wanted}` in their id: give more of it",
            found.len()
        ))),
    }
}

/// A digest as its reader got it: its headers, then its text part.
fn message_text(item: &crate::model::OutboxItem) -> Result<String, CommandError> {
    let parsed = mail_parser::MessageParser::default()
        .parse(&item.raw)
        .ok_or_else(|| {
            CommandError::runtime(anyhow!("the stored message {} cannot be read", item.id))
        })?;
    let text = parsed.body_text(0).ok_or_else(|| {
        CommandError::runtime(anyhow!("the stored message {} has no text part", item.id))
    })?;
    let mut out = format!("Subject: {}\n", item.subject);
    if let Some(date) = parsed.date() {
        let _ = writeln!(out, "Date: {}", date.to_rfc822());
    }
    let to: Vec<&str> = parsed
        .to()
        .map(|a| a.iter().filter_map(|a| a.address()).collect())
        .unwrap_or_default();
    if !to.is_empty() {
        let _ = writeln!(out, "To: {}", to.join(", "));
    }
    out.push('\n');
    out.push_str(&text);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Sends from the outbox; the store is opened only for each short write, so a slow mail
/// server never keeps the daemon's jobs from it.
fn flush(config: &Config, force: bool) -> Result<FlushReport, CommandError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CommandError::runtime)?;
    let now = crate::clock::now();
    let cancel = tokio_util::sync::CancellationToken::new();
    let store = crate::store::access::Reopening::new(
        &config.state_dir,
        crate::clock::real_duration(super::data::STORE_TURN_WAIT),
        &cancel,
    );
    let store = &store;
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
        println!("{}", tr!(format!("envoyé {id}"), format!("sent {id}")));
    }
    for (id, e) in &r.failed {
        eprintln!(
            "{}",
            tr!(
                format!("non envoyé {id} : {e}"),
                format!("not sent {id}: {e}")
            )
        );
    }
    for (to, why) in &r.rejected {
        eprintln!(
            "{}",
            tr!(
                format!(
                    "refusé définitivement : {to} ({why}) ; corrigez l'adresse sous [digest] to"
                ),
                format!("refused for good: {to} ({why}); fix the address in [digest] to")
            )
        );
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
