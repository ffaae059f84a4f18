//! The long-running service: schedules, live reload, signals, sd_notify and the watchdog.
//!
//! One loop owns the daemon's state. Signals and file changes arrive on one channel
//! ([`control`]); due ticks come from the schedules ([`schedule`]); work runs in spawned
//! tasks tracked for shutdown, so the loop (and with it the watchdog heartbeat) never waits
//! on a collection. A job never overlaps itself: a tick that finds its job still running is
//! skipped with a log line. This module must never exit on a bad reload or a failed stage:
//! only SIGTERM/SIGINT or an unusable store stop it.

pub mod control;
pub mod cycle;
pub mod logging;
pub mod notify;
pub mod reload;
pub mod schedule;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::collect::Collector;
use crate::config::{Config, Watchlist};
use crate::model::UnixSeconds;
use crate::store::Store;
use control::Control;

/// How long a running collection may keep its requests in flight after a stop request.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// The loop wakes at least this often even with no tick due (keeps the heartbeat fresh).
const MAX_IDLE_WAKE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot build the HTTP client: {0}")]
    Collector(#[from] crate::collect::CollectError),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// The config the daemon runs on, swapped whole on a successful reload.
#[derive(Clone)]
struct Running {
    cfg: Arc<Config>,
    watchlist: Arc<Watchlist>,
    collector: Arc<Collector>,
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
    store: Store,
    current: RwLock<Running>,
    collecting: Arc<JobFlag>,
    digesting: Arc<JobFlag>,
    /// Milliseconds since `started` when the loop last went round: the watchdog pings only
    /// while this is fresh.
    heartbeat_ms: AtomicU64,
    started: Instant,
    failing: AtomicU64,
    /// Stops collections: no new request starts once it fires.
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

/// Runs the daemon until SIGTERM/SIGINT. `store` is already open (and so locked).
pub async fn serve(
    config_path: PathBuf,
    cfg: Config,
    watchlist: Watchlist,
    store: Store,
) -> Result<(), DaemonError> {
    let (tx, mut rx) = mpsc::channel::<Control>(16);
    // Handlers first: a signal sent right after READY must be handled, not kill us.
    control::spawn_signals(tx.clone()).map_err(DaemonError::Signals)?;
    let _watcher = match control::spawn_file_watch(
        vec![cfg.path.clone(), cfg.watchlist_path.clone()],
        tx.clone(),
    ) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("file changes will not be noticed (reload with SIGHUP): {e}");
            None
        }
    };
    let collector = Arc::new(Collector::new(&cfg.collect)?);
    let shared = Arc::new(Shared {
        store,
        current: RwLock::new(Running {
            cfg: Arc::new(cfg),
            watchlist: Arc::new(watchlist),
            collector,
        }),
        collecting: Arc::default(),
        digesting: Arc::default(),
        heartbeat_ms: AtomicU64::new(0),
        started: Instant::now(),
        failing: AtomicU64::new(0),
        work_cancel: CancellationToken::new(),
    });
    let tracker = TaskTracker::new();
    let stop_watchdog = CancellationToken::new();
    if let Some(timeout) = notify::watchdog_timeout() {
        spawn_watchdog(shared.clone(), timeout, stop_watchdog.clone());
    }

    // Catch-up: one run for any number of missed ticks.
    let now = crate::clock::now();
    let run = shared.running();
    let last_collect = cycle::get_time(&shared.store, cycle::LAST_COLLECT_AT)?;
    let last_digest = cycle::get_time(&shared.store, cycle::LAST_DIGEST_AT)?;
    let tz = run.cfg.timezone;
    let catch_up_collect = last_collect.is_none()
        || schedule::missed(&run.cfg.collect.schedule, tz, last_collect, now);
    let catch_up_digest = schedule::missed(&run.cfg.digest.schedule, tz, last_digest, now);
    if last_digest.is_none() {
        // First start: digests count from now, so a later downtime is noticed.
        cycle::set_time(&shared.store, cycle::LAST_DIGEST_AT, now)?;
    }
    let mut next_collect = schedule::next_after(&run.cfg.collect.schedule, tz, now);
    let mut next_digest = schedule::next_after(&run.cfg.digest.schedule, tz, now);
    shared.beat();
    notify::ready();
    tracing::info!(
        "trendwatch running: {} entities, next collection {}, next digest {}",
        run.watchlist.entities().len(),
        schedule::display(tz, next_collect),
        schedule::display(tz, next_digest)
    );
    drop(run);
    if catch_up_collect {
        tracing::info!("a collection was missed while stopped: collecting now");
        start_collect(&shared, &tracker, catch_up_digest);
    } else if catch_up_digest {
        tracing::info!("a digest was missed while stopped: sending one catch-up digest");
        start_digest(&shared, &tracker);
    }
    {
        let s = shared.clone();
        tracker.spawn(async move {
            if let Ok(Ok(n)) = tokio::task::spawn_blocking({
                let store = s.store.clone();
                move || cycle::failing_entities(&store)
            })
            .await
            {
                s.failing.store(n as u64, Ordering::Relaxed);
            }
            write_status_snapshot(&s);
        });
    }
    publish_status(&shared, next_collect, next_digest);

    let reason = loop {
        shared.beat();
        let now = crate::clock::now();
        let due = [next_collect, next_digest].into_iter().flatten().min();
        let wait = due
            .map(|d| crate::clock::real_duration(Duration::from_secs((d - now).max(0) as u64)))
            .unwrap_or(MAX_IDLE_WAKE)
            .min(wake_interval());
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(Control::Stop(sig)) => break sig,
                Some(Control::Reload(why)) => {
                    do_reload(&shared, &config_path, &why);
                    let run = shared.running();
                    let now = crate::clock::now();
                    next_collect = schedule::next_after(&run.cfg.collect.schedule, run.cfg.timezone, now);
                    next_digest = schedule::next_after(&run.cfg.digest.schedule, run.cfg.timezone, now);
                    publish_status(&shared, next_collect, next_digest);
                    notify::ready();
                }
                None => break "control channel closed",
            },
            () = tokio::time::sleep(wait) => {
                let now = crate::clock::now();
                let run = shared.running();
                let tz = run.cfg.timezone;
                let mut changed = false;
                if next_collect.is_some_and(|t| t <= now) {
                    start_collect(&shared, &tracker, false);
                    next_collect = schedule::next_after(&run.cfg.collect.schedule, tz, now);
                    changed = true;
                }
                if next_digest.is_some_and(|t| t <= now) {
                    start_digest(&shared, &tracker);
                    next_digest = schedule::next_after(&run.cfg.digest.schedule, tz, now);
                    changed = true;
                }
                if changed {
                    publish_status(&shared, next_collect, next_digest);
                }
            }
        }
    };

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
    shared.store.flush()?;
    tracing::info!("stopped");
    Ok(())
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

