//! `trendwatch import`, `export`, `status` and `show`: the store seen from the command line.
//!
//! These commands only read and format what the store keeps (import writes it, once every
//! row is checked); they never collect, detect or send anything. A bad input file or argument is a
//! user error (exit 1); a store that cannot be opened — another trendwatch holds it — is a
//! runtime error (exit 2).

use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{anyhow, Context};

use super::{Cli, CommandError, CommandResult, ExportFormat};
use crate::model::{EntityId, UnixSeconds};
use crate::status::{NextRuns, StatusReport};
use crate::store::interchange::{self, format_value, CsvOut, JsonOut, SampleOut};
use crate::store::{Store, StoreError};

/// How long a command waits for another trendwatch process to let go of the store: the
/// daemon's passes hold it only to write each chunk of pages and for the detection after, a
/// few seconds on a large store.
pub(super) const STORE_TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Opens (creating if needed) the store, waiting its turn behind another process.
pub(super) fn open(state_dir: &Path) -> Result<Store, CommandError> {
    open_in_turn(state_dir, false).map_err(CommandError::runtime)
}

fn open_in_turn(state_dir: &Path, existing: bool) -> Result<Store, StoreError> {
    let wait = crate::clock::real_duration(STORE_TURN_WAIT);
    Store::open_in_turn(state_dir, existing, wait, || {
        eprintln!("{}", crate::cli::say::waiting_for_store())
    })
}

