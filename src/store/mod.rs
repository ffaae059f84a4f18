//! The embedded store (sled 0.34): the only module that knows sled.
//!
//! It keeps what trendwatch learns over months — samples of every entity's metrics, entity
//! health (first seen, last success, last typed failure), the latest counters of every video
//! seen, alert history for the digest cooldown, the mail outbox and daemon bookkeeping — in
//! one sled database under `STATE_DIR/store`. It must never lose a pass it acknowledged
//! (every write returns only after `flush`), never half-apply a pass or an import (each is
//! one transaction over all trees), and never panic on a store it cannot read (locked,
//! corrupt or newer stores are typed [`StoreError`]s).
//!
//! Layout (schema version 1):
//! - `samples`: key `entity u32 BE ++ metric u16 BE ++ week i32 BE` (weeks since 1970, sign
//!   bit flipped so earlier weeks sort first), value: one packed block of every sample of that
//!   entity, metric and week (see `store::block`). A key per sample costs sled tens of bytes of
//!   overhead alone; week blocks bring stored hourly counters under 20 bytes per sample on
//!   disk, and a time range of one series is still one range scan.
//! - `entities`: key `entity u32 BE` → name, first seen, last sample, last success, last
//!   failure, metric numbers. Entity ids and metric names are interned to these small
//!   numbers; `metrics` maps `metric u16 BE` → name. Both are cached in memory at open.
//! - `videos`: key = video id → latest counters, first/last seen, entities it was seen
//!   through; `videos_seen`: key `last_seen i64 BE ++ video id` → (), so "videos seen since"
//!   is a range scan.
//! - `alerts`, `outbox`, `meta`: keyed by their string key.
//! - `sys`: the schema version and the tracked discovered tags.

pub mod access;
mod block;
mod codec;
pub mod interchange;
mod open;
mod records;
mod service_state;
mod write;

use crate::language::tr;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use sled::transaction::{TransactionError, Transactional};
use sled::{Batch, Tree};

use crate::model::{EntityId, EntityOutcome, Metric, Sample, UnixSeconds, VideoRecord};
use codec::DecodeError;
use records::{EntityRecord, VideoEntry};

/// The schema this build writes. Older stores are upgraded by the store's migration at open.
pub const SCHEMA_VERSION: u32 = 1;

const SCHEMA_KEY: &[u8] = b"schema_version";
const TRACKED_KEY: &[u8] = b"tracked_discovered";
/// A file beside sled's own, written once the store is initialised.
const MARKER_FILE: &str = "trendwatch-store";

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}", tr!(
        format!("pas de base dans {} : trendwatch a-t-il déjà collecté ? (`trendwatch collect`, `run` ou `import` la crée ; sinon vérifiez `state_dir` dans la configuration)", state_dir.display()),
        format!("no store in {}: has trendwatch collected yet? (`trendwatch collect`, `run` or `import` creates it; or check `state_dir` in the config)", state_dir.display())
    ))]
    Missing { state_dir: PathBuf },
    #[error("{}", tr!(
        format!("une autre commande trendwatch utilise {} et ne l'a pas libérée à temps (un long export ou import ?) : réessayez quand elle aura fini", state_dir.display()),
        format!("another trendwatch is using {} and did not let go of it in time (a long export or import?): try again once it has finished", state_dir.display())
    ))]
    Locked { state_dir: PathBuf },
    /// Opening it would leave files the service's user cannot write (a command run as root
    /// on the service's state directory).
    #[error("{}", tr!(
        format!("la base dans {} appartient à l'utilisateur {owner} et cette commande tourne en tant que {me} : lancez-la avec `sudo` (trendwatch lit et écrit alors en tant que l'utilisateur de la base, et le service peut toujours écrire chaque fichier)", state_dir.display()),
        format!("the store in {} belongs to user {owner} and this trendwatch runs as user {me}: run the command with `sudo` (trendwatch then reads and writes as the store's user, so the service can still write every file)", state_dir.display())
    ))]
    OtherOwner {
        state_dir: PathBuf,
        owner: u32,
        me: u32,
    },
    #[error("the store in {} is corrupt ({detail}). Stop the service, keep a copy of the folder (`cp -a {0}/store {0}/store.damaged`), free some disk space if it is full, and start it again; if it still fails, move `store` aside: trendwatch starts a new one, and the copy keeps the history for a later recovery", state_dir.display())]
    Corrupt { state_dir: PathBuf, detail: String },
    #[error("the store in {} has schema version {found}, newer than this trendwatch understands ({supported}); upgrade trendwatch", state_dir.display())]
    NewerSchema {
        state_dir: PathBuf,
        found: u32,
        supported: u32,
    },
    /// A folder on the way is closed to this user: the service's store under
    /// `/var/lib/private` (0700) with `DynamicUser=yes`.
    #[error("{}", tr!(
        format!("impossible de regarder dans {} : cet utilisateur n'a pas accès à ce dossier ou à un dossier au-dessus (le service installé garde sa base fermée aux autres) : lancez la commande avec `sudo`", state_dir.display()),
        format!("cannot look into {}: this user may not enter it or a folder above it (the installed service keeps its store closed to other users): run the command with `sudo`", state_dir.display())
    ))]
    Closed { state_dir: PathBuf },
    #[error("{}", tr!(
        format!("impossible d'utiliser la base dans {}", state_dir.display()),
        format!("cannot use the store in {}", state_dir.display())
    ))]
    Io {
        state_dir: PathBuf,
        source: std::io::Error,
    },
    #[error("sample time {at} is outside the range the store keeps")]
    TimeOutOfRange { at: UnixSeconds },
    #[error("too many distinct metric names (the store keeps at most 65536)")]
    TooManyMetrics,
    #[error("too many entities (the store keeps at most 4294967295)")]
    TooManyEntities,
    #[error("store failure in {}: {detail}", state_dir.display())]
    Internal { state_dir: PathBuf, detail: String },
}