fn publish_status(
    shared: &Shared,
    next_collect: Option<UnixSeconds>,
    next_digest: Option<UnixSeconds>,
) {
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
        Ok((cfg, watchlist)) => {
            let old = shared.running();
            let collector = match Collector::new(&cfg.collect) {
                Ok(c) => Arc::new(c),
                Err(e) => {
                    tracing::error!("{}: {e} (keeping the last good config)", cfg.path.display());
                    return;
                }
            };
            let (added, removed) = reload::diff(&old.watchlist, &watchlist);
            let new = Running {
                cfg: Arc::new(cfg),
                watchlist: Arc::new(watchlist),
                collector,
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

/// Writes what `trendwatch status` shows while the daemon holds the store.
fn write_status_snapshot(shared: &Shared) {
    let run = shared.running();
    let written = crate::status::StatusReport::build(
        &shared.store,
        &run.cfg,
        &run.watchlist,
        crate::clock::now(),
    )
    .map_err(|e| e.to_string())
    .and_then(|r| {
        r.save_snapshot(&run.cfg.state_dir)
            .map_err(|e| e.to_string())
    });
    if let Err(e) = written {
        tracing::warn!("cannot write the status snapshot: {e}");
    }
}

fn start_collect(shared: &Arc<Shared>, tracker: &TaskTracker, then_digest: bool) {
    let Some(guard) = shared.collecting.try_start() else {
        tracing::warn!("collection tick skipped: the previous collection is still running");
        return;
    };
    let s = shared.clone();
    let digest_tracker = tracker.clone();
    tracker.spawn(async move {
        let run = s.running();
        let started = Instant::now();
        match cycle::collect_pass(
            &s.store,
            &run.collector,
            &run.cfg,
            &run.watchlist,
            &s.work_cancel,
        )
        .await
        {
            Ok(r) => tracing::info!(
                "collected {} entities ({} failed) in {:.1} s; {} trends",
                r.entities,
                r.failed,
                started.elapsed().as_secs_f64(),
                r.trends
            ),
            Err(e) => tracing::error!("collection failed: {e}"),
        }
        // Retries of digests a mail outage left in the outbox ride on collection ticks.
        if let Err(e) = cycle::flush_outbox(&s.store, &run.cfg).await {
            tracing::warn!("outbox flush failed: {e}");
        }
        if let Ok(n) = cycle::failing_entities(&s.store) {
            s.failing.store(n as u64, Ordering::Relaxed);
        }
        write_status_snapshot(&s);
        drop(guard);
        if then_digest && !s.work_cancel.is_cancelled() {
            tracing::info!("a digest was missed while stopped: sending one catch-up digest");
            start_digest(&s, &digest_tracker);
        }
    });
}

fn start_digest(shared: &Arc<Shared>, tracker: &TaskTracker) {
    let Some(guard) = shared.digesting.try_start() else {
        tracing::warn!("digest tick skipped: the previous digest is still running");
        return;
    };
    let s = shared.clone();
    tracker.spawn(async move {
        let run = s.running();
        match cycle::digest_pass(&s.store, &run.cfg, &run.watchlist).await {
            Ok(items) => tracing::info!("digest with {items} items queued"),
            Err(e) => tracing::error!("digest failed: {e}"),
        }
        write_status_snapshot(&s);
        drop(guard);
    });
}

/// `run --once`: one collection, detection, then a digest queued and flushed. The error
/// names the stage that failed.
pub async fn once(
    cfg: &Config,
    watchlist: &Watchlist,
    store: &Store,
) -> Result<(), cycle::CycleError> {
    let collector = Collector::new(&cfg.collect)?;
    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.cancel();
        }
    });
    let r = cycle::collect_pass(store, &collector, cfg, watchlist, &cancel).await?;
    tracing::info!(
        "collected {} entities ({} failed); {} trends",
        r.entities,
        r.failed,
        r.trends
    );
    let items = cycle::digest_pass(store, cfg, watchlist).await?;
    tracing::info!("digest with {items} items queued and flushed");
    store.flush()?;
    Ok(())
}
