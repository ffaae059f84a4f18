//! `trendwatch run [--once]`: the daemon, or one full cycle.
//!
//! A second `run` (or a `run --once`) on the same state directory fails fast (exit 2) with a
//! message naming the directory: the daemon's lock file is the single-instance guard.
//! `--worker` is the daemon's own: it runs one job in a child process (see `daemon::worker`).

use super::{Cli, CommandError, CommandResult};
use crate::daemon::worker::WorkerJob;
use crate::daemon::DaemonLock;
use crate::store::Store;

pub(super) fn run(cli: &Cli, once: bool, worker: Option<WorkerJob>) -> CommandResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CommandError::runtime)?;
    if let Some(job) = worker {
        let path = super::config_path(cli);
        let done = runtime.block_on(crate::daemon::worker::work(&path, job));
        // The task watching stdin sits in a blocking read that would hold a normal shutdown.
        runtime.shutdown_background();
        return done.map_err(|e| {
            CommandError::runtime(anyhow::Error::new(e).context(format!("the {job:?} job failed")))
        });
    }
    let path = super::config_path(cli);
    let (mut cfg, watchlist, texts) =
        crate::config::load_keeping_texts(&path).map_err(CommandError::user)?;
    super::say::from_config(&cfg);
    if once {
        // One cycle by root on the service's store is done as the store's user, like every
        // other command. The daemon itself is the service's to run.
        super::owner::become_store_owner(&mut cfg.state_dir)?;
    }
    crate::store::check_owner(&cfg.state_dir).map_err(|e| match e {
        crate::store::StoreError::OtherOwner { owner, me: 0, .. } => {
            CommandError::runtime(anyhow::anyhow!(
                "{} {owner}",
                super::say::pick(
                    "le démon est celui du service : lancez `systemctl start trendwatch` plutôt que `trendwatch run` en root ; la base appartient à l'utilisateur",
                    "the daemon is the service's: start it with `systemctl start trendwatch` rather than `trendwatch run` as root; the store belongs to user"
                ),

            ))
        }
        e => CommandError::runtime(e),
    })?;
    crate::config::remember_watchlist(&cfg.state_dir, &texts.watchlist);
    if once {
        // The service's lock: a one-off cycle beside the running service would collect and
        // mail twice.
        let _lock = DaemonLock::acquire(&cfg.state_dir).map_err(CommandError::runtime)?;
        let store = Store::open(&cfg.state_dir).map_err(CommandError::runtime)?;
        let report = runtime
            .block_on(crate::pipeline::once(&cfg, &watchlist, &store))
            .map_err(|e| match e {
                // Only building the HTTP client from the config fails this way: exit 1.
                crate::pipeline::PipelineError::Collect(_) => {
                    CommandError::user(anyhow::Error::new(e).context("run --once failed"))
                }
                _ => CommandError::runtime(anyhow::Error::new(e).context("run --once failed")),
            })?;
        let p = &report.pass;
        let plural = crate::digest::locale::plural;
        let to = &report.digest.delivered_to;
        let failed = p.failed;
        println!(
            "{}",
            crate::language::tr!(
                format!(
                    "collecté : {} ({failed} en échec), {} ; résumé de {} remis à {to}",
                    plural(p.entities as i64, "source", "sources"),
                    plural(p.trends as i64, "tendance", "tendances"),
                    plural(report.digest.items as i64, "élément", "éléments"),
                ),
                format!(
                    "collected {} ({failed} failed), {}; digest with {} delivered to {to}",
                    plural(p.entities as i64, "source", "sources"),
                    plural(p.trends as i64, "trend", "trends"),
                    plural(report.digest.items as i64, "item", "items"),
                )
            )
        );
        if p.all_failed() {
            return Err(CommandError::runtime(anyhow::anyhow!(
                "{}",
                crate::language::tr!(
                    format!(
                        "{} ; rien de nouveau n'a été collecté (la rubrique sur l'état de la collecte du résumé le dit)",
                        p.all_failed_message()
                    ),
                    format!(
                        "{}; nothing new was collected (the digest's health section says so)",
                        p.all_failed_message()
                    )
                )
            )));
        }
        return Ok(());
    }
    let lock = DaemonLock::acquire(&cfg.state_dir).map_err(CommandError::runtime)?;
    runtime
        .block_on(crate::daemon::serve(
            path,
            cli.log_format,
            (cfg, watchlist, texts),
            &lock,
        ))
        .map_err(|e| match e {
            // A config the HTTP client cannot use is the user's to fix (exit 1), so the unit's
            // RestartPreventExitStatus=1 stops systemd from restarting into the same error.
            crate::daemon::DaemonError::Collector(_) => CommandError::user(anyhow::Error::new(e)),
            _ => CommandError::runtime(anyhow::Error::new(e)),
        })
}
