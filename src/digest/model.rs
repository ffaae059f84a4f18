//! What a digest says, independent of language and layout.
//!
//! Built from detected trends and collection health; holds only cleaned, length-bounded
//! text. It never formats for a reader (that is [`super::render`](mod@super::render)) and never touches mail.

use super::facts::Facts;
use crate::detect::TrendKind;
use crate::model::AlertRecord;
use crate::model::UnixSeconds;

/// One digest as of a time.
#[derive(Debug, Clone)]
pub struct Digest {
    pub at: UnixSeconds,
    /// The reader's time zone: dates and the week are the ones on their calendar.
    pub timezone: chrono_tz::Tz,
    pub sections: Vec<Section>,
    /// Entities whose last attempt failed, with why.
    pub health: Vec<HealthItem>,
    /// Entities whose latest page only the browser fetcher could read.
    pub read_by_browser: usize,
    /// Recipients the mail server refused for good on the last digest, with its answer.
    pub refused: Vec<(String, String)>,
    /// Set while the history is too short for detection to know what is usual.
    pub warmup: Option<Warmup>,
    /// Alert history to record once the digest is queued (cooldown).
    pub alerts: Vec<(String, AlertRecord)>,
    /// Campaigns running, or in their last report week: their KPIs now and a week before.
    pub campaigns: Vec<CampaignWeek>,
    /// Trends still under way but held back by the cooldown: a digest with nothing new says
    /// "still moving, already reported", not "nothing moves".
    pub already_told: Vec<AlreadyTold>,
}

/// A trend still under way that an earlier digest reported.
#[derive(Debug, Clone, PartialEq)]
pub struct AlreadyTold {
    /// The entity as the reader knows it (`#skincarenaturel`, `@lea.soinsnaturels`).
    pub name: String,
    /// When the earlier digest reported it.
    pub told_at: UnixSeconds,
    /// How many times its usual rate it runs at now.
    pub growth: f64,
}

/// A campaign as the digest tells it: its KPIs as of the digest, and as of a week before.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignWeek {
    pub now: crate::campaign::CampaignKpis,
    pub week_before: crate::campaign::CampaignKpis,
}

impl Digest {
    /// No trend and no failing entity: the digest says so in one line.
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty() && self.health.is_empty()
    }

    pub fn item_count(&self) -> usize {
        self.sections.iter().map(|s| s.items.len()).sum()
    }
}

/// Why a digest has little to say yet, and when that changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warmup {
    /// The first sample of any watched entity; `None` when nothing was ever collected.
    pub collecting_since: Option<UnixSeconds>,
    /// When the history covers one baseline: trends are judged on a full usual level.
    pub ready_at: Option<UnixSeconds>,
    /// The baseline, in days.
    pub baseline_days: i64,
}

#[derive(Debug, Clone)]
pub struct Section {
    pub kind: TrendKind,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub struct Item {
    /// Display name: `#tag`, `@handle`, a video's author and id, or a custom id.
    pub name: String,
    /// The public page; `None` for custom sources with no known page.
    pub url: Option<String>,
    pub score: f64,
    pub growth: f64,
    pub rate_now: f64,
    pub rate_baseline: f64,
    pub metric: String,
    pub since: Option<UnixSeconds>,
    pub evidence: String,
    /// Samples behind the figures, when the detector says.
    pub samples: Option<usize>,
    /// How sure the detector is (counter alerts: emerging, spike, cooling).
    pub confidence: Option<crate::detect::Confidence>,
    /// Creator tier name, engagement rate and the tier's benchmark range.
    pub tier: Option<String>,
    pub engagement: Option<f64>,
    pub benchmark: Option<(f64, f64)>,
    /// Recent per-hour rates for the chart.
    pub rates: Vec<(UnixSeconds, f64)>,
    /// The metric the chart shows (a creator's followers when the trend is about engagement).
    pub chart_metric: String,
    /// The time span the chart shows.
    pub chart_from: UnixSeconds,
    pub chart_to: UnixSeconds,
    /// Volumes, videos, tags and creators behind the item.
    pub facts: Facts,
    /// A TikTok Shop product's own facts (its items only).
    pub product: Option<ProductFacts>,
}

/// What the digest says of a TikTok Shop product beside its movement.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ProductFacts {
    pub title: String,
    pub seller: String,
    pub currency: String,
    /// The latest lowest price.
    pub price: Option<f64>,
    /// The shop's own price of the same product (`my_price`).
    pub my_price: Option<f64>,
    /// The product's page, as the watchlist names it.
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct HealthItem {
    pub name: String,
    pub url: Option<String>,
    /// `blocked`, `not_found`, …
    pub kind: String,
    pub detail: String,
    pub failing_since: UnixSeconds,
    pub last_success: Option<UnixSeconds>,
}

/// Longest name kept from scraped text.
pub const MAX_NAME: usize = 80;
/// Longest evidence or failure detail kept.
pub const MAX_TEXT: usize = 300;

/// Scraped text made safe to place anywhere: [`crate::model::clean_text`], the one rule.
pub use crate::model::clean_text as clean;