// The records the store keeps are domain types: they live in `model`, and are named here too
// for the store's callers.
pub use crate::model::{
    latest_refusals, AlertRecord, EntityInfo, OutboxItem, OutboxState, StoredVideo,
};
pub use open::check_owner;
use open::dir_size;

/// Interned numbers and entity records, mirrored in memory; the mutex around it is also the
/// writer lock, so a read-modify-write of sample blocks never races another writer.
#[derive(Default)]
struct Catalog {
    entity_nums: HashMap<EntityId, u32>,
    entities: Vec<EntityRecord>,
    metric_nums: HashMap<Metric, u16>,
    metrics: Vec<Metric>,
}

struct Inner {
    state_dir: PathBuf,
    db_dir: PathBuf,
    /// An in-memory store standing in for one not created yet: nothing is written to disk.
    ephemeral: bool,
    db: sled::Db,
    samples: Tree,
    entities: Tree,
    metrics: Tree,
    videos: Tree,
    videos_seen: Tree,
    alerts: Tree,
    outbox: Tree,
    meta: Tree,
    sys: Tree,
    catalog: Mutex<Catalog>,
}

/// The store; cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

fn sample_key(entity: u32, metric: u16, block: u32) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[..4].copy_from_slice(&entity.to_be_bytes());
    k[4..6].copy_from_slice(&metric.to_be_bytes());
    k[6..].copy_from_slice(&block.to_be_bytes());
    k
}

/// Block number → key bits: sign bit flipped so byte order is numeric order.
fn block_bits(block: i64) -> Option<u32> {
    i32::try_from(block).ok().map(|d| (d as u32) ^ 0x8000_0000)
}

fn block_from_bits(bits: u32) -> i64 {
    i64::from((bits ^ 0x8000_0000) as i32)
}

/// Clamps a block number to the key range (for range-scan bounds).
fn clamp_block_bits(block: i64) -> u32 {
    block_bits(block.clamp(i64::from(i32::MIN), i64::from(i32::MAX))).unwrap_or(0)
}

fn time_key(t: UnixSeconds) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

impl Store {
    /// The directory the store was opened for.
    pub fn state_dir(&self) -> &Path {
        &self.inner.state_dir
    }

