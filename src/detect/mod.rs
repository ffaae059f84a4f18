//! Trend detection: pure functions from series to ranked trends.
//!
//! Detection reads cumulative counters (hashtag views, creator followers) as per-hour
//! [`rates`] — rounded counters included, whose display step it infers and spreads — and
//! compares what is happening now with each entity's own seasonal, trend-adjusted baseline.
//! What it models is the increase over a stretch of time as a count: its usual value from the
//! entity's own history, its noise as the entity's own wobble plus the counting noise of small
//! numbers plus rounding, so that a niche tag of a few views an hour and a tag of millions are
//! judged on one scale (see [`series`]). It reports what is taking off and still holds
//! ([`TrendKind::Emerging`]), bursts of a few hours ([`TrendKind::Spike`]), new tags riding
//! along with the watched ones ([`TrendKind::Discovered`]), creators gaining followers or
//! engagement faster than their tier ([`TrendKind::RisingCreator`]), videos far ahead of their
//! creator's usual ([`TrendKind::BreakoutVideo`]) and trends fading ([`TrendKind::Cooling`]).
//! [`backtest`] replays it over a period.
//! Everything here is a pure function of a [`DetectInput`] and a time, so a past moment
//! replays exactly and the whole module can be tested and benchmarked without a store; only
//! [`load_input`] reads the store, and nothing here ever writes anywhere.

mod rates;
pub mod series;
mod stats;
pub mod synth;
pub mod videos;

use serde::Serialize;

use crate::config::{DetectConfig, Watchlist};
use crate::model::StoredVideo;
use crate::model::{EntityId, EntityKind, UnixSeconds};
use crate::store::{Store, StoreError};

pub use rates::{intervals, rates, Interval};

/// What kind of movement a trend is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendKind {
    /// A watched or discovered hashtag whose rate grows abnormally against its own baseline,
    /// reported while the take-off holds.
    Emerging,
    /// A hashtag whose rate burst for a few hours: a viral moment, not (yet) a trend.
    Spike,
    /// A hashtag not in the watchlist riding along with watched ones.
    Discovered,
    /// A creator whose followers accelerate or whose engagement beats their tier.
    RisingCreator,
    /// A video whose plays run far ahead of its creator's usual.
    BreakoutVideo,
    /// A trend whose rate fell well below its own recent peak.
    Cooling,
}

impl TrendKind {
    /// The name used in JSON and in alert keys: `emerging`, `rising_creator`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Emerging => "emerging",
            Self::Spike => "spike",
            Self::Discovered => "discovered",
            Self::RisingCreator => "rising_creator",
            Self::BreakoutVideo => "breakout_video",
            Self::Cooling => "cooling",
        }
    }
}

impl std::fmt::Display for TrendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A creator's size class, which decides what engagement rate is ordinary for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Under 10k followers: 5–10 % engagement is usual.
    Nano,
    /// 10k–100k: 2–5 %.
    Micro,
    /// 100k–1M: 1–2 %.
    Macro,
    /// Over 1M: under 1 %.
    Mega,
}

impl Tier {
    pub fn of_followers(followers: f64) -> Self {
        if followers < 10_000.0 {
            Self::Nano
        } else if followers < 100_000.0 {
            Self::Micro
        } else if followers < 1_000_000.0 {
            Self::Macro
        } else {
            Self::Mega
        }
    }

    /// The usual engagement range of the tier, as fractions (`(0.05, 0.10)` for nano).
    pub fn benchmark(self) -> (f64, f64) {
        match self {
            Self::Nano => (0.05, 0.10),
            Self::Micro => (0.02, 0.05),
            Self::Macro => (0.01, 0.02),
            Self::Mega => (0.0, 0.01),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nano => "nano",
            Self::Micro => "micro",
            Self::Macro => "macro",
            Self::Mega => "mega",
        }
    }
}

/// Per-kind extras of a trend; empty fields are left out of JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrendDetails {
    /// Creator tier (rising creators, breakout videos).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    /// (likes + comments + shares) / plays over recent videos, as a fraction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engagement: Option<f64>,
    /// Latest follower count of a creator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followers: Option<f64>,
    /// Breakout video id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_id: Option<String>,
    /// Breakout video author handle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// `https://www.tiktok.com/@AUTHOR/video/ID`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Plays of a breakout video.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plays: Option<u64>,
    /// Discovered tags: recent videos carrying the tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub videos: Option<usize>,
    /// Discovered tags: watched tags it appears with, most frequent first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub co_tags: Vec<String>,
    /// Discovered tags: the discovery keywords its name contains.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Samples in a row above the threshold (emerging, rising creators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,
}

