//! Each collection and digest of the daemon runs in a short-lived child process.
//!
//! `trendwatch run` keeps only its schedules, signals and systemd conversation in the
//! long-lived process; a due job starts `trendwatch run --worker JOB`, which does the job
//! (opening the store for each short step, never while it waits on the network), writes the status snapshot and exits. So the idle daemon holds no store, no
//! HTTP client and none of a pass's memory: sled keeps seven I/O threads that poll once a
//! second for the life of any process that opened a store, and those now live only as long as
//! a pass (BENCHMARKS.md, "Daemon"). A worker stops when its stdin closes (the daemon stopped
//! or died) or on SIGTERM/SIGINT, giving requests in flight a grace period; it never talks to
//! systemd.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::schedule;
use crate::collect::Collector;
use crate::config::{Config, ConfigTexts, Watchlist};
use crate::logging::LogFormat;
use crate::pipeline;
use crate::store::access::{Reopening, StoreAccess as _};
use crate::store::{Store, StoreError};

/// How long requests in flight may finish after a stop request.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(5);
/// How long each step of a worker waits for a store another process holds (an
/// administrator's `export` of years of samples, a worker of a daemon that was killed,
/// finishing its grace period): a pass's chunk of pages waits rather than being lost.
const STORE_WAIT: Duration = Duration::from_secs(600);
/// How long the mail worker waits for the store between two sends.
const DIGEST_STORE_WAIT: Duration = Duration::from_secs(6 * 3600);

/// What a worker process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WorkerJob {
    /// At start: collect if a collection was missed while stopped, and send one digest if
    /// one was missed (any number of missed ticks make one catch-up run).
    CatchUp,
    /// One collection pass, detection, then a retry of pending digests.
    Collect,
    /// Build the digest and write it to the outbox.
    Digest,
    /// Send what the outbox holds that is due: new digests and retries.
    Mail,
}