/// Opens the store for a command that only reads it: none yet is a user error (exit 1).
pub(crate) fn open_to_read(state_dir: &Path) -> Result<Store, CommandError> {
    open_in_turn(state_dir, true).map_err(|e| match e {
        StoreError::Missing { .. } => CommandError::user(anyhow!(e)),
        e => CommandError::runtime(e),
    })
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

pub(super) fn import(cli: &Cli, file: &Path) -> CommandResult {
    let (config, _) = super::load_config(cli)?;
    let (samples, entities) = import_file(&config.state_dir, file)?;
    let plural = crate::digest::locale::plural;
    println!(
        "{}",
        crate::language::tr!(
            format!(
                "importé : {} pour {}",
                plural(samples as i64, "relevé", "relevés"),
                plural(entities as i64, "élément", "éléments")
            ),
            format!(
                "imported {} for {}",
                plural(samples as i64, "sample", "samples"),
                plural(entities as i64, "entity", "entities")
            )
        )
    );
    Ok(())
}

/// Rows stored per transaction: sled copies what a transaction touches, so memory follows the
/// entities of a chunk, not the file (BENCHMARKS.md, "Import").
const IMPORT_CHUNK: usize = 50_000;

/// Meta key of an import that was stopped (killed, a full disk) after some of its chunks:
/// `FILE` tab `ROWS`.
const IMPORT_UNFINISHED: &str = "import.unfinished";

/// Reads the whole file once to check every row (nothing is stored if one is bad), then again
/// to store it in chunks of [`IMPORT_CHUNK`] rows; memory stays bounded by a chunk, not by
/// the file. An import stopped while storing leaves whole chunks and a note that the next
/// import reads out; importing the file again completes it, since a row already stored is
/// simply written again. Returns (samples, entities).
pub(crate) fn import_file(state_dir: &Path, file: &Path) -> Result<(usize, usize), CommandError> {
    let rows = || -> Result<_, CommandError> {
        let input = std::fs::File::open(file)
            .with_context(|| format!("cannot read {}", file.display()))
            .map_err(CommandError::user)?;
        interchange::CsvSamples::new(file, std::io::BufReader::new(input))
            .map_err(CommandError::user)
    };
    let mut entities: BTreeSet<EntityId> = BTreeSet::new();
    let mut samples = 0usize;
    for row in rows()? {
        let sample = row.map_err(CommandError::user)?;
        samples += 1;
        if !entities.contains(&sample.entity) {
            entities.insert(sample.entity);
        }
    }
    let store = open(state_dir)?;
    if let Some(note) = store
        .meta_get(IMPORT_UNFINISHED)
        .map_err(CommandError::runtime)?
    {
        let note = String::from_utf8_lossy(&note).into_owned();
        let (earlier, rows) = note.split_once('\t').unwrap_or((&note, "?"));
        eprintln!(
            "note: an earlier import of {earlier} ({rows} rows) was stopped before its end; \
             import that file again to store the rest"
        );
    }
    let chunked = samples > IMPORT_CHUNK;
    if chunked {
        let note = format!("{}\t{samples}", file.display());
        store
            .meta_set(IMPORT_UNFINISHED, note.as_bytes())
            .map_err(CommandError::runtime)?;
    }
    let mut chunk = Vec::with_capacity(IMPORT_CHUNK.min(samples));
    for row in rows()? {
        chunk.push(row.map_err(CommandError::user)?);
        if chunk.len() == IMPORT_CHUNK {
            store
                .insert_samples(&chunk)
                .map_err(CommandError::runtime)?;
            chunk.clear();
        }
    }
    store
        .insert_samples(&chunk)
        .map_err(CommandError::runtime)?;
    if chunked {
        store
            .meta_remove(IMPORT_UNFINISHED)
            .map_err(CommandError::runtime)?;
    }
    Ok((samples, entities.len()))
}

pub(super) fn export(
    cli: &Cli,
    format: ExportFormat,
    entities: &[String],
    since: Option<&str>,
    until: Option<&str>,
) -> CommandResult {
    let (config, _) = super::load_config_to_read(cli)?;
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
    let store = open_to_read(state_dir)?;
    match format {
        ExportFormat::Csv => write_samples(&store, filter, from, to, CsvOut::new(out)),
        ExportFormat::Json => write_samples(&store, filter, from, to, JsonOut::new(out)),
    }
}

/// Streams the samples of `filter` (all when `None`) between `from` and `to` into `w`.
fn write_samples(
    store: &Store,
    filter: Option<&[EntityId]>,
    from: UnixSeconds,
    to: UnixSeconds,
    w: std::io::Result<impl SampleOut>,
) -> CommandResult {
    let mut w = w.map_err(output)?;
    let mut io_err: Option<std::io::Error> = None;
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

pub(super) fn status(cli: &Cli, json: bool) -> CommandResult {
    let (config, watchlist) = super::load_config_to_read(cli)?;
    let (report, from_daemon) = match open_in_turn(&config.state_dir, true) {
        Ok(store) => (
            StatusReport::build(&store, &config, &watchlist, crate::clock::now())
                .map_err(CommandError::runtime)?,
            false,
        ),
        // Another process kept the store past the wait, or it is the service's and this user
        // may not open it: the status the last worker wrote is the answer.
        Err(e @ (StoreError::Locked { .. } | StoreError::OtherOwner { .. })) => {
            let mut report = StatusReport::load_snapshot(&config.state_dir).map_err(|snap| {
                CommandError::runtime(anyhow::Error::new(snap).context(e.to_string()))
            })?;
            report.next_runs = NextRuns::from_config(&config, crate::clock::now_utc());
            (report, true)
        }
        // Nothing collected yet: report as much, without creating a store.
        Err(StoreError::Missing { .. }) => {
            let empty = Store::empty_for(&config.state_dir).map_err(CommandError::runtime)?;
            (
                StatusReport::build(&empty, &config, &watchlist, crate::clock::now())
                    .map_err(CommandError::runtime)?,
                false,
            )
        }
        Err(e) => return Err(CommandError::runtime(e)),
    };
    let mut out = std::io::stdout().lock();
    if json {
        let doc =
            serde_json::to_string_pretty(&report).map_err(|e| CommandError::runtime(anyhow!(e)))?;
        return writeln!(out, "{doc}").map_err(output);
    }
    if from_daemon {
        let running = crate::daemon::DaemonLock::is_held(&config.state_dir);
        writeln!(
            out,
            "{}\n",
            super::say::status_from_snapshot(running, &report.generated_at, config.timezone)
        )
        .map_err(output)?;
    }
    out.write_all(super::owner::shown(&report.render_text(config.timezone)).as_bytes())
        .map_err(output)
}

pub(super) fn show(cli: &Cli, entity: &str) -> CommandResult {
    let (config, _) = super::load_config_to_read(cli)?;
    let id = EntityId::parse(entity).map_err(CommandError::user)?;
    let text = show_text(
        &config.state_dir,
        &id,
        crate::clock::now(),
        config.detect.min_score,
        config.timezone,
    )?;
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(output)
}

pub(crate) fn show_text(
    state_dir: &Path,
    id: &EntityId,
    now: UnixSeconds,
    min_score: f64,
    tz: chrono_tz::Tz,
) -> Result<String, CommandError> {
    use crate::language::tr;
    let time = |t: UnixSeconds| crate::language::local_time(t, tz);
    let store = open_to_read(state_dir)?;
    let info = store
        .entities()
        .map_err(CommandError::runtime)?
        .into_iter()
        .find(|i| &i.id == id)
        .ok_or_else(|| {
            CommandError::user(anyhow!(
                "{}",
                tr!(
                    format!("`{id}` n'est pas dans la base (`trendwatch status` liste ce qu'elle contient)"),
                    format!("`{id}` is not in the store (`trendwatch status` lists what it holds)")
                )
            ))
        })?;
    let mut text = format!("{id}\n");
    let success = info
        .last_success
        .map_or_else(|| tr!("jamais", "never").to_owned(), time);
    let first = time(info.first_seen);
    text.push_str(&tr!(
        format!("vu pour la première fois le {first}, dernier succès : {success} ({tz})\n"),
        format!("first seen {first}, last success {success} ({tz})\n")
    ));
    if let Some(f) = &info.last_failure {
        let at = time(f.at);
        text.push_str(&tr!(
            format!("dernier échec {} le {at} : {}\n", f.kind, f.detail),
            format!("last failure {} at {at}: {}\n", f.kind, f.detail)
        ));
    }
    for metric in &info.metrics {
        let points = store
            .series(id, metric, UnixSeconds::MIN, now)
            .map_err(CommandError::runtime)?;
        let Some(&(at, last)) = points.last() else {
            continue;
        };
        let (value, when) = (format_value(last), time(at));
        text.push_str(&tr!(
            format!("\n{metric} : {value} le {when}\n"),
            format!("\n{metric}: {value} at {when}\n")
        ));
        // Rates over the window, plus the interval that reaches into it from before.
        let from = now - SPARK_WINDOW;
        let first = points.partition_point(|p| p.0 < from).saturating_sub(1);
        let intervals = crate::detect::intervals(&points[first..]);
        let line = sparkline(&intervals, from, now, SPARK_COLUMNS);
        let current = match intervals.last() {
            Some(i) => tr!(
                format!("{}/h depuis le {}", human_rate(i.rate), time(i.start)),
                format!("{}/h since {}", human_rate(i.rate), time(i.start))
            ),
            None => tr!(
                "pas encore de rythme (un seul relevé)",
                "no rate yet (one sample)"
            )
            .into(),
        };
        text.push_str(&tr!(
            format!("  {metric}/h, 14 jours : {line}\n  maintenant : {current}\n"),
            format!("  {metric}/h, 14 days: {line}\n  now: {current}\n")
        ));
        if metric == &crate::model::Metric::VIEWS {
            if let Some(r) = crate::detect::series::resolution(&points, at, min_score) {
                text.push_str(&format!("  {}\n", resolution_sentence(&r)));
            }
        }
    }
    Ok(text)
}

/// What a counter's coarseness lets trendwatch see, in a sentence.
fn resolution_sentence(r: &crate::detect::series::Resolution) -> String {
    use crate::language::tr;
    let moves = if r.step > 1.0 {
        tr!(
            format!(
                "avance de {:.1} paliers d'affichage de {} par semaine",
                r.steps_per_week,
                format_value(r.step)
            ),
            format!(
                "moves {:.1} display steps of {} a week",
                r.steps_per_week,
                format_value(r.step)
            )
        )
    } else {
        tr!(
            format!("gagne {} par semaine", format_value(r.steps_per_week)),
            format!("gains {} a week", format_value(r.steps_per_week))
        )
    };
    match r.visible_in_two_days {
        Some(f) if f < 3.0 => tr!(
            format!("résolution : {moves} : une hausse de {f:.1}× se voit en deux jours"),
            format!("resolution: {moves}: a rise of {f:.1}x is seen within two days")
        ),
        Some(f) => tr!(
            format!("résolution : {moves} : trop grossier pour juger vite, une hausse de moins de ~{f:.0}× ne se voit pas en deux jours"),
            format!("resolution: {moves}: too coarse to judge quickly, changes under ~{f:.0}x cannot be seen within two days")
        ),
        None => tr!(
            format!("résolution : {moves} : trop grossier ou trop petit pour juger en quelques jours"),
            format!("resolution: {moves}: too coarse or too small to judge within days")
        ),
    }
}

/// How far back `show` draws rates, and in how many columns (6 hours each).
const SPARK_WINDOW: UnixSeconds = 14 * 86_400;
const SPARK_COLUMNS: usize = 56;

/// One character per column: the rate of the interval covering the column's middle, scaled
/// from zero to the window's highest rate; a space where no interval covers the column.
pub(crate) fn sparkline(
    intervals: &[crate::detect::Interval],
    from: UnixSeconds,
    to: UnixSeconds,
    columns: usize,
) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let width = (to - from).max(1) as f64 / columns.max(1) as f64;
    let values: Vec<Option<f64>> = (0..columns)
        .map(|c| {
            let mid = from + (width * (c as f64 + 0.5)) as i64;
            intervals
                .iter()
                .find(|i| i.start <= mid && mid <= i.end)
                .map(|i| i.rate)
        })
        .collect();
    let max = values.iter().flatten().fold(0.0f64, |a, b| a.max(*b));
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(_) if max <= 0.0 => BARS[0],
            Some(v) => BARS[((v / max) * 7.0).round().clamp(0.0, 7.0) as usize],
        })
        .collect()
}

