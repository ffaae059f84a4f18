//! TikTok's public pages turned into typed results: pure functions from a page's text to a
//! creator's counts, a hashtag's views, a list of videos, or a precise reason why not.
//!
//! TikTok renders its pages client-side and ships the data as JSON inside one script tag whose
//! name changed twice (2021-12, 2023-12); embed pages use a fourth one. The layouts live in
//! tables (`CREATOR_LAYOUTS`, `TAG_LAYOUTS`) so the next change is a new row, not a new
//! parser. The script is found by a plain substring search and sliced to `</script>`: a full
//! DOM of a 300 KB page is never built, and inside the JSON only the one scope we need is kept
//! (the translation bundle and the rest are skipped without allocating).
//!
//! Rules this module keeps: exact `statsV2` strings before the rounded `stats` numbers; counts
//! are `u64`, a negative one (a 32-bit overflow on TikTok's side) is refused, never stored;
//! `statusCode` inside the JSON decides not-found / private / blocked, never text matching
//! (every page's translation bundle contains "Couldn't find this account"); a missing piece is
//! `unknown_shape` naming the path that was missing. Nothing here does I/O, and no input may
//! make it panic.

use std::fmt;

use base64::Engine as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::model::{normalize_name, FailureKind, Metric, UnixSeconds, VideoRecord};

/// Longest caption kept per video: scraped text is untrusted and bounded.
const MAX_DESCRIPTION_CHARS: usize = 2000;

/// Where the data of a page came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// `__UNIVERSAL_DATA_FOR_REHYDRATION__` (2023-12 → now).
    Universal,
    /// `SIGI_STATE` (2021-12 → 2023-12).
    Sigi,
    /// `__NEXT_DATA__` (≤ 2021).
    Next,
    /// `__FRONTITY_CONNECT_STATE__` on embed pages.
    Frontity,
    /// A JSON answer of TikTok's web API that a page's own script fetched (`/api/user/detail/`,
    /// `/api/challenge/detail/`), as the browser fetcher sees it.
    Api,
}

impl Generation {
    pub fn script_id(self) -> &'static str {
        match self {
            Self::Universal => "__UNIVERSAL_DATA_FOR_REHYDRATION__",
            Self::Sigi => "SIGI_STATE",
            Self::Next => "__NEXT_DATA__",
            Self::Frontity => "__FRONTITY_CONNECT_STATE__",
            Self::Api => "the web API answer",
        }
    }
}

/// Why a page gave no usable data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("does not exist or was removed (statusCode {0})")]
    NotFound(i64),
    #[error("private account (statusCode {0})")]
    Private(i64),
    #[error("{0}")]
    Blocked(String),
    /// The SlardarWAF proof-of-work page; the caller may solve it once.
    #[error("bot wall (SlardarWAF proof of work)")]
    BotWall(WafChallenge),
    /// The data script is there but without the entity's scope (anonymous clients often get
    /// this on tag pages); the caller may try the embed page.
    #[error("empty page shell: no {path}")]
    EmptyShell { path: String },
    #[error("missing {path}")]
    UnknownShape { path: String },
    /// The page is another entity's (a redirect, or a script that moved it): its figures are
    /// never stored as the one asked for.
    #[error(
        "the page shows {shown}, not {asked} (moved by a redirect or a script): nothing stored"
    )]
    OtherEntity { asked: String, shown: String },
    /// A shop product not for sale where the shop is.
    #[error("not for sale in this region ({0})")]
    Region(String),
}

impl PageError {
    pub fn kind(&self) -> FailureKind {
        match self {
            Self::NotFound(_) => FailureKind::NotFound,
            Self::Private(_) => FailureKind::Private,
            Self::Blocked(_) | Self::BotWall(_) => FailureKind::Blocked,
            Self::Region(_) => FailureKind::Region,
            Self::EmptyShell { .. } | Self::UnknownShape { .. } | Self::OtherEntity { .. } => {
                FailureKind::UnknownShape
            }
        }
    }