    /// Every entity the store knows, sorted by id.
    pub fn entities(&self) -> Result<Vec<EntityInfo>, StoreError> {
        let cat = self.inner.lock()?;
        let mut out: Vec<EntityInfo> = cat
            .entities
            .iter()
            .map(|r| {
                let mut metrics: Vec<Metric> = r
                    .metrics
                    .iter()
                    .filter_map(|m| cat.metrics.get(usize::from(*m)).cloned())
                    .collect();
                metrics.sort();
                EntityInfo {
                    id: r.id.clone(),
                    first_seen: r.first_seen,
                    last_sample_at: r.last_sample_at,
                    last_success: r.last_success,
                    last_failure: r.last_failure.clone(),
                    metrics,
                    fetched_by: r.fetched_by,
                }
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// One series, sorted by time, `from` and `to` inclusive.
    pub fn series(
        &self,
        entity: &EntityId,
        metric: &str,
        from: UnixSeconds,
        to: UnixSeconds,
    ) -> Result<Vec<(UnixSeconds, f64)>, StoreError> {
        let nums = {
            let cat = self.inner.lock()?;
            match (cat.entity_nums.get(entity), cat.metric_nums.get(metric)) {
                (Some(e), Some(m)) => Some((*e, *m)),
                _ => None,
            }
        };
        let mut out = Vec::new();
        if let Some((e, m)) = nums {
            self.scan_series(e, m, from, to, |t, v| out.push((t, v)))?;
        }
        Ok(out)
    }

    /// Calls `f` for every sample of the given entities (all when `None`) between `from` and
    /// `to` inclusive, ordered by entity id, then metric name, then time.
    pub fn for_each_sample(
        &self,
        entities: Option<&[EntityId]>,
        from: UnixSeconds,
        to: UnixSeconds,
        mut f: impl FnMut(&Sample),
    ) -> Result<(), StoreError> {
        // Snapshot the numbers, then scan without holding the writer lock.
        let mut plan: Vec<SeriesPlan> = {
            let cat = self.inner.lock()?;
            let nums: Vec<u32> = match entities {
                Some(list) => list
                    .iter()
                    .filter_map(|e| cat.entity_nums.get(e).copied())
                    .collect::<BTreeSet<u32>>()
                    .into_iter()
                    .collect(),
                None => (0..cat.entities.len() as u32).collect(),
            };
            nums.into_iter()
                .filter_map(|n| {
                    let rec = cat.entities.get(n as usize)?;
                    let mut ms: Vec<(Metric, u16)> = rec
                        .metrics
                        .iter()
                        .filter_map(|m| Some((cat.metrics.get(usize::from(*m))?.clone(), *m)))
                        .collect();
                    ms.sort();
                    Some((rec.id.clone(), n, ms))
                })
                .collect()
        };
        plan.sort_by(|a, b| a.0.cmp(&b.0));
        for (entity, e, metrics) in plan {
            for (metric, m) in metrics {
                // One Sample per series, updated in place: no allocation per sample.
                let mut s = Sample {
                    entity: entity.clone(),
                    at: 0,
                    metric,
                    value: 0.0,
                };
                self.scan_series(e, m, from, to, |t, v| {
                    s.at = t;
                    s.value = v;
                    f(&s);
                })?;
            }
        }
        Ok(())
    }

    /// Videos last seen at or after `since`, most recently seen first.
    pub fn videos_seen_since(&self, since: UnixSeconds) -> Result<Vec<StoredVideo>, StoreError> {
        let mut entries = Vec::new();
        for item in self.inner.videos_seen.range(time_key(since).to_vec()..) {
            let (k, _) = item.map_err(|e| self.err(e))?;
            let id = k.get(8..).unwrap_or_default();
            if let Some(raw) = self.inner.videos.get(id).map_err(|e| self.err(e))? {
                entries.push(VideoEntry::decode(&raw).map_err(|e| self.corrupt(e))?);
            }
        }
        let cat = self.inner.lock()?;
        let mut out: Vec<StoredVideo> = entries
            .into_iter()
            .map(|e| {
                let mut via: Vec<EntityId> = e
                    .via
                    .iter()
                    .filter_map(|n| cat.entities.get(*n as usize).map(|r| r.id.clone()))
                    .collect();
                via.sort();
                StoredVideo {
                    video: e.video,
                    first_seen: e.first_seen,
                    last_seen: e.last_seen,
                    via,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.last_seen
                .cmp(&a.last_seen)
                .then_with(|| a.video.id.cmp(&b.video.id))
        });
        Ok(out)
    }

    /// Bytes the store's files take on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        if self.inner.ephemeral {
            return Ok(0);
        }
        dir_size(&self.inner.db_dir).map_err(|source| StoreError::Io {
            state_dir: self.inner.state_dir.clone(),
            source,
        })
    }

    /// Makes every write so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.db.flush().map_err(|e| self.err(e))?;
        Ok(())
    }

    // ---- internals ----

    fn tx_err(&self, e: TransactionError<()>) -> StoreError {
        match e {
            TransactionError::Storage(e) => self.err(e),
            TransactionError::Abort(()) => StoreError::Internal {
                state_dir: self.inner.state_dir.clone(),
                detail: "transaction aborted".into(),
            },
        }
    }

    fn err(&self, e: sled::Error) -> StoreError {
        sled_err(&self.inner.state_dir, e)
    }

    fn corrupt(&self, e: DecodeError) -> StoreError {
        StoreError::Corrupt {
            state_dir: self.inner.state_dir.clone(),
            detail: e.to_string(),
        }
    }

    fn scan_series(
        &self,
        e: u32,
        m: u16,
        from: UnixSeconds,
        to: UnixSeconds,
        mut f: impl FnMut(UnixSeconds, f64),
    ) -> Result<(), StoreError> {
        if from > to {
            return Ok(());
        }
        let lo = sample_key(e, m, clamp_block_bits(block::block_of(from)));
        let hi = sample_key(e, m, clamp_block_bits(block::block_of(to)));
        for item in self.inner.samples.range(lo..=hi) {
            let (k, v) = item.map_err(|e| self.err(e))?;
            let bits = k
                .get(6..10)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes)
                .ok_or_else(|| self.corrupt(DecodeError("bad sample key")))?;
            let block_start = block_from_bits(bits) * block::SPAN;
            block::decode(block_start, &v, |t, val| {
                if t >= from && t <= to {
                    f(t, val)
                }
            })
            .map_err(|e| self.corrupt(e))?;
        }
        Ok(())
    }
}

/// An entity to scan: its id, number, and metrics (name, number) sorted by name.
type SeriesPlan = (EntityId, u32, Vec<(Metric, u16)>);

fn sled_err(state_dir: &Path, e: sled::Error) -> StoreError {
    let state_dir = state_dir.to_path_buf();
    match e {
        sled::Error::Io(source) => StoreError::Io { state_dir, source },
        sled::Error::Corruption { .. } => StoreError::Corrupt {
            state_dir,
            detail: "sled found a damaged page".into(),
        },
        sled::Error::Unsupported(detail) => StoreError::Corrupt { state_dir, detail },
        other => StoreError::Internal {
            state_dir,
            detail: other.to_string(),
        },
    }
}
