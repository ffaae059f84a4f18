//! The vocabulary every stage shares: entity ids, metrics, observations and failures.
//!
//! These types cross module boundaries (collect → store → detect → digest), so they stay
//! small, plain and free of I/O. Times are unix seconds (UTC) everywhere inside trendwatch;
//! only the edges (CSV, JSON, the digest) format them.

mod metric;
mod stored;
pub use metric::{Metric, MetricNameError};
pub use stored::{latest_refusals, AlertRecord, EntityInfo, OutboxItem, OutboxState, StoredVideo};

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Unix time in seconds, UTC.
pub type UnixSeconds = i64;

/// The platform name of TikTok entities, as it appears in entity ids (`tiktok:#tag`).
pub const TIKTOK: &str = "tiktok";
/// The platform prefix of TikTok Shop products.
pub const TIKTOK_SHOP: &str = "tiktokshop";

/// Normalises a hashtag or handle the way users expect to see it matched:
/// leading `#`/`@` stripped, surrounding whitespace trimmed, Unicode NFC, lowercase.
/// `#BienÊtre` and `bienêtre` are the same tag.
pub fn normalize_name(raw: &str) -> String {
    let trimmed = raw.trim();
    let stripped = trimmed
        .strip_prefix('#')
        .or_else(|| trimmed.strip_prefix('@'))
        .unwrap_or(trimmed);
    stripped.trim().nfc().collect::<String>().to_lowercase()
}

/// The longest hashtag trendwatch accepts (TikTok's own limit is about 100 characters).
pub const MAX_TAG_CHARS: usize = 100;
/// TikTok handles are 2 to 24 characters.
pub const MAX_HANDLE_CHARS: usize = 24;

/// Whether a normalised hashtag follows TikTok's rules: letters (any script), combining
/// marks, digits and `_`, at most [`MAX_TAG_CHARS`]. Control, invisible and bidi-override
/// characters, spaces and punctuation can never be part of one, so a name that passes is safe
/// in a terminal, a CSV cell, a mail header and HTML alike.
pub fn is_valid_tag(name: &str) -> bool {
    let n = name.chars().count();
    (1..=MAX_TAG_CHARS).contains(&n)
        && name
            .chars()
            .all(|c| c == '_' || c.is_alphanumeric() || is_combining_mark(c))
}

/// Whether a normalised handle follows TikTok's rules: ASCII letters, digits, `_` and `.`,
/// 2 to [`MAX_HANDLE_CHARS`] characters, not ending with `.` (so never `.` or `..`).
pub fn is_valid_handle(name: &str) -> bool {
    (2..=MAX_HANDLE_CHARS).contains(&name.len())
        && !name.ends_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// Combining marks (accents written as separate code points, Devanagari vowel signs, …).
fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x0900..=0x0DFF | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Text from outside (scraped names and captions, error details, subjects) made safe to
/// keep and to place anywhere, the one rule for all of it: control characters (line breaks
/// included) count as white space, runs of white space fold to one space, invisible and
/// bidi-override characters are dropped, and at most `max` characters are kept, a cut marked
/// with `…`.
pub fn clean_text(raw: &str, max: usize) -> String {
    let mut out = String::with_capacity(raw.len().min(max.saturating_mul(4)));
    let mut space = false;
    let mut kept = 0;
    for c in raw.chars() {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if is_invisible(c) {
            continue;
        }
        if space {
            out.push(' ');
            space = false;
            kept += 1;
        }
        out.push(c);
        kept += 1;
        if kept > max {
            // Cut: the first `max` characters, no trailing space, and a mark.
            let end = out.char_indices().nth(max).map_or(out.len(), |(i, _)| i);
            out.truncate(end);
            out.truncate(out.trim_end().len());
            out.push('…');
            break;
        }
    }
    out
}

/// A TikTok video id: decimal digits (a 64-bit number whose high bits are its upload time).
pub fn is_video_id(id: &str) -> bool {
    (1..=25).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// Zero-width, bidi embedding/override/isolate and other format characters.
fn is_invisible(c: char) -> bool {
    matches!(c as u32, 0x00AD | 0x061C | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB)
}

/// What an entity is, which decides its metrics and how detection reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// `PLATFORM:#tag`
    Hashtag,
    /// `PLATFORM:@handle`
    Creator,
    /// `SOURCE:ID` from a custom `[[source]]`
    Custom,
    /// `PLATFORM:@handle/VIDEO_ID`: a video followed on its own (a campaign's).
    Video,
    /// `tiktokshop:PRODUCT_ID`: a TikTok Shop product.
    Product,
}

/// A normalised entity id: `tiktok:#skincare`, `tiktok:@socharmante`, `shop:baume-karite`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EntityId(String);

/// Why a string is not an entity id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntityIdError {
    #[error("entity id `{0}` has no `PLATFORM:` prefix (expected e.g. `tiktok:#skincare`, `tiktok:@handle` or `SOURCE:ID`)")]
    MissingPrefix(String),
    #[error("entity id `{0}` has an empty name")]
    EmptyName(String),
    #[error("entity id `{0}` has an invalid platform or source name (letters, digits, `_` and `-` only)")]
    BadPrefix(String),
    #[error("entity id `{0}` has a name TikTok would refuse (hashtags: letters, digits and `_`, at most 100; handles: 2 to 24 letters, digits, `_` or `.`; no control or invisible characters)")]
    BadName(String),
}

