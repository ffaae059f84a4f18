//! The sentences of a digest: what each item means, told with its figures, in French or
//! English.
//!
//! Every sentence is derived from the item's facts; nothing here is said that the figures do
//! not show. Names inside sentences are already cleaned, and the HTML template escapes them.

use super::facts::{Partner, Reading, VideoFact, WeekVolumes};
use super::health::HealthGroup;
use super::locale::{self, number};
use super::model::{AlreadyTold, Item, Warmup};
use crate::config::Language;
use crate::detect::{Tier, TrendKind};
use crate::model::UnixSeconds;

use Language::{En, Fr};

/// How sure trendwatch is, with the evidence in the counter's terms: "Net : 12 paliers
/// d'affichage (+1,2 M de vues) en 2 jours, 5,0× l'habitude" / "To be confirmed: …".
pub(super) fn confidence(kind: TrendKind, it: &Item, lang: Language) -> Option<String> {
    let c = it.confidence?;
    let clear = c.level == crate::detect::ConfidenceLevel::Clear;
    let label = match (clear, lang) {
        (true, Fr) => "Net",
        (false, Fr) => "À confirmer",
        (true, En) => "Clear",
        (false, En) => "To be confirmed",
    };
    let views = locale::quantity(c.excess.abs(), &it.metric, lang);
    let steps = c.steps().abs().round() as i64;
    let amount = if c.step > 1.0 {
        match lang {
            Fr => format!(
                "{} ({views})",
                locale::plural(steps, "palier d'affichage", "paliers d'affichage")
            ),
            En => format!(
                "{} ({views})",
                locale::plural(steps, "display step", "display steps")
            ),
        }
    } else {
        views
    };
    let span = locale::duration((c.hours * 3600.0) as i64, lang);
    let ratio = locale::ratio(it.growth, lang);
    Some(match (kind, lang) {
        (TrendKind::Cooling, Fr) => {
            format!("{label} : {amount} de moins qu'au rythme du pic en {span}")
        }
        (TrendKind::Cooling, En) => {
            format!("{label}: {amount} fewer than at the peak's pace over {span}")
        }
        (_, Fr) => {
            format!("{label} : {amount} de plus que d'habitude en {span}, {ratio} l'habitude")
        }
        (_, En) => format!("{label}: {amount} more than usual over {span}, {ratio} usual"),
    })
}

/// The first line of an item: the movement in plain words with a percentage and a date.
pub(super) fn headline(kind: TrendKind, it: &Item, lang: Language, tz: chrono_tz::Tz) -> String {
    let since = it.since.map(|t| locale::short_date(t, tz, lang));
    let change = locale::change(it.growth, lang);
    let of = locale::of_metric(&it.metric, lang);
    match (kind, lang) {
        (TrendKind::Emerging | TrendKind::RisingCreator, _) if it.metric == "engagement" => {
            engagement_sentence(it.rate_now, it.benchmark, it.tier.as_deref(), lang)
        }
        (TrendKind::Emerging | TrendKind::RisingCreator, Fr) => match since {
            Some(d) => format!("{change} {of} par heure depuis le {d}"),
            None => format!("{change} {of} par heure"),
        },
        (TrendKind::Emerging | TrendKind::RisingCreator, En) => match since {
            Some(d) => format!("{change} {of} per hour since {d}"),
            None => format!("{change} {of} per hour"),
        },
        (TrendKind::Spike, Fr) => format!(
            "Pic de {change} {of} par heure{}",
            it.since
                .map(|t| format!(", le {}", locale::date_hour(t, tz, lang)))
                .unwrap_or_default()
        ),
        (TrendKind::Spike, En) => format!(
            "A spike of {change} {of} per hour{}",
            it.since
                .map(|t| format!(", on {}", locale::date_hour(t, tz, lang)))
                .unwrap_or_default()
        ),
        (TrendKind::Discovered, Fr) => format!(
            "Nouveau hashtag, vu sur {} récentes",
            locale::plural(it.rate_now.round() as i64, "vidéo", "vidéos")
        ),
        (TrendKind::Discovered, En) => format!(
            "A new hashtag, seen on {} recently",
            locale::plural(it.rate_now.round() as i64, "video", "videos")
        ),
        (TrendKind::BreakoutVideo, Fr) => format!(
            "{} lectures, {} les vidéos habituelles du créateur ({})",
            number(it.rate_now, lang),
            locale::ratio(it.growth, lang),
            number(it.rate_baseline, lang)
        ),
        (TrendKind::BreakoutVideo, En) => format!(
            "{} plays, {} the creator's usual videos ({})",
            number(it.rate_now, lang),
            locale::ratio(it.growth, lang),
            number(it.rate_baseline, lang)
        ),
        (TrendKind::Cooling, Fr) => format!(
            "En baisse : les {} par heure sont à {} de leur pic{}",
            locale::metric(&it.metric, lang),
            locale::whole_percent(it.growth, lang),
            since.map(|d| format!(" du {d}")).unwrap_or_default()
        ),
        (TrendKind::Cooling, En) => format!(
            "Slowing down: {} per hour are at {} of their {}peak",
            locale::metric(&it.metric, lang),
            locale::whole_percent(it.growth, lang),
            since.map(|d| format!("{d} ")).unwrap_or_default()
        ),
        (TrendKind::ProductRising | TrendKind::PriceDrop, _) => product_line(kind, it, lang, tz),
    }
}

