//! Opening the store: the owner check, sled's lock, schema versions and the catalog loaded
//! into memory.

use super::*;

impl Store {
    /// Opens (creating if needed) the store under `state_dir/store`.
    /// [`Store::open`] for commands that only read: a store that does not exist yet is
    /// [`StoreError::Missing`], and nothing is created (a typo in `state_dir` leaves no
    /// empty store behind).
    /// A folder that cannot be looked into (another user's, a file in the way) is said as
    /// such, not as a missing store.
    pub fn open_existing(state_dir: &Path) -> Result<Store, StoreError> {
        match std::fs::metadata(state_dir.join("store")) {
            Ok(meta) if meta.is_dir() => Self::open(state_dir),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(StoreError::Closed {
                state_dir: state_dir.to_path_buf(),
            }),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io {
                state_dir: state_dir.to_path_buf(),
                source: e,
            }),
            _ => Err(StoreError::Missing {
                state_dir: state_dir.to_path_buf(),
            }),
        }
    }

    /// An empty store in memory, for reports on a state directory that has none yet: it
    /// answers like a store with nothing collected and leaves nothing on disk.
    pub fn empty_for(state_dir: &Path) -> Result<Store, StoreError> {
        let config = sled::Config::new().temporary(true).flush_every_ms(None);
        Self::open_with(state_dir, None, config)
    }

    /// [`Store::open`], waiting up to `wait` for another trendwatch process to let go of the
    /// store (a pass, an export), and never past `cancel`.
    pub async fn open_waiting(
        state_dir: &Path,
        wait: std::time::Duration,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<Store, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match Self::open(state_dir) {
                Err(StoreError::Locked { .. })
                    if tokio::time::Instant::now() < deadline && !cancel.is_cancelled() =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
    }

    /// [`Store::open`] (or [`Store::open_existing`]) for a command run by a person: another
    /// trendwatch process holding the store (a collection writing its pages, the daemon's
    /// digest) is waited for, up to `wait`; `on_wait` is called once, when waiting starts.
    pub fn open_in_turn(
        state_dir: &Path,
        existing: bool,
        wait: std::time::Duration,
        on_wait: impl FnOnce(),
    ) -> Result<Store, StoreError> {
        let deadline = std::time::Instant::now() + wait;
        let mut on_wait = Some(on_wait);
        loop {
            let opened = if existing {
                Self::open_existing(state_dir)
            } else {
                Self::open(state_dir)
            };
            match opened {
                Err(StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                    if let Some(say) = on_wait.take() {
                        say();
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                other => return other,
            }
        }
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
        let db = match open_sled(state_dir, &config) {
            // A full disk or a crash while sled wrote a snapshot leaves the half-written file
            // beside the last good one, and sled refuses the store until it is gone. Sled
            // took its lock before reading snapshots, so no other process is writing one:
            // set it aside and open again from the last good snapshot and the log.
            Err(StoreError::Corrupt { .. }) if !ephemeral && remove_half_snapshots(&db_dir) => {
                open_sled(state_dir, &config)?
            }
            other => other?,
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
}

/// Opens sled; a damaged log can make sled panic while recovering, reported as corruption.
fn open_sled(state_dir: &Path, config: &sled::Config) -> Result<sled::Db, StoreError> {
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()));
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(map_open_error(state_dir, e)),
        Err(_) => Err(StoreError::Corrupt {
            state_dir: state_dir.to_path_buf(),
            detail: "the database could not be recovered".into(),
        }),
    }
}

/// Removes the snapshots sled had not finished writing (`snap.<n>.generating`); whether
/// there were any. Nothing acknowledged is in them: sled renames a snapshot into place only
/// once it is complete, and the log it summarises stays until then.
fn remove_half_snapshots(db_dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(db_dir) else {
        return false;
    };
    let mut removed = false;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::warn!(
                        file = %entry.path().display(),
                        "removed a snapshot left half-written by a full disk or a crash; \
                         the store reopens from its last complete snapshot and log"
                    );
                    removed = true;
                }
                Err(e) => tracing::error!(
                    file = %entry.path().display(),
                    "cannot remove a half-written snapshot: {e}"
                ),
            }
        }
    }
    removed
}

/// The first migration step from each older version; version 1 is the first layout, so there
/// is nothing to upgrade yet. A future layout change adds `1 => migrate_1_to_2(..)` here.
pub(super) fn migrate(_inner: &Inner, from: u32) -> Result<u32, String> {
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

impl Inner {
    pub(super) fn lock(&self) -> Result<MutexGuard<'_, Catalog>, StoreError> {
        self.catalog.lock().map_err(|_| StoreError::Internal {
            state_dir: self.state_dir.clone(),
            detail: "a previous write panicked".into(),
        })
    }

    pub(super) fn check_schema(&self) -> Result<(), StoreError> {
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

    pub(super) fn load_catalog(&self) -> Result<Catalog, StoreError> {
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
            let name = Metric::stored(&name);
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

pub(super) fn map_open_error(state_dir: &Path, e: sled::Error) -> StoreError {
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

pub(super) fn dir_size(dir: &Path) -> std::io::Result<u64> {
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
