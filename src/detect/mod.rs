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
//!
//! **How it keeps false alarms in check.** An alert is a claim a reader acts on, and a
//! watchlist of hundreds of tags replayed eight times a day turns rare flukes into weekly
//! ones; so the budget is set per tag-week, not per test (under 0.01 onsets of each kind per
//! quiet tag-week on counters shown as TikTok shows them: one false alarm per tag in about
//! two years; BENCHMARKS.md). Every counter alert must pass two tests of surprise and keeps
//! the weaker: against the entity's own wobble (a busy week is busy every day, so over half
//! a day or more the day-to-day wobble counts in full), and as a count in the units the
//! counter really moves in — its display step (`13.3M` moves by 100,000) or the clumps its
//! views arrive in (one video's worth), read from its own history — less one display step of
//! resolution, scored by the Poisson deviance and discounted by [`series::COUNT_MARGIN`]
//! because real clumps come in every size. The excess must also be at least three display
//! steps and `min_views` views: one step arriving early, or one video, is never news. An
//! onset that blinks off for less than the `recent` window and back is the same alert. Each
//! alert carries its [`Confidence`]: the evidence in steps and views, and whether it is clear
//! (two points above `min_score`) or to be confirmed.
//!
//! Everything here is a pure function of a [`DetectInput`] and a time, so a past moment
//! replays exactly and the whole module can be tested and benchmarked without a store; only
//! [`load_input`] reads the store, and nothing here ever writes anywhere.

pub mod products;
mod rates;
mod replay;
pub mod series;
pub(crate) mod stats;
mod trend;
pub mod videos;

use serde::Serialize;

use crate::config::{DetectConfig, Watchlist};
use crate::model::StoredVideo;
use crate::model::{EntityId, EntityKind, Metric, UnixSeconds};
use crate::store::{Store, StoreError};

pub use rates::{intervals, rates, Interval};
pub use replay::{
    backtest, backtest_reporting, load_input, load_input_between, onsets_to_json, AlertVolume,
    Onset,
};
use trend::rfc3339;
pub use trend::{
    to_json, Confidence, ConfidenceLevel, Tier, Trend, TrendDetails, TrendKind, CLEAR_MARGIN,
};

