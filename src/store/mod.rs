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
//!   entity, metric and week (see [`block`]). A key per sample costs sled tens of bytes of
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

mod block;
mod codec;
pub mod interchange;
mod records;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use sled::transaction::{TransactionError, Transactional};
use sled::{Batch, Tree};

use crate::model::{EntityId, EntityOutcome, Sample, UnixSeconds, VideoRecord};
use codec::DecodeError;
use records::{EntityRecord, VideoEntry};

/// The schema this build writes. Older stores are upgraded by [`migrate`] at open.
pub const SCHEMA_VERSION: u32 = 1;

const SCHEMA_KEY: &[u8] = b"schema_version";
const TRACKED_KEY: &[u8] = b"tracked_discovered";
/// A file beside sled's own, written once the store is initialised.
const MARKER_FILE: &str = "trendwatch-store";

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no store in {}: has trendwatch collected yet? (`trendwatch collect`, `run` or `import` creates it; or check `state_dir` in the config)", state_dir.display())]
    Missing { state_dir: PathBuf },
    #[error("another trendwatch is using {} (a collection or digest is running: try again in a moment; `trendwatch status` works meanwhile)", state_dir.display())]
    Locked { state_dir: PathBuf },
    /// Opening it would leave files the service's user cannot write (a command run as root
    /// on the service's state directory).
    #[error("the store in {} belongs to user {owner} and this trendwatch runs as user {me}: run it as the store's user (`sudo -u '#{owner}' trendwatch …`) so that the service can still write every file", state_dir.display())]
    OtherOwner {
        state_dir: PathBuf,
        owner: u32,
        me: u32,
    },
    #[error("the store in {} is corrupt ({detail}); move it aside and re-import an export", state_dir.display())]
    Corrupt { state_dir: PathBuf, detail: String },
    #[error("the store in {} has schema version {found}, newer than this trendwatch understands ({supported}); upgrade trendwatch", state_dir.display())]
    NewerSchema {
        state_dir: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("cannot use the store in {}: {source}", state_dir.display())]
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

