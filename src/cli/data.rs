//! `trendwatch import`, `export`, `status` and `show`: the store seen from the command line.
//!
//! These commands only read and format what the store keeps (import writes it, all rows or
//! none); they never collect, detect or send anything. A bad input file or argument is a
//! user error (exit 1); a store that cannot be opened — another trendwatch holds it — is a
//! runtime error (exit 2).

use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{anyhow, Context};

use super::{Cli, CommandError, CommandResult, ExportFormat};
use crate::model::{EntityId, UnixSeconds};
use crate::store::interchange::{self, format_time, format_value, CsvOut, JsonOut};
use crate::store::{OutboxState, Store};

fn open(state_dir: &Path) -> Result<Store, CommandError> {
    Store::open(state_dir).map_err(CommandError::runtime)
}

/// Output errors other than a closed pipe (`| head`) are runtime failures.
fn output(e: std::io::Error) -> CommandError {
    CommandError::runtime(anyhow!(e).context("cannot write the output"))
}

fn parse_bound(raw: Option<&str>, flag: &str) -> Result<Option<UnixSeconds>, CommandError> {
    raw.map(|r| {
        interchange::parse_time(r).ok_or_else(|| {
            CommandError::user(anyhow!(
                "{flag} `{r}` is neither RFC 3339 (2026-11-20T06:00:00Z) nor unix seconds"
            ))
        })
    })
    .transpose()
}

pub fn import(cli: &Cli, file: &Path) -> CommandResult {
    let (config, _) = super::load_config(cli)?;
    let (samples, entities) = import_file(&config.state_dir, file)?;
    println!("imported {samples} samples for {entities} entities");
    Ok(())
}

/// Validates the whole file, then stores it in one transaction. Returns (samples, entities).
pub(crate) fn import_file(state_dir: &Path, file: &Path) -> Result<(usize, usize), CommandError> {
    let data = std::fs::read(file)
        .with_context(|| format!("cannot read {}", file.display()))
        .map_err(CommandError::user)?;
    let samples = interchange::parse_csv(file, &data).map_err(CommandError::user)?;
    let entities: BTreeSet<&EntityId> = samples.iter().map(|s| &s.entity).collect();
    let store = open(state_dir)?;
    store
        .insert_samples(&samples)
        .map_err(CommandError::runtime)?;
    Ok((samples.len(), entities.len()))
}