/// An untrusted id as it may appear in a message: escaped, and at most 80 characters.
fn shown(raw: &str) -> String {
    raw.escape_debug().take(80).collect()
}

impl EntityId {
    /// A hashtag of a platform; the tag is normalised.
    pub fn hashtag(platform: &str, tag: &str) -> Self {
        Self(format!("{}:#{}", platform, normalize_name(tag)))
    }

    /// A creator of a platform; the handle is normalised.
    pub fn creator(platform: &str, handle: &str) -> Self {
        Self(format!("{}:@{}", platform, normalize_name(handle)))
    }

    /// A video followed on its own: `tiktok:@handle/VIDEO_ID`; the handle is normalised.
    pub fn video(platform: &str, handle: &str, video_id: &str) -> Self {
        Self(format!(
            "{}:@{}/{}",
            platform,
            normalize_name(handle),
            video_id.trim()
        ))
    }

    /// A TikTok Shop product: `tiktokshop:PRODUCT_ID`.
    pub fn product(product_id: &str) -> Self {
        Self(format!("{TIKTOK_SHOP}:{}", product_id.trim()))
    }

    /// The handle and video id of a video entity.
    pub fn video_parts(&self) -> Option<(&str, &str)> {
        match self.kind() {
            EntityKind::Video => self.name().split_once('/'),
            _ => None,
        }
    }

    /// An id of a custom source; the id is kept as written (it goes into a URL).
    pub fn custom(source: &str, id: &str) -> Self {
        Self(format!("{}:{}", source, id.trim()))
    }

    /// Parses an id the store wrote itself: names are not checked against today's rules, so
    /// an entity stored by an older trendwatch stays readable.
    pub fn parse_stored(raw: &str) -> Result<Self, EntityIdError> {
        let raw = raw.trim();
        let (prefix, name) = raw
            .split_once(':')
            .ok_or_else(|| EntityIdError::MissingPrefix(shown(raw)))?;
        let prefix_ok = !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !prefix_ok {
            return Err(EntityIdError::BadPrefix(shown(raw)));
        }
        let prefix = prefix.to_ascii_lowercase();
        let id = if let Some(tag) = name.strip_prefix('#') {
            Self::hashtag(&prefix, tag)
        } else if let Some((handle, video)) = name.strip_prefix('@').and_then(|n| n.split_once('/'))
        {
            Self::video(&prefix, handle, video)
        } else if let Some(handle) = name.strip_prefix('@') {
            Self::creator(&prefix, handle)
        } else {
            Self::custom(&prefix, name)
        };
        if id.name().is_empty() {
            return Err(EntityIdError::EmptyName(shown(raw)));
        }
        Ok(id)
    }