    fn missing(generation: Generation, path: impl fmt::Display) -> Self {
        Self::UnknownShape {
            path: format!("{path} in {}", generation.script_id()),
        }
    }
}

/// A creator's profile page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorPage {
    pub generation: Generation,
    /// `uniqueId` as the page spells it.
    pub handle: Option<String>,
    /// Needed to list the creator's videos.
    pub sec_uid: Option<String>,
    pub private: bool,
    pub followers: Option<u64>,
    pub following: Option<u64>,
    pub likes: Option<u64>,
    pub videos: Option<u64>,
    /// Videos embedded in the page (empty on 2026 pages: they come from `item_list`).
    pub recent: Vec<VideoRecord>,
}

impl CreatorPage {
    /// `followers`, `following`, `likes`, `videos`, the ones the page had.
    pub fn metrics(&self) -> Vec<(Metric, f64)> {
        [
            (Metric::FOLLOWERS, self.followers),
            (Metric::FOLLOWING, self.following),
            (Metric::LIKES, self.likes),
            (Metric::VIDEOS, self.videos),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.map(|v| (name, v as f64)))
        .collect()
    }
}

/// A hashtag's page (or its embed page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPage {
    pub generation: Generation,
    /// The tag's name as the page spells it, when it says.
    pub title: Option<String>,
    pub views: u64,
    /// `None` when TikTok says 0, which has meant "unknown" since 2020.
    pub videos: Option<u64>,
    pub recent: Vec<VideoRecord>,
}

impl TagPage {
    /// The page itself, if it is the page of `tag` (normalised) or does not name its tag.
    pub fn of_tag(self, tag: &str) -> Result<TagPage, PageError> {
        match &self.title {
            Some(t) if crate::model::normalize_name(t) != crate::model::normalize_name(tag) => {
                Err(PageError::OtherEntity {
                    asked: format!("#{tag}"),
                    shown: format!(
                        "#{}",
                        crate::model::clean_text(t, crate::model::MAX_TAG_CHARS)
                    ),
                })
            }
            _ => Ok(self),
        }
    }

    /// `views`, plus `videos` when known.
    pub fn metrics(&self) -> Vec<(Metric, f64)> {
        let mut m = vec![(Metric::VIEWS, self.views as f64)];
        if let Some(v) = self.videos {
            m.push((Metric::VIDEOS, v as f64));
        }
        m
    }
}

/// Where one generation keeps what we read, as JSON pointers below `scope`.
struct Layout {
    generation: Generation,
    /// Object keys from the script's root to the entity's scope, walked in one pass.
    scope: &'static [&'static str],
    status: &'static str,
    /// `{key}` is replaced by the entity's key (SIGI keys users by handle).
    entity: &'static str,
    stats: &'static str,
    stats_v2: &'static str,
    items: &'static str,
}

const CREATOR_LAYOUTS: &[Layout] = &[
    Layout {
        generation: Generation::Universal,
        scope: &["__DEFAULT_SCOPE__", "webapp.user-detail"],
        status: "/statusCode",
        entity: "/userInfo/user",
        stats: "/userInfo/stats",
        stats_v2: "/userInfo/statsV2",
        items: "/userInfo/itemList",
    },
    Layout {
        generation: Generation::Sigi,
        scope: &[],
        status: "/UserPage/statusCode",
        entity: "/UserModule/users/{key}",
        stats: "/UserModule/stats/{key}",
        stats_v2: "/UserModule/statsV2/{key}",
        items: "/ItemModule",
    },
    Layout {
        generation: Generation::Next,
        scope: &["props", "pageProps"],
        status: "/statusCode",
        entity: "/userInfo/user",
        stats: "/userInfo/stats",
        stats_v2: "/userInfo/statsV2",
        items: "/items",
    },
];