/// A product's movement as a shopkeeper reads it: units a day and the price against theirs,
/// or the price against its usual.
fn product_line(kind: TrendKind, it: &Item, lang: Language, tz: chrono_tz::Tz) -> String {
    let p = it.product.clone().unwrap_or_default();
    let money = |v: f64| locale::money(v, &p.currency, lang);
    let since = it.since.map(|t| locale::short_date(t, tz, lang));
    let theirs = p.my_price.map(|m| match lang {
        Fr => format!(" contre {} chez vous", money(m)),
        En => format!(" against {} in your shop", money(m)),
    });
    let seller = (!p.seller.is_empty()).then(|| match lang {
        Fr => format!(" Vendeur : {}.", p.seller),
        En => format!(" Seller: {}.", p.seller),
    });
    if kind == TrendKind::PriceDrop {
        let drop = locale::whole_percent(1.0 - it.growth, lang);
        return match lang {
            Fr => format!(
                "Prix en baisse : {} au lieu de {} (−{drop}){}{}.{}",
                money(it.rate_now),
                money(it.rate_baseline),
                since.map(|d| format!(" depuis le {d}")).unwrap_or_default(),
                theirs.unwrap_or_default(),
                seller.unwrap_or_default()
            ),
            En => format!(
                "Price down: {} instead of {} (−{drop}){}{}.{}",
                money(it.rate_now),
                money(it.rate_baseline),
                since.map(|d| format!(" since {d}")).unwrap_or_default(),
                theirs.unwrap_or_default(),
                seller.unwrap_or_default()
            ),
        };
    }
    let per_day = (it.rate_now * 24.0).round();
    let at_price = p.price.map(|v| match lang {
        Fr => format!(", à {}", money(v)),
        En => format!(", at {}", money(v)),
    });
    let revenue = p.price.map(|v| match lang {
        Fr => format!(
            " (environ {} de ventes par jour, estimation)",
            money(per_day * v)
        ),
        En => format!(
            " (about {} of sales a day, an estimate)",
            money(per_day * v)
        ),
    });
    match lang {
        Fr => format!(
            "Vendu {} fois par jour{} ({} l'habitude){}{}{}.{}",
            number(per_day, lang),
            since.map(|d| format!(" depuis le {d}")).unwrap_or_default(),
            locale::ratio(it.growth, lang),
            at_price.unwrap_or_default(),
            theirs.unwrap_or_default(),
            revenue.unwrap_or_default(),
            seller.unwrap_or_default()
        ),
        En => format!(
            "Sold {} times a day{} ({} usual){}{}{}.{}",
            number(per_day, lang),
            since.map(|d| format!(" since {d}")).unwrap_or_default(),
            locale::ratio(it.growth, lang),
            at_price.unwrap_or_default(),
            theirs.unwrap_or_default(),
            revenue.unwrap_or_default(),
            seller.unwrap_or_default()
        ),
    }
}