    /// Parses and normalises an id typed by a user or read from a file, refusing names
    /// TikTok itself would refuse (see [`is_valid_tag`], [`is_valid_handle`]).
    pub fn parse(raw: &str) -> Result<Self, EntityIdError> {
        let id = Self::parse_stored(raw)?;
        let valid = match id.kind() {
            EntityKind::Hashtag => is_valid_tag(id.name()),
            EntityKind::Creator => is_valid_handle(id.name()),
            EntityKind::Custom => {
                id.name().chars().count() <= 200
                    && !id.name().chars().any(|c| c.is_control() || is_invisible(c))
            }
            EntityKind::Video => id
                .video_parts()
                .is_some_and(|(handle, video)| is_valid_handle(handle) && is_video_id(video)),
            EntityKind::Product => is_video_id(id.name()),
        };
        if !valid {
            return Err(EntityIdError::BadName(shown(raw)));
        }
        Ok(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `tiktok` for `tiktok:#skincare`, the source name for a custom entity.
    pub fn platform(&self) -> &str {
        self.0.split_once(':').map(|(p, _)| p).unwrap_or("")
    }

    pub fn kind(&self) -> EntityKind {
        let (platform, rest) = self.0.split_once(':').unwrap_or(("", ""));
        if platform == TIKTOK_SHOP {
            EntityKind::Product
        } else if rest.starts_with('#') {
            EntityKind::Hashtag
        } else if rest.starts_with('@') && rest.contains('/') {
            EntityKind::Video
        } else if rest.starts_with('@') {
            EntityKind::Creator
        } else {
            EntityKind::Custom
        }
    }

    /// The bare tag, handle or custom id, without `#`/`@` (`handle/VIDEO_ID` for a video).
    pub fn name(&self) -> &str {
        let rest = self.0.split_once(':').map(|(_, r)| r).unwrap_or("");
        rest.strip_prefix('#')
            .or_else(|| rest.strip_prefix('@'))
            .unwrap_or(rest)
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EntityId {
    type Error = EntityIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EntityId> for String {
    fn from(value: EntityId) -> Self {
        value.0
    }
}

impl std::str::FromStr for EntityId {
    type Err = EntityIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// One stored measurement: the value of a metric of an entity at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub entity: EntityId,
    pub at: UnixSeconds,
    pub metric: Metric,
    pub value: f64,
}

/// One video seen while collecting a creator or a hashtag, with its own counters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VideoRecord {
    /// The platform's video id (a decimal string on TikTok).
    pub id: String,
    /// Normalised handle of the author, when known.
    pub author: Option<String>,
    /// Upload time.
    pub created_at: UnixSeconds,
    pub plays: u64,
    pub likes: u64,
    pub comments: u64,
    pub shares: u64,
    pub saves: u64,
    /// Normalised hashtags of the video (`challenges` ∪ `textExtra`), without `#`.
    pub hashtags: Vec<String>,
    /// The caption, untrusted scraped text.
    pub description: String,
}

/// An entity's own words, read from its page: never a reviewer's, always cleaned.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Label {
    pub title: String,
    pub seller: String,
    /// The currency of its prices (`EUR`).
    pub currency: String,
    /// Its categories, broadest first.
    pub categories: Vec<String>,
}

/// What one successful fetch of an entity produced.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Observation {
    pub at: UnixSeconds,
    /// Metric name → value, e.g. `views`, `followers`.
    pub metrics: Vec<(Metric, f64)>,
    /// Videos seen on the page (recent videos of a creator, videos of a tag).
    pub videos: Vec<VideoRecord>,
    /// What a page says of its entity in words (a shop product's title, seller, currency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
}

/// Why an entity could not be collected. The names are the contract of `status` and the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Bot wall not passed, verification or login page.
    Blocked,
    NotFound,
    Private,
    HttpStatus,
    Timeout,
    Network,
    TooLarge,
    /// The page did not have the expected shape; the detail names the missing path.
    UnknownShape,
    /// The page needed the browser fetcher and no browser could be started or reached.
    BrowserUnavailable,
    /// A shop product not for sale in the watched region.
    Region,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::NotFound => "not_found",
            Self::Private => "private",
            Self::HttpStatus => "http_status",
            Self::Timeout => "timeout",
            Self::Network => "network",
            Self::TooLarge => "too_large",
            Self::UnknownShape => "unknown_shape",
            Self::BrowserUnavailable => "browser_unavailable",
            Self::Region => "region",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "blocked" => Self::Blocked,
            "not_found" => Self::NotFound,
            "private" => Self::Private,
            "http_status" => Self::HttpStatus,
            "timeout" => Self::Timeout,
            "network" => Self::Network,
            "too_large" => Self::TooLarge,
            "unknown_shape" => Self::UnknownShape,
            "browser_unavailable" => Self::BrowserUnavailable,
            "region" => Self::Region,
            _ => return None,
        })
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed collection failure, recorded on its entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub at: UnixSeconds,
    pub kind: FailureKind,
    /// A short, human detail: the HTTP status, the missing JSON path, the timeout.
    pub detail: String,
}