/// The series of one entity that detection reads.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySeries {
    pub entity: EntityId,
    /// The entity's first sample.
    pub first_seen: Option<UnixSeconds>,
    /// Metric name → points sorted by time.
    pub metrics: Vec<(Metric, Vec<(UnixSeconds, f64)>)>,
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
    /// The shop's own price of each watched product that has one (`my_price`).
    pub my_prices: std::collections::HashMap<EntityId, f64>,
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
            let Some(points) = e.metric(&Metric::VIEWS) else {
                return;
            };
            let floor = series::Floor {
                rate: cfg.min_rate,
                excess: cfg.min_views,
            };
            let found = series::assess(points, at, baseline, recent, floor);
            if let Some(g) = found.emerging {
                let evidence = format!(
                    "views/hour {:.1}x the {} baseline, {:.1}x since {} ({} samples)",
                    g.growth,
                    base_label,
                    g.growth_since,
                    rfc3339(g.since),
                    g.samples
                );
                out.push(take_off(
                    e,
                    TrendKind::Emerging,
                    Metric::VIEWS,
                    &g,
                    cfg,
                    evidence,
                ));
            } else if let Some(s) = found.spike {
                out.push(Trend {
                    entity: e.entity.clone(),
                    kind: TrendKind::Spike,
                    metric: Metric::VIEWS,
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
                    confidence: Some(confidence(
                        cfg,
                        s.score,
                        s.excess,
                        s.step,
                        (s.end - s.start) as f64 / 3600.0,
                    )),
                });
            } else if let Some(c) = found.cooling {
                out.push(Trend {
                    entity: e.entity.clone(),
                    kind: TrendKind::Cooling,
                    metric: Metric::VIEWS,
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
                    confidence: Some(confidence(cfg, c.score, c.shortfall, c.step, c.hours)),
                });
            }
        }
        EntityKind::Creator => {
            if let Some(t) = rising_creator(input, e, at, cfg, &base_label) {
                out.push(t);
            }
        }
        EntityKind::Product => out.extend(products::product_trends(
            input, e, at, cfg, baseline, recent,
        )),
        EntityKind::Custom | EntityKind::Video => {}
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
                metric: Metric::OCCURRENCES,
                score: c.score,
                rate_now: c.recent as f64,
                rate_baseline: c.earlier as f64,
                growth: c.growth,
                since: Some(c.first_seen),
                first_seen: Some(c.first_seen),
                evidence,
                details: TrendDetails::Discovered {
                    videos: c.recent,
                    co_tags: c.co_tags.into_iter().take(5).collect(),
                    keywords: c.keywords,
                },
                confidence: None,
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
            .and_then(|e| e.metric(&Metric::FOLLOWERS))
            .and_then(|p| p.iter().rev().find(|x| x.0 <= at))
            .map(|x| x.1);
        out.push(Trend {
            entity: EntityId::creator(crate::model::TIKTOK, &author),
            kind: TrendKind::BreakoutVideo,
            metric: Metric::PLAYS,
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
            details: TrendDetails::BreakoutVideo {
                tier: followers.map(Tier::of_followers),
                followers,
                url: format!("https://www.tiktok.com/@{}/video/{}", author, v.id),
                video_id: v.id.clone(),
                author,
                plays: v.plays,
            },
            confidence: None,
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

/// How sure a counter alert is: clear when its score is [`CLEAR_MARGIN`] above `min_score`.
/// A counter taking off (a tag's views, a product's sales), as a trend of `kind`: the one
/// shape of every take-off found by [`series::assess`].
fn take_off(
    e: &EntitySeries,
    kind: TrendKind,
    metric: Metric,
    g: &series::Growth,
    cfg: &DetectConfig,
    evidence: String,
) -> Trend {
    Trend {
        entity: e.entity.clone(),
        kind,
        metric,
        score: g.score,
        rate_now: g.rate_now,
        rate_baseline: g.rate_baseline,
        growth: g.growth,
        since: Some(g.since),
        first_seen: e.first_seen,
        evidence,
        details: TrendDetails::Emerging { samples: g.samples },
        confidence: Some(confidence(cfg, g.score, g.excess, g.step, g.hours)),
    }
}

fn confidence(cfg: &DetectConfig, score: f64, excess: f64, step: f64, hours: f64) -> Confidence {
    let level = if score >= cfg.min_score + CLEAR_MARGIN {
        ConfidenceLevel::Clear
    } else {
        ConfidenceLevel::Tentative
    };
    Confidence {
        level,
        excess,
        step,
        hours,
    }
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
    cfg: &DetectConfig,
    base_label: &str,
) -> Option<Trend> {
    let (baseline, recent) = (secs(cfg.baseline), secs(cfg.recent));
    let followers_pts = e.metric(&Metric::FOLLOWERS);
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
    let details = TrendDetails::RisingCreator {
        tier,
        engagement: eng,
        followers,
        samples: growth.as_ref().map(|g| g.samples),
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
            let score = g.score.max(eng_score.unwrap_or(0.0));
            Some(Trend {
                entity: e.entity.clone(),
                kind: TrendKind::RisingCreator,
                metric: Metric::FOLLOWERS,
                score,
                rate_now: g.rate_now,
                rate_baseline: g.rate_baseline,
                growth: g.growth,
                since: Some(g.since),
                first_seen: e.first_seen,
                evidence,
                details,
                confidence: Some(confidence(cfg, score, g.excess, g.step, g.hours)),
            })
        }
        None => {
            let r = eng_news?;
            let (t, x) = (tier?, eng?);
            Some(Trend {
                entity: e.entity.clone(),
                kind: TrendKind::RisingCreator,
                metric: Metric::ENGAGEMENT,
                score: 2.5 * r,
                rate_now: x,
                rate_baseline: t.benchmark().1,
                growth: r,
                since: None,
                first_seen: e.first_seen,
                evidence: eng_text.unwrap_or_default(),
                details,
                confidence: None,
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
