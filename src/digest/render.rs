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
use super::health::group_health;
use super::locale::{self, Words};
use super::model::{clean, Digest, Item};
use super::story;
use super::DigestError;
use crate::config::Language;
use crate::detect::TrendKind;

const HTML: &str = include_str!("templates/digest.html");
const TEXT: &str = include_str!("templates/digest.txt");

/// Longest subject line, in characters.
const MAX_SUBJECT: usize = 240;

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
struct LinkView {
    label: String,
    url: Option<String>,
}

#[derive(Serialize)]
struct ChartView {
    img: String,
    alt: String,
    width: u32,
    height: u32,
    /// The y scale, top and middle (the bottom is 0), in the reader's number format.
    y_top: String,
    y_mid: String,
    /// The date axis: left, middle and right edges.
    d_from: String,
    d_mid: String,
    d_to: String,
    legend: String,
}

#[derive(Serialize)]
struct ItemView {
    name: String,
    url: Option<String>,
    headline: String,
    confidence: Option<String>,
    volumes: Option<String>,
    partner: Vec<String>,
    reading: Option<String>,
    detail: String,
    videos: Vec<LinkView>,
    co_tags: Option<String>,
    creators: Option<String>,
    chart: Option<ChartView>,
}

#[derive(Serialize)]
struct SectionView {
    title: &'static str,
    items: Vec<ItemView>,
}

