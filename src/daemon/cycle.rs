//! One cycle of work: collect → store → detect (→ digest → outbox → transport), shared by
//! the scheduler and `trendwatch run --once`.
//!
//! Each stage's failure is a [`CycleError`] naming the stage, so a user reading the log or
//! the exit message knows where it broke. This module never schedules, sleeps or handles
//! signals: callers decide when a cycle runs and pass the token that stops it.

use tokio_util::sync::CancellationToken;

use crate::collect::{self, CollectError, Collector};
use crate::config::{Config, Watchlist};
use crate::model::UnixSeconds;
use crate::store::{Store, StoreError};

/// Meta keys of the daemon's bookkeeping in the store.
pub const LAST_COLLECT_AT: &str = "daemon.last_collect_at";
pub const LAST_DIGEST_AT: &str = "daemon.last_digest_at";

/// How many discovered tags are collected on their own pages at most.
const MAX_TRACKED_DISCOVERED: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    #[error("collect: {0}")]
    Collect(#[from] CollectError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("digest: {0}")]
    Digest(#[from] crate::digest::DigestError),
    #[error("mail: {0}")]
    Mail(String),
}

/// What a collection pass gave.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassReport {
    pub entities: usize,
    pub failed: usize,
    pub trends: usize,
}

/// Reads a unix time stored by [`set_time`].
pub fn get_time(store: &Store, key: &str) -> Result<Option<UnixSeconds>, StoreError> {
    Ok(store
        .meta_get(key)?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|s| s.trim().parse().ok()))
}

pub fn set_time(store: &Store, key: &str, at: UnixSeconds) -> Result<(), StoreError> {
    store.meta_set(key, at.to_string().as_bytes())
}

/// One collection pass, stored as one durable batch, then detection over the store (which
/// also refreshes the discovered tags collected from now on).
pub async fn collect_pass(
    store: &Store,
    collector: &Collector,
    cfg: &Config,
    watchlist: &Watchlist,
    cancel: &CancellationToken,
) -> Result<PassReport, CycleError> {
    let tracked = store.tracked_discovered()?;
    let targets = collect::targets(watchlist, &tracked);
    let outcomes = collector.collect(&targets, cancel).await;
    store.record_pass(&outcomes)?;
    let at = crate::clock::now();
    set_time(store, LAST_COLLECT_AT, at)?;
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    let input = crate::detect::load_input(store, watchlist, &cfg.detect, at)?;
    let trends = crate::detect::detect(&input, &cfg.detect, at);
    let discovery_on = watchlist.discovery.enabled;
    if discovery_on {
        store.set_tracked_discovered(&crate::detect::tags_to_track(
            &input,
            MAX_TRACKED_DISCOVERED,
        ))?;
    }
    Ok(PassReport {
        entities: outcomes.len(),
        failed,
        trends: trends.len(),
    })
}

/// Builds the digest as of now, writes it to the outbox, then sends what is due.
pub async fn digest_pass(
    store: &Store,
    cfg: &Config,
    watchlist: &Watchlist,
) -> Result<usize, CycleError> {
    let at = crate::clock::now();
    let input = crate::detect::load_input(store, watchlist, &cfg.detect, at)?;
    let trends = crate::detect::detect(&input, &cfg.detect, at);
    let health = store.entities()?;
    let digest = crate::digest::build(&trends, &health, store, cfg, at)?;
    let rendered = crate::digest::render(&digest, cfg.digest.language)?;
    // Queued and recorded as the last digest in one durable step: this digest is done, and
    // sending is retried from the outbox, so neither a crash nor a failed send ever makes a
    // second digest.
    let last = [(LAST_DIGEST_AT, at.to_string().into_bytes())];
    let item = crate::mail::queue_digest(store, cfg, &digest, &rendered, at, &last)
        .map_err(|e| CycleError::Mail(e.to_string()))?;
    let report = flush_outbox(store, cfg).await?;
    if let Some((_, why)) = report.failed.iter().find(|(id, _)| *id == item.id) {
        return Err(CycleError::Mail(format!(
            "digest {} queued but not sent yet: {why}",
            item.id
        )));
    }
    Ok(digest.item_count())
}

/// Sends the outbox items that are due (new digests and retries of failed sends).
pub async fn flush_outbox(
    store: &Store,
    cfg: &Config,
) -> Result<crate::mail::FlushReport, CycleError> {
    crate::mail::flush(store, cfg, crate::clock::now())
        .await
        .map_err(|e| CycleError::Mail(e.to_string()))
}

/// Number of entities whose latest attempt failed.
pub fn failing_entities(store: &Store) -> Result<usize, StoreError> {
    Ok(store
        .entities()?
        .iter()
        .filter(|e| match (&e.last_failure, e.last_success) {
            (Some(f), Some(ok)) => f.at > ok,
            (Some(_), None) => true,
            _ => false,
        })
        .count())
}