/// Interned numbers and entity records, mirrored in memory; the mutex around it is also the
/// writer lock, so a read-modify-write of sample blocks never races another writer.
#[derive(Default)]
struct Catalog {
    entity_nums: HashMap<EntityId, u32>,
    entities: Vec<EntityRecord>,
    metric_nums: HashMap<String, u16>,
    metrics: Vec<String>,
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

/// The first migration step from each older version; version 1 is the first layout, so there
/// is nothing to upgrade yet. A future layout change adds `1 => migrate_1_to_2(..)` here.
fn migrate(_inner: &Inner, from: u32) -> Result<u32, String> {
    Err(format!("no migration from schema version {from}"))
}

/// Whether this process may write into `state_dir`: only as the user who owns what is
/// there (sled writes new files as it runs, and a file created by another user, root
/// typically, would stop the service from writing). Nothing there yet is fine.
pub fn check_owner(state_dir: &Path) -> Result<(), StoreError> {
    let store = state_dir.join("store");
    owned_by_me(state_dir, if store.exists() { &store } else { state_dir })
}

fn owned_by_me(state_dir: &Path, path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(store) = std::fs::metadata(path) else {
        return Ok(());
    };
    // `/proc/self` belongs to the process's effective user.
    let Ok(me) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
        return Ok(());
    };
    if store.uid() != me {
        return Err(StoreError::OtherOwner {
            state_dir: state_dir.to_path_buf(),
            owner: store.uid(),
            me,
        });
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the store under `state_dir/store`.
    /// [`Store::open`] for commands that only read: a store that does not exist yet is
    /// [`StoreError::Missing`], and nothing is created (a typo in `state_dir` leaves no
    /// empty store behind).
    pub fn open_existing(state_dir: &Path) -> Result<Store, StoreError> {
        if !state_dir.join("store").is_dir() {
            return Err(StoreError::Missing {
                state_dir: state_dir.to_path_buf(),
            });
        }
        Self::open(state_dir)
    }

    /// An empty store in memory, for reports on a state directory that has none yet: it
    /// answers like a store with nothing collected and leaves nothing on disk.
    pub fn empty_for(state_dir: &Path) -> Result<Store, StoreError> {
        let config = sled::Config::new().temporary(true).flush_every_ms(None);
        Self::open_with(state_dir, None, config)
    }

    pub fn open(state_dir: &Path) -> Result<Store, StoreError> {
        let db_dir = state_dir.join("store");
        check_owner(state_dir)?;
        std::fs::create_dir_all(&db_dir).map_err(|source| StoreError::Io {
            state_dir: state_dir.to_path_buf(),
            source,
        })?;
        let config = sled::Config::new()
            .path(&db_dir)
            .cache_capacity(64 * 1024 * 1024)
            // Every write path flushes before it returns, so sled's own background flusher
            // (a wake-up every second for the life of the daemon) adds nothing but idle CPU.
            .flush_every_ms(None);
        Self::open_with(state_dir, Some(db_dir), config)
    }

    /// Opens `config`; `db_dir` is where its files are, `None` for an in-memory store.
    fn open_with(
        state_dir: &Path,
        db_dir: Option<PathBuf>,
        config: sled::Config,
    ) -> Result<Store, StoreError> {
        let ephemeral = db_dir.is_none();
        let db_dir = db_dir.unwrap_or_else(|| state_dir.join("store"));
        // A damaged log can make sled panic while recovering; report it as corruption.
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()));
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(e)) => return Err(map_open_error(state_dir, e)),
            Err(_) => {
                return Err(StoreError::Corrupt {
                    state_dir: state_dir.to_path_buf(),
                    detail: "the database could not be recovered".into(),
                })
            }
        };
        let sd = state_dir.to_path_buf();
        let tree = |name: &str| db.open_tree(name).map_err(|e| sled_err(&sd, e));
        let inner = Inner {
            samples: tree("samples")?,
            entities: tree("entities")?,
            metrics: tree("metrics")?,
            videos: tree("videos")?,
            videos_seen: tree("videos_seen")?,
            alerts: tree("alerts")?,
            outbox: tree("outbox")?,
            meta: tree("meta")?,
            sys: tree("sys")?,
            state_dir: sd.clone(),
            db_dir,
            ephemeral,
            db: db.clone(),
            catalog: Mutex::new(Catalog::default()),
        };
        inner.check_schema()?;
        let catalog = inner.load_catalog()?;
        if let Ok(mut c) = inner.catalog.lock() {
            *c = catalog;
        }
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

    /// The directory the store was opened for.
    pub fn state_dir(&self) -> &Path {
        &self.inner.state_dir
    }

    /// Records one collection pass as one durable transaction: the samples of every
    /// observation, the videos seen, and each entity's success or failure.
    pub fn record_pass(&self, outcomes: &[EntityOutcome]) -> Result<(), StoreError> {
        let mut cat = self.inner.lock()?;
        let mut stage = Stage::new(&cat);
        let mut samples = Vec::new();
        let mut videos: BTreeMap<String, (UnixSeconds, VideoRecord, BTreeSet<u32>)> =
            BTreeMap::new();
        for o in outcomes {
            let num = stage.entity(&o.entity)?;
            if let Some(obs) = &o.observation {
                let rec = stage.touch(num, obs.at);
                rec.last_success = Some(rec.last_success.map_or(obs.at, |t| t.max(obs.at)));
                for (metric, value) in &obs.metrics {
                    samples.push(Sample {
                        entity: o.entity.clone(),
                        at: obs.at,
                        metric: metric.clone(),
                        value: *value,
                    });
                }
                for v in &obs.videos {
                    let e = videos
                        .entry(v.id.clone())
                        .or_insert_with(|| (obs.at, v.clone(), BTreeSet::new()));
                    if obs.at >= e.0 {
                        e.0 = obs.at;
                        e.1 = v.clone();
                    }
                    e.2.insert(num);
                }
            }
            if let Some(f) = &o.failure {
                let rec = stage.touch(num, f.at);
                if rec.last_failure.as_ref().is_none_or(|old| old.at <= f.at) {
                    rec.last_failure = Some(f.clone());
                }
            }
            let decided_at = o.observation.as_ref().map(|obs| obs.at);
            if let Some(at) = decided_at.or(o.failure.as_ref().map(|f| f.at)) {
                stage.touch(num, at).fetched_by = o.fetched_by;
            }
        }
        let mut video_batch = Batch::default();
        let mut seen_batch = Batch::default();
        for (id, (at, video, via)) in videos {
            let old = match self
                .inner
                .videos
                .get(id.as_bytes())
                .map_err(|e| self.err(e))?
            {
                Some(raw) => Some(VideoEntry::decode(&raw).map_err(|e| self.corrupt(e))?),
                None => None,
            };
            let entry = match old {
                None => VideoEntry {
                    video,
                    counts_at: at,
                    first_seen: at,
                    last_seen: at,
                    via: via.into_iter().collect(),
                },
                Some(mut old) => {
                    if at >= old.counts_at {
                        old.video = video;
                        old.counts_at = at;
                    }
                    old.first_seen = old.first_seen.min(at);
                    if at > old.last_seen {
                        seen_batch.remove(seen_key(old.last_seen, &id));
                        old.last_seen = at;
                    }
                    let mut all: BTreeSet<u32> = old.via.iter().copied().collect();
                    all.extend(via);
                    old.via = all.into_iter().collect();
                    old
                }
            };
            seen_batch.insert(seen_key(entry.last_seen, &id), &[] as &[u8]);
            video_batch.insert(id.as_bytes(), entry.encode());
        }
        let sample_batch = self.stage_samples(&mut stage, &samples)?;
        self.commit(&mut cat, stage, sample_batch, video_batch, seen_batch)
    }

    /// Stores samples, all or none, durably. A sample at the same entity, metric and time as
    /// a stored one replaces it.
    pub fn insert_samples(&self, samples: &[Sample]) -> Result<(), StoreError> {
        let mut cat = self.inner.lock()?;
        let mut stage = Stage::new(&cat);
        let batch = self.stage_samples(&mut stage, samples)?;
        self.commit(&mut cat, stage, batch, Batch::default(), Batch::default())
    }

    /// Every entity the store knows, sorted by id.
    pub fn entities(&self) -> Result<Vec<EntityInfo>, StoreError> {
        let cat = self.inner.lock()?;
        let mut out: Vec<EntityInfo> = cat
            .entities
            .iter()
            .map(|r| {
                let mut metrics: Vec<String> = r
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
                    let mut ms: Vec<(String, u16)> = rec
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

    pub fn alert_last(&self, key: &str) -> Result<Option<AlertRecord>, StoreError> {
        match self
            .inner
            .alerts
            .get(key.as_bytes())
            .map_err(|e| self.err(e))?
        {
            Some(raw) => Ok(Some(
                records::decode_alert(&raw).map_err(|e| self.corrupt(e))?,
            )),
            None => Ok(None),
        }
    }

    /// Records reported alerts, durably.
    pub fn alerts_record(&self, items: &[(String, AlertRecord)]) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        for (key, rec) in items {
            batch.insert(key.as_bytes(), records::encode_alert(rec));
        }
        self.inner
            .alerts
            .apply_batch(batch)
            .map_err(|e| self.err(e))?;
        self.flush()
    }

    /// Queues a digest in one durable transaction: the outbox item, the alert history of its
    /// items and the daemon's own records (`meta`, e.g. when the last digest was made). A
    /// crash can never leave a queued digest whose "last digest" is not recorded, which
    /// would make a second digest with a new Message-ID.
    pub fn queue_digest(
        &self,
        item: &OutboxItem,
        alerts: &[(String, AlertRecord)],
        meta: &[(&str, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let mut alert_batch = Batch::default();
        for (key, rec) in alerts {
            alert_batch.insert(key.as_bytes(), records::encode_alert(rec));
        }
        let mut meta_batch = Batch::default();
        for (key, value) in meta {
            meta_batch.insert(key.as_bytes(), value.as_slice());
        }
        let encoded = records::encode_outbox(item);
        let i = &self.inner;
        (&i.outbox, &i.alerts, &i.meta)
            .transaction(|(o, a, m)| {
                o.insert(item.id.as_bytes(), encoded.as_slice())?;
                a.apply_batch(&alert_batch)?;
                m.apply_batch(&meta_batch)?;
                Ok(())
            })
            .map_err(|e| self.tx_err(e))?;
        self.flush()
    }

    /// Writes (or replaces) an outbox item; durable when this returns.
    pub fn outbox_put(&self, item: &OutboxItem) -> Result<(), StoreError> {
        self.inner
            .outbox
            .insert(item.id.as_bytes(), records::encode_outbox(item))
            .map_err(|e| self.err(e))?;
        self.flush()
    }

    pub fn outbox_get(&self, id: &str) -> Result<Option<OutboxItem>, StoreError> {
        match self
            .inner
            .outbox
            .get(id.as_bytes())
            .map_err(|e| self.err(e))?
        {
            Some(raw) => Ok(Some(
                records::decode_outbox(&raw).map_err(|e| self.corrupt(e))?,
            )),
            None => Ok(None),
        }
    }

    /// Every outbox item, newest first.
    pub fn outbox_list(&self) -> Result<Vec<OutboxItem>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.outbox.iter() {
            let (_, raw) = item.map_err(|e| self.err(e))?;
            out.push(records::decode_outbox(&raw).map_err(|e| self.corrupt(e))?);
        }
        out.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(out)
    }

    pub fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .inner
            .meta
            .get(key.as_bytes())
            .map_err(|e| self.err(e))?
            .map(|v| v.to_vec()))
    }

    /// Sets a bookkeeping value; durable when this returns.
    pub fn meta_set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner
            .meta
            .insert(key.as_bytes(), value)
            .map_err(|e| self.err(e))?;
        self.flush()
    }

    /// Discovered hashtags that are now collected automatically.
    pub fn tracked_discovered(&self) -> Result<Vec<String>, StoreError> {
        match self.inner.sys.get(TRACKED_KEY).map_err(|e| self.err(e))? {
            Some(raw) => records::decode_strings(&raw).map_err(|e| self.corrupt(e)),
            None => Ok(Vec::new()),
        }
    }

    pub fn set_tracked_discovered(&self, tags: &[String]) -> Result<(), StoreError> {
        self.inner
            .sys
            .insert(TRACKED_KEY, records::encode_strings(tags))
            .map_err(|e| self.err(e))?;
        self.flush()
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

    /// Groups samples by block, merges them into the stored blocks and returns the batch.
    fn stage_samples(&self, stage: &mut Stage, samples: &[Sample]) -> Result<Batch, StoreError> {
        let mut groups: HashMap<(u32, u16, u32), Vec<(UnixSeconds, f64)>> = HashMap::new();
        // Imports are usually grouped by entity and metric: skip the lookups when unchanged.
        let mut last: Option<(&EntityId, &str, u32, u16)> = None;
        for s in samples {
            let bits =
                block_bits(block::block_of(s.at)).ok_or(StoreError::TimeOutOfRange { at: s.at })?;
            let (e, m) = match last {
                Some((le, lm, e, m)) if le == &s.entity && lm == s.metric => (e, m),
                _ => {
                    let e = stage.entity(&s.entity)?;
                    let m = stage.metric(&s.metric)?;
                    last = Some((&s.entity, &s.metric, e, m));
                    (e, m)
                }
            };
            groups
                .entry((e, m, bits))
                .or_default()
                .push((s.at, s.value));
            let rec = stage.touch(e, s.at);
            rec.last_sample_at = Some(rec.last_sample_at.map_or(s.at, |t| t.max(s.at)));
            if let Err(pos) = rec.metrics.binary_search(&m) {
                rec.metrics.insert(pos, m);
            }
        }
        let mut batch = Batch::default();
        for ((e, m, bits), mut points) in groups {
            // Stable sort, then keep the last of equal times: later rows win, as on disk.
            points.sort_by_key(|p| p.0);
            let mut dedup: Vec<(UnixSeconds, f64)> = Vec::with_capacity(points.len());
            for p in points {
                match dedup.last_mut() {
                    Some(l) if l.0 == p.0 => *l = p,
                    _ => dedup.push(p),
                }
            }
            let block_start = block_from_bits(bits) * block::SPAN;
            let key = sample_key(e, m, bits);
            let merged = match self.inner.samples.get(key).map_err(|e| self.err(e))? {
                Some(old) => {
                    let old = block::decode_vec(block_start, &old).map_err(|e| self.corrupt(e))?;
                    block::merge(&old, &dedup)
                }
                None => dedup,
            };
            batch.insert(&key[..], block::encode(block_start, &merged));
        }
        Ok(batch)
    }

    /// Applies staged changes to all trees in one transaction, flushes, then updates the
    /// in-memory catalog (only after the data is durable).
    fn commit(
        &self,
        cat: &mut Catalog,
        mut stage: Stage,
        samples: Batch,
        videos: Batch,
        seen: Batch,
    ) -> Result<(), StoreError> {
        let mut entity_batch = Batch::default();
        for (num, rec) in stage.changed.iter_mut() {
            if rec.first_seen == UnixSeconds::MAX {
                rec.first_seen = crate::clock::now();
            }
            entity_batch.insert(&num.to_be_bytes()[..], rec.encode());
        }
        let mut metric_batch = Batch::default();
        let base = cat.metrics.len();
        for (i, name) in stage.new_metrics.iter().enumerate() {
            metric_batch.insert(&((base + i) as u16).to_be_bytes()[..], name.as_bytes());
        }
        let i = &self.inner;
        (
            &i.samples,
            &i.entities,
            &i.metrics,
            &i.videos,
            &i.videos_seen,
        )
            .transaction(|(s, e, m, v, vs)| {
                s.apply_batch(&samples)?;
                e.apply_batch(&entity_batch)?;
                m.apply_batch(&metric_batch)?;
                v.apply_batch(&videos)?;
                vs.apply_batch(&seen)?;
                Ok(())
            })
            .map_err(|e| self.tx_err(e))?;
        self.flush()?;
        for name in stage.new_metrics {
            cat.metric_nums
                .insert(name.clone(), cat.metrics.len() as u16);
            cat.metrics.push(name);
        }
        for (num, rec) in stage.changed {
            let idx = num as usize;
            if idx < cat.entities.len() {
                cat.entities[idx] = rec;
            } else {
                // New numbers are consecutive and the map iterates in order.
                cat.entity_nums.insert(rec.id.clone(), num);
                cat.entities.push(rec);
            }
        }
        Ok(())
    }
}

