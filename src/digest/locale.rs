//! Words, numbers and dates of the digest in French and English.
//!
//! Every word a reader sees comes from here, so a digest never mixes languages. It never
//! formats untrusted text: names and evidence pass through unchanged and are escaped later.

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::config::Language;
use crate::model::UnixSeconds;

/// The fixed words of a digest in one language.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Words {
    pub title: &'static str,
    pub week_of: &'static str,
    pub emerging: &'static str,
    pub spikes: &'static str,
    pub discovered: &'static str,
    pub rising_creators: &'static str,
    pub breakout_videos: &'static str,
    pub product_rising: &'static str,
    pub price_drops: &'static str,
    pub cooling: &'static str,
    pub health: &'static str,
    pub campaigns: &'static str,
    pub nothing_new: &'static str,
    pub view_on: &'static str,
    pub videos_title: &'static str,
    pub with_tags: &'static str,
    pub posted_by: &'static str,
    pub legend_usual: &'static str,
    pub legend_start: &'static str,
    pub legend_peak: &'static str,
    pub legend_drop: &'static str,
    pub legend_last: &'static str,
    pub health_hint: &'static str,
    pub footer: &'static str,
}

const FR: Words = Words {
    title: "Veille tendances",
    week_of: "semaine du",
    emerging: "Hashtags émergents",
    spikes: "Pics viraux (quelques heures)",
    discovered: "Hashtags découverts",
    rising_creators: "Créateurs en hausse",
    breakout_videos: "Vidéos qui décollent",
    product_rising: "Boutique TikTok : ventes qui décollent",
    price_drops: "Boutique TikTok : baisses de prix",
    cooling: "Tendances qui ralentissent",
    health: "État de la collecte",
    campaigns: "Campagnes",
    nothing_new: "Rien de nouveau cette semaine : aucun hashtag ni créateur ne s'écarte de son niveau habituel.",
    view_on: "Voir sur TikTok",
    videos_title: "Vidéos les plus vues",
    with_tags: "Avec\u{a0}:",
    posted_by: "Publié par\u{a0}:",
    legend_usual: "bande grise : niveau habituel",
    legend_start: "pointillé : début de la hausse",
    legend_peak: "pointillé : pic",
    legend_drop: "pointillé : début de la baisse",
    legend_last: "point : dernière valeur",
    health_hint: "Le détail de chaque erreur : trendwatch status, et le journal du service.",
    footer: "Envoyé par trendwatch.",
};

const EN: Words = Words {
    title: "Trend watch",
    week_of: "week of",
    emerging: "Emerging hashtags",
    spikes: "Viral spikes (a few hours)",
    discovered: "Discovered hashtags",
    rising_creators: "Rising creators",
    breakout_videos: "Breakout videos",
    product_rising: "TikTok Shop: sales taking off",
    price_drops: "TikTok Shop: price drops",
    cooling: "Cooling trends",
    health: "Collection health",
    campaigns: "Campaigns",
    nothing_new: "Nothing new this week: no hashtag or creator is away from its usual level.",
    view_on: "View on TikTok",
    videos_title: "Most viewed videos",
    with_tags: "Along with:",
    posted_by: "Posted by:",
    legend_usual: "grey band: usual level",
    legend_start: "dashed line: start of the rise",
    legend_peak: "dashed line: peak",
    legend_drop: "dashed line: the drop",
    legend_last: "dot: latest value",
    health_hint: "Each error in detail: trendwatch status, and the service's log.",
    footer: "Sent by trendwatch.",
};

/// How the subject line counts a section's items, singular and plural.
pub fn section_noun(
    kind: crate::detect::TrendKind,
    lang: Language,
) -> (&'static str, &'static str) {
    use crate::detect::TrendKind as K;
    match (kind, lang) {
        (K::Emerging, Language::Fr) => ("hashtag émergent", "hashtags émergents"),
        (K::Spike, Language::Fr) => ("pic viral", "pics viraux"),
        (K::Discovered, Language::Fr) => ("hashtag découvert", "hashtags découverts"),
        (K::RisingCreator, Language::Fr) => ("créateur en hausse", "créateurs en hausse"),
        (K::BreakoutVideo, Language::Fr) => ("vidéo qui décolle", "vidéos qui décollent"),
        (K::Cooling, Language::Fr) => ("tendance en baisse", "tendances en baisse"),
        (K::Emerging, Language::En) => ("emerging hashtag", "emerging hashtags"),
        (K::Spike, Language::En) => ("viral spike", "viral spikes"),
        (K::Discovered, Language::En) => ("discovered hashtag", "discovered hashtags"),
        (K::RisingCreator, Language::En) => ("rising creator", "rising creators"),
        (K::BreakoutVideo, Language::En) => ("breakout video", "breakout videos"),
        (K::Cooling, Language::En) => ("cooling trend", "cooling trends"),
        (K::ProductRising, Language::Fr) => ("produit qui se vend", "produits qui se vendent"),
        (K::PriceDrop, Language::Fr) => ("baisse de prix", "baisses de prix"),
        (K::ProductRising, Language::En) => ("product selling fast", "products selling fast"),
        (K::PriceDrop, Language::En) => ("price drop", "price drops"),
    }
}

