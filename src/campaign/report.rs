//! A campaign's KPIs said for people: a text report for the terminal, JSON and CSV for a
//! spreadsheet, and a self-contained HTML page a community manager sends to a client (the
//! objective and its KPIs first, a chart of each video's views, the creators ranked by cost
//! per engagement with advice), in French or English like the digest.

use base64::Engine as _;
use minijinja::{context, Environment};

use super::{CampaignKpis, CreatorKpis, Verdict, VideoKpis};
use crate::config::Language;
use crate::digest::{charts, locale};
use crate::model::UnixSeconds;

const PAGE: &str = include_str!("report.html");

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Chart(#[from] charts::ChartError),
    #[error("cannot render the campaign report")]
    Template(#[from] minijinja::Error),
    #[error("cannot write the report")]
    Csv(#[from] csv::Error),
}

fn n(v: f64, lang: Language) -> String {
    locale::number(v, lang)
}

fn pct(v: Option<f64>, lang: Language) -> String {
    v.map_or_else(|| "–".into(), |v| locale::percent(v, lang))
}

fn money(v: Option<f64>, k: &CampaignKpis, lang: Language) -> String {
    v.map_or_else(|| "–".into(), |v| locale::money(v, &k.currency, lang))
}

fn tier_name(tier: Option<&str>, lang: Language) -> String {
    let Some(t) = tier else {
        return match lang {
            Language::Fr => "créateur".into(),
            Language::En => "creator".into(),
        };
    };
    match lang {
        Language::Fr => format!("{t}-créateur"),
        Language::En => format!("{t} creator"),
    }
}

fn range(b: Option<(f64, f64)>, lang: Language) -> String {
    match b {
        Some((lo, hi)) if lo <= 0.0 => match lang {
            Language::Fr => format!("moins de {}", locale::whole_percent(hi, lang)),
            Language::En => format!("under {}", locale::whole_percent(hi, lang)),
        },
        Some((lo, hi)) => format!(
            "{}–{}",
            (lo * 100.0).round(),
            locale::whole_percent(hi, lang)
        ),
        None => "–".into(),
    }
}

/// The sentence of advice on a creator: what to do, and the figures it rests on.
pub fn advice(c: &CreatorKpis, k: &CampaignKpis, lang: Language) -> String {
    let rate = pct(c.engagement_rate, lang);
    let who = tier_name(c.tier, lang);
    let cpe = money(c.cpe, k, lang);
    let usual = range(c.tier_benchmark, lang);
    match (c.verdict, lang) {
        (Verdict::Renew, Language::Fr) => format!(
            "à reconduire : {rate} d'engagement pour un {who}, coût par engagement {cpe}"
        ),
        (Verdict::Renew, Language::En) => {
            format!("worth renewing: {rate} engagement for a {who}, cost per engagement {cpe}")
        }
        (Verdict::Watch, Language::Fr) => format!(
            "à suivre : {rate} d'engagement, dans la norme des {who}s ({usual}), mais {cpe} par engagement, plus cher que la campagne ({})",
            money(k.cpe, k, lang)
        ),
        (Verdict::Watch, Language::En) => format!(
            "keep an eye on: {rate} engagement, usual for a {who} ({usual}), but {cpe} per engagement, dearer than the campaign ({})",
            money(k.cpe, k, lang)
        ),
        (Verdict::Reconsider, Language::Fr) => format!(
            "à revoir : {rate} d'engagement, sous la fourchette des {who}s ({usual})"
        ),
        (Verdict::Reconsider, Language::En) => {
            format!("to reconsider: {rate} engagement, under the range of a {who} ({usual})")
        }
        (Verdict::TooEarly, Language::Fr) => {
            format!("trop tôt pour juger : {} vues", n(c.views, lang))
        }
        (Verdict::TooEarly, Language::En) => {
            format!("too early to judge: {} views", n(c.views, lang))
        }
    }
}

/// The KPIs the objective is judged on, first in every form of the report.
fn headline(k: &CampaignKpis, lang: Language) -> Vec<(String, String)> {
    let fr = lang == Language::Fr;
    let views = (if fr { "Vues" } else { "Views" }, n(k.views, lang));
    let rate = (
        if fr {
            "Taux d'engagement"
        } else {
            "Engagement rate"
        },
        pct(k.engagement_rate, lang),
    );
    let cpm = (
        if fr {
            "Coût pour 1 000 vues"
        } else {
            "Cost per 1,000 views"
        },
        money(k.cpm, k, lang),
    );
    let cpe = (
        if fr {
            "Coût par engagement"
        } else {
            "Cost per engagement"
        },
        money(k.cpe, k, lang),
    );
    let roas = (
        if fr {
            "Retour sur dépense (ROAS)"
        } else {
            "Return on ad spend (ROAS)"
        },
        k.roas.map_or_else(
            || {
                if fr {
                    "– (chiffre d'affaires non saisi)".into()
                } else {
                    "– (no revenue entered)".into()
                }
            },
            |r| locale::ratio(r, lang),
        ),
    );
    let order = match k.objective {
        "engagement" | "traffic" => [rate, cpe, views, cpm, roas],
        "sales" => [roas, cpe, views, rate, cpm],
        _ => [views, cpm, rate, cpe, roas],
    };
    order
        .into_iter()
        .map(|(label, value)| (label.to_owned(), value))
        .collect()
}

fn objective_word(o: &str, lang: Language) -> &'static str {
    match (o, lang) {
        ("notoriety", Language::Fr) => "notoriété",
        ("engagement", Language::Fr) => "engagement",
        ("traffic", Language::Fr) => "trafic",
        ("sales", Language::Fr) => "ventes",
        ("notoriety", _) => "awareness",
        ("engagement", _) => "engagement",
        ("traffic", _) => "traffic",
        _ => "sales",
    }
}

fn mentions_line(k: &CampaignKpis, lang: Language) -> String {
    match lang {
        Language::Fr => format!(
            "Mentions spontanées de la marque : {} vidéo(s), {} vues",
            k.mentions.videos,
            n(k.mentions.views, lang)
        ),
        Language::En => format!(
            "Organic mentions of the brand: {} video(s), {} views",
            k.mentions.videos,
            n(k.mentions.views, lang)
        ),
    }
}

fn video_name(v: &VideoKpis) -> String {
    let id = v.entity.rsplit('/').next().unwrap_or("");
    format!("@{} · {id}", v.creator)
}

/// What the digest says of a campaign: its headline KPIs against the objective, what changed
/// in the week, and the creator at the top of the ranking.
pub fn digest_lines(now: &CampaignKpis, week_before: &CampaignKpis, lang: Language) -> Vec<String> {
    let fr = lang == Language::Fr;
    let kpis: Vec<String> = headline(now, lang)
        .into_iter()
        .take(3)
        .map(|(label, value)| format!("{} {value}", label.to_lowercase()))
        .collect();
    let mut lines = vec![format!(
        "{} {} : {}",
        if fr { "Objectif" } else { "Objective" },
        objective_word(now.objective, lang),
        kpis.join(" · ")
    )];
    if !fr {
        lines[0] = lines[0].replacen(" : ", ": ", 1);
    }
    let gained = now.views - week_before.views;
    let engaged = now.engagements - week_before.engagements;
    lines.push(match lang {
        Language::Fr => format!(
            "En 7 jours : +{} vues, +{} engagements",
            n(gained.max(0.0), lang),
            n(engaged.max(0.0), lang)
        ),
        Language::En => format!(
            "In 7 days: +{} views, +{} engagements",
            n(gained.max(0.0), lang),
            n(engaged.max(0.0), lang)
        ),
    });
    if let Some(best) = now.creators.first() {
        lines.push(format!("@{} — {}", best.creator, advice(best, now, lang)));
    }
    lines
}

/// The report for a terminal.
pub fn text(k: &CampaignKpis, lang: Language, tz: chrono_tz::Tz) -> String {
    let fr = lang == Language::Fr;
    let mut out = format!(
        "{} ({} {}, {} {})\n",
        k.campaign,
        if fr { "objectif" } else { "objective" },
        objective_word(k.objective, lang),
        if fr { "au" } else { "as of" },
        locale::date_in(k.at, tz, lang)
    );
    for (label, value) in headline(k, lang) {
        out.push_str(&format!("  {label}: {value}\n"));
    }
    out.push_str(&format!(
        "  {}: {}\n  {}\n",
        if fr { "Coût" } else { "Cost" },
        locale::money(k.cost, &k.currency, lang),
        mentions_line(k, lang)
    ));
    out.push_str(if fr {
        "\nCréateurs, du moins cher par engagement au plus cher :\n"
    } else {
        "\nCreators, cheapest per engagement first:\n"
    });
    for c in &k.creators {
        out.push_str(&format!("  @{}: {}\n", c.creator, advice(c, k, lang)));
    }
    out.push_str(if fr { "\nVidéos :\n" } else { "\nVideos:\n" });
    for v in &k.videos {
        out.push_str(&format!(
            "  {}: {} {}, {} {}, {} {}",
            video_name(v),
            n(v.views, lang),
            if fr { "vues" } else { "views" },
            pct(v.engagement_rate, lang),
            if fr { "d'engagement" } else { "engagement" },
            money(Some(v.cost), k, lang),
            if fr { "payés" } else { "paid" },
        ));
        if let Some(usual) = v.usual_engagement_rate {
            out.push_str(&format!(
                " ({} {})",
                if fr {
                    "ses autres vidéos :"
                } else {
                    "their other videos:"
                },
                pct(Some(usual), lang)
            ));
        }
        if let Some(why) = &v.last_failure {
            out.push_str(&format!(
                " ({}: {why})",
                if fr {
                    "chiffres figés"
                } else {
                    "figures frozen"
                }
            ));
        }
        out.push('\n');
    }
    out
}

/// One CSV row per video, with the campaign's name.
pub fn csv(k: &CampaignKpis, out: impl std::io::Write) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "campaign",
        "entity",
        "creator",
        "tier",
        "cost",
        "views",
        "likes",
        "comments",
        "shares",
        "saves",
        "engagements",
        "engagement_rate",
        "cpm",
        "cpe",
    ])?;
    let opt = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
    for v in &k.videos {
        w.write_record([
            k.campaign.clone(),
            v.entity.clone(),
            v.creator.clone(),
            v.tier.unwrap_or("").to_owned(),
            format!("{}", v.cost),
            format!("{}", v.views),
            format!("{}", v.likes),
            format!("{}", v.comments),
            format!("{}", v.shares),
            format!("{}", v.saves),
            format!("{}", v.engagements),
            opt(v.engagement_rate),
            opt(v.cpm),
            opt(v.cpe),
        ])?;
    }
    w.flush().map_err(csv::Error::from)?;
    Ok(())
}

