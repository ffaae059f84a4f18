//! The digest rendered for a reader: subject, HTML (auto-escaped minijinja template), plain
//! text and one PNG chart per item.
//!
//! All figures are formatted by [`super::locale`] before reaching the templates, so the
//! templates hold layout only. Untrusted text is escaped by the HTML template's
//! auto-escaping; this module never builds HTML by string concatenation.

use base64::Engine;
use minijinja::{context, Environment};
use serde::Serialize;

use super::charts;
use super::locale::{self, Words};
use super::model::{clean, Digest, Item};
use super::DigestError;
use crate::config::Language;
use crate::detect::TrendKind;

const HTML: &str = include_str!("templates/digest.html");
const TEXT: &str = include_str!("templates/digest.txt");

/// Longest subject line, in characters.
const MAX_SUBJECT: usize = 160;

/// A PNG referenced from the HTML as `cid:{cid}`.
#[derive(Debug, Clone)]
pub struct InlineImage {
    pub cid: String,
    pub png: Vec<u8>,
}

/// A digest ready to be put in a message.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// One line, control characters removed.
    pub subject: String,
    pub html: String,
    pub text: String,
    pub images: Vec<InlineImage>,
}

#[derive(Serialize)]
struct ItemView {
    name: String,
    url: Option<String>,
    headline: String,
    extra: Option<String>,
    evidence: String,
    img: String,
}

#[derive(Serialize)]
struct SectionView {
    title: &'static str,
    items: Vec<ItemView>,
}

#[derive(Serialize)]
struct HealthView {
    name: String,
    url: Option<String>,
    kind: String,
    detail: String,
    since: String,
}

/// Renders for mail: charts are inline images referenced by Content-ID.
pub fn render(d: &Digest, lang: Language) -> Result<Rendered, DigestError> {
    render_with(d, lang, false)
}

/// Renders one self-contained HTML file: the same charts as `data:` URIs.
pub fn render_preview(d: &Digest, lang: Language) -> Result<String, DigestError> {
    Ok(render_with(d, lang, true)?.html)
}

fn render_with(d: &Digest, lang: Language, inline_data: bool) -> Result<Rendered, DigestError> {
    let w = locale::words(lang);
    let mut images = Vec::new();
    let mut sections = Vec::new();
    for (si, s) in d.sections.iter().enumerate() {
        let mut items = Vec::new();
        for (ii, it) in s.items.iter().enumerate() {
            let png = charts::rate_chart(&it.rates)?;
            let cid = format!("chart-{si}-{ii}@trendwatch");
            let img = if inline_data {
                format!(
                    "data:image/png;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(&png)
                )
            } else {
                format!("cid:{cid}")
            };
            images.push(InlineImage { cid, png });
            items.push(ItemView {
                name: it.name.clone(),
                url: it.url.clone(),
                headline: headline(it, w, lang, d.timezone),
                extra: extra(it, w, lang),
                // The detector words its evidence in English: French readers get the
                // same figures in French; English readers get the detector's own line.
                evidence: match lang {
                    Language::En if !it.evidence.is_empty() => it.evidence.clone(),
                    _ => {
                        locale::evidence(&it.metric, it.growth, it.rate_baseline, it.samples, lang)
                    }
                },
                img,
            });
        }
        sections.push(SectionView {
            title: section_title(s.kind, w),
            items,
        });
    }
    let health: Vec<HealthView> = d
        .health
        .iter()
        .map(|h| HealthView {
            name: h.name.clone(),
            url: h.url.clone(),
            kind: h.kind.clone(),
            detail: h.detail.clone(),
            since: match h.last_success {
                Some(_) => format!(
                    "{} {}",
                    w.failing_since,
                    locale::date_in(h.failing_since, d.timezone, lang)
                ),
                None => w.never_succeeded.to_owned(),
            },
        })
        .collect();
    let week = format!(
        "{} {}",
        w.week_of,
        locale::date_in(locale::monday_in(d.at, d.timezone), d.timezone, lang)
    );
    let subject = subject(d, w, &week);
    let mut env = Environment::new();
    env.add_template("digest.html", HTML)?;
    env.add_template("digest.txt", TEXT)?;
    let ctx = context! {
        w => w,
        lang => match lang { Language::Fr => "fr", Language::En => "en" },
        week => week,
        subject => subject,
        sections => sections,
        health => health,
        health_title => w.health,
        empty => d.sections.is_empty(),
    };
    let html = env.get_template("digest.html")?.render(&ctx)?;
    let text = env.get_template("digest.txt")?.render(&ctx)?;
    Ok(Rendered {
        subject,
        html,
        text,
        images,
    })
}

fn section_title(kind: TrendKind, w: &Words) -> &'static str {
    match kind {
        TrendKind::Emerging => w.emerging,
        TrendKind::Spike => w.spikes,
        TrendKind::Discovered => w.discovered,
        TrendKind::RisingCreator => w.rising_creators,
        TrendKind::BreakoutVideo => w.breakout_videos,
        TrendKind::Cooling => w.cooling,
    }
}

fn headline(it: &Item, w: &Words, lang: Language, tz: chrono_tz::Tz) -> String {
    let mut s = format!(
        "{} · {}{} {}",
        locale::ratio(it.growth, lang),
        locale::number(it.rate_now, lang),
        w.per_hour,
        locale::metric(&it.metric, lang)
    );
    if let Some(since) = it.since {
        s.push_str(&format!(
            " · {} {}",
            w.since,
            locale::date_in(since, tz, lang)
        ));
    }
    s
}

fn extra(it: &Item, w: &Words, lang: Language) -> Option<String> {
    let tier = it.tier.as_ref()?;
    let mut s = format!("{} {tier}", w.tier);
    if let (Some(e), Some((lo, hi))) = (it.engagement, it.benchmark) {
        s.push_str(&format!(
            " · {} {} ({} {}–{})",
            w.engagement,
            locale::percent(e, lang),
            w.benchmark,
            locale::percent(lo, lang),
            locale::percent(hi, lang)
        ));
    }
    Some(s)
}

/// `trendwatch · 3 tendances émergentes — semaine du 23 novembre 2026 · #top`.
fn subject(d: &Digest, w: &Words, week: &str) -> String {
    let emerging = d
        .sections
        .iter()
        .find(|s| s.kind == TrendKind::Emerging)
        .map(|s| s.items.len())
        .unwrap_or(0);
    let (n, nouns) = if emerging > 0 {
        (emerging, w.subject_emerging)
    } else {
        (d.item_count(), w.subject_items)
    };
    if n == 0 {
        return clean(
            &format!("trendwatch · {} — {week}", w.subject_nothing),
            MAX_SUBJECT,
        );
    }
    let noun = if n == 1 { nouns.0 } else { nouns.1 };
    let top = d
        .sections
        .first()
        .and_then(|s| s.items.first())
        .map(|i| format!(" · {}", clean(&i.name, 40)))
        .unwrap_or_default();
    clean(
        &format!("trendwatch · {n} {noun} — {week}{top}"),
        MAX_SUBJECT,
    )
}