/// One detected movement, with the numbers that justify it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    pub entity: EntityId,
    pub kind: TrendKind,
    /// The metric the rates are of (`views`, `followers`, `plays`, `occurrences`).
    pub metric: String,
    /// Ranks trends, higher is stronger; each kind documents its scale (see [`detect`]).
    pub score: f64,
    /// Rate per hour now (or the current value the kind compares).
    pub rate_now: f64,
    /// What would be usual for the entity now.
    pub rate_baseline: f64,
    /// `rate_now / rate_baseline`.
    pub growth: f64,
    /// When the movement began.
    pub since: Option<UnixSeconds>,
    /// The entity's first sample.
    pub first_seen: Option<UnixSeconds>,
    /// One human sentence: "views/hour 13.3x the 14-day baseline, 9.8x since … (9 samples)".
    pub evidence: String,
    pub details: TrendDetails,
}

impl Trend {
    /// A key identifying "the same trend" across runs, for digest cooldowns:
    /// `kind|entity` (plus the video id for breakout videos).
    pub fn key(&self) -> String {
        match &self.details.video_id {
            Some(v) => format!("{}|{}|{}", self.kind, self.entity, v),
            None => format!("{}|{}", self.kind, self.entity),
        }
    }
}

/// RFC 3339 in UTC with a `Z`, whole seconds.
fn rfc3339(t: UnixSeconds) -> String {
    match chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0) {
        Some(d) => d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        None => t.to_string(),
    }
}

/// Rounds for display in JSON: ratios and rates are estimates, not exact figures.
fn round(v: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    if v.is_finite() {
        (v * p).round() / p
    } else {
        0.0
    }
}

/// The `detect --json` array of DESIGN.md, best first as given; times are RFC 3339 UTC.
pub fn to_json(trends: &[Trend]) -> serde_json::Value {
    let items = trends
        .iter()
        .map(|t| {
            let mut o = serde_json::Map::new();
            o.insert("entity".into(), t.entity.as_str().into());
            o.insert("kind".into(), t.kind.as_str().into());
            o.insert("metric".into(), t.metric.clone().into());
            o.insert("score".into(), round(t.score, 2).into());
            o.insert("rate_now".into(), round(t.rate_now, 1).into());
            o.insert("rate_baseline".into(), round(t.rate_baseline, 1).into());
            o.insert("growth".into(), round(t.growth, 2).into());
            o.insert(
                "since".into(),
                t.since
                    .map(rfc3339)
                    .map_or(serde_json::Value::Null, Into::into),
            );
            o.insert(
                "first_seen".into(),
                t.first_seen
                    .map(rfc3339)
                    .map_or(serde_json::Value::Null, Into::into),
            );
            o.insert("evidence".into(), t.evidence.clone().into());
            if let Ok(serde_json::Value::Object(d)) = serde_json::to_value(&t.details) {
                if !d.is_empty() {
                    o.insert("details".into(), serde_json::Value::Object(d));
                }
            }
            serde_json::Value::Object(o)
        })
        .collect();
    serde_json::Value::Array(items)
}

/// The series of one entity that detection reads.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySeries {
    pub entity: EntityId,
    /// The entity's first sample.
    pub first_seen: Option<UnixSeconds>,
    /// Metric name → points sorted by time.
    pub metrics: Vec<(String, Vec<(UnixSeconds, f64)>)>,
}

impl EntitySeries {
    pub fn metric(&self, name: &str) -> Option<&[(UnixSeconds, f64)]> {
        self.metrics
            .iter()
            .find(|m| m.0 == name)
            .map(|m| m.1.as_slice())
    }
}

/// Everything detection needs, read from the store once by [`load_input`] (or built by
/// tests, benches and the evaluation generator).
#[derive(Debug, Clone, Default)]
pub struct DetectInput {
    pub entities: Vec<EntitySeries>,
    /// Videos seen on watched pages, latest counters.
    pub videos: Vec<StoredVideo>,
    /// Normalised watched hashtags (without `#`).
    pub watched_tags: Vec<String>,
    /// Normalised watched creator handles (without `@`).
    pub watched_creators: Vec<String>,
    /// `[discovery] keywords`, normalised.
    pub keywords: Vec<String>,
    /// Whether `discovered` trends are wanted.
    pub discovery: bool,
    /// The time the input was loaded for; [`tags_to_track`] judges as of it.
    pub at: UnixSeconds,
}

