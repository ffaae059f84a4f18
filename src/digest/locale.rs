//! Words, numbers and dates of the digest in French and English.
//!
//! Every word a reader sees comes from here, so a digest never mixes languages. It never
//! formats untrusted text: names and evidence pass through unchanged and are escaped later.

use chrono::{DateTime, Datelike, Utc};

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
    pub cooling: &'static str,
    pub health: &'static str,
    pub nothing_new: &'static str,
    pub since: &'static str,
    pub per_hour: &'static str,
    pub growth: &'static str,
    pub tier: &'static str,
    pub engagement: &'static str,
    pub benchmark: &'static str,
    pub failing_since: &'static str,
    pub never_succeeded: &'static str,
    pub footer: &'static str,
    /// Subject noun for the first section, singular and plural.
    pub subject_emerging: (&'static str, &'static str),
    pub subject_items: (&'static str, &'static str),
    pub subject_nothing: &'static str,
}

const FR: Words = Words {
    title: "Veille tendances",
    week_of: "semaine du",
    emerging: "Hashtags émergents",
    spikes: "Pics viraux (quelques heures)",
    discovered: "Hashtags découverts",
    rising_creators: "Créateurs en hausse",
    breakout_videos: "Vidéos qui décollent",
    cooling: "Tendances qui ralentissent",
    health: "État de la collecte",
    nothing_new: "Rien de nouveau cette semaine : aucune tendance au-dessus du seuil.",
    since: "depuis le",
    per_hour: "/h",
    growth: "croissance",
    tier: "palier",
    engagement: "engagement",
    benchmark: "référence du palier",
    failing_since: "en échec depuis le",
    never_succeeded: "jamais collecté",
    footer: "Envoyé par trendwatch.",
    subject_emerging: ("tendance émergente", "tendances émergentes"),
    subject_items: ("nouveauté", "nouveautés"),
    subject_nothing: "rien de nouveau",
};

const EN: Words = Words {
    title: "Trend watch",
    week_of: "week of",
    emerging: "Emerging hashtags",
    spikes: "Viral spikes (a few hours)",
    discovered: "Discovered hashtags",
    rising_creators: "Rising creators",
    breakout_videos: "Breakout videos",
    cooling: "Cooling trends",
    health: "Collection health",
    nothing_new: "Nothing new this week: no trend above the threshold.",
    since: "since",
    per_hour: "/h",
    growth: "growth",
    tier: "tier",
    engagement: "engagement",
    benchmark: "tier benchmark",
    failing_since: "failing since",
    never_succeeded: "never collected",
    footer: "Sent by trendwatch.",
    subject_emerging: ("emerging trend", "emerging trends"),
    subject_items: ("update", "updates"),
    subject_nothing: "nothing new",
};

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
        other => other,
    };
    match lang {
        Language::Fr => fr.to_owned(),
        Language::En => name.to_owned(),
    }
}

/// One line of evidence in the reader's language, from the trend's figures.
pub fn evidence(
    metric_name: &str,
    growth: f64,
    baseline: f64,
    samples: Option<usize>,
    lang: Language,
) -> String {
    let m = metric(metric_name, lang);
    let base = number(baseline, lang);
    let g = ratio(growth, lang);
    match (lang, samples) {
        (Language::Fr, Some(n)) => {
            format!("{m} par heure à {g} le niveau habituel ({base}/h), sur {n} mesures")
        }
        (Language::Fr, None) => format!("{m} par heure à {g} le niveau habituel ({base}/h)"),
        (Language::En, Some(n)) => {
            format!("{m} per hour at {g} the usual level ({base}/h), over {n} samples")
        }
        (Language::En, None) => format!("{m} per hour at {g} the usual level ({base}/h)"),
    }
}

/// A growth ratio: `13,3×` / `13.3×`.
pub fn ratio(v: f64, lang: Language) -> String {
    format!("{}×", decimal(v, 1, lang))
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
    let digits = v.unsigned_abs().to_string();
    let sep = match lang {
        Language::Fr => '\u{202f}',
        Language::En => ',',
    };
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
