//! Live reload: re-read both config files, validate, and tell what changed.
//!
//! A reload that fails validation must never replace the running config: the caller keeps
//! the last good one and the error is logged as `file:line:col: message`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::config::{Config, ConfigError, ConfigTexts, Watchlist};
use crate::model::EntityId;

/// Entities added and removed between two watchlists.
pub(crate) fn diff(old: &Watchlist, new: &Watchlist) -> (Vec<EntityId>, Vec<EntityId>) {
    let a: BTreeSet<EntityId> = old.entities().into_iter().collect();
    let b: BTreeSet<EntityId> = new.entities().into_iter().collect();
    (
        b.difference(&a).cloned().collect(),
        a.difference(&b).cloned().collect(),
    )
}

/// Loads and validates both files, keeping the texts the workers will run on.
pub(crate) fn load(path: &Path) -> Result<(Config, Watchlist, ConfigTexts), ConfigError> {
    let loaded = crate::config::load_keeping_texts(path)?;
    crate::config::remember_watchlist(&loaded.0.state_dir, &loaded.2.watchlist);
    Ok(loaded)
}