/// The self-contained page for a client: no external resource, the chart inline.
pub fn html(k: &CampaignKpis, lang: Language, tz: chrono_tz::Tz) -> Result<String, ReportError> {
    let fr = lang == Language::Fr;
    let from = k
        .videos
        .iter()
        .filter_map(|v| v.published_at.or_else(|| v.curve.first().map(|p| p.0)))
        .min()
        .unwrap_or(k.at - 7 * 86_400);
    let curves: Vec<Vec<(UnixSeconds, f64)>> = k.videos.iter().map(|v| v.curve.clone()).collect();
    let chart = charts::lines_chart(&curves, from, k.at)?;
    let png = base64::engine::general_purpose::STANDARD.encode(&chart.png);
    let legend: Vec<_> = k
        .videos
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (r, g, b) = charts::PALETTE[i % charts::PALETTE.len()];
            context! {
                colour => format!("#{r:02x}{g:02x}{b:02x}"),
                name => video_name(v),
                url => v.url.clone(),
                views => n(v.views, lang),
                rate => pct(v.engagement_rate, lang),
                cost => money(Some(v.cost), k, lang),
                at_24h => v.views_24h.map(|x| n(x, lang)),
                at_7d => v.views_7d.map(|x| n(x, lang)),
                at_30d => v.views_30d.map(|x| n(x, lang)),
                frozen => v.last_failure.clone(),
                usual => v.usual_engagement_rate.map(|u| pct(Some(u), lang)),
            }
        })
        .collect();
    let creators: Vec<_> = k
        .creators
        .iter()
        .map(|c| {
            context! {
                name => format!("@{}", c.creator),
                tier => tier_name(c.tier, lang),
                benchmark => range(c.tier_benchmark, lang),
                rate => pct(c.engagement_rate, lang),
                cpe => money(c.cpe, k, lang),
                views => n(c.views, lang),
                advice => advice(c, k, lang),
                verdict => format!("{:?}", c.verdict).to_lowercase(),
            }
        })
        .collect();
    let title = if fr {
        format!("Campagne « {} »", k.campaign)
    } else {
        format!("Campaign “{}”", k.campaign)
    };
    let period = match &k.end {
        Some(end) => format!("{} → {end}", k.start),
        None => k.start.clone(),
    };
    let mut env = Environment::new();
    env.add_template("report.html", PAGE)?;
    let page = env.get_template("report.html")?.render(context! {
        lang => if fr { "fr" } else { "en" },
        title => title,
        objective => format!("{} {}", if fr { "Objectif :" } else { "Objective:" }, objective_word(k.objective, lang)),
        period => period,
        as_of => format!("{} {}", if fr { "Chiffres au" } else { "Figures as of" }, locale::date_hour(k.at, tz, lang)),
        headline => headline(k, lang).into_iter().map(|(l, v)| context! { label => l, value => v }).collect::<Vec<_>>(),
        cost => format!("{} {}", if fr { "Coût total :" } else { "Total cost:" }, locale::money(k.cost, &k.currency, lang)),
        mentions => mentions_line(k, lang),
        chart_title => if fr { "Vues cumulées par vidéo" } else { "Cumulative views per video" },
        // Made here of base64 only: nothing in it to escape.
        chart => minijinja::Value::from_safe_string(format!("data:image/png;base64,{png}")),
        chart_top => n(chart.y_max, lang),
        chart_from => locale::short_date(chart.from, tz, lang),
        chart_to => locale::short_date(chart.to, tz, lang),
        videos => legend,
        creators_title => if fr { "Créateurs, du moins cher par engagement au plus cher" } else { "Creators, cheapest per engagement first" },
        creators => creators,
        w => context! {
            creator => if fr { "Créateur" } else { "Creator" },
            tier => if fr { "Palier (engagement habituel)" } else { "Tier (usual engagement)" },
            rate => "Engagement",
            cpe => if fr { "Coût / engagement" } else { "Cost / engagement" },
            views => if fr { "Vues" } else { "Views" },
            cost => if fr { "payés" } else { "paid" },
            after => if fr { "vues à 24 h / 7 j / 30 j" } else { "views at 24 h / 7 d / 30 d" },
            frozen => if fr { "chiffres figés" } else { "figures frozen" },
            usual => if fr { "ses autres vidéos" } else { "their other videos" },
            formulas => if fr {
                "Engagements = j'aime + commentaires + partages + enregistrements ; taux = engagements / vues ; coût pour 1 000 vues = coût / vues × 1 000 ; coût par engagement = coût / engagements ; ROAS = chiffre d'affaires / coût."
            } else {
                "Engagements = likes + comments + shares + saves; rate = engagements / views; cost per 1,000 views = cost / views × 1,000; cost per engagement = cost / engagements; ROAS = revenue / cost."
            },
            footer => if fr { "Relevé par trendwatch sur les pages publiques de TikTok." } else { "Measured by trendwatch on TikTok's public pages." },
        },
    })?;
    Ok(page)
}
