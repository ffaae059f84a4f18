//! The `[[campaign]]`s of the watchlist, checked: what a brand paid for, and which videos to
//! follow while it runs and for 30 days after.

use chrono::NaiveDate;

use crate::model::{EntityId, TIKTOK};

/// How long a campaign's videos are still followed (daily) after its end.
pub const FOLLOW_AFTER_END_DAYS: i64 = 30;

/// What the campaign was bought for; it decides which KPIs the report puts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Reach: views and cost per 1,000 views.
    Notoriety,
    /// Interactions: engagement rate and cost per engagement.
    Engagement,
    /// Visits to a shop or site (not visible on TikTok: shown through engagement).
    Traffic,
    /// Sales: return on ad spend, when the revenue is entered.
    Sales,
}

impl Objective {
    pub const ALL: [Objective; 4] = [
        Objective::Notoriety,
        Objective::Engagement,
        Objective::Traffic,
        Objective::Sales,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notoriety => "notoriety",
            Self::Engagement => "engagement",
            Self::Traffic => "traffic",
            Self::Sales => "sales",
        }
    }

    pub fn parse(s: &str) -> Option<Objective> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// A sponsored video of a campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignVideo {
    /// Normalised handle of its creator.
    pub handle: String,
    pub video_id: String,
    /// What was paid for this video; `None`: a share of the budget left.
    pub cost: Option<f64>,
}

impl CampaignVideo {
    pub fn entity(&self) -> EntityId {
        EntityId::video(TIKTOK, &self.handle, &self.video_id)
    }
}

/// One `[[campaign]]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub name: String,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub objective: Objective,
    pub currency: String,
    /// Total cost; when absent, the sum of the videos' costs.
    pub budget: Option<f64>,
    /// Sales the user attributes to the campaign: gives the return on ad spend.
    pub revenue: Option<f64>,
    /// The brand's tags: videos carrying them are organic mentions.
    pub hashtags: Vec<String>,
    pub videos: Vec<CampaignVideo>,
    /// Creators whose new videos in the campaign window carrying `hashtags` count too.
    pub creators: Vec<String>,
}

impl Campaign {
    /// Whether the campaign's videos are collected at every pass on `day`: from its start to
    /// its end (or for good without one).
    pub fn running_on(&self, day: NaiveDate) -> bool {
        day >= self.start && self.end.is_none_or(|end| day <= end)
    }

    /// Whether the videos are still followed on `day` (daily, after the end).
    pub fn followed_on(&self, day: NaiveDate) -> bool {
        day >= self.start
            && self
                .end
                .is_none_or(|end| (day - end).num_days() <= FOLLOW_AFTER_END_DAYS)
    }

    /// What the campaign cost: its budget, else the sum of its videos' costs.
    pub fn total_cost(&self) -> Option<f64> {
        self.budget.or_else(|| {
            let priced: Vec<f64> = self.videos.iter().filter_map(|v| v.cost).collect();
            (!priced.is_empty()).then(|| priced.iter().sum())
        })
    }
}

/// An http(s) address on tiktok.com or one of its subdomains, as a user pasted it.
pub(crate) fn tiktok_address(raw: &str) -> Option<url::Url> {
    let url = url::Url::parse(raw.trim()).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let tiktok = host == "tiktok.com" || host.ends_with(".tiktok.com");
    (matches!(url.scheme(), "https" | "http") && tiktok).then_some(url)
}

/// A TikTok video address as users copy it (`https://www.tiktok.com/@handle/video/ID`, with or
/// without `www.`/`m.`, a query or a trailing slash): its handle and id.
pub fn parse_video_url(raw: &str) -> Option<(String, String)> {
    let url = tiktok_address(raw)?;
    let mut segments = url.path_segments()?.filter(|s| !s.is_empty());
    let handle = segments.next()?.strip_prefix('@')?;
    let video = segments.next()?;
    let id = segments.next()?;
    if video != "video" || segments.next().is_some() {
        return None;
    }
    let handle = crate::model::normalize_name(handle);
    (crate::model::is_valid_handle(&handle) && crate::model::is_video_id(id))
        .then(|| (handle, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_addresses_as_copied_from_the_app_or_the_browser() {
        let ok = (
            "lea.soinsnaturels".to_owned(),
            "7441618558958979895".to_owned(),
        );
        for raw in [
            "https://www.tiktok.com/@lea.soinsnaturels/video/7441618558958979895",
            "https://www.tiktok.com/@Lea.SoinsNaturels/video/7441618558958979895?is_from_webapp=1",
            "https://m.tiktok.com/@lea.soinsnaturels/video/7441618558958979895/",
        ] {
            assert_eq!(parse_video_url(raw), Some(ok.clone()), "{raw}");
        }
        for raw in [
            "https://www.tiktok.com/@lea.soinsnaturels",
            "https://www.tiktok.com/@lea.soinsnaturels/photo/7441618558958979895",
            "https://vm.tiktok.com/ZMabc123/",
            "https://www.tiktok.example.org/@lea/video/1",
            "https://www.instagram.com/@lea/video/7441618558958979895",
            "tiktok.com/@lea/video/7441618558958979895",
        ] {
            assert_eq!(parse_video_url(raw), None, "{raw}");
        }
    }

    #[test]
    fn followed_daily_for_thirty_days_after_the_end() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let c = Campaign {
            name: "n".into(),
            start: day("2026-11-03"),
            end: Some(day("2026-11-30")),
            objective: Objective::Notoriety,
            currency: "EUR".into(),
            budget: None,
            revenue: None,
            hashtags: vec![],
            videos: vec![
                CampaignVideo {
                    handle: "a".into(),
                    video_id: "1".into(),
                    cost: Some(600.0),
                },
                CampaignVideo {
                    handle: "b".into(),
                    video_id: "2".into(),
                    cost: Some(150.5),
                },
            ],
            creators: vec![],
        };
        assert!(!c.followed_on(day("2026-11-02")));
        assert!(c.running_on(day("2026-11-30")));
        assert!(!c.running_on(day("2026-12-01")));
        assert!(c.followed_on(day("2026-12-30")));
        assert!(!c.followed_on(day("2026-12-31")));
        assert_eq!(c.total_cost(), Some(750.5));
    }
}