/// `2,9 M de vues cette semaine, contre 210 k habituellement (+40 % sur la semaine d'avant)`;
/// a gain (`+17,9 k abonnés`) for followers.
pub(super) fn volumes(metric: &str, w: &WeekVolumes, lang: Language) -> String {
    let gain = if metric == "followers" { "+" } else { "" };
    let this_week = locale::quantity(w.this_week, metric, lang);
    let usual = number(w.usual, lang);
    let week_on_week = w
        .previous
        .filter(|p| *p > 0.0)
        .map(|p| locale::change(w.this_week / p, lang));
    match lang {
        Fr => format!(
            "{gain}{this_week} cette semaine, contre {gain}{usual} habituellement{}",
            week_on_week
                .map(|c| format!(" ({c} sur la semaine d'avant)"))
                .unwrap_or_default()
        ),
        En => format!(
            "{gain}{this_week} this week, against {gain}{usual} usually{}",
            week_on_week
                .map(|c| format!(" ({c} on the week before)"))
                .unwrap_or_default()
        ),
    }
}

/// Who a tier is, in followers.
fn tier_audience(t: Tier, lang: Language) -> &'static str {
    match (t, lang) {
        (Tier::Nano, Fr) => "comptes de moins de 10\u{a0}k abonnés",
        (Tier::Micro, Fr) => "comptes de 10\u{a0}k à 100\u{a0}k abonnés",
        (Tier::Macro, Fr) => "comptes de 100\u{a0}k à 1\u{a0}M d'abonnés",
        (Tier::Mega, Fr) => "comptes de plus de 1\u{a0}M d'abonnés",
        (Tier::Nano, En) => "accounts under 10k followers",
        (Tier::Micro, En) => "accounts of 10k to 100k followers",
        (Tier::Macro, En) => "accounts of 100k to 1M followers",
        (Tier::Mega, En) => "accounts over 1M followers",
    }
}

fn tier_named(name: Option<&str>) -> Option<Tier> {
    match name? {
        "nano" => Some(Tier::Nano),
        "micro" => Some(Tier::Micro),
        "macro" => Some(Tier::Macro),
        "mega" => Some(Tier::Mega),
        _ => None,
    }
}

/// `7,2 % d'engagement, au-dessus des 2–5 % habituels des comptes de 10 k à 100 k abonnés`.
fn engagement_sentence(
    rate: f64,
    benchmark: Option<(f64, f64)>,
    tier: Option<&str>,
    lang: Language,
) -> String {
    let e = locale::percent(rate, lang);
    let (Some((lo, hi)), Some(t)) = (benchmark, tier_named(tier)) else {
        return match lang {
            Fr => format!("{e} d'engagement"),
            En => format!("{e} engagement"),
        };
    };
    let range = if lo > 0.0 {
        match lang {
            Fr => format!(
                "{}–{}\u{a0}%",
                locale::whole_percent(lo, lang).trim_end_matches("\u{a0}%"),
                locale::whole_percent(hi, lang).trim_end_matches("\u{a0}%")
            ),
            En => format!(
                "{}–{}",
                locale::whole_percent(lo, lang).trim_end_matches('%'),
                locale::whole_percent(hi, lang)
            ),
        }
    } else {
        match lang {
            Fr => format!("moins de {}", locale::whole_percent(hi, lang)),
            En => format!("under {}", locale::whole_percent(hi, lang)),
        }
    };
    let who = tier_audience(t, lang);
    let place = match lang {
        Fr if rate > hi => "au-dessus des",
        Fr if rate < lo => "en dessous des",
        Fr => "dans la norme des",
        En if rate > hi => "above the",
        En if rate < lo => "below the",
        En => "within the",
    };
    match lang {
        Fr => format!("{e} d'engagement, {place} {range} habituels des {who}"),
        En => format!("{e} engagement, {place} {range} usual for {who}"),
    }
}

