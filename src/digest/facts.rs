//! The evidence behind an item, from what trendwatch itself collected: volumes per week, the
//! videos carrying a tag or posted by a creator, the tags riding along, the creators posting
//! it and what that says about the trend.
//!
//! Pure functions of samples and stored videos, so the digest's claims can be tested without
//! a store. Names that come from scraped pages are cleaned here, before any template sees them.

use std::collections::HashMap;

use super::model::{clean, MAX_NAME};
use crate::detect::Tier;
use crate::model::StoredVideo;
use crate::model::UnixSeconds;

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;
/// A counter value this close to a week boundary still counts as "a week ago".
const WEEK_TOLERANCE: i64 = 6 * 3600;
/// Videos, tags and creators shown per item.
pub const TOP_VIDEOS: usize = 3;
pub const TOP_TAGS: usize = 5;
pub const TOP_CREATORS: usize = 5;
/// Longest caption kept for a video line.
const MAX_CAPTION: usize = 70;

/// A counter's increase over the last seven days against what is usual.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeekVolumes {
    pub this_week: f64,
    /// The usual hourly rate × 168.
    pub usual: f64,
    /// The seven days before, when the history reaches that far.
    pub previous: Option<f64>,
}

/// One video behind an item.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoFact {
    pub author: Option<String>,
    pub plays: u64,
    /// Likes + comments + shares over plays, when it has plays.
    pub engagement: Option<f64>,
    pub url: Option<String>,
    pub caption: String,
    pub created_at: UnixSeconds,
}

/// A creator posting a tag.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatorFact {
    pub handle: String,
    /// Known when trendwatch follows the creator's page.
    pub tier: Option<Tier>,
    pub videos: usize,
}

/// Who carries a trend, as far as the collected videos tell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// Many different creators, none dominant: it spreads by itself.
    Organic {
        creators: usize,
        /// Every creator whose size is known is under 100 k followers.
        small: bool,
    },
    /// One creator posts most of it: a campaign or a single account's success.
    Concentrated { share: f64 },
}

/// What a partner-minded reader wants to know of a creator.
#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    pub followers: Option<f64>,
    pub engagement: Option<f64>,
    pub tier: Option<Tier>,
    /// Videos posted per week over the last four weeks, among those collected.
    pub videos_per_week: Option<f64>,
    pub best_video: Option<VideoFact>,
}

/// Everything an item can show beyond its figures; empty when nothing was collected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub week: Option<WeekVolumes>,
    pub videos: Vec<VideoFact>,
    pub co_tags: Vec<String>,
    pub creators: Vec<CreatorFact>,
    /// Distinct creators among the collected videos (may exceed `creators.len()`).
    pub creator_count: usize,
    pub video_count: usize,
    pub reading: Option<Reading>,
    pub partner: Option<Partner>,
}

/// The value of a cumulative counter at `t`: its last sample at or before `t`, if that sample
/// is recent enough to stand for `t`.
fn value_at(points: &[(UnixSeconds, f64)], t: UnixSeconds) -> Option<f64> {
    let i = points.partition_point(|p| p.0 <= t);
    let p = points.get(i.checked_sub(1)?)?;
    (t - p.0 <= WEEK_TOLERANCE).then_some(p.1)
}

/// This week's increase of a cumulative counter against `usual_rate` per hour.
pub fn week_volumes(
    points: &[(UnixSeconds, f64)],
    at: UnixSeconds,
    usual_rate: f64,
) -> Option<WeekVolumes> {
    let now = value_at(points, at)?;
    let week_ago = value_at(points, at - WEEK)?;
    let previous = value_at(points, at - 2 * WEEK).map(|v| (week_ago - v).max(0.0));
    Some(WeekVolumes {
        this_week: (now - week_ago).max(0.0),
        usual: (usual_rate * 168.0).max(0.0),
        previous,
    })
}

fn engagement(v: &crate::model::VideoRecord) -> Option<f64> {
    (v.plays > 0)
        .then(|| (v.likes + v.comments + v.shares) as f64 / v.plays as f64)
        .filter(|e| e.is_finite())
}

