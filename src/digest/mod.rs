//! The digest: detected trends and collection health turned into what a reader opens on
//! Monday morning — HTML with inline PNG charts, a plain-text alternative, in French or
//! English.
//!
//! [`build`] decides *what* is said (sections, cooldown, health) from [`Inputs`] that one load
//! step of the pipeline read from the store ([`wanted`] names them); it never reads the store
//! itself. [`render`](mod@render) decides *how* (templates, locale, charts).
//! Scraped text is untrusted: it is cleaned and bounded here and auto-escaped by the HTML
//! template. This module never sends mail and never writes to the store (the alert history is
//! recorded by [`crate::mail::queue`] once the digest is safely in the outbox).

pub mod charts;
pub mod facts;
mod health;
pub mod locale;
pub mod model;
pub mod render;
mod story;

use std::collections::HashMap;
use std::time::Duration;

use crate::config::{encode_component, Config};
use crate::detect::{self, Tier, Trend, TrendDetails, TrendKind};
use crate::model::{AlertRecord, EntityInfo, StoredVideo};
use crate::model::{EntityId, EntityKind, Metric, UnixSeconds};

pub use facts::Facts;
pub use health::{group_health, HealthGroup};
pub use model::{
    clean, AlreadyTold, CampaignWeek, Digest, HealthItem, Item, ProductFacts, Section, Warmup,
};
pub use render::{render, render_preview, InlineImage, Rendered};

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Chart(#[from] charts::ChartError),
    #[error("cannot render the digest template")]
    Template(#[from] minijinja::Error),
}

/// Sections in the order a reader sees them.
pub const SECTION_ORDER: [TrendKind; 8] = [
    TrendKind::Emerging,
    TrendKind::Spike,
    TrendKind::Discovered,
    TrendKind::RisingCreator,
    TrendKind::BreakoutVideo,
    TrendKind::Cooling,
    TrendKind::ProductRising,
    TrendKind::PriceDrop,
];

const DAY: i64 = 86_400;
/// How far back the chart of an item reaches.
const CHART_SPAN: i64 = 14 * DAY;
/// How far back counters are read: the chart, and two full weeks for week-on-week volumes.
const VOLUME_SPAN: i64 = 15 * DAY;
/// Videos older than this (by when trendwatch last saw them) say nothing about now.
const VIDEO_SPAN: i64 = 14 * DAY;

/// What the digest shows, gathered from the store by one load step
/// ([`crate::pipeline::digest_inputs`], from what [`wanted`] names): the digest itself never
/// reads the store, and can be built and tested from these facts alone.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Best first, from [`detect::detect`].
    pub trends: Vec<Trend>,
    /// Every entity's record ([`crate::store::Store::entities`]).
    pub health: Vec<EntityInfo>,
    /// Videos seen since [`Wanted::videos_since`].
    pub videos: Vec<StoredVideo>,
    /// The series [`Wanted::series`] names, each from its own start to `at`.
    pub series: HashMap<(EntityId, Metric), Vec<(UnixSeconds, f64)>>,
    /// The last time each alert key of [`Wanted::alert_keys`] was sent, if ever.
    pub sent: HashMap<String, AlertRecord>,
    /// Recipients the mail server refused for good, with its answer.
    pub refused: Vec<(String, String)>,
    /// The campaigns the digest reports on ([`crate::campaign::in_digest`]).
    pub campaigns: Vec<CampaignWeek>,
    /// What is known of each followed TikTok Shop product.
    pub products: HashMap<EntityId, ProductFacts>,
}

/// What the digest as of `at` needs from the store, for the load step.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    /// Each series with the time it is needed from.
    pub series: Vec<(EntityId, Metric, UnixSeconds)>,
    pub videos_since: UnixSeconds,
    pub alert_keys: Vec<String>,
}

/// The series, videos and alert history that a digest of `trends` at `at` shows.
pub fn wanted(trends: &[Trend], health: &[EntityInfo], at: UnixSeconds) -> Wanted {
    let mut series: Vec<(EntityId, Metric, UnixSeconds)> = trends
        .iter()
        .map(|t| (t.entity.clone(), chart_metric(t).clone(), at - VOLUME_SPAN))
        .collect();
    // Every followed creator's tier, from their latest follower count.
    series.extend(
        health
            .iter()
            .filter(|e| {
                e.id.kind() == EntityKind::Creator && e.metrics.contains(&Metric::FOLLOWERS)
            })
            .map(|e| (e.id.clone(), Metric::FOLLOWERS, at - TIER_SPAN)),
    );
    Wanted {
        series,
        videos_since: at - VIDEO_SPAN,
        alert_keys: trends.iter().map(Trend::key).collect(),
    }
}

/// How far back a creator's latest follower count is looked for, to know their tier.
const TIER_SPAN: i64 = 30 * DAY;