pub fn export(
    cli: &Cli,
    format: ExportFormat,
    entities: &[String],
    since: Option<&str>,
    until: Option<&str>,
) -> CommandResult {
    let (config, _) = super::load_config(cli)?;
    let stdout = std::io::stdout();
    let result = export_to(
        &config.state_dir,
        format,
        entities,
        since,
        until,
        BufWriter::new(stdout.lock()),
    );
    match result {
        Err(CommandError::Runtime(e))
            if e.root_cause()
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

pub(crate) fn export_to(
    state_dir: &Path,
    format: ExportFormat,
    entities: &[String],
    since: Option<&str>,
    until: Option<&str>,
    out: impl Write,
) -> CommandResult {
    let from = parse_bound(since, "--since")?.unwrap_or(UnixSeconds::MIN);
    let to = parse_bound(until, "--until")?.unwrap_or(UnixSeconds::MAX);
    let ids = entities
        .iter()
        .map(|e| EntityId::parse(e).map_err(CommandError::user))
        .collect::<Result<Vec<_>, _>>()?;
    let filter = (!ids.is_empty()).then_some(ids.as_slice());
    let store = open(state_dir)?;
    let mut io_err: Option<std::io::Error> = None;
    match format {
        ExportFormat::Csv => {
            let mut w = CsvOut::new(out).map_err(output)?;
            store
                .for_each_sample(filter, from, to, |s| {
                    if io_err.is_none() {
                        io_err = w.write(s).err();
                    }
                })
                .map_err(CommandError::runtime)?;
            if let Some(e) = io_err {
                return Err(output(e));
            }
            w.finish().map_err(output)
        }
        ExportFormat::Json => {
            let mut w = JsonOut::new(out).map_err(output)?;
            store
                .for_each_sample(filter, from, to, |s| {
                    if io_err.is_none() {
                        io_err = w.write(s).err();
                    }
                })
                .map_err(CommandError::runtime)?;
            if let Some(e) = io_err {
                return Err(output(e));
            }
            w.finish().map_err(output)
        }
    }
}

pub fn status(cli: &Cli, json: bool) -> CommandResult {
    let (config, watchlist) = super::load_config(cli)?;
    let store = open(&config.state_dir)?;
    let mut infos = store.entities().map_err(CommandError::runtime)?;
    // Watched entities never collected yet still deserve a line.
    for id in watchlist.entities() {
        if !infos.iter().any(|i| i.id == id) {
            infos.push(crate::store::EntityInfo {
                id,
                first_seen: 0,
                last_sample_at: None,
                last_success: None,
                last_failure: None,
                metrics: Vec::new(),
            });
        }
    }
    infos.sort_by(|a, b| a.id.cmp(&b.id));
    let size = store.size_on_disk().map_err(CommandError::runtime)?;
    let outbox = store.outbox_list().map_err(CommandError::runtime)?;
    let pending = outbox
        .iter()
        .filter(|i| matches!(i.state, OutboxState::Pending { .. }))
        .count();
    let sent = outbox.len() - pending;
    let mut out = std::io::stdout().lock();
    if json {
        let entities: Vec<serde_json::Value> = infos
            .iter()
            .map(|i| {
                serde_json::json!({
                    "entity": i.id.as_str(),
                    "last_success": i.last_success.map(format_time),
                    "last_sample_at": i.last_sample_at.map(format_time),
                    "last_failure": i.last_failure.as_ref().map(|f| serde_json::json!({
                        "at": format_time(f.at),
                        "kind": f.kind.as_str(),
                        "detail": f.detail,
                    })),
                    "metrics": i.metrics,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "entities": entities,
            "store": {"path": config.state_dir.display().to_string(), "size_bytes": size},
            "outbox": {"pending": pending, "sent": sent},
        });
        writeln!(out, "{doc:#}").map_err(output)?;
        return Ok(());
    }
    let width = infos
        .iter()
        .map(|i| i.id.as_str().chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut text = format!(
        "{:<width$}  {:<20}  LAST FAILURE\n",
        "ENTITY", "LAST SUCCESS"
    );
    for i in &infos {
        let success = i
            .last_success
            .map_or_else(|| "never".to_string(), format_time);
        let failure = match &i.last_failure {
            Some(f) if !matches!(i.last_success, Some(s) if f.at < s) => {
                format!("{} at {}: {}", f.kind, format_time(f.at), f.detail)
            }
            Some(f) => format!("({} at {}, recovered)", f.kind, format_time(f.at)),
            None => "-".into(),
        };
        text.push_str(&format!(
            "{:<width$}  {success:<20}  {failure}\n",
            i.id.as_str()
        ));
    }
    text.push_str(&format!(
        "\nstore: {} on disk in {}\noutbox: {pending} pending, {sent} sent\n",
        bytesize::ByteSize::b(size),
        config.state_dir.display()
    ));
    out.write_all(text.as_bytes()).map_err(output)
}

pub fn show(cli: &Cli, entity: &str) -> CommandResult {
    let (config, _) = super::load_config(cli)?;
    let id = EntityId::parse(entity).map_err(CommandError::user)?;
    let text = show_text(&config.state_dir, &id, crate::clock::now())?;
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(output)
}

pub(crate) fn show_text(
    state_dir: &Path,
    id: &EntityId,
    now: UnixSeconds,
) -> Result<String, CommandError> {
    let store = open(state_dir)?;
    let info = store
        .entities()
        .map_err(CommandError::runtime)?
        .into_iter()
        .find(|i| &i.id == id)
        .ok_or_else(|| CommandError::user(anyhow!("`{id}` is not in the store")))?;
    let mut text = format!("{id}\n");
    text.push_str(&format!(
        "first seen {}, last success {}\n",
        format_time(info.first_seen),
        info.last_success
            .map_or_else(|| "never".into(), format_time)
    ));
    if let Some(f) = &info.last_failure {
        text.push_str(&format!(
            "last failure {} at {}: {}\n",
            f.kind,
            format_time(f.at),
            f.detail
        ));
    }
    for metric in &info.metrics {
        let points = store
            .series(id, metric, UnixSeconds::MIN, now)
            .map_err(CommandError::runtime)?;
        let Some(&(at, last)) = points.last() else {
            continue;
        };
        text.push_str(&format!(
            "\n{metric}: {} at {}\n",
            format_value(last),
            format_time(at)
        ));
    }
    Ok(text)
}
