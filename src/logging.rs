//! Logs go to journald when stderr is the journal, else to a readable terminal format
//! (or JSON lines for log shippers). Filters follow `RUST_LOG`.

use std::io::IsTerminal;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// How log lines are written when stderr is not the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// True when systemd connected stderr to the journal (`JOURNAL_STREAM` = its dev:inode).
fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = stream.to_str().and_then(|s| s.split_once(':')) else {
        return false;
    };
    let Ok(meta) = std::fs::metadata("/proc/self/fd/2") else {
        return false;
    };
    dev.parse::<u64>().ok() == Some(meta.dev()) && ino.parse::<u64>().ok() == Some(meta.ino())
}

/// Installs the global subscriber once; later calls are ignored.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // The scheduler logs each job it creates at info: one line per planned run is noise.
    // The browser driver warns of every DevTools event it has no type for (new Chromium
    // releases add some): nothing a user can act on; its errors still show.
    let filter = ["tokio_cron_scheduler=warn", "chromiumoxide=error"]
        .into_iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, |f, quiet| f.add_directive(quiet));
    let registry = tracing_subscriber::registry().with(filter);
    if stderr_is_journal() {
        if let Ok(journald) = tracing_journald::layer() {
            let _ = registry.with(journald).try_init();
            return;
        }
    }
    let _ = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_ansi(false),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(
                fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_target(false)
                    // Colour only for a person at a terminal: never into a file or a pipe.
                    .with_ansi(std::io::stderr().is_terminal()),
            )
            .try_init(),
    };
}