/// The result of collecting one entity in one pass. A private TikTok account still shows its
/// stats, so an outcome may carry both an observation and a failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityOutcome {
    pub entity: EntityId,
    pub observation: Option<Observation>,
    pub failure: Option<Failure>,
    /// Which fetcher read the page that decided the outcome.
    #[serde(default)]
    pub fetched_by: Fetcher,
}

/// How a page was read: plain HTTP, or a real headless browser that ran the page's scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fetcher {
    #[default]
    Http,
    Browser,
}

impl Fetcher {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Browser => "browser",
        }
    }
}

impl fmt::Display for Fetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{clean_text, is_valid_handle, is_valid_tag};

    #[test]
    fn names_follow_tiktok_rules() {
        for ok in [
            "skincarenaturel",
            "bienêtre",
            "huiles_essentielles",
            "美容",
            "2026",
        ] {
            assert!(is_valid_tag(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a b",
            "tag\u{1b}",
            "a\u{202e}b",
            "a\u{200b}b",
            "x\r\ny",
            "a#b",
            "a/b",
        ] {
            assert!(!is_valid_tag(bad), "{bad:?}");
        }
        assert!(is_valid_tag(&"a".repeat(100)) && !is_valid_tag(&"a".repeat(101)));
        for ok in ["lea", "lea.x", "shop_2026"] {
            assert!(is_valid_handle(ok), "{ok}");
        }
        for bad in ["", "a", ".", "..", "lea.", "léa", "a b", &"a".repeat(25)] {
            assert!(!is_valid_handle(bad), "{bad:?}");
        }
    }

    #[test]
    fn scraped_text_loses_control_and_invisible_characters() {
        assert_eq!(clean_text("  a\u{7}b \t\n c\u{200f}d ", 100), "a b cd");
        assert_eq!(clean_text("abcdef", 3), "abc…");
        assert_eq!(clean_text("a\r\nBcc: x@y", 80), "a Bcc: x@y");
        assert_eq!(clean_text("ab cd", 3), "ab…");
        assert_eq!(clean_text(&"x".repeat(200), 10).chars().count(), 11);
    }

    use super::*;

    #[test]
    fn names_are_normalised_like_users_expect() {
        assert_eq!(normalize_name("#BienÊtre"), "bienêtre");
        // Decomposed "e" + combining circumflex becomes the composed form.
        assert_eq!(normalize_name("@Bie\u{0302}n"), "biên");
        assert_eq!(normalize_name("  #SkinCare "), "skincare");
        assert_eq!(
            EntityId::hashtag(TIKTOK, "#BienÊtre").as_str(),
            "tiktok:#bienêtre"
        );
    }

    #[test]
    fn entity_ids_parse_and_expose_their_parts() {
        let tag = EntityId::parse("TikTok:#SkinCare").unwrap();
        assert_eq!(tag.as_str(), "tiktok:#skincare");
        assert_eq!(tag.kind(), EntityKind::Hashtag);
        assert_eq!(tag.name(), "skincare");
        assert_eq!(tag.platform(), "tiktok");
        let creator = EntityId::parse("tiktok:@SoCharmante").unwrap();
        assert_eq!(creator.kind(), EntityKind::Creator);
        let custom = EntityId::parse("shop:baume-karite").unwrap();
        assert_eq!(custom.kind(), EntityKind::Custom);
        assert_eq!(custom.name(), "baume-karite");
        let video = EntityId::parse("tiktok:@Lea.SoinsNaturels/7441618558958979895").unwrap();
        assert_eq!(
            video.as_str(),
            "tiktok:@lea.soinsnaturels/7441618558958979895"
        );
        assert_eq!(video.kind(), EntityKind::Video);
        assert_eq!(
            video.video_parts(),
            Some(("lea.soinsnaturels", "7441618558958979895"))
        );
        assert!(EntityId::parse("tiktok:@lea/video").is_err());
        assert!(EntityId::parse("tiktok:@lea/74416/1").is_err());
        assert!(matches!(
            EntityId::parse("skincare"),
            Err(EntityIdError::MissingPrefix(_))
        ));
        assert!(matches!(
            EntityId::parse("tiktok:#"),
            Err(EntityIdError::EmptyName(_))
        ));
        assert!(matches!(
            EntityId::parse("tik tok:#a"),
            Err(EntityIdError::BadPrefix(_))
        ));
    }
}
