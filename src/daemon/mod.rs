//! The long-running service: schedules, live reload, signals, sd_notify and the watchdog.
//!
//! One loop owns the daemon's state. Signals, file changes and due runs arrive on one channel
//! ([`control`]); runs are planned from the schedules ([`schedule`]) on tokio-cron-scheduler
//! ([`ticker`]); each job runs in a worker
//! process ([`worker`]) watched by a tracked task, so the loop (and with it the watchdog
//! heartbeat) never waits on a collection and the idle daemon holds no store. A job never
//! overlaps itself: a tick that finds its job still running is skipped with a log line. This
//! module must never exit on a bad reload or a failed job: only SIGTERM/SIGINT stop it.

pub(crate) mod control;
pub(crate) mod notify;
pub(crate) mod reload;
pub(crate) mod schedule;
pub(crate) mod ticker;
pub(crate) mod worker;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::collect::Collector;
use crate::config::{Config, ConfigTexts, Watchlist};
use crate::logging::LogFormat;
use crate::model::UnixSeconds;
use control::Control;
use worker::WorkerJob;

/// How long the workers may take to wind down after a stop request.
const STOP_GRACE: Duration = Duration::from_secs(8);
/// The loop wakes at least this often even with no tick due (keeps the heartbeat fresh).
const MAX_IDLE_WAKE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub(crate) enum DaemonError {
    #[error("cannot install signal handlers")]
    Signals(#[source] std::io::Error),
    #[error("cannot build the HTTP client")]
    Collector(#[from] crate::collect::CollectError),
    #[error("the scheduler failed")]
    Scheduler(#[from] tokio_cron_scheduler::JobSchedulerError),
}

/// The daemon's claim on a state directory: an exclusive lock on `STATE_DIR/daemon.lock`,
/// held for the life of `trendwatch run` (the store's own lock is held only by workers).
#[derive(Debug)]
pub(crate) struct DaemonLock {
    _file: std::fs::File,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum LockError {
    #[error("another trendwatch is already running on the state directory {}; stop it first", .0.display())]
    Held(PathBuf),
    #[error("cannot lock {}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl DaemonLock {
    /// Whether a daemon holds the lock on `state_dir` now (without creating anything).
    pub(crate) fn is_held(state_dir: &Path) -> bool {
        let Ok(file) = std::fs::File::open(state_dir.join("daemon.lock")) else {
            return false;
        };
        matches!(
            file.try_lock_shared(),
            Err(std::fs::TryLockError::WouldBlock)
        )
    }

    /// Takes the lock, or says who has it. The lock goes with the process, even on SIGKILL.
    pub(crate) fn acquire(state_dir: &Path) -> Result<DaemonLock, LockError> {
        let path = state_dir.join("daemon.lock");
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let file = crate::files::lock_file(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(DaemonLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LockError::Held(state_dir.to_path_buf())),
            Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
        }
    }
}

/// The config the daemon runs on, swapped whole on a successful reload.
#[derive(Clone)]
struct Running {
    cfg: Arc<Config>,
    watchlist: Arc<Watchlist>,
    /// The texts `cfg` and `watchlist` came from, handed to each worker.
    texts: Arc<ConfigTexts>,
}

/// A job's "already running" flag; a tick that finds it set is skipped.
#[derive(Default)]
struct JobFlag(AtomicBool);

impl JobFlag {
    fn try_start(self: &Arc<Self>) -> Option<JobGuard> {
        if self.0.swap(true, Ordering::AcqRel) {
            None
        } else {
            Some(JobGuard(self.clone()))
        }
    }
}

struct JobGuard(Arc<JobFlag>);

impl Drop for JobGuard {
    fn drop(&mut self) {
        self.0 .0.store(false, Ordering::Release);
    }
}

/// Shared by the loop and its tasks.
struct Shared {
    config_path: PathBuf,
    log_format: LogFormat,
    current: RwLock<Running>,
    collecting: Arc<JobFlag>,
    digesting: Arc<JobFlag>,
    mailing: Arc<JobFlag>,
    /// A job ended while the mail worker was sending: it goes round once more, so what that
    /// job queued is not left for the next one.
    mail_again: AtomicBool,
    /// Milliseconds since `started` when the loop last went round: the watchdog pings only
    /// while this is fresh.
    heartbeat_ms: AtomicU64,
    started: Instant,
    failing: AtomicU64,
    /// The next collection and digest, as last published.
    next_runs: std::sync::Mutex<(Option<UnixSeconds>, Option<UnixSeconds>)>,
    /// Stops the workers: fired on SIGTERM/SIGINT.
    work_cancel: CancellationToken,
}

impl Shared {
    fn running(&self) -> Running {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn beat(&self) {
        self.heartbeat_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Release);
    }

    fn heartbeat_age(&self) -> Duration {
        let now = self.started.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.heartbeat_ms.load(Ordering::Acquire)))
    }
}

/// Runs the daemon until SIGTERM/SIGINT. The caller holds the state directory's
/// [`DaemonLock`]; the store itself is opened only by the workers.
pub(crate) async fn serve(
    config_path: PathBuf,
    log_format: LogFormat,
    (cfg, watchlist, texts): (Config, Watchlist, ConfigTexts),
    _lock: &DaemonLock,
) -> Result<(), DaemonError> {
    let (tx, mut rx) = mpsc::channel::<Control>(16);
    // Handlers first: a signal sent right after READY must be handled, not kill us.
    control::spawn_signals(tx.clone()).map_err(DaemonError::Signals)?;
    let mut watched = cfg.watchlist_path.clone();
    let mut watcher = watch_files(&cfg, &tx);
    // The workers build their own HTTP client; building one here refuses a config they
    // could not use before READY.
    drop(Collector::new(&cfg.collect)?);
    let shared = Arc::new(Shared {
        config_path,
        log_format,
        current: RwLock::new(Running {
            cfg: Arc::new(cfg),
            watchlist: Arc::new(watchlist),
            texts: Arc::new(texts),
        }),
        collecting: Arc::default(),
        digesting: Arc::default(),
        mailing: Arc::default(),
        mail_again: AtomicBool::new(false),
        heartbeat_ms: AtomicU64::new(0),
        started: Instant::now(),
        failing: AtomicU64::new(0),
        next_runs: std::sync::Mutex::new((None, None)),
        work_cancel: CancellationToken::new(),
    });
    let tracker = TaskTracker::new();
    let stop_watchdog = CancellationToken::new();
    if let Some(timeout) = notify::watchdog_timeout() {
        spawn_watchdog(shared.clone(), timeout, stop_watchdog.clone());
    }

    let now = crate::clock::now();
    let run = shared.running();
    let tz = run.cfg.timezone;
    let mut next_collect = schedule::next_after(&run.cfg.collect.schedule, tz, now);
    let mut next_digest = schedule::next_after(&run.cfg.digest.schedule, tz, now);
    let mut ticker = ticker::Ticker::start(tx.clone()).await?;
    ticker.plan(WorkerJob::Collect, next_collect).await?;
    ticker.plan(WorkerJob::Digest, next_digest).await?;
    shared.beat();
    notify::ready();
    tracing::info!(
        "trendwatch running: {} entities, next collection {}, next digest {}",
        run.watchlist.entities().len(),
        schedule::display(tz, next_collect),
        schedule::display(tz, next_digest)
    );
    drop(run);
    read_failing(&shared);
    publish_status(&shared, next_collect, next_digest);
    // Catch-up: the worker collects if a collection was missed, and sends one digest for any
    // number of missed ones.
    start_job(&shared, &tracker, WorkerJob::CatchUp);

    let reason = loop {
        shared.beat();
        // Runs come from the scheduler; the loop only wakes by itself to keep the heartbeat.
        let Ok(msg) = tokio::time::timeout(wake_interval(), rx.recv()).await else {
            continue;
        };
        match msg {
            Some(Control::Stop(sig)) => break sig,
            Some(Control::Reload(why)) => {
                do_reload(&shared, &shared.config_path, &why);
                let run = shared.running();
                if run.cfg.watchlist_path != watched {
                    // `watchlist = …` now names another file: watch that one instead.
                    drop(watcher.take());
                    watched = run.cfg.watchlist_path.clone();
                    watcher = watch_files(&run.cfg, &tx);
                }
                let now = crate::clock::now();
                next_collect =
                    schedule::next_after(&run.cfg.collect.schedule, run.cfg.timezone, now);
                next_digest = schedule::next_after(&run.cfg.digest.schedule, run.cfg.timezone, now);
                replan(&mut ticker, WorkerJob::Collect, next_collect).await;
                replan(&mut ticker, WorkerJob::Digest, next_digest).await;
                publish_status(&shared, next_collect, next_digest);
                notify::ready();
            }
            Some(Control::Tick(job, planned_at)) => {
                let current = match job {
                    WorkerJob::Collect => next_collect,
                    WorkerJob::Digest => next_digest,
                    WorkerJob::CatchUp | WorkerJob::Mail => None,
                };
                if current != Some(planned_at) {
                    // Planned before a reload moved the schedule: that run no longer exists.
                    continue;
                }
                // The scheduler keeps whole seconds and may fire up to one early: a job must
                // not start before its time, or it would judge the previous tick.
                crate::clock::sleep_until(planned_at).await;
                let run = shared.running();
                let tz = run.cfg.timezone;
                // Never before the planned time: the clock's rounding must not plan it twice.
                let after = crate::clock::now().max(planned_at);
                let next = match job {
                    WorkerJob::Collect => {
                        next_collect = schedule::next_after(&run.cfg.collect.schedule, tz, after);
                        next_collect
                    }
                    WorkerJob::Digest => {
                        next_digest = schedule::next_after(&run.cfg.digest.schedule, tz, after);
                        next_digest
                    }
                    WorkerJob::CatchUp | WorkerJob::Mail => None,
                };
                start_job(&shared, &tracker, job);
                replan(&mut ticker, job, next).await;
                publish_status(&shared, next_collect, next_digest);
            }
            None => break "control channel closed",
        }
    };
    ticker.shutdown().await;

    tracing::info!("{reason}: stopping");
    notify::stopping();
    stop_watchdog.cancel();
    shared.work_cancel.cancel();
    tracker.close();
    if tokio::time::timeout(STOP_GRACE, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            "work still running after {} s: stopping without it",
            STOP_GRACE.as_secs()
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// Watches the config and the watchlist it names; without a watcher, SIGHUP still reloads.
fn watch_files(cfg: &Config, tx: &mpsc::Sender<Control>) -> Option<::notify::RecommendedWatcher> {
    match control::spawn_file_watch(
        vec![cfg.path.clone(), cfg.watchlist_path.clone()],
        tx.clone(),
    ) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("file changes will not be noticed (reload with SIGHUP): {e}");
            None
        }
    }
}

/// Plans the next run of `job`; a scheduler that refuses is logged, and the run is planned
/// again at the next reload (the daemon keeps serving what it can).
async fn replan(ticker: &mut ticker::Ticker, job: WorkerJob, at: Option<UnixSeconds>) {
    if let Err(e) = ticker.plan(job, at).await {
        tracing::error!("cannot plan the next {job:?} run: {e}");
    }
}

/// How often the loop goes round at least: often enough for the watchdog to see it alive.
fn wake_interval() -> Duration {
    match notify::watchdog_timeout() {
        Some(t) => (t / 4).max(Duration::from_millis(50)),
        None => MAX_IDLE_WAKE,
    }
}

/// Pings the watchdog at half its timeout, only while the loop's heartbeat is fresh: a stuck
/// loop gets the service restarted.
fn spawn_watchdog(shared: Arc<Shared>, timeout: Duration, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(timeout / 2);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                () = stop.cancelled() => return,
            }
            if shared.heartbeat_age() < timeout / 2 {
                notify::watchdog();
            } else {
                tracing::warn!(
                    "scheduler loop silent for {:?}: not pinging the watchdog",
                    shared.heartbeat_age()
                );
            }
        }
    });
}