fn video_fact(v: &StoredVideo) -> VideoFact {
    let r = &v.video;
    let author = r.author.as_deref().map(|a| clean(a, MAX_NAME));
    let url = author.as_deref().and_then(|a| {
        (crate::model::is_valid_handle(a) && r.id.bytes().all(|b| b.is_ascii_digit()))
            .then(|| format!("https://www.tiktok.com/@{a}/video/{}", r.id))
    });
    VideoFact {
        author,
        plays: r.plays,
        engagement: engagement(r),
        url,
        caption: clean(&r.description, MAX_CAPTION),
        created_at: r.created_at,
    }
}

fn top_videos<'a>(videos: impl Iterator<Item = &'a StoredVideo>) -> Vec<VideoFact> {
    let mut v: Vec<&StoredVideo> = videos.collect();
    v.sort_by(|a, b| {
        b.video
            .plays
            .cmp(&a.video.plays)
            .then_with(|| a.video.id.cmp(&b.video.id))
    });
    v.into_iter().take(TOP_VIDEOS).map(video_fact).collect()
}

/// The videos carrying `tag`, the tags riding with it and who posts it. `tiers` holds the
/// creators whose size trendwatch knows.
pub fn tag_facts(tag: &str, videos: &[StoredVideo], tiers: &HashMap<String, Tier>) -> Facts {
    let carrying: Vec<&StoredVideo> = videos
        .iter()
        .filter(|v| v.video.hashtags.iter().any(|h| h == tag))
        .collect();
    let mut tags: HashMap<&str, usize> = HashMap::new();
    let mut authors: HashMap<&str, usize> = HashMap::new();
    for v in &carrying {
        for h in v.video.hashtags.iter().filter(|h| *h != tag) {
            *tags.entry(h.as_str()).or_default() += 1;
        }
        if let Some(a) = v.video.author.as_deref().filter(|a| !a.is_empty()) {
            *authors.entry(a).or_default() += 1;
        }
    }
    let co_tags = most_frequent(tags, TOP_TAGS)
        .into_iter()
        .map(|(t, _)| clean(t, MAX_NAME))
        .collect();
    let creator_count = authors.len();
    let ranked = most_frequent(authors, usize::MAX);
    let reading = reading(&ranked, carrying.len(), tiers);
    let creators = ranked
        .into_iter()
        .take(TOP_CREATORS)
        .map(|(h, n)| CreatorFact {
            handle: clean(h, MAX_NAME),
            tier: tiers.get(h).copied(),
            videos: n,
        })
        .collect();
    Facts {
        videos: top_videos(carrying.iter().copied()),
        co_tags,
        creators,
        creator_count,
        video_count: carrying.len(),
        reading,
        ..Facts::default()
    }
}

/// What the spread of creators says, when there are enough videos to say anything.
fn reading(
    ranked: &[(&str, usize)],
    videos: usize,
    tiers: &HashMap<String, Tier>,
) -> Option<Reading> {
    let (_, top) = *ranked.first()?;
    let share = top as f64 / videos.max(1) as f64;
    if videos >= 3 && share >= 0.6 {
        return Some(Reading::Concentrated { share });
    }
    if ranked.len() >= 5 && share <= 0.34 {
        let known: Vec<Tier> = ranked
            .iter()
            .filter_map(|(h, _)| tiers.get(*h).copied())
            .collect();
        let small = !known.is_empty()
            && known.len() * 2 >= ranked.len()
            && known.iter().all(|t| matches!(t, Tier::Nano | Tier::Micro));
        return Some(Reading::Organic {
            creators: ranked.len(),
            small,
        });
    }
    None
}

/// A creator's recent videos, cadence and best video, with the figures detection gave.
pub fn creator_facts(
    handle: &str,
    videos: &[StoredVideo],
    at: UnixSeconds,
    followers: Option<f64>,
    engagement: Option<f64>,
    tier: Option<Tier>,
) -> Facts {
    let own: Vec<&StoredVideo> = videos
        .iter()
        .filter(|v| v.video.author.as_deref() == Some(handle))
        .collect();
    let month: Vec<&StoredVideo> = own
        .iter()
        .copied()
        .filter(|v| v.video.created_at > at - 4 * WEEK && v.video.created_at <= at)
        .collect();
    // Cadence only once the collected videos reach back a month: otherwise it is not known.
    let reaches_back = own.iter().any(|v| v.video.created_at <= at - 4 * WEEK);
    let videos_per_week = reaches_back.then(|| month.len() as f64 / 4.0);
    let best_video = top_videos(month.iter().copied()).into_iter().next();
    Facts {
        videos: top_videos(own.iter().copied()),
        video_count: own.len(),
        partner: Some(Partner {
            followers,
            engagement,
            tier: tier.or_else(|| followers.map(Tier::of_followers)),
            videos_per_week,
            best_video,
        }),
        ..Facts::default()
    }
}

