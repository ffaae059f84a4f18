//! Writing to the store: a pass, an import, each in one transaction over every tree, applied
//! to the in-memory catalog only once committed and flushed.

use super::*;

impl Store {
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
        let changes = stage.finish();
        self.commit(&mut cat, changes, sample_batch, video_batch, seen_batch)
    }

    /// Stores samples, all or none, durably. A sample at the same entity, metric and time as
    /// a stored one replaces it.
    pub fn insert_samples(&self, samples: &[Sample]) -> Result<(), StoreError> {
        let mut cat = self.inner.lock()?;
        let mut stage = Stage::new(&cat);
        let batch = self.stage_samples(&mut stage, samples)?;
        let changes = stage.finish();
        self.commit(&mut cat, changes, batch, Batch::default(), Batch::default())
    }

    /// Groups samples by block, merges them into the stored blocks and returns the batch.
    fn stage_samples(&self, stage: &mut Stage, samples: &[Sample]) -> Result<Batch, StoreError> {
        let mut groups: HashMap<(u32, u16, u32), Vec<(UnixSeconds, f64)>> = HashMap::new();
        // Imports are usually grouped by entity and metric: skip the lookups when unchanged.
        let mut last: Option<(&EntityId, &Metric, u32, u16)> = None;
        for s in samples {
            let bits =
                block_bits(block::block_of(s.at)).ok_or(StoreError::TimeOutOfRange { at: s.at })?;
            let (e, m) = match last {
                Some((le, lm, e, m)) if le == &s.entity && lm == &s.metric => (e, m),
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
        mut stage: Changes,
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

/// Changes of one write, applied to the catalog only once committed.
#[derive(Default)]
pub(super) struct Changes {
    changed: BTreeMap<u32, EntityRecord>,
    new_entities: HashMap<EntityId, u32>,
    new_metrics: Vec<Metric>,
}

/// A write being prepared: looks entities and metrics up in the catalog (borrowed, never
/// copied: a pass over a chunk of a large watchlist costs the chunk, not the catalog) and
/// gathers what the write changes.
pub(super) struct Stage<'c> {
    cat: &'c Catalog,
    new_metric_nums: HashMap<Metric, u16>,
    changes: Changes,
}

impl<'c> Stage<'c> {
    pub(super) fn new(cat: &'c Catalog) -> Self {
        Self {
            cat,
            new_metric_nums: HashMap::new(),
            changes: Changes::default(),
        }
    }

    /// What the write changes, for [`Store::commit`].
    pub(super) fn finish(self) -> Changes {
        self.changes
    }

    pub(super) fn entity(&mut self, id: &EntityId) -> Result<u32, StoreError> {
        if let Some(n) = self
            .cat
            .entity_nums
            .get(id)
            .or_else(|| self.changes.new_entities.get(id))
        {
            return Ok(*n);
        }
        let n = u32::try_from(self.cat.entities.len() + self.changes.new_entities.len())
            .map_err(|_| StoreError::TooManyEntities)?;
        self.changes.new_entities.insert(id.clone(), n);
        self.changes
            .changed
            .insert(n, EntityRecord::new(id.clone(), UnixSeconds::MAX));
        Ok(n)
    }

    pub(super) fn metric(&mut self, name: &Metric) -> Result<u16, StoreError> {
        if let Some(n) = self
            .cat
            .metric_nums
            .get(name)
            .or_else(|| self.new_metric_nums.get(name))
        {
            return Ok(*n);
        }
        let n = u16::try_from(self.cat.metrics.len() + self.changes.new_metrics.len())
            .map_err(|_| StoreError::TooManyMetrics)?;
        self.new_metric_nums.insert(name.clone(), n);
        self.changes.new_metrics.push(name.clone());
        Ok(n)
    }

    /// The record of entity `num` for modification, its first-seen time lowered to `at`.
    pub(super) fn touch(&mut self, num: u32, at: UnixSeconds) -> &mut EntityRecord {
        let cat = self.cat;
        // `num` comes from `entity()`: a new number is already in `changed`, an old one is
        // in the catalog, so the fallback is never used.
        let rec = self.changes.changed.entry(num).or_insert_with(|| {
            cat.entities
                .get(num as usize)
                .cloned()
                .unwrap_or_else(|| EntityRecord::new(EntityId::custom("unknown", "?"), at))
        });
        rec.first_seen = rec.first_seen.min(at);
        rec
    }
}

pub(super) fn seen_key(last_seen: UnixSeconds, id: &str) -> Vec<u8> {
    let mut k = time_key(last_seen).to_vec();
    k.extend_from_slice(id.as_bytes());
    k
}