/// The partner card of a creator: engagement against the tier, audience, cadence.
pub(super) fn partner(p: &Partner, lang: Language) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(e) = p.engagement {
        let tier = p.tier.map(|t| t.as_str());
        lines.push(engagement_sentence(
            e,
            p.tier.map(Tier::benchmark),
            tier,
            lang,
        ));
    }
    let mut audience = Vec::new();
    if let Some(f) = p.followers {
        audience.push(match lang {
            Fr => format!("{} abonnés", number(f, lang)),
            En => format!("{} followers", number(f, lang)),
        });
    }
    if let Some(c) = p.videos_per_week {
        let c = locale_decimal(c, lang);
        audience.push(match lang {
            Fr => format!("environ {c} vidéo(s) par semaine"),
            En => format!("about {c} video(s) a week"),
        });
    }
    if !audience.is_empty() {
        lines.push(audience.join(" · "));
    }
    if let Some(v) = &p.best_video {
        lines.push(match lang {
            Fr => format!(
                "Meilleure vidéo du mois : {} lectures",
                number(v.plays as f64, lang)
            ),
            En => format!(
                "Best video this month: {} plays",
                number(v.plays as f64, lang)
            ),
        });
    }
    lines
}

fn locale_decimal(v: f64, lang: Language) -> String {
    let s = format!("{:.1}", v);
    let s = s.strip_suffix(".0").map(str::to_owned).unwrap_or(s);
    match lang {
        Fr => s.replace('.', ","),
        En => s,
    }
}

/// One sentence on what the item means, when its evidence supports one.
pub(super) fn reading(kind: TrendKind, it: &Item, lang: Language) -> Option<String> {
    let f = &it.facts;
    let top = f.creators.first().map(|c| c.handle.as_str());
    let said = match (f.reading, lang) {
        (Some(Reading::Organic { creators, small }), Fr) => Some(format!(
            "Portée par {creators} {} : une tendance organique, pas une campagne.",
            if small {
                "petits créateurs"
            } else {
                "créateurs différents"
            }
        )),
        (Some(Reading::Organic { creators, small }), En) => Some(format!(
            "Carried by {creators} {} creators: an organic trend, not a campaign.",
            if small { "small" } else { "different" }
        )),
        (Some(Reading::Concentrated { share }), Fr) => top.map(|h| {
            format!(
                "Portée surtout par @{h} ({} des vidéos) : une campagne ou le succès d'un seul compte.",
                locale::whole_percent(share, lang)
            )
        }),
        (Some(Reading::Concentrated { share }), En) => top.map(|h| {
            format!(
                "Mostly carried by @{h} ({} of the videos): a campaign or one account's success.",
                locale::whole_percent(share, lang)
            )
        }),
        (None, _) => None,
    };
    said.or_else(|| match (kind, lang) {
        (TrendKind::Spike, Fr) => {
            Some("Un moment viral de quelques heures : à surveiller, pas encore une tendance.".into())
        }
        (TrendKind::Spike, En) => {
            Some("A viral moment of a few hours: worth watching, not a trend yet.".into())
        }
        (TrendKind::Cooling, Fr) => Some(
            "La vague retombe : un nouveau contenu sur ce sujet aura moins de portée qu'au pic."
                .into(),
        ),
        (TrendKind::Cooling, En) => Some(
            "The wave is passing: new content on this topic will reach fewer people than at its peak."
                .into(),
        ),
        (TrendKind::RisingCreator, _) => {
            let p = f.partner.as_ref()?;
            let (e, t) = (p.engagement?, p.tier?);
            (e > t.benchmark().1).then(|| match lang {
                Fr => "Un partenaire possible : son public réagit plus que celui des comptes de sa taille."
                    .to_owned(),
                En => "A possible partner: their audience engages more than that of accounts their size."
                    .to_owned(),
            })
        }
        _ => None,
    })
}

/// `@lea · 1,2 M lectures · « Ma routine »`.
pub(super) fn video_line(v: &VideoFact, lang: Language) -> String {
    let mut s = String::new();
    if let Some(a) = &v.author {
        s.push('@');
        s.push_str(a);
        s.push_str(" · ");
    }
    s.push_str(&number(v.plays as f64, lang));
    s.push_str(match lang {
        Fr => " lectures",
        En => " plays",
    });
    if !v.caption.is_empty() {
        match lang {
            Fr => s.push_str(&format!(" · « {} »", v.caption)),
            En => s.push_str(&format!(" · “{}”", v.caption)),
        }
    }
    s
}

