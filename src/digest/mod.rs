//! The digest: detected trends and collection health turned into what a reader opens on
//! Monday morning — HTML with inline PNG charts, a plain-text alternative, in French or
//! English.
//!
//! [`build`] decides *what* is said (sections, cooldown, health) and reads the store only to
//! get chart series and alert history; [`render`] decides *how* (templates, locale, charts).
//! Scraped text is untrusted: it is cleaned and bounded here and auto-escaped by the HTML
//! template. This module never sends mail and never writes to the store (the alert history is
//! recorded by [`crate::mail::queue`] once the digest is safely in the outbox).

pub mod charts;
pub mod locale;
pub mod model;
pub mod render;

use std::time::Duration;

use crate::config::Config;
use crate::detect::{self, Trend, TrendKind};
use crate::model::{EntityId, EntityKind, UnixSeconds};
use crate::store::{AlertRecord, EntityInfo, Store, StoreError};

pub use model::{clean, Digest, HealthItem, Item, Section};
pub use render::{render, render_preview, InlineImage, Rendered};

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("cannot read the store for the digest: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Chart(#[from] charts::ChartError),
    #[error("cannot render the digest template: {0}")]
    Template(#[from] minijinja::Error),
}

/// Sections in the order a reader sees them.
pub const SECTION_ORDER: [TrendKind; 6] = [
    TrendKind::Emerging,
    TrendKind::Spike,
    TrendKind::Discovered,
    TrendKind::RisingCreator,
    TrendKind::BreakoutVideo,
    TrendKind::Cooling,
];

/// How far back the chart of an item reaches.
const CHART_SPAN: i64 = 14 * 86_400;

/// What the digest as of `at` says. `trends` come best first from [`detect::detect`];
/// `health` from [`Store::entities`].
pub fn build(
    trends: &[Trend],
    health: &[EntityInfo],
    store: &Store,
    cfg: &Config,
    at: UnixSeconds,
) -> Result<Digest, DigestError> {
    let cooldown = secs(cfg.digest.cooldown);
    let mut sections = Vec::new();
    let mut alerts = Vec::new();
    for kind in SECTION_ORDER {
        let mut items = Vec::new();
        for t in trends.iter().filter(|t| t.kind == kind) {
            if items.len() >= cfg.digest.max_items {
                break;
            }
            let key = t.key();
            if let Some(last) = store.alert_last(&key)? {
                // Already told within the cooldown: only an escalation is worth repeating.
                if at - last.at < cooldown && t.score < 2.0 * last.score {
                    continue;
                }
            }
            let points = store.series(&t.entity, &t.metric, at - CHART_SPAN, at)?;
            items.push(item(t, detect::rates(&points)));
            alerts.push((key, AlertRecord { at, score: t.score }));
        }
        if !items.is_empty() {
            sections.push(Section { kind, items });
        }
    }
    let mut failing: Vec<HealthItem> = health
        .iter()
        .filter_map(|e| {
            let f = e.last_failure.as_ref()?;
            if e.last_success.is_some_and(|s| s >= f.at) {
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
    failing.truncate(cfg.digest.max_items.max(1) * 4);
    Ok(Digest {
        at,
        timezone: cfg.timezone,
        sections,
        health: failing,
        alerts,
    })
}

fn item(t: &Trend, rates: Vec<(UnixSeconds, f64)>) -> Item {
    let d = &t.details;
    let (name, url) = match (&d.video_id, t.kind) {
        (Some(id), TrendKind::BreakoutVideo) => {
            let author = d.author.as_deref().unwrap_or("");
            let name = if author.is_empty() {
                format!("video {id}")
            } else {
                format!("@{author} · {id}")
            };
            let url = d
                .url
                .clone()
                .filter(|u| u.starts_with("https://"))
                .or_else(|| {
                    (!author.is_empty()).then(|| {
                        format!("https://www.tiktok.com/@{}/video/{}", enc(author), enc(id))
                    })
                });
            (name, url)
        }
        _ => (display_name(&t.entity), page_url(&t.entity)),
    };
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
        samples: d.samples,
        tier: d.tier.map(|t| t.as_str().to_owned()),
        engagement: d.engagement,
        benchmark: d.tier.map(|t| t.benchmark()),
        rates,
    }
}

/// `#tag`, `@handle`, or `source:id`.
pub fn display_name(id: &EntityId) -> String {
    match id.kind() {
        EntityKind::Hashtag => format!("#{}", id.name()),
        EntityKind::Creator => format!("@{}", id.name()),
        EntityKind::Custom => id.as_str().to_owned(),
    }
}

/// The public TikTok page of a tag or creator; custom sources have none we can name.
pub fn page_url(id: &EntityId) -> Option<String> {
    if id.platform() != crate::model::TIKTOK {
        return None;
    }
    match id.kind() {
        EntityKind::Hashtag => Some(format!("https://www.tiktok.com/tag/{}", enc(id.name()))),
        EntityKind::Creator => Some(format!("https://www.tiktok.com/@{}", enc(id.name()))),
        EntityKind::Custom => None,
    }
}

/// Percent-encodes one path segment (names are scraped: never trust them in a URL).
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