/// Tells systemd the next runs and the failing count; remembers the runs so a finished job
/// can publish its new count with them.
fn publish_status(
    shared: &Shared,
    next_collect: Option<UnixSeconds>,
    next_digest: Option<UnixSeconds>,
) {
    match shared.next_runs.lock() {
        Ok(mut g) => *g = (next_collect, next_digest),
        Err(poisoned) => *poisoned.into_inner() = (next_collect, next_digest),
    }
    let tz = shared.running().cfg.timezone;
    let failing = shared.failing.load(Ordering::Relaxed);
    notify::status(&format!(
        "next collection {}, next digest {}; {failing} failing entities",
        schedule::display(tz, next_collect),
        schedule::display(tz, next_digest)
    ));
}

fn do_reload(shared: &Shared, config_path: &std::path::Path, why: &str) {
    notify::reloading();
    tracing::info!("reloading ({why})");
    match reload::load(config_path) {
        Err(e) => tracing::error!("{e} (keeping the last good config)"),
        Ok((cfg, watchlist, texts)) => {
            let old = shared.running();
            // Refuse here what a worker could not build an HTTP client from.
            match Collector::new(&cfg.collect) {
                Ok(c) => drop(c),
                Err(e) => {
                    tracing::error!("{}: {e} (keeping the last good config)", cfg.path.display());
                    return;
                }
            };
            let (added, removed) = reload::diff(&old.watchlist, &watchlist);
            let new = Running {
                cfg: Arc::new(cfg),
                watchlist: Arc::new(watchlist),
                texts: Arc::new(texts),
            };
            match shared.current.write() {
                Ok(mut g) => *g = new,
                Err(poisoned) => *poisoned.into_inner() = new,
            }
            let list = |v: &[crate::model::EntityId]| {
                v.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            tracing::info!(
                "reloaded: {} added [{}], {} removed [{}]",
                added.len(),
                list(&added),
                removed.len(),
                list(&removed)
            );
        }
    }
}

/// Counts the failing entities from the status snapshot the last worker wrote.
fn read_failing(shared: &Shared) {
    let state_dir = shared.running().cfg.state_dir.clone();
    if let Ok(report) = crate::status::StatusReport::load_snapshot(&state_dir) {
        let failing = report
            .entities
            .iter()
            .filter(|e| e.last_failure.as_ref().is_some_and(|f| !f.recovered))
            .count();
        shared.failing.store(failing as u64, Ordering::Relaxed);
    }
}

/// Starts `job` in a worker process unless the same kind of job is still running. Every job
/// but sending ends by starting the mail worker: the others write to the outbox and let go
/// of the store, the mail worker sends what is due, so a slow mail server holds back no
/// collection.
fn start_job(shared: &Arc<Shared>, tracker: &TaskTracker, job: WorkerJob) {
    let flag = match job {
        WorkerJob::Collect | WorkerJob::CatchUp => &shared.collecting,
        WorkerJob::Digest => &shared.digesting,
        WorkerJob::Mail => &shared.mailing,
    };
    let Some(guard) = flag.try_start() else {
        if job == WorkerJob::Mail {
            shared.mail_again.store(true, Ordering::Release);
        } else {
            tracing::warn!("{job:?} tick skipped: the previous one is still running");
        }
        return;
    };
    let s = shared.clone();
    let tracker_again = tracker.clone();
    tracker.spawn(async move {
        let texts = s.running().texts;
        if job == WorkerJob::Mail {
            s.mail_again.store(false, Ordering::Release);
        }
        if let Err(e) =
            worker::run_in_child(&s.config_path, &texts, s.log_format, job, &s.work_cancel).await
        {
            tracing::error!("{}", crate::error::Chain(&e));
        }
        read_failing(&s);
        let (next_collect, next_digest) = match s.next_runs.lock() {
            Ok(g) => *g,
            Err(poisoned) => *poisoned.into_inner(),
        };
        publish_status(&s, next_collect, next_digest);
        drop(guard);
        let mail_next = match job {
            WorkerJob::Mail => s.mail_again.swap(false, Ordering::AcqRel),
            _ => true,
        };
        if mail_next && !s.work_cancel.is_cancelled() && !tracker_again.is_closed() {
            start_job(&s, &tracker_again, WorkerJob::Mail);
        }
    });
}