/// `@lea (micro, 3 vidéos), @sam, … et 9 autres`.
pub(super) fn creators_line(it: &Item, lang: Language) -> Option<String> {
    let f = &it.facts;
    if f.creators.is_empty() {
        return None;
    }
    let names: Vec<String> = f
        .creators
        .iter()
        .map(|c| {
            let mut bits = Vec::new();
            if let Some(t) = c.tier {
                bits.push(t.as_str().to_owned());
            }
            if c.videos > 1 {
                bits.push(match lang {
                    Fr => format!("{} vidéos", c.videos),
                    En => format!("{} videos", c.videos),
                });
            }
            if bits.is_empty() {
                format!("@{}", c.handle)
            } else {
                format!("@{} ({})", c.handle, bits.join(", "))
            }
        })
        .collect();
    let rest = f.creator_count.saturating_sub(f.creators.len());
    let mut s = names.join(", ");
    if rest > 0 {
        s.push_str(&match lang {
            Fr => format!(" et {rest} autre(s)"),
            En => format!(" and {rest} more"),
        });
    }
    Some(s)
}

/// One line of detail in the reader's language (the detector's own line is for the logs).
pub(super) fn detail(kind: TrendKind, it: &Item, lang: Language, tz: chrono_tz::Tz) -> String {
    let m = locale::metric(&it.metric, lang);
    let base = number(it.rate_baseline, lang);
    let g = locale::ratio(it.growth, lang);
    let samples = it.samples.map(|n| match lang {
        Fr => format!(", sur {n} mesures"),
        En => format!(", over {n} samples"),
    });
    let samples = samples.unwrap_or_default();
    match (kind, lang) {
        (TrendKind::Cooling, Fr) => format!(
            "{} par heure : {} maintenant contre {base} au pic{}",
            capitalise(&m),
            number(it.rate_now, lang),
            it.since
                .map(|t| format!(" du {}", locale::date_hour(t, tz, lang)))
                .unwrap_or_default()
        ),
        (TrendKind::Cooling, En) => format!(
            "{} per hour: {} now against {base} at the peak{}",
            capitalise(&m),
            number(it.rate_now, lang),
            it.since
                .map(|t| format!(" on {}", locale::date_hour(t, tz, lang)))
                .unwrap_or_default()
        ),
        (TrendKind::Discovered, Fr) => format!(
            "{} vidéos récentes contre {base} avant",
            number(it.rate_now, lang)
        ),
        (TrendKind::Discovered, En) => format!(
            "{} recent videos against {base} before",
            number(it.rate_now, lang)
        ),
        // A price is a level, said whole in the headline.
        (_, _)
            if it.metric == "engagement"
                || kind == TrendKind::BreakoutVideo
                || kind == TrendKind::PriceDrop =>
        {
            String::new()
        }
        (_, Fr) => format!(
            "{} {} par heure, {g} le niveau habituel ({base}/h){samples}",
            number(it.rate_now, lang),
            m
        ),
        (_, En) => format!(
            "{} {m} per hour, {g} the usual level ({base}/h){samples}",
            number(it.rate_now, lang)
        ),
    }
}

/// The chart described in words, for screen readers and blocked images.
pub(super) fn chart_alt(it: &Item, lang: Language, tz: chrono_tz::Tz) -> String {
    let m = locale::metric(&it.chart_metric, lang);
    let from = locale::short_date(it.chart_from, tz, lang);
    let to = locale::short_date(it.chart_to, tz, lang);
    let now = it.rates.last().map(|p| number(p.1, lang));
    match lang {
        Fr => format!(
            "{} par heure de {} du {from} au {to}{}",
            capitalise(&m),
            it.name,
            now.map(|n| format!(", dernière valeur {n}/h"))
                .unwrap_or_default()
        ),
        En => format!(
            "{} per hour of {} from {from} to {to}{}",
            capitalise(&m),
            it.name,
            now.map(|n| format!(", latest {n}/h")).unwrap_or_default()
        ),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

mod service;

pub(super) use service::{already_told, browser_line, health_line, refused_line, warmup};