const HOUR: i64 = 3600;
/// Followers per hour below which an acceleration is too small to be news (≈ 120 a day).
pub const MIN_FOLLOWER_RATE: f64 = 5.0;

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4).max(HOUR)
}

fn days_label(d: i64) -> String {
    if d % 86_400 == 0 {
        format!("{}-day", d / 86_400)
    } else {
        format!("{}-hour", d / 3600)
    }
}

/// Trends as of `at`, best first, seeing only samples up to `at`.
///
/// Scores, per kind (all compared with `min_score`):
/// - `emerging`, `spike`, `rising_creator` (followers): the z-score of the log change over
///   the stretch judged, `ln(observed / usual) / noise`, the noise being the entity's own
///   wobble (averaged over up to four intervals) with counting and rounding noise added: 3
///   means "three typical wobbles above usual".
/// - `cooling`: `ln(peak / now)` over the spread of the entity's own log rates.
/// - `rising_creator` (engagement): 2.5 × engagement / top of the tier's usual range
///   (reported from 1.2× the top, score 3).
/// - `breakout_video`: 3 × log₅(plays / the author's median plays) (5× is 3, 25× is 6).
/// - `discovered`: (1 + ln(1 + recent videos)) × (0.5 + relevance), relevance being the
///   co-occurrence fraction with watched tags, +1 for a keyword in its name (three recent
///   videos that all carry a watched tag score 3.6).
pub fn detect(input: &DetectInput, cfg: &DetectConfig, at: UnixSeconds) -> Vec<Trend> {
    let baseline = secs(cfg.baseline);
    let recent = secs(cfg.recent);
    let base_label = days_label(baseline);
    let mut out: Vec<Trend> = Vec::new();
    let per_entity = |e: &EntitySeries, out: &mut Vec<Trend>| match e.entity.kind() {
        EntityKind::Hashtag => {
            let Some(points) = e.metric("views") else {
                return;
            };
            let found = series::assess(points, at, baseline, recent, cfg.min_rate);
            if let Some(g) = found.emerging {
                out.push(Trend {
                    entity: e.entity.clone(),
                    kind: TrendKind::Emerging,
                    metric: "views".into(),
                    score: g.score,
                    rate_now: g.rate_now,
                    rate_baseline: g.rate_baseline,
                    growth: g.growth,
                    since: Some(g.since),
                    first_seen: e.first_seen,
                    evidence: format!(
                        "views/hour {:.1}x the {} baseline, {:.1}x since {} ({} samples)",
                        g.growth,
                        base_label,
                        g.growth_since,
                        rfc3339(g.since),
                        g.samples
                    ),
                    details: TrendDetails {
                        samples: Some(g.samples),
                        ..TrendDetails::default()
                    },
                });
            } else if let Some(s) = found.spike {
                out.push(Trend {
                    entity: e.entity.clone(),
                    kind: TrendKind::Spike,
                    metric: "views".into(),
                    score: s.score,
                    rate_now: s.rate,
                    rate_baseline: s.rate_baseline,
                    growth: s.growth,
                    since: Some(s.start),
                    first_seen: e.first_seen,
                    evidence: format!(
                        "views/hour {:.1}x usual for {} from {}",
                        s.growth,
                        humantime::format_duration(std::time::Duration::from_secs(
                            u64::try_from(s.end - s.start).unwrap_or(0)
                        )),
                        rfc3339(s.start)
                    ),
                    details: TrendDetails::default(),
                });
            } else if let Some(c) = found.cooling {
                out.push(Trend {
                    entity: e.entity.clone(),
                    kind: TrendKind::Cooling,
                    metric: "views".into(),
                    score: c.score,
                    rate_now: c.rate_now,
                    rate_baseline: c.peak,
                    growth: c.rate_now / c.peak,
                    since: Some(c.peak_at),
                    first_seen: e.first_seen,
                    evidence: format!(
                        "views/hour down to {:.0}% of its peak of {}",
                        100.0 * c.rate_now / c.peak,
                        crate::detect::rfc3339(c.peak_at)
                    ),
                    details: TrendDetails::default(),
                });
            }
        }
        EntityKind::Creator => {
            if let Some(t) = rising_creator(input, e, at, baseline, recent, &base_label) {
                out.push(t);
            }
        }
        EntityKind::Custom => {}
    };
    out.extend(each_entity(&input.entities, per_entity));
    if input.discovery {
        for c in videos::candidates(input, at, recent, baseline) {
            if !videos::is_discovery(&c) {
                continue;
            }
            let mut evidence = format!(
                "on {} new videos in the last {}, {:.0}% of them with watched tags",
                c.recent,
                humantime::format_duration(std::time::Duration::from_secs(recent as u64)),
                100.0 * c.co_fraction
            );
            if let Some(w) = c.co_tags.first() {
                evidence.push_str(&format!(" (mostly #{w})"));
            }
            if !c.keywords.is_empty() {
                evidence.push_str(&format!("; matches {}", c.keywords.join(", ")));
            }
            out.push(Trend {
                entity: EntityId::hashtag(crate::model::TIKTOK, &c.tag),
                kind: TrendKind::Discovered,
                metric: "occurrences".into(),
                score: c.score,
                rate_now: c.recent as f64,
                rate_baseline: c.earlier as f64,
                growth: c.growth,
                since: Some(c.first_seen),
                first_seen: Some(c.first_seen),
                evidence,
                details: TrendDetails {
                    videos: Some(c.recent),
                    co_tags: c.co_tags.into_iter().take(5).collect(),
                    keywords: c.keywords,
                    ..TrendDetails::default()
                },
            });
        }
    }
    for b in videos::breakouts(input, at, baseline) {
        let v = &b.video.video;
        let author = v.author.clone().unwrap_or_default();
        let followers = input
            .entities
            .iter()
            .find(|e| e.entity == EntityId::creator(crate::model::TIKTOK, &author))
            .and_then(|e| e.metric("followers"))
            .and_then(|p| p.iter().rev().find(|x| x.0 <= at))
            .map(|x| x.1);
        out.push(Trend {
            entity: EntityId::creator(crate::model::TIKTOK, &author),
            kind: TrendKind::BreakoutVideo,
            metric: "plays".into(),
            score: 3.0 * b.ratio.ln() / videos::BREAKOUT_RATIO.ln(),
            rate_now: v.plays as f64,
            rate_baseline: b.usual,
            growth: b.ratio,
            since: Some(v.created_at),
            first_seen: Some(b.video.first_seen),
            evidence: format!(
                "video {} has {} plays, {:.1}x @{}'s usual {:.0}",
                v.id, v.plays, b.ratio, author, b.usual
            ),
            details: TrendDetails {
                tier: followers.map(Tier::of_followers),
                followers,
                url: Some(format!("https://www.tiktok.com/@{}/video/{}", author, v.id)),
                video_id: Some(v.id.clone()),
                author: Some(author),
                plays: Some(v.plays),
                ..TrendDetails::default()
            },
        });
    }
    out.retain(|t| t.score.is_finite() && t.score >= cfg.min_score);
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.entity.cmp(&b.entity))
            .then_with(|| a.kind.cmp(&b.kind))
    });
    out
}

