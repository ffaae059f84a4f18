//! Detection over the store and over time: reading the input as of a moment, and replaying
//! a span step by step (`backtest`) to list each alert's onset.

use super::*;

/// One alert onset of a [`backtest`]: a trend reported at `at` that was not at the step
/// before.
#[derive(Debug, Clone, PartialEq)]
pub struct Onset {
    pub at: UnixSeconds,
    pub trend: Trend,
}

impl DetectInput {
    /// What [`load_input`] would have read at `at` from a store holding this input: series
    /// cut to the span it reads, videos seen over it, hashtags without a sample in it left
    /// out. `self` must have been loaded as of a time at or after `at` over a span reaching
    /// back to `at - span`.
    pub fn as_of(&self, cfg: &DetectConfig, at: UnixSeconds) -> DetectInput {
        let from = at.saturating_sub(input_span(cfg));
        let entities = self
            .entities
            .iter()
            .filter_map(|e| {
                let metrics: Vec<(Metric, Vec<(UnixSeconds, f64)>)> = e
                    .metrics
                    .iter()
                    .filter_map(|(name, pts)| {
                        let lo = pts.partition_point(|p| p.0 < from);
                        let hi = pts.partition_point(|p| p.0 <= at);
                        (hi > lo).then(|| (name.clone(), pts[lo..hi].to_vec()))
                    })
                    .collect();
                let keep = e.entity.kind() == EntityKind::Creator || !metrics.is_empty();
                keep.then(|| EntitySeries {
                    entity: e.entity.clone(),
                    first_seen: e.first_seen,
                    metrics,
                })
            })
            .collect();
        let videos = self
            .videos
            .iter()
            .filter(|v| v.first_seen <= at && v.last_seen >= from)
            .cloned()
            .collect();
        DetectInput {
            entities,
            videos,
            at,
            ..self.clone_settings()
        }
    }

    /// The watchlist side of the input, without series or videos.
    fn clone_settings(&self) -> DetectInput {
        DetectInput {
            entities: Vec::new(),
            videos: Vec::new(),
            watched_tags: self.watched_tags.clone(),
            watched_creators: self.watched_creators.clone(),
            keywords: self.keywords.clone(),
            discovery: self.discovery,
            at: self.at,
            my_prices: self.my_prices.clone(),
        }
    }
}

/// Replays [`detect`] at `from`, `from + every`, … up to `to`, exactly as `detect --at` would
/// see each moment, and returns each alert onset in time order: a trend whose key was not
/// reported within the `recent` window before (an alert that blinks off for a replay or two
/// and back is the same alert to a reader, not a new one). `input` comes from [`load_input_between`].
pub fn backtest(
    input: &DetectInput,
    cfg: &DetectConfig,
    from: UnixSeconds,
    to: UnixSeconds,
    every: i64,
) -> Vec<Onset> {
    backtest_reporting(input, cfg, from, to, every, &crate::progress::Quiet)
}

/// [`backtest`], telling `progress` of each step replayed.
pub fn backtest_reporting(
    input: &DetectInput,
    cfg: &DetectConfig,
    from: UnixSeconds,
    to: UnixSeconds,
    every: i64,
    progress: &dyn crate::progress::Progress,
) -> Vec<Onset> {
    let every = every.max(1);
    let blink = secs(cfg.recent);
    let mut onsets = Vec::new();
    // When each alert was last reported.
    let mut last_seen: std::collections::HashMap<String, UnixSeconds> =
        std::collections::HashMap::new();
    let mut at = from;
    while at <= to {
        let trends = detect(&input.as_of(cfg, at), cfg, at);
        for trend in trends {
            let key = trend.key();
            let earlier = last_seen.insert(key, at);
            if earlier.is_none_or(|t| at - t > blink) {
                onsets.push(Onset { at, trend });
            }
        }
        progress.done(false);
        at += every;
    }
    onsets
}

/// The `backtest --json` array: one object per onset, in time order.
pub fn onsets_to_json(onsets: &[Onset]) -> serde_json::Value {
    let trends: Vec<Trend> = onsets.iter().map(|o| o.trend.clone()).collect();
    let mut items = match to_json(&trends) {
        serde_json::Value::Array(items) => items,
        _ => Vec::new(),
    };
    for (item, onset) in items.iter_mut().zip(onsets) {
        if let serde_json::Value::Object(o) = item {
            o.insert("at".into(), rfc3339(onset.at).into());
        }
    }
    serde_json::Value::Array(items)
}

/// Everything [`backtest`] needs to replay `[from, to]`: [`load_input`] as of `to`, reaching
/// back far enough for `from`.
pub fn load_input_between(
    store: &Store,
    watchlist: &Watchlist,
    cfg: &DetectConfig,
    from: UnixSeconds,
    to: UnixSeconds,
) -> Result<DetectInput, StoreError> {
    read_input(store, watchlist, from.saturating_sub(input_span(cfg)), to)
}