/// An entity to scan: its id, number, and metrics (name, number) sorted by name.
type SeriesPlan = (EntityId, u32, Vec<(String, u16)>);

/// Changes of one write, applied to the catalog only once committed.
struct Stage {
    base_entities: usize,
    base_metrics: usize,
    known_entities: HashMap<EntityId, u32>,
    known_metrics: HashMap<String, u16>,
    existing: HashMap<u32, EntityRecord>,
    changed: BTreeMap<u32, EntityRecord>,
    new_entities: HashMap<EntityId, u32>,
    new_metrics: Vec<String>,
}

impl Stage {
    fn new(cat: &Catalog) -> Self {
        Self {
            base_entities: cat.entities.len(),
            base_metrics: cat.metrics.len(),
            // Cloned maps keep the stage independent of the catalog borrow; they are small
            // (one entry per entity and per metric name).
            known_entities: cat.entity_nums.clone(),
            known_metrics: cat.metric_nums.clone(),
            existing: cat
                .entities
                .iter()
                .enumerate()
                .map(|(i, r)| (i as u32, r.clone()))
                .collect(),
            changed: BTreeMap::new(),
            new_entities: HashMap::new(),
            new_metrics: Vec::new(),
        }
    }

    fn entity(&mut self, id: &EntityId) -> Result<u32, StoreError> {
        if let Some(n) = self
            .known_entities
            .get(id)
            .or_else(|| self.new_entities.get(id))
        {
            return Ok(*n);
        }
        let n = u32::try_from(self.base_entities + self.new_entities.len())
            .map_err(|_| StoreError::TooManyEntities)?;
        self.new_entities.insert(id.clone(), n);
        self.changed
            .insert(n, EntityRecord::new(id.clone(), UnixSeconds::MAX));
        Ok(n)
    }

