//! What detection reports: the kinds of trend, creator tiers, one trend with its evidence,
//! and the JSON of `detect --json` (the design's contract).

use super::*;

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
pub(super) fn rfc3339(t: UnixSeconds) -> String {
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
