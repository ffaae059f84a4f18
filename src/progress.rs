//! Progress of long commands (`collect`, `run --once`, `import`, `backtest`): a bar on a
//! terminal, a plain log line every few seconds otherwise, so a person waiting on a slow or
//! offline network sees that work goes on, and a log file never gets escape codes.
//!
//! The daemon's worker never shows progress: its log lines are per pass.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the plain form logs a line.
const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// Told of each unit of work as it finishes. `Sync` because collection tasks run in parallel.
pub trait Progress: Send + Sync {
    fn done(&self, failed: bool);
}

/// Says nothing: for the daemon and for tests.
pub(crate) struct Quiet;

impl Progress for Quiet {
    fn done(&self, _failed: bool) {}
}

/// A bar on a terminal, or a periodic line on stderr.
pub(crate) struct Reporter {
    what: &'static str,
    total: u64,
    done: AtomicU64,
    failed: AtomicU64,
    bar: Option<ProgressBar>,
    last_line: Mutex<Instant>,
}

impl Reporter {
    /// `what` names the units (`entities`, `steps`); `total` how many there are.
    pub(crate) fn new(what: &'static str, total: usize) -> Self {
        let total = total as u64;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{bar:30} {pos}/{len} {prefix} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(what);
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Self {
            what,
            total,
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            bar,
            last_line: Mutex::new(Instant::now()),
        }
    }

    /// Removes the bar (the command prints its own summary).
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn line(&self, done: u64, failed: u64) -> String {
        let total = self.total;
        match (failed > 0, crate::language::french()) {
            (true, true) => format!("{done}/{total} terminés, {failed} en échec"),
            (false, true) => format!("{done}/{total} terminés"),
            (true, false) => format!("{done}/{total} {} done, {failed} failed", self.what),
            (false, false) => format!("{done}/{total} {} done", self.what),
        }
    }
}

impl Progress for Reporter {
    fn done(&self, failed: bool) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let failures = self.failed.load(Ordering::Relaxed) + u64::from(failed);
        if failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        match &self.bar {
            Some(bar) => {
                bar.set_position(done);
                if failures > 0 {
                    bar.set_message(format!("· {failures} failed"));
                }
            }
            None => {
                let Ok(mut last) = self.last_line.lock() else {
                    return;
                };
                if last.elapsed() >= PLAIN_EVERY || done == self.total {
                    *last = Instant::now();
                    eprintln!("{}", self.line(done, failures));
                }
            }
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_line_counts_done_and_failed() {
        let r = Reporter::new("entities", 3);
        r.done(false);
        r.done(true);
        assert_eq!(r.done.load(Ordering::Relaxed), 2);
        assert_eq!(r.line(2, 1), "2/3 entities done, 1 failed");
        assert_eq!(r.line(3, 0), "3/3 entities done");
    }
}
