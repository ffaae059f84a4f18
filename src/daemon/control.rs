//! The control plane: signals, file changes and scheduler ticks become [`Control`] messages
//! on one channel.
//!
//! Signal handlers are installed by [`spawn`] before the daemon says READY, so a SIGHUP or
//! SIGTERM sent right after never kills the process with the default action. Nothing here
//! acts on a message; the daemon loop does, in one place.

use std::path::PathBuf;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

/// What the outside world asks of the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Control {
    /// SIGHUP or a changed config/watchlist file: re-read both.
    Reload(String),
    /// SIGTERM or SIGINT: finish up and exit.
    Stop(&'static str),
    /// The scheduler: the run of a job planned for this time is due.
    Tick(super::worker::WorkerJob, crate::model::UnixSeconds),
}

/// Installs the signal handlers and forwards them to `tx`.
pub(crate) fn spawn_signals(tx: mpsc::Sender<Control>) -> std::io::Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            let msg = tokio::select! {
                Some(()) = term.recv() => Control::Stop("SIGTERM"),
                Some(()) = int.recv() => Control::Stop("SIGINT"),
                Some(()) = hup.recv() => Control::Reload("SIGHUP".to_string()),
                else => break,
            };
            if tx.send(msg).await.is_err() {
                break;
            }
        }
    });
    Ok(())
}

/// How long file events are gathered before one reload: editors write a file in several
/// steps (temp file, rename, chmod).
const DEBOUNCE: Duration = Duration::from_millis(500);

/// Watches the directories holding `files` (editors replace files, so watching the file
/// itself would lose it after the first save) and sends one reload per burst of changes.
/// The returned watcher must be kept alive.
pub(crate) fn spawn_file_watch(
    files: Vec<PathBuf>,
    tx: mpsc::Sender<Control>,
) -> Result<notify::RecommendedWatcher, notify::Error> {
    use notify::Watcher as _;
    let (raw_tx, mut raw_rx) = mpsc::unbounded_channel::<PathBuf>();
    let wanted: Vec<PathBuf> = files.iter().map(|f| canonical(f)).collect();
    let names: Vec<std::ffi::OsString> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_os_string()))
        .collect();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        // Reading a file or changing its mode or owner changes nothing trendwatch reads.
        if event.kind.is_access()
            || matches!(
                event.kind,
                notify::EventKind::Modify(notify::event::ModifyKind::Metadata(_))
            )
        {
            return;
        }
        for p in event.paths {
            if p.file_name().is_some_and(|n| names.iter().any(|w| w == n)) {
                let _ = raw_tx.send(p);
            }
        }
    })?;
    let mut dirs: Vec<PathBuf> = wanted
        .iter()
        .filter_map(|f| f.parent().map(|p| p.to_path_buf()))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        watcher.watch(d, notify::RecursiveMode::NonRecursive)?;
    }
    tokio::spawn(async move {
        while let Some(first) = raw_rx.recv().await {
            // Gather the rest of the burst.
            loop {
                match tokio::time::timeout(DEBOUNCE, raw_rx.recv()).await {
                    Ok(Some(_)) => continue,
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            let name = first.display().to_string();
            if tx
                .send(Control::Reload(format!("{name} changed")))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    Ok(watcher)
}

fn canonical(p: &std::path::Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or(abs.clone()),
        _ => abs,
    }
}