/// Runs `judge` over every entity, split over the machine's cores (each entity is judged on
/// its own series alone), and gathers what it found in entity order.
fn each_entity(
    entities: &[EntitySeries],
    judge: impl Fn(&EntitySeries, &mut Vec<Trend>) + Sync,
) -> Vec<Trend> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || entities.len() < 256 {
        let mut out = Vec::new();
        for e in entities {
            judge(e, &mut out);
        }
        return out;
    }
    let chunk = entities.len().div_ceil(threads);
    let judge = &judge;
    std::thread::scope(|scope| {
        let workers: Vec<_> = entities
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for e in part {
                        judge(e, &mut out);
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Follower acceleration and engagement against the tier, for one creator.
fn rising_creator(
    input: &DetectInput,
    e: &EntitySeries,
    at: UnixSeconds,
    baseline: i64,
    recent: i64,
    base_label: &str,
) -> Option<Trend> {
    let followers_pts = e.metric("followers");
    let followers = followers_pts
        .and_then(|p| p.iter().rev().find(|x| x.0 <= at))
        .map(|x| x.1);
    let growth =
        followers_pts.and_then(|p| series::growth_at(p, at, baseline, recent, MIN_FOLLOWER_RATE));
    let tier = followers.map(Tier::of_followers);
    let vids = videos::creator_videos(input, e.entity.name(), at, 12);
    let eng = if vids.len() >= 3 {
        videos::engagement(&vids)
    } else {
        None
    };
    let eng_ratio = match (tier, eng) {
        (Some(t), Some(x)) => Some(videos::engagement_ratio(t, x)),
        _ => None,
    };
    let eng_news = eng_ratio.filter(|r| *r >= videos::ENGAGEMENT_NEWS);
    if growth.is_none() && eng_news.is_none() {
        return None;
    }
    let eng_text = match (tier, eng) {
        (Some(t), Some(x)) => {
            let (lo, hi) = t.benchmark();
            let range = if lo > 0.0 {
                format!("{:.0}–{:.0}%", lo * 100.0, hi * 100.0)
            } else {
                format!("under {:.0}%", hi * 100.0)
            };
            Some(format!(
                "engagement {:.1}% over {} recent videos (usual for {} creators: {})",
                x * 100.0,
                vids.len(),
                t.as_str(),
                range
            ))
        }
        _ => None,
    };
    let details = TrendDetails {
        tier,
        engagement: eng,
        followers,
        samples: growth.as_ref().map(|g| g.samples),
        ..TrendDetails::default()
    };
    let eng_score = eng_news.map(|r| 2.5 * r);
    match growth {
        Some(g) => {
            let mut evidence = format!(
                "followers/hour {:.1}x the {} baseline for {} samples",
                g.growth, base_label, g.samples
            );
            if let (Some(t), Some(_)) = (&eng_text, eng_news) {
                evidence.push_str("; ");
                evidence.push_str(t);
            }
            Some(Trend {
                entity: e.entity.clone(),
                kind: TrendKind::RisingCreator,
                metric: "followers".into(),
                score: g.score.max(eng_score.unwrap_or(0.0)),
                rate_now: g.rate_now,
                rate_baseline: g.rate_baseline,
                growth: g.growth,
                since: Some(g.since),
                first_seen: e.first_seen,
                evidence,
                details,
            })
        }
        None => {
            let r = eng_news?;
            let (t, x) = (tier?, eng?);
            Some(Trend {
                entity: e.entity.clone(),
                kind: TrendKind::RisingCreator,
                metric: "engagement".into(),
                score: 2.5 * r,
                rate_now: x,
                rate_baseline: t.benchmark().1,
                growth: r,
                since: None,
                first_seen: e.first_seen,
                evidence: eng_text.unwrap_or_default(),
                details,
            })
        }
    }
}

/// Discovered tags worth collecting on their own pages, best first, at most `max`, as of
/// `input.at`: related to the watchlist (co-occurrence or keyword) and seen on at least two
/// videos in the last week.
pub fn tags_to_track(input: &DetectInput, max: usize) -> Vec<String> {
    const DAY: i64 = 86_400;
    let mut c: Vec<videos::Candidate> = videos::candidates(input, input.at, DAY, 7 * DAY)
        .into_iter()
        .filter(|c| c.recent + c.earlier >= 2 && (c.co_fraction >= 0.5 || !c.keywords.is_empty()))
        .collect();
    c.sort_by(|a, b| {
        let sa = (1.0 + ((a.recent + a.earlier) as f64).ln())
            * (a.co_fraction + a.keywords.len().min(1) as f64);
        let sb = (1.0 + ((b.recent + b.earlier) as f64).ln())
            * (b.co_fraction + b.keywords.len().min(1) as f64);
        sb.total_cmp(&sa).then_with(|| a.tag.cmp(&b.tag))
    });
    c.into_iter().take(max).map(|c| c.tag).collect()
}

/// How far back [`load_input`] reads: two baselines plus the recent window and a day, so
/// weekly lags and cooling peaks are visible.
fn input_span(cfg: &DetectConfig) -> i64 {
    2 * secs(cfg.baseline) + secs(cfg.recent) + 86_400
}

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
                let metrics: Vec<(String, Vec<(UnixSeconds, f64)>)> = e
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
        }
    }
}

/// Replays [`detect`] at `from`, `from + every`, … up to `to`, exactly as `detect --at` would
/// see each moment, and returns each alert onset in time order: a trend whose key was not
/// reported at the step before. `input` comes from [`load_input_between`].
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
    let mut onsets = Vec::new();
    let mut before: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut at = from;
    while at <= to {
        let trends = detect(&input.as_of(cfg, at), cfg, at);
        let now: std::collections::HashSet<String> = trends.iter().map(Trend::key).collect();
        onsets.extend(
            trends
                .into_iter()
                .filter(|t| !before.contains(&t.key()))
                .map(|trend| Onset { at, trend }),
        );
        before = now;
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
        let wanted: &[&str] = match info.id.kind() {
            EntityKind::Hashtag => &["views"],
            EntityKind::Creator => &["followers"],
            EntityKind::Custom => &[],
        };
        let mut metrics = Vec::new();
        for m in wanted {
            if info.metrics.iter().any(|x| x == m) {
                let pts = store.series(&info.id, m, from, at)?;
                if !pts.is_empty() {
                    metrics.push(((*m).to_string(), pts));
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
    })
}
