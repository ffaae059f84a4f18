//! `trendwatch run [--once]`: the daemon, or one full cycle.
//!
//! A second `run` on the same state directory fails fast (exit 2) with a message naming the
//! directory: the store lock is the single-instance guard.

use super::{Cli, CommandError, CommandResult};
use crate::store::{Store, StoreError};

pub fn run(cli: &Cli, once: bool) -> CommandResult {
    let (cfg, watchlist) = super::load_config(cli)?;
    let store = Store::open(&cfg.state_dir).map_err(|e| match e {
        StoreError::Locked { .. } => CommandError::runtime(anyhow::anyhow!(
            "another trendwatch is already running on the state directory {} (its store is locked); stop it first",
            cfg.state_dir.display()
        )),
        e => CommandError::runtime(anyhow::anyhow!(
            "cannot open the store in {}: {e}",
            cfg.state_dir.display()
        )),
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CommandError::runtime)?;
    if once {
        runtime
            .block_on(crate::daemon::once(&cfg, &watchlist, &store))
            .map_err(|e| CommandError::runtime(anyhow::anyhow!("run --once failed at {e}")))
    } else {
        let path = super::config_path(cli);
        runtime
            .block_on(crate::daemon::serve(path, cfg, watchlist, store))
            .map_err(|e| CommandError::runtime(anyhow::anyhow!("{e}")))
    }
}
