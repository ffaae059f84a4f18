//! Influencer campaigns measured: pure functions from a campaign's config and its videos'
//! series to KPIs per video, per creator and per campaign, like `detect` (no I/O: the
//! pipeline loads the series, [`report`] says the result).
//!
//! The formulas, each written once here:
//! - **engagements** = likes + comments + shares + saves;
//! - **engagement rate** = engagements / views (views are the video's plays);
//! - **CPM** (cost per 1,000 views) = cost / views × 1,000;
//! - **CPE** (cost per engagement) = cost / engagements;
//! - **ROAS** (return on ad spend) = revenue / total cost, only when the revenue is entered;
//! - a video's **cost** is its own `cost`, else the budget left after the priced videos,
//!   shared equally among the unpriced ones;
//! - a creator's **tier** comes from their followers (nano < 10k, micro < 100k, macro < 1M,
//!   mega), with the engagement benchmark of the tier (nano 5–10 %, micro 2–5 %, macro 1–2 %,
//!   mega under 1 %);
//! - views at **24 h, 7 d and 30 d** are the last reading at or before that age of the video
//!   (its upload time is in its id), absent when no reading came that early.
//!
//! Counts are as of the report's time: the last reading of each counter at or before it.

pub mod report;

use std::collections::HashMap;

use serde::Serialize;

use crate::config::{Campaign, CampaignVideo};
use crate::detect::Tier;
use crate::model::{EntityId, Metric, UnixSeconds};

const DAY: i64 = 86_400;

/// What the KPIs of one campaign are computed from (loaded by the pipeline).
#[derive(Debug, Clone, Default)]
pub struct CampaignInput {
    /// Each video's counter series (`plays`, `likes`, `comments`, `shares`, `saves`, and the
    /// creator's `followers` read on the video's page), by video entity.
    pub series: HashMap<EntityId, HashMap<Metric, Vec<(UnixSeconds, f64)>>>,
    /// The last failure of a video that could not be read (deleted, private), by entity.
    pub failures: HashMap<EntityId, String>,
    /// The usual engagement rate of each creator's other videos, when trendwatch has seen them.
    pub usual_engagement: HashMap<String, f64>,
    /// Videos carrying the brand's hashtags in the campaign's window, not sponsored:
    /// (video id, plays).
    pub mentions: Vec<(String, u64)>,
    /// New videos of the campaign's `creators` in its window that carry its hashtags: they
    /// join the campaign as unpriced videos.
    pub joined: Vec<CampaignVideo>,
}

/// The counts of a video as of a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    pub views: f64,
    pub likes: f64,
    pub comments: f64,
    pub shares: f64,
    pub saves: f64,
}

impl Counts {
    /// likes + comments + shares + saves.
    pub fn engagements(&self) -> f64 {
        self.likes + self.comments + self.shares + self.saves
    }

    fn add(&mut self, o: &Counts) {
        self.views += o.views;
        self.likes += o.likes;
        self.comments += o.comments;
        self.shares += o.shares;
        self.saves += o.saves;
    }
}

/// engagements / views; `None` without views.
pub fn engagement_rate(engagements: f64, views: f64) -> Option<f64> {
    (views > 0.0).then(|| engagements / views)
}

/// cost / views × 1,000; `None` without views.
pub fn cpm(cost: f64, views: f64) -> Option<f64> {
    (views > 0.0).then(|| cost / views * 1000.0)
}

/// cost / engagements; `None` without engagements.
pub fn cpe(cost: f64, engagements: f64) -> Option<f64> {
    (engagements > 0.0).then(|| cost / engagements)
}

/// revenue / cost; `None` without a revenue or a cost.
pub fn roas(revenue: Option<f64>, cost: f64) -> Option<f64> {
    revenue.filter(|_| cost > 0.0).map(|r| r / cost)
}

/// What each video cost: its own `cost`, else an equal share of the budget left after the
/// priced videos (never below 0).
pub fn video_costs(campaign: &Campaign) -> Vec<f64> {
    let priced: f64 = campaign.videos.iter().filter_map(|v| v.cost).sum();
    let unpriced = campaign.videos.iter().filter(|v| v.cost.is_none()).count();
    let share = match (campaign.budget, unpriced) {
        (Some(budget), n) if n > 0 => ((budget - priced) / n as f64).max(0.0),
        _ => 0.0,
    };
    campaign
        .videos
        .iter()
        .map(|v| v.cost.unwrap_or(share))
        .collect()
}

/// The last value of `points` at or before `at`.
fn last_at(points: Option<&Vec<(UnixSeconds, f64)>>, at: UnixSeconds) -> Option<f64> {
    let points = points?;
    let i = points.partition_point(|p| p.0 <= at);
    i.checked_sub(1).map(|i| points[i].1)
}