/// `1234.5` → `1,234`, `12.25` → `12.2`: rates are estimates, read by people.
fn human_rate(v: f64) -> String {
    if v.abs() < 100.0 {
        return format!("{v:.1}");
    }
    crate::digest::locale::group_digits(v.round() as i64, ',')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Interval;

    #[test]
    fn sparkline_scales_rates_and_leaves_gaps_blank() {
        let iv = |start, end, rate| Interval {
            start,
            end,
            rate,
            step: 1.0,
            moved: true,
            shown: rate * (end - start) as f64 / 3600.0,
        };
        let line = sparkline(
            &[iv(0, 200, 10.0), iv(200, 400, 80.0), iv(600, 800, 40.0)],
            0,
            800,
            4,
        );
        assert_eq!(line, "▂█ ▅");
        assert_eq!(sparkline(&[iv(0, 100, 0.0)], 0, 100, 2), "▁▁");
    }

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/store")
            .join(name)
    }

    fn export_csv(state: &Path) -> String {
        let mut out = Vec::new();
        export_to(state, ExportFormat::Csv, &[], None, None, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn import_is_all_or_nothing_and_export_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            import_file(dir.path(), &fixture("samples.csv")).unwrap(),
            (11, 4)
        );
        let before = export_csv(dir.path());
        assert_eq!(before.lines().count(), 12);
        let err = import_file(dir.path(), &fixture("bad_value.csv")).unwrap_err();
        assert!(matches!(err, CommandError::User(_)));
        assert!(
            err.error()
                .to_string()
                .ends_with("bad_value.csv:4: value `beaucoup` is not a finite number"),
            "{:#}",
            err.error()
        );
        assert_eq!(export_csv(dir.path()), before);
    }

    #[test]
    fn rates_read_like_numbers() {
        assert_eq!(human_rate(1_234_567.4), "1,234,567");
        assert_eq!(human_rate(12.25), "12.2");
        assert_eq!(human_rate(999.6), "1,000");
    }
}