#[derive(Serialize)]
struct HealthView {
    line: String,
    names: Vec<LinkView>,
    more: Option<String>,
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
    let tz = d.timezone;
    let mut images = Vec::new();
    let mut sections = Vec::new();
    for (si, s) in d.sections.iter().enumerate() {
        let mut items = Vec::new();
        for (ii, it) in s.items.iter().enumerate() {
            let chart = if it.rates.len() >= 2 {
                let c = chart(s.kind, it)?;
                let cid = format!("chart-{si}-{ii}@trendwatch");
                let img = if inline_data {
                    format!(
                        "data:image/png;base64,{}",
                        base64::engine::general_purpose::STANDARD.encode(&c.png)
                    )
                } else {
                    format!("cid:{cid}")
                };
                let view = chart_view(s.kind, it, &c, img, w, lang, tz);
                images.push(InlineImage { cid, png: c.png });
                Some(view)
            } else {
                None
            };
            let f = &it.facts;
            items.push(ItemView {
                name: it.name.clone(),
                url: it.url.clone(),
                headline: story::headline(s.kind, it, lang, tz),
                confidence: story::confidence(s.kind, it, lang),
                volumes: f.week.as_ref().map(|v| story::volumes(&it.metric, v, lang)),
                partner: f
                    .partner
                    .as_ref()
                    .map(|p| story::partner(p, lang))
                    .unwrap_or_default(),
                reading: story::reading(s.kind, it, lang),
                detail: story::detail(s.kind, it, lang, tz),
                videos: f
                    .videos
                    .iter()
                    .map(|v| LinkView {
                        label: story::video_line(v, lang),
                        url: v.url.clone(),
                    })
                    .collect(),
                co_tags: (!f.co_tags.is_empty()).then(|| {
                    f.co_tags
                        .iter()
                        .map(|t| format!("#{t}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                }),
                creators: story::creators_line(it, lang),
                chart,
            });
        }
        sections.push(SectionView {
            title: section_title(s.kind, w),
            items,
        });
    }
    let health: Vec<HealthView> = group_health(&d.health)
        .iter()
        .map(|g| HealthView {
            line: story::health_line(g, d.at, lang),
            names: g
                .names
                .iter()
                .map(|(n, u)| LinkView {
                    label: n.clone(),
                    url: u.clone(),
                })
                .collect(),
            more: (g.count > g.names.len()).then(|| {
                let n = g.count - g.names.len();
                match lang {
                    Language::Fr => format!("et {n} autre(s)"),
                    Language::En => format!("and {n} more"),
                }
            }),
        })
        .collect();
    let week = format!(
        "{} {}",
        w.week_of,
        locale::date_in(locale::monday_in(d.at, tz), tz, lang)
    );
    let subject = subject(d, lang, &week);
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
        campaigns => d.campaigns.iter().map(|c| context! {
            name => c.now.campaign.clone(),
            lines => crate::campaign::report::digest_lines(&c.now, &c.week_before, lang),
        }).collect::<Vec<_>>(),
        browser_note => (d.read_by_browser > 0).then(|| story::browser_line(d.read_by_browser, lang)),
        refused => d.refused.iter().map(|(to, why)| story::refused_line(to, why, lang)).collect::<Vec<_>>(),
        warmup => d.warmup.as_ref().map(|x| story::warmup(x, lang, tz)),
        nothing_new => d.sections.is_empty() && d.warmup.is_none() && d.already_told.is_empty(),
        already_told => story::already_told(&d.already_told, d.sections.is_empty(), lang, tz),
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

/// The band of usual values and the marked start, by kind.
fn chart(kind: TrendKind, it: &Item) -> Result<charts::Chart, DigestError> {
    let followers_trend = it.metric == it.chart_metric;
    let band = match kind {
        TrendKind::Emerging | TrendKind::Spike | TrendKind::RisingCreator
            if followers_trend && it.rate_baseline > 0.0 =>
        {
            Some((it.rate_baseline / USUAL_BAND, it.rate_baseline * USUAL_BAND))
        }
        _ => None,
    };
    let marker = match kind {
        TrendKind::Discovered | TrendKind::BreakoutVideo => None,
        _ => it.since,
    };
    Ok(charts::rate_chart(&charts::ChartSpec {
        points: &it.rates,
        from: it.chart_from,
        to: it.chart_to,
        band,
        marker,
    })?)
}

/// How far from the usual rate still counts as usual (detection's own run ratio).
const USUAL_BAND: f64 = 1.5;

fn chart_view(
    kind: TrendKind,
    it: &Item,
    c: &charts::Chart,
    img: String,
    w: &Words,
    lang: Language,
    tz: chrono_tz::Tz,
) -> ChartView {
    let mut legend = Vec::new();
    if matches!(
        kind,
        TrendKind::Emerging
            | TrendKind::Spike
            | TrendKind::RisingCreator
            | TrendKind::ProductRising
    ) && it.metric == it.chart_metric
    {
        legend.push(format!(
            "{} ({}/h)",
            w.legend_usual,
            locale::number(it.rate_baseline, lang)
        ));
    }
    if let (Some(t), false) = (
        it.since,
        matches!(kind, TrendKind::Discovered | TrendKind::BreakoutVideo),
    ) {
        let what = match kind {
            TrendKind::Cooling => w.legend_peak,
            TrendKind::PriceDrop => w.legend_drop,
            _ => w.legend_start,
        };
        legend.push(format!("{what} ({})", locale::short_date(t, tz, lang)));
    }
    if let Some(&(_, v)) = it.rates.last() {
        // A price chart shows the price itself, not a rate.
        let shown = match (kind, &it.product) {
            (TrendKind::PriceDrop, Some(p)) => locale::money(v, &p.currency, lang),
            _ => format!("{}/h", locale::number(v, lang)),
        };
        legend.push(format!("{} ({shown})", w.legend_last));
    }
    ChartView {
        img,
        alt: story::chart_alt(it, lang, tz),
        width: charts::WIDTH,
        height: charts::HEIGHT,
        y_top: locale::number(c.y_max, lang),
        y_mid: locale::number(c.y_max / 2.0, lang),
        d_from: locale::short_date(c.from, tz, lang),
        d_mid: locale::short_date(c.from + (c.to - c.from) / 2, tz, lang),
        d_to: locale::short_date(c.to, tz, lang),
        legend: legend.join(" · "),
    }
}

fn section_title(kind: TrendKind, w: &Words) -> &'static str {
    match kind {
        TrendKind::Emerging => w.emerging,
        TrendKind::Spike => w.spikes,
        TrendKind::Discovered => w.discovered,
        TrendKind::RisingCreator => w.rising_creators,
        TrendKind::BreakoutVideo => w.breakout_videos,
        TrendKind::Cooling => w.cooling,
        TrendKind::ProductRising => w.product_rising,
        TrendKind::PriceDrop => w.price_drops,
    }
}

/// `trendwatch · 2 hashtags émergents, 1 pic viral, 3 sources en échec — semaine du 30 novembre 2026`.
fn subject(d: &Digest, lang: Language, week: &str) -> String {
    let mut parts: Vec<String> = d
        .sections
        .iter()
        .map(|s| {
            let (one, many) = locale::section_noun(s.kind, lang);
            let n = s.items.len() as i64;
            locale::plural(n, one, many)
        })
        .collect();
    let failing = d.health.len() as i64;
    if failing > 0 {
        parts.push(match lang {
            Language::Fr => locale::plural(failing, "source en échec", "sources en échec"),
            Language::En => locale::plural(failing, "failing source", "failing sources"),
        });
    }
    if let Some(wu) = &d.warmup {
        parts.push(match (wu.collecting_since, lang) {
            (Some(since), Language::Fr) => format!(
                "mise en route, jour {} sur {}",
                (d.at - since) / 86_400 + 1,
                wu.baseline_days
            ),
            (Some(since), Language::En) => format!(
                "warming up, day {} of {}",
                (d.at - since) / 86_400 + 1,
                wu.baseline_days
            ),
            (None, Language::Fr) => "aucune donnée collectée".to_owned(),
            (None, Language::En) => "nothing collected yet".to_owned(),
        });
    }
    if parts.is_empty() && !d.already_told.is_empty() {
        let n = d.already_told.len() as i64;
        parts.push(match lang {
            Language::Fr => format!(
                "rien de nouveau, {} déjà {}",
                locale::plural(n, "tendance", "tendances"),
                if n == 1 { "signalée" } else { "signalées" }
            ),
            Language::En => format!(
                "nothing new, {} already reported",
                locale::plural(n, "trend", "trends")
            ),
        });
    }
    if parts.is_empty() {
        parts.push(
            match lang {
                Language::Fr => "rien de nouveau",
                Language::En => "nothing new",
            }
            .to_owned(),
        );
    }
    clean(
        &format!("trendwatch · {} — {week}", parts.join(", ")),
        MAX_SUBJECT,
    )
}