/// What the digest as of `at` says.
pub fn build(inputs: &Inputs, cfg: &Config, at: UnixSeconds) -> Result<Digest, DigestError> {
    let cooldown = secs(cfg.digest.cooldown);
    let health = &inputs.health;
    let tiers = known_tiers(inputs, at);
    let mut sections = Vec::new();
    let mut alerts = Vec::new();
    let mut already_told = Vec::new();
    for kind in SECTION_ORDER {
        let mut items = Vec::new();
        for t in inputs.trends.iter().filter(|t| t.kind == kind) {
            if items.len() >= cfg.digest.max_items {
                break;
            }
            let key = t.key();
            if let Some(last) = inputs.sent.get(&key) {
                // Already told within the cooldown: only an escalation is worth repeating.
                if at - last.at < cooldown && t.score < 2.0 * last.score {
                    if kind != TrendKind::Cooling {
                        already_told.push(AlreadyTold {
                            name: clean(&display_name(&t.entity), model::MAX_NAME),
                            told_at: last.at,
                            growth: t.growth,
                        });
                    }
                    continue;
                }
            }
            items.push(item(t, inputs, &tiers, at));
            alerts.push((key, AlertRecord { at, score: t.score }));
        }
        // Clear alerts first, then those to be confirmed; by score within each.
        items.sort_by(|a, b| {
            let level = |i: &Item| i.confidence.map(|c| c.level);
            level(a)
                .cmp(&level(b))
                .then_with(|| b.score.total_cmp(&a.score))
        });
        if !items.is_empty() {
            sections.push(Section { kind, items });
        }
    }
    let mut failing: Vec<HealthItem> = health
        .iter()
        .filter_map(|e| {
            let f = e.last_failure.as_ref()?;
            if !e.is_failing() {
                return None;
            }
            Some(HealthItem {
                name: clean(&display_name(&e.id), model::MAX_NAME),
                url: page_url(&e.id),
                kind: f.kind.to_string(),
                detail: clean(&f.detail, model::MAX_TEXT),
                failing_since: f.at,
                last_success: e.last_success,
            })
        })
        .collect();
    failing.sort_by(|a, b| a.name.cmp(&b.name));
    // Trends mean something was collected, whatever `health` holds.
    let warmup = warmup(health, at, secs(cfg.detect.baseline))
        .filter(|w| w.collecting_since.is_some() || sections.is_empty());
    Ok(Digest {
        at,
        timezone: cfg.timezone,
        sections,
        health: failing,
        read_by_browser: health
            .iter()
            .filter(|e| e.fetched_by == crate::model::Fetcher::Browser && e.last_success.is_some())
            .count(),
        refused: inputs
            .refused
            .iter()
            .map(|(to, why)| (clean(to, model::MAX_NAME), clean(why, model::MAX_TEXT)))
            .collect(),
        warmup,
        alerts,
        campaigns: inputs.campaigns.clone(),
        already_told,
    })
}

/// Set while no entity has a full baseline of history behind it.
fn warmup(health: &[EntityInfo], at: UnixSeconds, baseline: i64) -> Option<Warmup> {
    let first = health
        .iter()
        .filter(|e| e.last_sample_at.is_some())
        .map(|e| e.first_seen)
        .min();
    let baseline_days = (baseline / DAY).max(1);
    match first {
        None => Some(Warmup {
            collecting_since: None,
            ready_at: None,
            baseline_days,
        }),
        Some(f) if at - f < baseline => Some(Warmup {
            collecting_since: Some(f),
            ready_at: Some(f + baseline),
            baseline_days,
        }),
        Some(_) => None,
    }
}

/// The tier of every followed creator, from their latest follower count.
fn known_tiers(inputs: &Inputs, at: UnixSeconds) -> HashMap<String, Tier> {
    let mut out = HashMap::new();
    for e in inputs
        .health
        .iter()
        .filter(|e| e.id.kind() == EntityKind::Creator)
    {
        let last = inputs
            .series
            .get(&(e.id.clone(), Metric::FOLLOWERS))
            .and_then(|points| {
                points
                    .iter()
                    .rev()
                    .find(|p| p.0 >= at - TIER_SPAN && p.0 <= at)
            });
        if let Some(&(_, f)) = last {
            out.insert(e.id.name().to_owned(), Tier::of_followers(f));
        }
    }
    out
}

/// The counter an item's chart shows: engagement-only measures have no series of their own,
/// so a creator's followers or a tag's views stand in.
fn chart_metric(t: &Trend) -> &Metric {
    let measured_only = [Metric::ENGAGEMENT, Metric::PLAYS, Metric::OCCURRENCES];
    if measured_only.contains(&t.metric) {
        match t.entity.kind() {
            EntityKind::Creator => &Metric::FOLLOWERS,
            _ => &Metric::VIEWS,
        }
    } else {
        &t.metric
    }
}