/// Keys by count, most first, ties by name; at most `n`.
fn most_frequent(counts: HashMap<&str, usize>, n: usize) -> Vec<(&str, usize)> {
    let mut v: Vec<(&str, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    v.truncate(n);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VideoRecord;

    fn video(id: &str, author: &str, plays: u64, tags: &[&str], created_at: i64) -> StoredVideo {
        StoredVideo {
            video: VideoRecord {
                id: id.into(),
                author: Some(author.into()),
                created_at,
                plays,
                likes: plays / 20,
                comments: 0,
                shares: 0,
                saves: 0,
                hashtags: tags.iter().map(|t| (*t).to_owned()).collect(),
                description: "Ma routine\nsoin".into(),
            },
            first_seen: created_at,
            last_seen: created_at,
            via: Vec::new(),
        }
    }

    #[test]
    fn week_volumes_need_a_sample_near_each_boundary() {
        let pts: Vec<(i64, f64)> = (0..=15 * 24).map(|h| (h * 3600, h as f64 * 10.0)).collect();
        let at = 15 * DAY;
        let w = week_volumes(&pts, at, 5.0).unwrap();
        assert_eq!(w.this_week, 1680.0);
        assert_eq!(w.usual, 840.0);
        assert_eq!(w.previous, Some(1680.0));
        // Five days of history: no "this week" to speak of.
        assert_eq!(week_volumes(&pts[pts.len() - 120..], at, 5.0), None);
    }

    #[test]
    fn many_creators_read_as_organic_one_creator_as_concentrated() {
        let many: Vec<StoredVideo> = (0..8)
            .map(|i| {
                video(
                    &format!("{i}"),
                    &format!("shop{i}"),
                    100 * i,
                    &["argan", "diy"],
                    0,
                )
            })
            .collect();
        let tiers: HashMap<String, Tier> =
            (0..5).map(|i| (format!("shop{i}"), Tier::Nano)).collect();
        let f = tag_facts("argan", &many, &tiers);
        assert_eq!(f.videos.len(), 3);
        assert_eq!(f.videos[0].plays, 700);
        assert_eq!(f.co_tags, vec!["diy".to_owned()]);
        assert_eq!(f.creator_count, 8);
        assert_eq!(
            f.reading,
            Some(Reading::Organic {
                creators: 8,
                small: true
            })
        );
        assert_eq!(f.videos[0].caption, "Ma routine soin");
        let one: Vec<StoredVideo> = (0..4)
            .map(|i| video(&format!("{i}"), "brand", 10, &["argan"], 0))
            .collect();
        let f = tag_facts("argan", &one, &HashMap::new());
        assert!(matches!(f.reading, Some(Reading::Concentrated { .. })));
    }

    #[test]
    fn hostile_authors_get_no_link() {
        let v = [video("1", "x\"><script>", 10, &["argan"], 0)];
        let f = tag_facts("argan", &v, &HashMap::new());
        assert_eq!(f.videos[0].url, None);
    }

    #[test]
    fn cadence_is_known_once_videos_reach_back_a_month() {
        let at = 60 * DAY;
        let vids: Vec<StoredVideo> = (0..10)
            .map(|i| {
                video(
                    &format!("{i}"),
                    "lea",
                    1000 + i,
                    &[],
                    at - i as i64 * 4 * DAY,
                )
            })
            .collect();
        let f = creator_facts("lea", &vids, at, Some(42_000.0), Some(0.07), None);
        let p = f.partner.unwrap();
        assert_eq!(p.tier, Some(Tier::Micro));
        assert_eq!(p.videos_per_week, Some(1.75));
        assert_eq!(p.best_video.unwrap().plays, 1006);
        let f = creator_facts("lea", &vids[..3], at, None, None, None);
        assert_eq!(f.partner.unwrap().videos_per_week, None);
    }
}