    fn metric(&mut self, name: &str) -> Result<u16, StoreError> {
        if let Some(n) = self.known_metrics.get(name) {
            return Ok(*n);
        }
        let n = u16::try_from(self.base_metrics + self.new_metrics.len())
            .map_err(|_| StoreError::TooManyMetrics)?;
        self.known_metrics.insert(name.to_string(), n);
        self.new_metrics.push(name.to_string());
        Ok(n)
    }

    /// The record of entity `num` for modification, its first-seen time lowered to `at`.
    fn touch(&mut self, num: u32, at: UnixSeconds) -> &mut EntityRecord {
        let existing = &mut self.existing;
        // `num` comes from `entity()`: a new number is already in `changed`, an old one is
        // in `existing` until its first touch, so the fallback is never used.
        let rec = self.changed.entry(num).or_insert_with(|| {
            existing
                .remove(&num)
                .unwrap_or_else(|| EntityRecord::new(EntityId::custom("unknown", "?"), at))
        });
        rec.first_seen = rec.first_seen.min(at);
        rec
    }
}

fn seen_key(last_seen: UnixSeconds, id: &str) -> Vec<u8> {
    let mut k = time_key(last_seen).to_vec();
    k.extend_from_slice(id.as_bytes());
    k
}

impl Inner {
    fn lock(&self) -> Result<MutexGuard<'_, Catalog>, StoreError> {
        self.catalog.lock().map_err(|_| StoreError::Internal {
            state_dir: self.state_dir.clone(),
            detail: "a previous write panicked".into(),
        })
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let sd = &self.state_dir;
        let mut version = match self.sys.get(SCHEMA_KEY).map_err(|e| sled_err(sd, e))? {
            Some(raw) => {
                let b: [u8; 4] = raw.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                    state_dir: sd.clone(),
                    detail: "bad schema version".into(),
                })?;
                u32::from_be_bytes(b)
            }
            None => {
                // sled reads an unreadable log as an empty one; the marker written beside it
                // when the store was created tells "new" from "lost".
                if !self.ephemeral && self.db_dir.join(MARKER_FILE).exists() {
                    return Err(StoreError::Corrupt {
                        state_dir: sd.clone(),
                        detail: "its data files are unreadable".into(),
                    });
                }
                let has_data = !self.samples.is_empty() || !self.entities.is_empty();
                if has_data {
                    return Err(StoreError::Corrupt {
                        state_dir: sd.clone(),
                        detail: "data without a schema version".into(),
                    });
                }
                self.sys
                    .insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())
                    .map_err(|e| sled_err(sd, e))?;
                self.db.flush().map_err(|e| sled_err(sd, e))?;
                if self.ephemeral {
                    return Ok(());
                }
                std::fs::write(
                    self.db_dir.join(MARKER_FILE),
                    "trendwatch store: created by trendwatch, do not delete\n",
                )
                .map_err(|source| StoreError::Io {
                    state_dir: sd.clone(),
                    source,
                })?;
                SCHEMA_VERSION
            }
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                state_dir: sd.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        while version < SCHEMA_VERSION {
            version = migrate(self, version).map_err(|detail| StoreError::Corrupt {
                state_dir: sd.clone(),
                detail,
            })?;
            self.sys
                .insert(SCHEMA_KEY, &version.to_be_bytes())
                .map_err(|e| sled_err(sd, e))?;
            self.db.flush().map_err(|e| sled_err(sd, e))?;
        }
        Ok(())
    }

    fn load_catalog(&self) -> Result<Catalog, StoreError> {
        let sd = &self.state_dir;
        let corrupt = |detail: String| StoreError::Corrupt {
            state_dir: sd.clone(),
            detail,
        };
        let mut cat = Catalog::default();
        for (i, item) in self.metrics.iter().enumerate() {
            let (k, v) = item.map_err(|e| sled_err(sd, e))?;
            if k.as_ref() != (i as u16).to_be_bytes() {
                return Err(corrupt("metric numbers are not consecutive".into()));
            }
            let name = String::from_utf8(v.to_vec())
                .map_err(|_| corrupt("metric name is not UTF-8".into()))?;
            cat.metric_nums.insert(name.clone(), i as u16);
            cat.metrics.push(name);
        }
        for (i, item) in self.entities.iter().enumerate() {
            let (k, v) = item.map_err(|e| sled_err(sd, e))?;
            if k.as_ref() != (i as u32).to_be_bytes() {
                return Err(corrupt("entity numbers are not consecutive".into()));
            }
            let rec = EntityRecord::decode(&v).map_err(|e| corrupt(e.to_string()))?;
            cat.entity_nums.insert(rec.id.clone(), i as u32);
            cat.entities.push(rec);
        }
        Ok(cat)
    }
}

fn map_open_error(state_dir: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            StoreError::Locked {
                state_dir: state_dir.to_path_buf(),
            }
        }
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => StoreError::Locked {
            state_dir: state_dir.to_path_buf(),
        },
        other => sled_err(state_dir, other),
    }
}

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

fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