const TAG_LAYOUTS: &[Layout] = &[
    Layout {
        generation: Generation::Universal,
        scope: &["__DEFAULT_SCOPE__", "webapp.challenge-detail"],
        status: "/statusCode",
        entity: "/challengeInfo/challenge",
        stats: "/challengeInfo/stats",
        stats_v2: "/challengeInfo/statsV2",
        items: "/itemList",
    },
    Layout {
        generation: Generation::Sigi,
        scope: &["ChallengePage"],
        status: "/statusCode",
        entity: "/challengeInfo/challenge",
        stats: "/challengeInfo/stats",
        stats_v2: "/challengeInfo/statsV2",
        items: "/itemList",
    },
    Layout {
        generation: Generation::Next,
        scope: &["props", "pageProps"],
        status: "/statusCode",
        entity: "/challengeInfo/challenge",
        stats: "/challengeInfo/stats",
        stats_v2: "/challengeInfo/statsV2",
        items: "/items",
    },
];

/// `/api/user/detail/` answers with what the rehydration script keeps under
/// `webapp.user-detail`.
const CREATOR_API_LAYOUT: Layout = Layout {
    generation: Generation::Api,
    scope: &[],
    status: "/statusCode",
    entity: "/userInfo/user",
    stats: "/userInfo/stats",
    stats_v2: "/userInfo/statsV2",
    items: "/userInfo/itemList",
};

/// `/api/challenge/detail/` answers with what the rehydration script keeps under
/// `webapp.challenge-detail`.
const TAG_API_LAYOUT: Layout = Layout {
    generation: Generation::Api,
    scope: &[],
    status: "/statusCode",
    entity: "/challengeInfo/challenge",
    stats: "/challengeInfo/stats",
    stats_v2: "/challengeInfo/statsV2",
    items: "/itemList",
};

// ---------------------------------------------------------------------------------------------
// Finding the data script

/// The text of `<script id="ID" …>TEXT</script>`, found without parsing the HTML.
pub fn find_script<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let bytes = html.as_bytes();
    for quote in ['"', '\''] {
        let needle = format!("id={quote}{id}{quote}");
        for at in memchr::memmem::find_iter(bytes, needle.as_bytes()) {
            // The attribute must sit inside a `<script` start tag.
            let tag_start = match memchr::memrchr(b'<', &bytes[..at]) {
                Some(p) => p,
                None => continue,
            };
            let tag_head = &bytes[tag_start..at];
            if tag_head.len() < 7
                || !tag_head[..7].eq_ignore_ascii_case(b"<script")
                || tag_head.contains(&b'>')
            {
                continue;
            }
            let open_end = at + memchr::memchr(b'>', &bytes[at..])? + 1;
            let close = memchr::memmem::find(&bytes[open_end..], b"</script")?;
            return html.get(open_end..open_end + close);
        }
    }
    None
}

/// The JSON assigned by an inline `window['SIGI_STATE']={…};` (older SIGI pages).
fn find_inline_sigi(html: &str) -> Option<&str> {
    for needle in [
        "window['SIGI_STATE']=",
        "window[\"SIGI_STATE\"]=",
        "window['SIGI_STATE'] = ",
    ] {
        if let Some(at) = memchr::memmem::find(html.as_bytes(), needle.as_bytes()) {
            let rest = html.get(at + needle.len()..)?;
            let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<IgnoredAny>();
            if let Some(Ok(_)) = stream.next() {
                return rest.get(..stream.byte_offset());
            }
        }
    }
    None
}

