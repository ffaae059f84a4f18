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
    /// A TikTok Shop product whose sales per day take off against its own usual.
    ProductRising,
    /// A TikTok Shop product whose price fell 10 % or more, or under the shop's own price.
    PriceDrop,
}

impl TrendKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [TrendKind; 8] = [
        Self::Emerging,
        Self::Spike,
        Self::Cooling,
        Self::Discovered,
        Self::RisingCreator,
        Self::BreakoutVideo,
        Self::ProductRising,
        Self::PriceDrop,
    ];

    /// The name used in JSON and in alert keys: `emerging`, `rising_creator`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Emerging => "emerging",
            Self::Spike => "spike",
            Self::Discovered => "discovered",
            Self::RisingCreator => "rising_creator",
            Self::BreakoutVideo => "breakout_video",
            Self::Cooling => "cooling",
            Self::ProductRising => "product_rising",
            Self::PriceDrop => "price_drop",
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

/// How sure trendwatch is of an `emerging`, `spike` or `cooling`, and the evidence in the
/// counter's own terms, so a reader can judge it: how many views (and display steps) beyond
/// usual, over how long.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Confidence {
    pub level: ConfidenceLevel,
    /// Views beyond usual over the stretch judged (short of it, for `cooling`).
    pub excess: f64,
    /// The counter's display step: 1 for an exact counter, 100 for `12.3K`, 100,000 for
    /// `13.3M`.
    pub step: f64,
    /// Hours the evidence covers.
    pub hours: f64,
}

impl Confidence {
    /// The excess in display steps (views for an exact counter).
    pub fn steps(&self) -> f64 {
        self.excess / self.step.max(1.0)
    }
}

/// `clear`: the evidence would surprise a quiet counter less than once in years
/// ([`CLEAR_MARGIN`] above `min_score`); `tentative`: reported, to be confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceLevel {
    Clear,
    Tentative,
}

/// How far above `min_score` a trend's score must be for trendwatch to call it clear.
pub const CLEAR_MARGIN: f64 = 2.0;

/// What a trend of each kind carries beyond its rates. In JSON (`details` of `detect
/// --json`) each kind's fields appear by name, empty ones left out; spikes and cooling carry
/// none.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TrendDetails {
    /// Spikes and cooling: the rates say it all.
    #[default]
    None,
    /// An emerging hashtag.
    Emerging {
        /// Samples the take-off has lasted.
        samples: usize,
    },
    /// A hashtag riding along with watched ones.
    Discovered {
        /// Recent videos carrying the tag.
        videos: usize,
        /// Watched tags it appears with, most frequent first.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        co_tags: Vec<String>,
        /// The discovery keywords its name contains.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        keywords: Vec<String>,
    },
    /// A creator gaining followers or engagement.
    RisingCreator {
        #[serde(skip_serializing_if = "Option::is_none")]
        tier: Option<Tier>,
        /// (likes + comments + shares) / plays over recent videos, as a fraction.
        #[serde(skip_serializing_if = "Option::is_none")]
        engagement: Option<f64>,
        /// Latest follower count.
        #[serde(skip_serializing_if = "Option::is_none")]
        followers: Option<f64>,
        /// Samples the follower growth has lasted (none when engagement alone rose).
        #[serde(skip_serializing_if = "Option::is_none")]
        samples: Option<usize>,
    },
    /// A video far above its creator's usual.
    BreakoutVideo {
        video_id: String,
        /// The creator's handle.
        author: String,
        /// `https://www.tiktok.com/@AUTHOR/video/ID`.
        url: String,
        plays: u64,
        /// The creator's tier and followers, when trendwatch follows the creator.
        #[serde(skip_serializing_if = "Option::is_none")]
        tier: Option<Tier>,
        #[serde(skip_serializing_if = "Option::is_none")]
        followers: Option<f64>,
    },
}

impl TrendDetails {
    /// The creator's tier (rising creators, breakout videos).
    pub fn tier(&self) -> Option<Tier> {
        match self {
            Self::RisingCreator { tier, .. } | Self::BreakoutVideo { tier, .. } => *tier,
            _ => None,
        }
    }

    /// The creator's latest follower count (rising creators, breakout videos).
    pub fn followers(&self) -> Option<f64> {
        match self {
            Self::RisingCreator { followers, .. } | Self::BreakoutVideo { followers, .. } => {
                *followers
            }
            _ => None,
        }
    }