/// A video's upload time, from the high 32 bits of its id.
pub fn published_at(video_id: &str) -> Option<UnixSeconds> {
    video_id
        .parse::<u64>()
        .ok()
        .map(|n| (n >> 32) as UnixSeconds)
        .filter(|t| *t > 0)
}

/// Whether the digest of `day` reports on `campaign`: while it runs, and in the week after
/// its end (its last report).
pub fn in_digest(campaign: &Campaign, day: chrono::NaiveDate) -> bool {
    day >= campaign.start && campaign.end.is_none_or(|end| (day - end).num_days() <= 7)
}

/// One sponsored video's KPIs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoKpis {
    pub entity: String,
    pub creator: String,
    pub url: String,
    pub tier: Option<&'static str>,
    pub cost: f64,
    pub published_at: Option<UnixSeconds>,
    pub views: f64,
    pub likes: f64,
    pub comments: f64,
    pub shares: f64,
    pub saves: f64,
    pub engagements: f64,
    pub engagement_rate: Option<f64>,
    pub cpm: Option<f64>,
    pub cpe: Option<f64>,
    pub tier_benchmark: Option<(f64, f64)>,
    /// The creator's usual engagement rate on their other videos, when known.
    pub usual_engagement_rate: Option<f64>,
    pub views_24h: Option<f64>,
    pub views_7d: Option<f64>,
    pub views_30d: Option<f64>,
    /// Why its counts may be old: the video was deleted, made private…
    pub last_failure: Option<String>,
    /// Cumulative views over time, for the chart.
    #[serde(skip)]
    pub curve: Vec<(UnixSeconds, f64)>,
}

/// A creator's KPIs over their videos in the campaign, with the advice they lead to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreatorKpis {
    pub creator: String,
    pub tier: Option<&'static str>,
    pub videos: usize,
    pub cost: f64,
    pub views: f64,
    pub engagements: f64,
    pub engagement_rate: Option<f64>,
    pub cpe: Option<f64>,
    pub tier_benchmark: Option<(f64, f64)>,
    pub verdict: Verdict,
}

/// What the figures say about working with a creator again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// At or above their tier's engagement and no dearer per engagement than the campaign.
    Renew,
    /// Within reach: below the campaign on one of the two.
    Watch,
    /// Under their tier's engagement range.
    Reconsider,
    /// Not enough views yet to judge.
    TooEarly,
}

/// Views below which a creator's figures are not judged.
const MIN_VIEWS_TO_JUDGE: f64 = 500.0;

/// A campaign's KPIs as of a time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignKpis {
    pub campaign: String,
    pub objective: &'static str,
    pub currency: String,
    pub start: String,
    pub end: Option<String>,
    pub at: UnixSeconds,
    pub budget: Option<f64>,
    pub cost: f64,
    pub revenue: Option<f64>,
    pub views: f64,
    pub engagements: f64,
    pub engagement_rate: Option<f64>,
    pub cpm: Option<f64>,
    pub cpe: Option<f64>,
    pub roas: Option<f64>,
    pub mentions: Mentions,
    pub videos: Vec<VideoKpis>,
    /// Best first: the lowest cost per engagement.
    pub creators: Vec<CreatorKpis>,
}

/// Organic mentions: the brand's tags on videos nobody paid for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Mentions {
    pub videos: usize,
    pub views: f64,
}

/// The campaign's KPIs as of `at`.
pub fn kpis(campaign: &Campaign, input: &CampaignInput, at: UnixSeconds) -> CampaignKpis {
    let mut with_joined;
    let campaign = if input.joined.is_empty() {
        campaign
    } else {
        with_joined = campaign.clone();
        for v in &input.joined {
            if !with_joined.videos.iter().any(|w| w.video_id == v.video_id) {
                with_joined.videos.push(v.clone());
            }
        }
        &with_joined
    };
    let costs = video_costs(campaign);
    let videos: Vec<VideoKpis> = campaign
        .videos
        .iter()
        .zip(&costs)
        .map(|(v, cost)| video_kpis(v, *cost, input, at))
        .collect();
    let mut total = Counts::default();
    for v in &videos {
        total.add(&Counts {
            views: v.views,
            likes: v.likes,
            comments: v.comments,
            shares: v.shares,
            saves: v.saves,
        });
    }
    let cost = campaign.total_cost().unwrap_or(0.0);
    let engagements = total.engagements();
    let mut creators = creator_kpis(&videos, cpe(cost, engagements));
    creators.sort_by(|a, b| {
        let key = |c: &CreatorKpis| c.cpe.unwrap_or(f64::INFINITY);
        key(a)
            .total_cmp(&key(b))
            .then_with(|| a.creator.cmp(&b.creator))
    });
    let mut seen = std::collections::HashSet::new();
    let mut mentions = Mentions::default();
    for (id, plays) in &input.mentions {
        if campaign.videos.iter().any(|v| &v.video_id == id) || !seen.insert(id) {
            continue;
        }
        mentions.videos += 1;
        mentions.views += *plays as f64;
    }
    CampaignKpis {
        campaign: campaign.name.clone(),
        objective: campaign.objective.as_str(),
        currency: campaign.currency.clone(),
        start: campaign.start.to_string(),
        end: campaign.end.map(|d| d.to_string()),
        at,
        budget: campaign.budget,
        cost,
        revenue: campaign.revenue,
        views: total.views,
        engagements,
        engagement_rate: engagement_rate(engagements, total.views),
        cpm: cpm(cost, total.views),
        cpe: cpe(cost, engagements),
        roas: roas(campaign.revenue, cost),
        mentions,
        videos,
        creators,
    }
}