fn data_script(html: &str, generation: Generation) -> Option<&str> {
    find_script(html, generation.script_id()).or_else(|| {
        if generation == Generation::Sigi {
            find_inline_sigi(html)
        } else {
            None
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Walking to one scope in a single pass

/// Keys from the root, walked while every other value is skipped unallocated.
struct Descend<'k> {
    keys: &'k [&'k str],
}

/// `Ok(raw)` or `Err(depth)` where `keys[depth]` was missing.
type Descended<'de> = Result<&'de RawValue, usize>;

impl<'de> DeserializeSeed<'de> for Descend<'_> {
    type Value = Descended<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.keys.is_empty() {
            return <&RawValue as serde::Deserialize>::deserialize(d).map(Ok);
        }
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Descend<'_> {
    type Value = Descended<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object with `{}`", self.keys.first().unwrap_or(&""))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found: Option<Descended<'de>> = None;
        while let Some(key) = map.next_key::<String>()? {
            if found.is_none() && self.keys.first() == Some(&key.as_str()) {
                let inner = map.next_value_seed(Descend {
                    keys: &self.keys[1..],
                })?;
                found = Some(inner.map_err(|depth| depth + 1));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found.unwrap_or(Err(0)))
    }
}

/// The scope of a layout as a parsed value, or why not.
fn scope_value(json: &str, layout: &Layout) -> Result<Value, PageError> {
    let mut de = serde_json::Deserializer::from_str(json);
    let descended = Descend { keys: layout.scope }
        .deserialize(&mut de)
        .map_err(|e| PageError::missing(layout.generation, format!("valid JSON ({e})")))?;
    let raw = match descended {
        Ok(raw) => raw,
        Err(depth) => {
            let last = depth.min(layout.scope.len().saturating_sub(1));
            let path = format!("/{}", layout.scope.get(..=last).unwrap_or(&[]).join("/"));
            // The root is there but not the entity's scope: an empty shell.
            return Err(if depth > 0 {
                PageError::EmptyShell {
                    path: format!("{path} in {}", layout.generation.script_id()),
                }
            } else {
                PageError::missing(layout.generation, path)
            });
        }
    };
    serde_json::from_str(raw.get())
        .map_err(|e| PageError::missing(layout.generation, format!("valid JSON ({e})")))
}

// ---------------------------------------------------------------------------------------------
// Reading values

/// A count written as a number or a decimal string; negative or fractional is refused.
pub fn count_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            let f = n.as_f64()?;
            (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1.8e19).then_some(f as u64)
        }),
        Value::String(s) => super::numbers::parse_plain_u64(s),
        _ => None,
    }
}

/// The first key found in `statsV2`, then the first in `stats`.
fn stat(v2: Option<&Value>, v1: Option<&Value>, keys: &[&str]) -> Option<u64> {
    [v2, v1]
        .into_iter()
        .flatten()
        .find_map(|stats| keys.iter().find_map(|k| stats.get(*k).and_then(count_of)))
}

fn status_code(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn json_pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// What a non-zero `statusCode` means.
fn status_error(code: i64) -> Option<PageError> {
    Some(match code {
        0 => return None,
        10202 | 10221 | 10205 | 10209 | 10211 | 10212 | 10204 => PageError::NotFound(code),
        10222 | 10216 => PageError::Private(code),
        10000 => PageError::Blocked(format!("verification asked (statusCode {code})")),
        10231 => PageError::Blocked(format!("not available in this region (statusCode {code})")),
        _ => PageError::UnknownShape {
            path: format!("a known statusCode (got {code})"),
        },
    })
}

/// Why a page without any data script gave nothing.
fn no_data(html: &str) -> PageError {
    if let Some(wall) = WafChallenge::find(html) {
        return PageError::BotWall(wall);
    }
    if is_verify_json(html) {
        return PageError::Blocked("verification asked".into());
    }
    PageError::UnknownShape {
        path: "a data script (__UNIVERSAL_DATA_FOR_REHYDRATION__, SIGI_STATE or __NEXT_DATA__)"
            .into(),
    }
}

fn is_verify_json(body: &str) -> bool {
    let t = body.trim_start();
    t.starts_with('{')
        && serde_json::from_str::<Value>(t)
            .ok()
            .is_some_and(|v| v.get("type").and_then(Value::as_str) == Some("verify"))
}

mod pages;
mod shop;
pub use shop::{parse_product_page, ProductPage};
#[cfg(test)]
mod tests;
mod waf;

pub use pages::*;
pub use waf::WafChallenge;
