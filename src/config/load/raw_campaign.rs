//! `[[campaign]]` as it deserializes, and its checks into [`Campaign`]: dates, objective,
//! money, and the video addresses users paste.

use super::raw_watchlist::names;
use super::*;
use crate::config::{parse_video_url, Campaign, CampaignVideo, Objective};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCampaign {
    name: Spanned<String>,
    start: Spanned<toml::Value>,
    end: Option<Spanned<toml::Value>>,
    objective: Spanned<String>,
    currency: Option<Spanned<String>>,
    budget: Option<Spanned<f64>>,
    revenue: Option<Spanned<f64>>,
    #[serde(default)]
    hashtags: Vec<Spanned<String>>,
    #[serde(default)]
    videos: Vec<Spanned<RawVideo>>,
    #[serde(default)]
    creators: Vec<Spanned<String>>,
}

/// A video: its address, or `{ url, cost }`.
#[derive(Debug)]
enum RawVideo {
    Url(String),
    Priced(RawPricedVideo),
}

// By hand rather than `#[serde(untagged)]`, which would swallow a misspelt key's message.
impl<'de> Deserialize<'de> for RawVideo {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawVideo;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a video address (\"https://www.tiktok.com/@handle/video/ID\") or a table { url = \"...\", cost = 600.0 }")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawVideo, E> {
                Ok(RawVideo::Url(v.to_string()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawVideo, A::Error> {
                RawPricedVideo::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawVideo::Priced)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPricedVideo {
    url: String,
    cost: Option<f64>,
}

/// French words for the objectives, as a French-speaking user may write them.
const OBJECTIVE_WORDS: &[(&str, Objective)] = &[
    ("notoriete", Objective::Notoriety),
    ("notoriété", Objective::Notoriety),
    ("trafic", Objective::Traffic),
    ("ventes", Objective::Sales),
    ("vente", Objective::Sales),
];

impl RawCampaign {
    /// Where its name is written, for messages about the campaign as a whole.
    pub(super) fn name_span(&self) -> Range<usize> {
        self.name.span()
    }

    pub(super) fn check(self, file: &SourceFile) -> Result<Campaign, ConfigError> {
        let name = crate::model::clean_text(self.name.get_ref(), 120);
        if name.is_empty() {
            return Err(file.at(&self.name, "a campaign needs a name"));
        }
        let start = date(file, &self.start)?;
        let end = self.end.as_ref().map(|e| date(file, e)).transpose()?;
        if let (Some(end_day), Some(raw)) = (end, &self.end) {
            if end_day < start {
                return Err(file.at(
                    raw,
                    format!("the campaign ends ({end_day}) before it starts ({start}): check `start` and `end`"),
                ));
            }
        }
        let objective = objective(file, &self.objective)?;
        let currency = match &self.currency {
            Some(c) => {
                let code = c.get_ref().trim().to_ascii_uppercase();
                if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(file.at(
                        c,
                        format!(
                            "`{}` is not a currency code: write three letters, e.g. \"EUR\"",
                            c.get_ref().escape_debug()
                        ),
                    ));
                }
                code
            }
            None => "EUR".to_owned(),
        };
        let budget = self
            .budget
            .as_ref()
            .map(|b| money(file, b, "budget"))
            .transpose()?;
        let revenue = self
            .revenue
            .as_ref()
            .map(|r| money(file, r, "revenue"))
            .transpose()?;
        let mut videos: Vec<CampaignVideo> = Vec::new();
        for raw in &self.videos {
            let (url, cost) = match raw.get_ref() {
                RawVideo::Url(u) => (u.as_str(), None),
                RawVideo::Priced(p) => (p.url.as_str(), p.cost),
            };
            let Some((handle, video_id)) = parse_video_url(url) else {
                let shown: String = url.escape_debug().take(100).collect();
                return Err(file.at(
                    raw,
                    format!(
                        "`{shown}` is not a TikTok video address: copy it from the video (Share → Copy link, then open it once if it is a short vm.tiktok.com link), e.g. \"https://www.tiktok.com/@handle/video/7441618558958979895\""
                    ),
                ));
            };
            if let Some(c) = cost {
                if !c.is_finite() || c < 0.0 {
                    return Err(file.at(
                        raw,
                        format!(
                            "the cost of a video cannot be {c}: write what was paid, 0 or more"
                        ),
                    ));
                }
            }
            if videos.iter().any(|v| v.video_id == video_id) {
                return Err(file.at(
                    raw,
                    format!("video {video_id} is listed twice in this campaign"),
                ));
            }
            videos.push(CampaignVideo {
                handle,
                video_id,
                cost,
            });
        }
        let hashtags = names(file, &self.hashtags, "hashtag")?;
        let creators = names(file, &self.creators, "creator")?;
        if videos.is_empty() && hashtags.is_empty() {
            return Err(file.at(
                &self.name,
                "this campaign follows nothing: list its `videos` (the sponsored videos' addresses) or its `hashtags`",
            ));
        }
        let priced: f64 = videos.iter().filter_map(|v| v.cost).sum();
        if let (Some(total), Some(raw)) = (budget, &self.budget) {
            if priced > total + 1e-9 {
                return Err(file.at(
                    raw,
                    format!("the videos' costs add up to {priced}, more than the budget {total}: raise the budget or correct a cost"),
                ));
            }
        }
        Ok(Campaign {
            name,
            start,
            end,
            objective,
            currency,
            budget,
            revenue,
            hashtags,
            videos,
            creators,
        })
    }
}

/// A date as `"2026-11-03"` or a TOML date `2026-11-03`.
fn date(file: &SourceFile, value: &Spanned<toml::Value>) -> Result<chrono::NaiveDate, ConfigError> {
    let text = match value.get_ref() {
        toml::Value::String(s) => s.trim().to_owned(),
        toml::Value::Datetime(d) => d.to_string(),
        other => other.to_string(),
    };
    chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
        let shown: String = text.escape_debug().take(40).collect();
        file.at(
            value,
            format!("`{shown}` is not a date: write it as \"2026-11-03\" (year-month-day)"),
        )
    })
}

fn objective(file: &SourceFile, value: &Spanned<String>) -> Result<Objective, ConfigError> {
    let word = value.get_ref().trim().to_lowercase();
    if let Some(o) = Objective::parse(&word) {
        return Ok(o);
    }
    if let Some((_, o)) = OBJECTIVE_WORDS.iter().find(|(w, _)| *w == word) {
        return Ok(*o);
    }
    let known: Vec<&str> = Objective::ALL.iter().map(|o| o.as_str()).collect();
    let suggestion = known
        .iter()
        .map(|k| (strsim::jaro_winkler(&word, k), *k))
        .filter(|(score, _)| *score >= 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!("; did you mean `{k}`?"))
        .unwrap_or_default();
    let shown: String = word.escape_debug().take(40).collect();
    Err(file.at(
        value,
        format!(
            "unknown objective `{shown}`{suggestion} (one of: {})",
            known.join(", ")
        ),
    ))
}

fn money(file: &SourceFile, value: &Spanned<f64>, what: &str) -> Result<f64, ConfigError> {
    let v = *value.get_ref();
    if !v.is_finite() || v < 0.0 {
        return Err(file.at(
            value,
            format!("`{what}` cannot be {v}: write an amount of 0 or more"),
        ));
    }
    Ok(v)
}