/// Reads what [`detect`] needs as of `at` from the store: every entity's series over the
/// last two baselines plus the recent window (so weekly lags and cooling peaks are visible),
/// and the videos seen over that span. The only function of this module that does I/O.
pub fn load_input(
    store: &Store,
    watchlist: &Watchlist,
    cfg: &DetectConfig,
    at: UnixSeconds,
) -> Result<DetectInput, StoreError> {
    read_input(store, watchlist, at.saturating_sub(input_span(cfg)), at)
}

fn read_input(
    store: &Store,
    watchlist: &Watchlist,
    from: UnixSeconds,
    at: UnixSeconds,
) -> Result<DetectInput, StoreError> {
    let mut entities = Vec::new();
    for info in store.entities()? {
        let wanted: &[Metric] = match info.id.kind() {
            EntityKind::Hashtag => &[Metric::VIEWS],
            EntityKind::Creator => &[Metric::FOLLOWERS],
            // Campaign videos are measured (`campaign`), not watched for take-offs.
            EntityKind::Product => &[Metric::SOLD, Metric::PRICE],
            EntityKind::Custom | EntityKind::Video => &[],
        };
        let mut metrics = Vec::new();
        for m in wanted {
            if info.metrics.contains(m) {
                let pts = store.series(&info.id, m, from, at)?;
                if !pts.is_empty() {
                    metrics.push((m.clone(), pts));
                }
            }
        }
        if info.id.kind() == EntityKind::Creator || !metrics.is_empty() {
            entities.push(EntitySeries {
                first_seen: Some(info.first_seen),
                entity: info.id,
                metrics,
            });
        }
    }
    let videos = store
        .videos_seen_since(from)?
        .into_iter()
        .filter(|v| v.first_seen <= at)
        .collect();
    Ok(DetectInput {
        entities,
        videos,
        watched_tags: watchlist.tiktok.hashtags.clone(),
        watched_creators: watchlist.tiktok.creators.clone(),
        keywords: watchlist.discovery.keywords.clone(),
        discovery: watchlist.discovery.enabled,
        at,
        my_prices: watchlist
            .shop
            .products
            .iter()
            .filter_map(|p| p.my_price.map(|m| (p.entity(), m)))
            .collect(),
    })
}

/// How many alerts a setting sends: the onsets of a [`backtest`] per kind, per entity-week
/// (the volume one watched tag or creator brings) and per week for the whole watchlist.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertVolume {
    pub from: UnixSeconds,
    pub to: UnixSeconds,
    pub weeks: f64,
    /// Hashtags and creators with at least one sample in the period.
    pub hashtags: usize,
    pub creators: usize,
    /// Onsets per kind, every kind listed (in the order of [`TrendKind::ALL`]).
    pub onsets: Vec<(TrendKind, usize)>,
}

impl AlertVolume {
    /// Counts the onsets of a replay of `input` over `[from, to]`.
    pub fn of(input: &DetectInput, onsets: &[Onset], from: UnixSeconds, to: UnixSeconds) -> Self {
        let sampled = |e: &&EntitySeries| {
            e.metrics
                .iter()
                .any(|(_, pts)| pts.iter().any(|p| p.0 >= from && p.0 <= to))
        };
        let count = |kind: EntityKind| {
            input
                .entities
                .iter()
                .filter(|e| e.entity.kind() == kind)
                .filter(sampled)
                .count()
        };
        AlertVolume {
            from,
            to,
            weeks: (to - from).max(0) as f64 / (7.0 * 86_400.0),
            hashtags: count(EntityKind::Hashtag),
            creators: count(EntityKind::Creator),
            onsets: TrendKind::ALL
                .iter()
                .map(|&k| (k, onsets.iter().filter(|o| o.trend.kind == k).count()))
                .collect(),
        }
    }

    /// Entities a kind of alert is about: creators for creator kinds, hashtags otherwise.
    pub fn entities_for(&self, kind: TrendKind) -> usize {
        match kind {
            TrendKind::RisingCreator | TrendKind::BreakoutVideo => self.creators,
            _ => self.hashtags,
        }
    }

    /// Onsets of `kind` per entity and week; `None` when nothing was watched that long.
    pub fn per_entity_week(&self, kind: TrendKind, onsets: usize) -> Option<f64> {
        let exposure = self.entities_for(kind) as f64 * self.weeks;
        (exposure > 0.0).then(|| onsets as f64 / exposure)
    }

    /// Onsets of every kind per week, for the whole watchlist.
    pub fn per_week(&self, onsets: usize) -> Option<f64> {
        (self.weeks > 0.0).then(|| onsets as f64 / self.weeks)
    }

    /// The `backtest --summary --json` object.
    pub fn to_json(&self) -> serde_json::Value {
        let kinds: serde_json::Map<String, serde_json::Value> = self
            .onsets
            .iter()
            .map(|&(k, n)| {
                (
                    k.as_str().to_string(),
                    serde_json::json!({
                        "onsets": n,
                        "per_entity_week": self.per_entity_week(k, n),
                        "per_week": self.per_week(n),
                    }),
                )
            })
            .collect();
        serde_json::json!({
            "from": rfc3339(self.from),
            "to": rfc3339(self.to),
            "weeks": self.weeks,
            "hashtags": self.hashtags,
            "creators": self.creators,
            "kinds": kinds,
        })
    }
}