pub fn words(lang: Language) -> &'static Words {
    match lang {
        Language::Fr => &FR,
        Language::En => &EN,
    }
}

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `23 novembre 2026` / `23 November 2026` (UTC calendar day).
pub fn date(t: UnixSeconds, lang: Language) -> String {
    date_in(t, chrono_tz::UTC, lang)
}

/// The calendar day of `t` in time zone `tz`, in the locale's form.
pub fn date_in(t: UnixSeconds, tz: chrono_tz::Tz, lang: Language) -> String {
    let d = DateTime::<Utc>::from_timestamp(t, 0)
        .unwrap_or_default()
        .with_timezone(&tz);
    let m = d.month0() as usize % 12;
    match lang {
        Language::Fr => format!("{} {} {}", d.day(), MONTHS_FR[m], d.year()),
        Language::En => format!("{} {} {}", d.day(), MONTHS_EN[m], d.year()),
    }
}

/// The Monday (local midnight) of the week holding `t` in `tz`, as a unix time.
pub fn monday_in(t: UnixSeconds, tz: chrono_tz::Tz) -> UnixSeconds {
    let local = DateTime::<Utc>::from_timestamp(t, 0)
        .unwrap_or_default()
        .with_timezone(&tz);
    let back = i64::from(local.weekday().num_days_from_monday());
    // Noon of that Monday: a safe instant to name the day whatever the DST shift.
    let noon = local.date_naive() - chrono::Duration::days(back);
    noon.and_hms_opt(12, 0, 0)
        .and_then(|n| n.and_local_timezone(tz).earliest())
        .map(|d| d.timestamp())
        .unwrap_or(t)
}

/// Compact numbers: `1,2 M` / `1.2M`, `41,2 k` / `41.2k`, `950`.
pub fn number(v: f64, lang: Language) -> String {
    if !v.is_finite() {
        return "–".to_owned();
    }
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let body = if suffix.is_empty() {
        if a >= 100.0 || v.fract() == 0.0 {
            group(v.round() as i64, lang)
        } else {
            decimal(v, 1, lang)
        }
    } else {
        decimal(scaled, 1, lang)
    };
    match (lang, suffix) {
        (_, "") => body,
        (Language::Fr, s) => format!("{body}\u{a0}{s}"),
        (Language::En, s) => format!("{body}{s}"),
    }
}

/// A metric's name as readers say it (`views` → `vues`); unknown names pass unchanged.
pub fn metric(name: &str, lang: Language) -> String {
    let fr = match name {
        "views" => "vues",
        "videos" => "vidéos",
        "followers" => "abonnés",
        "following" => "abonnements",
        "likes" => "j'aime",
        "plays" => "lectures",
        "comments" => "commentaires",
        "shares" => "partages",
        "saves" => "enregistrements",
        "sold" => "ventes",
        "price" => "prix",
        "rating" => "note",
        "reviews" => "avis",
        other => other,
    };
    match (lang, name) {
        (Language::Fr, _) => fr.to_owned(),
        (Language::En, "sold") => "sales".to_owned(),
        (Language::En, _) => name.to_owned(),
    }
}

/// Short month names for chart axes and headlines.
const SHORT_FR: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];
const SHORT_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn local(t: UnixSeconds, tz: chrono_tz::Tz) -> DateTime<chrono_tz::Tz> {
    DateTime::<Utc>::from_timestamp(t, 0)
        .unwrap_or_default()
        .with_timezone(&tz)
}

/// `28 nov.` / `28 Nov`, on the reader's calendar.
pub fn short_date(t: UnixSeconds, tz: chrono_tz::Tz, lang: Language) -> String {
    let d = local(t, tz);
    let m = d.month0() as usize % 12;
    match lang {
        Language::Fr => format!("{} {}", d.day(), SHORT_FR[m]),
        Language::En => format!("{} {}", d.day(), SHORT_EN[m]),
    }
}

/// `28 nov. à 14 h` / `28 Nov at 14:00`, on the reader's clock.
pub fn date_hour(t: UnixSeconds, tz: chrono_tz::Tz, lang: Language) -> String {
    let d = local(t, tz);
    match lang {
        Language::Fr => format!("{} à {}\u{a0}h", short_date(t, tz, lang), d.hour()),
        Language::En => format!("{} at {:02}:00", short_date(t, tz, lang), d.hour()),
    }
}

/// A span of time in words: `moins d'une heure`, `5 heures`, `3 jours`.
pub fn duration(secs: i64, lang: Language) -> String {
    let hours = secs / 3600;
    let days = secs / 86_400;
    match lang {
        Language::Fr if hours < 1 => "moins d'une heure".to_owned(),
        Language::Fr if days < 2 => plural(hours, "heure", "heures"),
        Language::Fr => plural(days, "jour", "jours"),
        Language::En if hours < 1 => "less than an hour".to_owned(),
        Language::En if days < 2 => plural(hours, "hour", "hours"),
        Language::En => plural(days, "day", "days"),
    }
}

