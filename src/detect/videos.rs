//! Detection from the videos collected on watched pages: discovered tags, creators'
//! engagement against their tier, and breakout videos.
//!
//! Video records carry their latest counters only, so these kinds judge what the store knew
//! last about videos first seen up to `at`. Nothing here reads the store.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::stats::median;
use super::{DetectInput, Tier};
use crate::model::StoredVideo;
use crate::model::{normalize_name, UnixSeconds, VideoRecord};

/// Tags that ride along with everything and say nothing about a niche.
const GENERIC_TAGS: &[&str] = &[
    "fyp",
    "foryou",
    "foryoupage",
    "fy",
    "fypシ",
    "fypage",
    "viral",
    "viralvideo",
    "trending",
    "trend",
    "tiktok",
    "pourtoi",
    "pourtoii",
    "xyzbca",
    "explore",
    "explorepage",
    "capcut",
    "duet",
    "stitch",
    "parati",
    "perte",
    "foryourpage",
    "greenscreen",
    "tiktokfrance",
];

/// A tag seen on collected videos and not in the watchlist.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub tag: String,
    /// Distinct videos first seen in the recent window carrying it.
    pub recent: usize,
    /// Distinct videos first seen before the recent window carrying it.
    pub earlier: usize,
    /// Occurrences per hour recently over occurrences per hour before.
    pub growth: f64,
    /// Fraction of its videos that also carry a watched tag.
    pub co_fraction: f64,
    /// Watched tags it appears with, most frequent first.
    pub co_tags: Vec<String>,
    /// Discovery keywords its name contains.
    pub keywords: Vec<String>,
    /// First time a video carrying it was seen.
    pub first_seen: UnixSeconds,
    /// `(1 + ln(1 + recent)) × (0.5 + relevance)`, relevance = co_fraction, +1 with a keyword.
    pub score: f64,
}

fn visible(v: &StoredVideo, at: UnixSeconds) -> bool {
    v.first_seen <= at
}

/// Every unwatched tag on videos first seen in `(at - window, at]`, scored.
pub fn candidates(
    input: &DetectInput,
    at: UnixSeconds,
    recent: i64,
    window: i64,
) -> Vec<Candidate> {
    let watched: BTreeSet<&str> = input.watched_tags.iter().map(String::as_str).collect();
    let keywords: Vec<String> = input.keywords.iter().map(|k| normalize_name(k)).collect();
    struct Acc {
        recent: usize,
        earlier: usize,
        co: usize,
        co_tags: HashMap<String, usize>,
        first: UnixSeconds,
    }
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    for v in &input.videos {
        if !visible(v, at) || v.first_seen <= at - window {
            continue;
        }
        let tags: BTreeSet<String> = v
            .video
            .hashtags
            .iter()
            .map(|t| normalize_name(t))
            // Videos stored before names were checked at the door may still carry bad ones.
            .filter(|t| crate::model::is_valid_tag(t))
            .collect();
        let with: Vec<&String> = tags
            .iter()
            .filter(|t| watched.contains(t.as_str()))
            .collect();
        for t in &tags {
            if t.is_empty() || watched.contains(t.as_str()) || GENERIC_TAGS.contains(&t.as_str()) {
                continue;
            }
            let a = acc.entry(t.clone()).or_insert(Acc {
                recent: 0,
                earlier: 0,
                co: 0,
                co_tags: HashMap::new(),
                first: v.first_seen,
            });
            if v.first_seen > at - recent {
                a.recent += 1;
            } else {
                a.earlier += 1;
            }
            if !with.is_empty() {
                a.co += 1;
            }
            for w in &with {
                *a.co_tags.entry((*w).clone()).or_default() += 1;
            }
            a.first = a.first.min(v.first_seen);
        }
    }
    let recent_h = recent as f64 / 3600.0;
    let earlier_h = ((window - recent) as f64 / 3600.0).max(1.0);
    acc.into_iter()
        .map(|(tag, a)| {
            let total = a.recent + a.earlier;
            let co_fraction = a.co as f64 / total.max(1) as f64;
            let mut co_tags: Vec<(String, usize)> = a.co_tags.into_iter().collect();
            co_tags.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
            let kws: Vec<String> = keywords
                .iter()
                .filter(|k| !k.is_empty() && tag.contains(k.as_str()))
                .cloned()
                .collect();
            let relevance = co_fraction + if kws.is_empty() { 0.0 } else { 1.0 };
            let before = (a.earlier as f64 / earlier_h).max(1.0 / earlier_h);
            let growth = (a.recent as f64 / recent_h) / before;
            Candidate {
                score: (1.0 + (1.0 + a.recent as f64).ln()) * (0.5 + relevance),
                tag,
                recent: a.recent,
                earlier: a.earlier,
                growth,
                co_fraction,
                co_tags: co_tags.into_iter().map(|c| c.0).collect(),
                keywords: kws,
                first_seen: a.first,
            }
        })
        .collect()
}