fn video_kpis(v: &CampaignVideo, cost: f64, input: &CampaignInput, at: UnixSeconds) -> VideoKpis {
    let entity = v.entity();
    let series = input.series.get(&entity);
    let get = |m: &Metric| series.and_then(|s| s.get(m));
    let now = |m: &Metric| last_at(get(m), at).unwrap_or(0.0);
    let counts = Counts {
        views: now(&Metric::PLAYS),
        likes: now(&Metric::LIKES),
        comments: now(&Metric::COMMENTS),
        shares: now(&Metric::SHARES),
        saves: now(&Metric::SAVES),
    };
    let tier = last_at(get(&Metric::FOLLOWERS), at).map(Tier::of_followers);
    let published = published_at(&v.video_id);
    let views_at = |age: i64| {
        published
            .filter(|p| p + age <= at)
            .and_then(|p| last_at(get(&Metric::PLAYS), p + age))
    };
    let engagements = counts.engagements();
    VideoKpis {
        entity: entity.as_str().to_owned(),
        creator: v.handle.clone(),
        url: format!(
            "https://www.tiktok.com/@{}/video/{}",
            crate::config::encode_component(&v.handle),
            v.video_id
        ),
        tier: tier.map(Tier::as_str),
        cost,
        published_at: published,
        views: counts.views,
        likes: counts.likes,
        comments: counts.comments,
        shares: counts.shares,
        saves: counts.saves,
        engagements,
        engagement_rate: engagement_rate(engagements, counts.views),
        cpm: cpm(cost, counts.views),
        cpe: cpe(cost, engagements),
        tier_benchmark: tier.map(Tier::benchmark),
        usual_engagement_rate: input.usual_engagement.get(&v.handle).copied(),
        views_24h: views_at(DAY),
        views_7d: views_at(7 * DAY),
        views_30d: views_at(30 * DAY),
        last_failure: input.failures.get(&entity).cloned(),
        curve: get(&Metric::PLAYS)
            .map(|p| p.iter().copied().filter(|(t, _)| *t <= at).collect())
            .unwrap_or_default(),
    }
}

fn creator_kpis(videos: &[VideoKpis], campaign_cpe: Option<f64>) -> Vec<CreatorKpis> {
    let mut order: Vec<&str> = Vec::new();
    for v in videos {
        if !order.contains(&v.creator.as_str()) {
            order.push(&v.creator);
        }
    }
    order
        .into_iter()
        .map(|creator| {
            let theirs: Vec<&VideoKpis> = videos.iter().filter(|v| v.creator == creator).collect();
            let cost: f64 = theirs.iter().map(|v| v.cost).sum();
            let views: f64 = theirs.iter().map(|v| v.views).sum();
            let engagements: f64 = theirs.iter().map(|v| v.engagements).sum();
            let tier = theirs.iter().find_map(|v| v.tier);
            let tier_benchmark = theirs.iter().find_map(|v| v.tier_benchmark);
            let rate = engagement_rate(engagements, views);
            let their_cpe = cpe(cost, engagements);
            CreatorKpis {
                creator: creator.to_owned(),
                tier,
                videos: theirs.len(),
                cost,
                views,
                engagements,
                engagement_rate: rate,
                cpe: their_cpe,
                tier_benchmark,
                verdict: verdict(views, rate, tier_benchmark, their_cpe, campaign_cpe),
            }
        })
        .collect()
}

/// Renew when the engagement reaches the tier's range and the cost per engagement is no
/// higher than the campaign's; reconsider when the engagement is under the tier's range.
fn verdict(
    views: f64,
    rate: Option<f64>,
    benchmark: Option<(f64, f64)>,
    their_cpe: Option<f64>,
    campaign_cpe: Option<f64>,
) -> Verdict {
    let Some(rate) = rate.filter(|_| views >= MIN_VIEWS_TO_JUDGE) else {
        return Verdict::TooEarly;
    };
    let low = benchmark.map_or(0.0, |b| b.0);
    if rate < low {
        return Verdict::Reconsider;
    }
    let cheap = match (their_cpe, campaign_cpe) {
        (Some(t), Some(c)) => t <= c * 1.0001,
        _ => true,
    };
    if cheap {
        Verdict::Renew
    } else {
        Verdict::Watch
    }
}

#[cfg(test)]
mod tests;