    /// The engagement of a rising creator's recent videos.
    pub fn engagement(&self) -> Option<f64> {
        match self {
            Self::RisingCreator { engagement, .. } => *engagement,
            _ => None,
        }
    }

    /// The id of a breakout video.
    pub fn video_id(&self) -> Option<&str> {
        match self {
            Self::BreakoutVideo { video_id, .. } => Some(video_id),
            _ => None,
        }
    }

    /// Samples in a row the rise has lasted (emerging tags, rising creators).
    pub fn samples(&self) -> Option<usize> {
        match self {
            Self::Emerging { samples } => Some(*samples),
            Self::RisingCreator { samples, .. } => *samples,
            _ => None,
        }
    }

    /// The watched tags a discovered tag rides with.
    pub fn co_tags(&self) -> &[String] {
        match self {
            Self::Discovered { co_tags, .. } => co_tags,
            _ => &[],
        }
    }
}

/// One detected movement, with the numbers that justify it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    pub entity: EntityId,
    pub kind: TrendKind,
    /// The metric the rates are of (`views`, `followers`, `plays`, `occurrences`).
    pub metric: crate::model::Metric,
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
    /// How sure, for the counter kinds (`emerging`, `spike`, `cooling`).
    pub confidence: Option<Confidence>,
}

impl Trend {
    /// A key identifying "the same trend" across runs, for digest cooldowns:
    /// `kind|entity` (plus the video id for breakout videos).
    pub fn key(&self) -> String {
        match self.details.video_id() {
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

/// The `detect --json` array of the command-line contract, best first as given; times are RFC 3339 UTC.
pub fn to_json(trends: &[Trend]) -> serde_json::Value {
    let items = trends
        .iter()
        .map(|t| {
            let mut o = serde_json::Map::new();
            o.insert("entity".into(), t.entity.as_str().into());
            o.insert("kind".into(), t.kind.as_str().into());
            o.insert("metric".into(), t.metric.as_str().into());
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
            if let Some(c) = &t.confidence {
                o.insert(
                    "confidence".into(),
                    serde_json::json!({
                        "level": c.level,
                        "excess": round(c.excess, 0),
                        "step": c.step,
                        "hours": round(c.hours, 1),
                    }),
                );
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn trend(kind: TrendKind, details: TrendDetails) -> Trend {
        Trend {
            entity: EntityId::creator(crate::model::TIKTOK, "lea.aroma"),
            kind,
            metric: crate::model::Metric::PLAYS,
            score: 4.0,
            rate_now: 90_000.0,
            rate_baseline: 3_000.0,
            growth: 30.0,
            since: Some(1_795_000_000),
            first_seen: None,
            evidence: "video 730 has 90000 plays".into(),
            details,
            confidence: None,
        }
    }

    #[test]
    fn each_kind_shows_its_own_details_in_json_and_spikes_none() {
        let video = TrendDetails::BreakoutVideo {
            video_id: "730".into(),
            author: "lea.aroma".into(),
            url: "https://www.tiktok.com/@lea.aroma/video/730".into(),
            plays: 90_000,
            tier: None,
            followers: None,
        };
        let json = to_json(&[
            trend(TrendKind::BreakoutVideo, video),
            trend(TrendKind::Spike, TrendDetails::None),
            trend(TrendKind::Emerging, TrendDetails::Emerging { samples: 9 }),
        ]);
        let d = &json[0]["details"];
        assert_eq!(d["video_id"], "730");
        assert_eq!(d["author"], "lea.aroma");
        assert_eq!(d["plays"], 90_000);
        assert!(d.get("tier").is_none(), "{d}");
        assert!(json[1].get("details").is_none(), "{}", json[1]);
        assert_eq!(json[2]["details"], serde_json::json!({"samples": 9}));
    }

    #[test]
    fn a_breakout_video_is_its_own_trend_for_the_cooldown() {
        let video = |id: &str| TrendDetails::BreakoutVideo {
            video_id: id.into(),
            author: "lea.aroma".into(),
            url: String::new(),
            plays: 1,
            tier: None,
            followers: None,
        };
        let a = trend(TrendKind::BreakoutVideo, video("730"));
        let b = trend(TrendKind::BreakoutVideo, video("731"));
        assert_ne!(a.key(), b.key());
        assert_eq!(
            trend(TrendKind::Spike, TrendDetails::None).key(),
            "spike|tiktok:@lea.aroma"
        );
    }
}