/// Whether a candidate is worth a `discovered` trend: seen on a few recent videos, growing,
/// and related to the watchlist by co-occurrence or a keyword.
pub fn is_discovery(c: &Candidate) -> bool {
    c.recent >= 3 && c.growth >= 2.0 && (c.co_fraction >= 0.5 || !c.keywords.is_empty())
}

/// (likes + comments + shares) / plays over the videos, `None` without plays.
pub fn engagement(videos: &[&VideoRecord]) -> Option<f64> {
    let plays: u64 = videos.iter().map(|v| v.plays).sum();
    if plays == 0 {
        return None;
    }
    let eng: u64 = videos.iter().map(|v| v.likes + v.comments + v.shares).sum();
    Some(eng as f64 / plays as f64)
}

/// An engagement rate `ratio` times the top of the tier's usual range is news from 1.2.
pub const ENGAGEMENT_NEWS: f64 = 1.2;
/// For mega creators, whose range has no floor, the top of "under 1 %" is the reference.
pub fn engagement_ratio(tier: Tier, engagement: f64) -> f64 {
    engagement / tier.benchmark().1
}

/// The recent videos of a creator seen up to `at`, newest first, at most `max`.
pub fn creator_videos<'a>(
    input: &'a DetectInput,
    handle: &str,
    at: UnixSeconds,
    max: usize,
) -> Vec<&'a VideoRecord> {
    let mut vs: Vec<&StoredVideo> = input
        .videos
        .iter()
        .filter(|v| visible(v, at) && v.video.author.as_deref() == Some(handle))
        .collect();
    vs.sort_by(|a, b| {
        b.video
            .created_at
            .cmp(&a.video.created_at)
            .then_with(|| a.video.id.cmp(&b.video.id))
    });
    vs.into_iter().take(max).map(|v| &v.video).collect()
}

/// A video whose plays run far ahead of its author's median.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakout<'a> {
    pub video: &'a StoredVideo,
    pub usual: f64,
    pub ratio: f64,
}

/// Plays at least this many times the author's median make a breakout.
pub const BREAKOUT_RATIO: f64 = 5.0;
/// And at least this many plays, so that tiny accounts do not flood the digest.
pub const BREAKOUT_MIN_PLAYS: u64 = 10_000;
/// Other videos of the author needed to know their usual.
const BREAKOUT_MIN_OTHERS: usize = 4;

/// Breakout videos created in `(at - window, at]`, by authors with enough other videos.
pub fn breakouts(input: &DetectInput, at: UnixSeconds, window: i64) -> Vec<Breakout<'_>> {
    let mut by_author: BTreeMap<&str, Vec<&StoredVideo>> = BTreeMap::new();
    for v in &input.videos {
        if let Some(a) = v.video.author.as_deref() {
            if visible(v, at) {
                by_author.entry(a).or_default().push(v);
            }
        }
    }
    let mut out = Vec::new();
    for vs in by_author.values() {
        if vs.len() < BREAKOUT_MIN_OTHERS + 1 {
            continue;
        }
        for v in vs {
            if v.video.created_at <= at - window || v.video.plays < BREAKOUT_MIN_PLAYS {
                continue;
            }
            let others: Vec<f64> = vs
                .iter()
                .filter(|o| o.video.id != v.video.id)
                .map(|o| o.video.plays as f64)
                .collect();
            let usual = median(&others).unwrap_or(0.0).max(1.0);
            let ratio = v.video.plays as f64 / usual;
            if ratio >= BREAKOUT_RATIO {
                out.push(Breakout {
                    video: v,
                    usual,
                    ratio,
                });
            }
        }
    }
    out
}