fn item(t: &Trend, inputs: &Inputs, tiers: &HashMap<String, Tier>, at: UnixSeconds) -> Item {
    let d = &t.details;
    let videos = &inputs.videos;
    let chart_metric = chart_metric(t);
    let points: Vec<(UnixSeconds, f64)> = inputs
        .series
        .get(&(t.entity.clone(), chart_metric.clone()))
        .map(|all| {
            all.iter()
                .copied()
                .filter(|p| p.0 >= at - VOLUME_SPAN && p.0 <= at)
                .collect()
        })
        .unwrap_or_default();
    // A breakout video's creator's followers say nothing about the video: no chart.
    let chart_points: Vec<(UnixSeconds, f64)> = if t.kind == TrendKind::BreakoutVideo {
        Vec::new()
    } else if t.kind == TrendKind::PriceDrop {
        // A price is a level, not a counter: its chart is the price itself.
        points
            .iter()
            .copied()
            .filter(|p| p.0 >= at - CHART_SPAN)
            .collect()
    } else {
        detect::rates(&points)
            .into_iter()
            .filter(|p| p.0 >= at - CHART_SPAN)
            .collect()
    };
    let mut facts = match t.entity.kind() {
        EntityKind::Hashtag => facts::tag_facts(t.entity.name(), videos, tiers),
        EntityKind::Creator => facts::creator_facts(
            t.entity.name(),
            videos,
            at,
            d.followers(),
            d.engagement(),
            d.tier(),
        ),
        EntityKind::Custom | EntityKind::Video | EntityKind::Product => Facts::default(),
    };
    if t.kind == TrendKind::BreakoutVideo {
        // The video is the item: its creator's best video would repeat it.
        if let Some(p) = facts.partner.as_mut() {
            p.best_video = None;
        }
    }
    if &t.metric == chart_metric && t.kind != TrendKind::Cooling {
        facts.week = facts::week_volumes(&points, at, t.rate_baseline);
    }
    let (name, url) = match d {
        TrendDetails::BreakoutVideo {
            video_id: id,
            author,
            url,
            ..
        } => {
            let name = if author.is_empty() {
                format!("video {id}")
            } else {
                format!("@{author} · {id}")
            };
            let url = Some(url.clone())
                .filter(|u| u.starts_with("https://"))
                .or_else(|| {
                    (!author.is_empty()).then(|| {
                        format!(
                            "https://www.tiktok.com/@{}/video/{}",
                            encode_component(author),
                            encode_component(id)
                        )
                    })
                });
            (name, url)
        }
        // A product is named by its title and linked to its page as the watchlist has it.
        _ => match inputs.products.get(&t.entity) {
            Some(p) if !p.title.is_empty() => (p.title.clone(), Some(p.url.clone())),
            _ => (display_name(&t.entity), page_url(&t.entity)),
        },
    };
    let chart_to = chart_points.last().map_or(at, |p| p.0.max(at - 6 * 3600));
    Item {
        name: clean(&name, model::MAX_NAME),
        url,
        score: t.score,
        growth: t.growth,
        rate_now: t.rate_now,
        rate_baseline: t.rate_baseline,
        metric: clean(&t.metric, 40),
        since: t.since,
        evidence: clean(&t.evidence, model::MAX_TEXT),
        samples: d.samples(),
        confidence: t.confidence,
        tier: d.tier().map(|t| t.as_str().to_owned()),
        engagement: d.engagement(),
        benchmark: d.tier().map(|t| t.benchmark()),
        rates: chart_points,
        chart_metric: chart_metric.to_string(),
        chart_from: at - CHART_SPAN,
        chart_to,
        facts,
        product: inputs.products.get(&t.entity).cloned(),
    }
}

/// `#tag`, `@handle`, `@handle · VIDEO_ID` or `source:id`.
pub fn display_name(id: &EntityId) -> String {
    match (id.kind(), id.video_parts()) {
        (EntityKind::Hashtag, _) => format!("#{}", id.name()),
        (EntityKind::Creator, _) => format!("@{}", id.name()),
        (EntityKind::Video, Some((handle, video))) => format!("@{handle} · {video}"),
        (EntityKind::Product, _) => format!("TikTok Shop {}", id.name()),
        _ => id.as_str().to_owned(),
    }
}

/// The public TikTok page of a tag or creator; custom sources have none we can name.
pub fn page_url(id: &EntityId) -> Option<String> {
    if id.platform() != crate::model::TIKTOK {
        return None;
    }
    match id.kind() {
        EntityKind::Hashtag => Some(format!(
            "https://www.tiktok.com/tag/{}",
            encode_component(id.name())
        )),
        EntityKind::Creator => Some(format!(
            "https://www.tiktok.com/@{}",
            encode_component(id.name())
        )),
        EntityKind::Video => id.video_parts().map(|(handle, video)| {
            format!(
                "https://www.tiktok.com/@{}/video/{}",
                encode_component(handle),
                encode_component(video)
            )
        }),
        EntityKind::Product => Some(format!(
            "https://www.tiktok.com/shop/pdp/{}",
            encode_component(id.name())
        )),
        EntityKind::Custom => None,
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