/// `1 heure`, `5 heures`.
pub fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A change as a signed whole percentage: `+1 310 %` / `+1,310%`, `−40 %`.
pub fn change(ratio: f64, lang: Language) -> String {
    if !ratio.is_finite() {
        return "–".to_owned();
    }
    let p = ((ratio - 1.0) * 100.0).round() as i64;
    let sign = if p >= 0 { "+" } else { "−" };
    let body = group(p.abs(), lang);
    match lang {
        Language::Fr => format!("{sign}{body}\u{a0}%"),
        Language::En => format!("{sign}{body}%"),
    }
}

/// A whole percentage: `10 %` / `10%`.
pub fn whole_percent(fraction: f64, lang: Language) -> String {
    let p = (fraction * 100.0).round() as i64;
    match lang {
        Language::Fr => format!("{}\u{a0}%", group(p, lang)),
        Language::En => format!("{}%", group(p, lang)),
    }
}

/// A quantity of a metric as readers say it: `2,9 M de vues`, `17,9 k abonnés`, `950 vues` /
/// `2.9M views`.
pub fn quantity(v: f64, name: &str, lang: Language) -> String {
    let n = number(v, lang);
    let m = metric(name, lang);
    match lang {
        Language::Fr if v.abs() >= 1e6 => format!("{n} {}", of_metric(name, lang)),
        _ => format!("{n} {m}"),
    }
}

/// The metric as the object of a quantity: `de vues`, `d'abonnés` / `views`.
pub fn of_metric(name: &str, lang: Language) -> String {
    let m = metric(name, lang);
    match lang {
        Language::Fr if m.starts_with(['a', 'e', 'é', 'i', 'o', 'u']) => format!("d'{m}"),
        Language::Fr => format!("de {m}"),
        Language::En => m,
    }
}

/// A growth ratio: `13,3×` / `13.3×`.
pub fn ratio(v: f64, lang: Language) -> String {
    format!("{}×", decimal(v, 1, lang))
}

/// An amount of money: `0,21 €`, `1 800 €` / `€0.21`, `€1,800` (cents below 100).
pub fn money(v: f64, currency: &str, lang: Language) -> String {
    let body = if v.abs() < 100.0 {
        let s = format!("{v:.2}");
        match lang {
            Language::Fr => s.replace('.', ","),
            Language::En => s,
        }
    } else {
        group(v.round() as i64, lang)
    };
    let symbol = match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        "CHF" => "CHF",
        other => other,
    };
    let sign = symbol.chars().count() == 1;
    match lang {
        Language::Fr => format!("{body}\u{a0}{symbol}"),
        Language::En if sign => format!("{symbol}{body}"),
        Language::En => format!("{symbol}\u{a0}{body}"),
    }
}

/// A percentage with one decimal: `4,5 %` / `4.5%`.
pub fn percent(v: f64, lang: Language) -> String {
    match lang {
        Language::Fr => format!("{}\u{a0}%", decimal(v * 100.0, 1, lang)),
        Language::En => format!("{}%", decimal(v * 100.0, 1, lang)),
    }
}

fn decimal(v: f64, digits: usize, lang: Language) -> String {
    let s = format!("{v:.digits$}");
    let s = s.strip_suffix(".0").map(str::to_owned).unwrap_or(s);
    match lang {
        Language::Fr => s.replace('.', ","),
        Language::En => s,
    }
}

fn group(v: i64, lang: Language) -> String {
    group_digits(
        v,
        match lang {
            Language::Fr => '\u{202f}',
            Language::En => ',',
        },
    )
}

/// `v` with its thousands set apart by `sep`: the one digit-grouping rule of what
/// trendwatch prints (the digest's numbers, `show`'s rates).
pub fn group_digits(v: i64, sep: char) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    if v < 0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_follow_the_locale() {
        assert_eq!(number(1_200_000.0, Language::Fr), "1,2\u{a0}M");
        assert_eq!(number(1_200_000.0, Language::En), "1.2M");
        assert_eq!(number(41_200.0, Language::En), "41.2k");
        assert_eq!(number(3_100.0, Language::En), "3,100");
        assert_eq!(ratio(13.3, Language::Fr), "13,3×");
        // 2026-11-23T00:00:00Z
        assert_eq!(date(1_795_392_000, Language::Fr), "23 novembre 2026");
        assert_eq!(date(1_795_392_000, Language::En), "23 November 2026");
    }

    #[test]
    fn the_week_is_the_readers_week() {
        let paris = chrono_tz::Europe::Paris;
        // Sunday 22 Nov 23:30 UTC is already Monday 00:30 in Paris.
        let t = 1_795_392_000 - 1800;
        assert_eq!(
            date_in(monday_in(t, paris), paris, Language::Fr),
            "23 novembre 2026"
        );
        assert_eq!(
            date_in(monday_in(t, chrono_tz::UTC), chrono_tz::UTC, Language::En),
            "16 November 2026"
        );
        // Thursday 26 Nov belongs to the week of the 23rd.
        assert_eq!(
            date_in(monday_in(t + 3 * 86_400, paris), paris, Language::En),
            "23 November 2026"
        );
    }
}