impl WorkerJob {
    fn as_arg(self) -> &'static str {
        match self {
            Self::CatchUp => "catch-up",
            Self::Collect => "collect",
            Self::Digest => "digest",
            Self::Mail => "mail",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum WorkerError {
    #[error("cannot start a worker process")]
    Spawn(#[source] std::io::Error),
    #[error("cannot hand the config to a worker process")]
    Handover(#[source] serde_json::Error),
    #[error("the {job} worker failed (exit status {code})")]
    Failed { job: &'static str, code: String },
    #[error("the {0} worker did not stop in time and was killed")]
    Killed(&'static str),
}

/// The binary to start: this very executable, even if a package upgrade replaced the file.
fn own_executable() -> PathBuf {
    let proc_self = PathBuf::from("/proc/self/exe");
    if proc_self.exists() {
        return proc_self;
    }
    std::env::current_exe().unwrap_or_else(|_| PathBuf::from("trendwatch"))
}

/// Runs `job` in a child process and waits for it. When `stop` fires, the child's stdin is
/// closed so it winds down; it is killed if it is still there after the grace period.
pub(crate) async fn run_in_child(
    config_path: &Path,
    texts: &ConfigTexts,
    log_format: LogFormat,
    job: WorkerJob,
    stop: &CancellationToken,
) -> Result<(), WorkerError> {
    let mut cmd = tokio::process::Command::new(own_executable());
    // Named as the user knows it in `ps` and `systemctl status`, not `/proc/self/exe`.
    cmd.arg0(
        std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "trendwatch".to_string()),
    )
    .arg("-c")
    .arg(config_path)
    .arg("--log-format")
    .arg(match log_format {
        LogFormat::Text => "text",
        LogFormat::Json => "json",
    })
    .args(["run", "--worker", job.as_arg()])
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::inherit())
    .env_remove("NOTIFY_SOCKET")
    .env_remove("WATCHDOG_USEC")
    .env_remove("WATCHDOG_PID")
    .kill_on_drop(true);
    if std::env::var_os(crate::clock::SIMULATED_CLOCK_ENV).is_some() {
        // The child's simulated clock carries on from this one's instead of restarting.
        cmd.env(
            crate::clock::SIMULATED_CLOCK_ENV,
            format!("{},{}", crate::clock::now_f64(), crate::clock::scale()),
        );
    }
    let mut child = cmd.spawn().map_err(WorkerError::Spawn)?;
    let mut stdin = child.stdin.take();
    // The last good config first, as one JSON line; then stdin stays open until we stop.
    if let Some(pipe) = stdin.as_mut() {
        let mut line = serde_json::to_vec(texts).map_err(WorkerError::Handover)?;
        line.push(b'\n');
        pipe.write_all(&line).await.map_err(WorkerError::Spawn)?;
        pipe.flush().await.map_err(WorkerError::Spawn)?;
    }
    let status = tokio::select! {
        status = child.wait() => status,
        () = stop.cancelled() => {
            drop(stdin);
            match tokio::time::timeout(STOP_GRACE + Duration::from_secs(2), child.wait()).await {
                Ok(status) => status,
                Err(_) => {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    return Err(WorkerError::Killed(job.as_arg()));
                }
            }
        }
    };
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(WorkerError::Failed {
            job: job.as_arg(),
            code: s
                .code()
                .map_or_else(|| "killed by a signal".to_string(), |c| c.to_string()),
        }),
        Err(e) => Err(WorkerError::Spawn(e)),
    }
}

/// Cancels `token` when stdin reaches its end (the daemon closed it or died) or on
/// SIGTERM/SIGINT.
fn cancel_on_stop(mut stdin: tokio::io::BufReader<tokio::io::Stdin>, token: CancellationToken) {
    let on_stdin = token.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 64];
        loop {
            match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
        on_stdin.cancel();
    });
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        token.cancel();
    });
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum WorkError {
    #[error("cannot read the config from the daemon")]
    Handover(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Cycle(#[from] pipeline::PipelineError),
}

/// The child's side: reads the config the daemon validated from stdin, does `job` and
/// returns; the caller turns an error into the exit status.
pub(crate) async fn work(config_path: &Path, job: WorkerJob) -> Result<(), WorkError> {
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let mut line = String::new();
    stdin
        .read_line(&mut line)
        .await
        .map_err(|e| WorkError::Handover(e.into()))?;
    let texts: ConfigTexts =
        serde_json::from_str(&line).map_err(|e| WorkError::Handover(e.into()))?;
    let (cfg, watchlist) = crate::config::load_from_texts(config_path, &texts)?;
    let cancel = CancellationToken::new();
    cancel_on_stop(stdin, cancel.clone());
    Ok(work_on(&cfg, &watchlist, job, &cancel).await?)
}

async fn work_on(
    cfg: &Config,
    watchlist: &Watchlist,
    job: WorkerJob,
    cancel: &CancellationToken,
) -> Result<(), pipeline::PipelineError> {
    if job == WorkerJob::Mail {
        return send_outbox(cfg, cancel).await;
    }
    let store = Reopening::new(
        &cfg.state_dir,
        crate::clock::real_duration(STORE_WAIT).max(Duration::from_secs(1)),
        cancel,
    );
    let outcome = {
        let job_done = run_job(&store, cfg, watchlist, job, cancel);
        tokio::pin!(job_done);
        tokio::select! {
            r = &mut job_done => r,
            () = async {
                cancel.cancelled().await;
                tokio::time::sleep(STOP_GRACE).await;
            } => {
                tracing::warn!(
                    "{} still running {} s after the stop request: leaving it",
                    job.as_arg(),
                    STOP_GRACE.as_secs()
                );
                Ok(None)
            }
        }
    };
    // What `status` falls back on. After a stop request it is written only if the store is
    // free: a stop never waits on another process.
    let snapshot = store
        .with(|s| {
            pipeline::write_status_snapshot(s, cfg, watchlist);
            Ok::<_, StoreError>(())
        })
        .await;
    if let Err(e) = snapshot {
        tracing::warn!(
            "the status snapshot was not written: {}",
            crate::error::Chain(&e)
        );
    }
    if let Some(queued) = outcome? {
        tracing::info!(
            "digest with {} ({}) queued for {}",
            crate::digest::locale::plural(queued.items as i64, "item", "items"),
            queued.item.id,
            cfg.digest.recipients()
        );
    }
    Ok(())
}

/// The mail worker: sends what is due without holding the store while it waits on the
/// network; the store is opened for each short write (what was delivered, to whom).
async fn send_outbox(
    cfg: &Config,
    cancel: &CancellationToken,
) -> Result<(), pipeline::PipelineError> {
    let access = crate::store::access::Reopening::new(
        &cfg.state_dir,
        crate::clock::real_duration(DIGEST_STORE_WAIT).max(Duration::from_secs(1)),
        cancel,
    );
    // Each sent or failed item is logged by the flush itself.
    pipeline::flush_outbox(&access, cfg).await?;
    Ok(())
}

/// Does `job`; returns the digest it wrote to the outbox, if any. Sending is the mail
/// worker's.
async fn run_job(
    store: &Reopening<'_>,
    cfg: &Config,
    watchlist: &Watchlist,
    job: WorkerJob,
    cancel: &CancellationToken,
) -> Result<Option<pipeline::QueuedDigest>, pipeline::PipelineError> {
    // Writes the digest now when `due` says the latest tick made none.
    let digest_if = |due: fn(&Store, &Config) -> Result<bool, StoreError>| {
        store.with(move |s| match due(s, cfg)? {
            true => Ok(Some(pipeline::queue_digest(s, cfg, watchlist)?)),
            false => Ok::<_, pipeline::PipelineError>(None),
        })
    };
    match job {
        WorkerJob::Collect => {
            collect(store, cfg, watchlist, cancel).await?;
            if cancel.is_cancelled() {
                return Ok(None);
            }
            // A digest tick whose digest was not made (its worker failed or was killed) is
            // made now, once: never later than one pass after its time.
            let queued = digest_if(|s, cfg| digest_due(s, cfg, false)).await?;
            if queued.is_some() {
                tracing::info!("the last digest tick made no digest: it was made now");
            }
            Ok(queued)
        }
        WorkerJob::Digest => {
            // The collection before this may have made it already.
            let queued = digest_if(|s, cfg| digest_due(s, cfg, true)).await?;
            if queued.is_none() {
                tracing::info!("the digest of this tick was already made");
            }
            Ok(queued)
        }
        // Never opens the store here: see `send_outbox`.
        WorkerJob::Mail => Ok(None),
        WorkerJob::CatchUp => {
            let now = crate::clock::now();
            let (missed_collect, missed_digest) = store
                .with(|s| {
                    let tz = cfg.timezone;
                    let last_collect = pipeline::get_time(s, pipeline::LAST_COLLECT_AT)?;
                    let last_digest = pipeline::get_time(s, pipeline::LAST_DIGEST_AT)?;
                    if last_digest.is_none() {
                        // First start: digests count from now, so a later downtime is noticed.
                        pipeline::set_time(s, pipeline::LAST_DIGEST_AT, now)?;
                    }
                    Ok::<_, StoreError>((
                        last_collect.is_none()
                            || schedule::missed(&cfg.collect.schedule, tz, last_collect, now),
                        schedule::missed(&cfg.digest.schedule, tz, last_digest, now),
                    ))
                })
                .await?;
            if missed_collect {
                tracing::info!("a collection was missed while stopped: collecting now");
                collect(store, cfg, watchlist, cancel).await?;
            }
            if missed_digest && !cancel.is_cancelled() {
                tracing::info!("a digest was missed while stopped: sending one catch-up digest");
                return Ok(Some(
                    store
                        .with(|s| pipeline::queue_digest(s, cfg, watchlist))
                        .await?,
                ));
            }
            Ok(None)
        }
    }
}

async fn collect(
    store: &Reopening<'_>,
    cfg: &Config,
    watchlist: &Watchlist,
    cancel: &CancellationToken,
) -> Result<(), pipeline::PipelineError> {
    let collector = Collector::new(&cfg.collect)?;
    let started = std::time::Instant::now();
    let r = pipeline::collect_pass(store, &collector, cfg, watchlist, cancel, None).await?;
    tracing::info!(
        "collected {} ({} failed) in {:.1} s; {}",
        crate::digest::locale::plural(r.entities as i64, "entity", "entities"),
        r.failed,
        started.elapsed().as_secs_f64(),
        crate::digest::locale::plural(r.trends as i64, "trend", "trends")
    );
    Ok(())
}

/// Whether the latest digest tick has not produced its digest yet; `unrecorded` is the
/// answer when no digest was ever recorded (the daemon records the time of its first start).
fn digest_due(store: &Store, cfg: &Config, unrecorded: bool) -> Result<bool, StoreError> {
    let now = crate::clock::now();
    Ok(match pipeline::get_time(store, pipeline::LAST_DIGEST_AT)? {
        Some(last) => schedule::missed(&cfg.digest.schedule, cfg.timezone, Some(last), now),
        None => unrecorded,
    })
}
