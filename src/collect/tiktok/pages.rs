//! Reading each kind of TikTok page (profiles, tags, embed tags, video lists and the web
//! API's answers) with the layouts of every page generation.

use super::*;

// ---------------------------------------------------------------------------------------------
// Creators

/// Reads a creator's profile page of any generation. `handle` is the normalised handle asked
/// for (SIGI keys its users by handle).
pub fn parse_creator_page(html: &str, handle: &str) -> Result<CreatorPage, PageError> {
    for layout in CREATOR_LAYOUTS {
        let Some(json) = data_script(html, layout.generation) else {
            continue;
        };
        return creator_from(json, layout, handle);
    }
    Err(no_data(html))
}

fn creator_from(json: &str, layout: &Layout, handle: &str) -> Result<CreatorPage, PageError> {
    let scope = scope_value(json, layout)?;
    let code = status_code(scope.pointer(layout.status)).unwrap_or(0);
    let mut private = false;
    match status_error(code) {
        None => {}
        Some(PageError::Private(_)) => private = true,
        Some(e) => return Err(e),
    }
    let key = entity_key(&scope, layout, handle);
    let at = |p: &str| p.replace("{key}", &json_pointer_escape(&key));
    let user = scope.pointer(&at(layout.entity));
    let stats = scope.pointer(&at(layout.stats)).filter(|v| v.is_object());
    let stats_v2 = scope
        .pointer(&at(layout.stats_v2))
        .filter(|v| v.is_object());
    if stats.is_none() && stats_v2.is_none() {
        if private {
            return Err(PageError::Private(code));
        }
        let scope_path = layout.scope.join("/");
        return Err(PageError::missing(
            layout.generation,
            format!("/{scope_path}{}", at(layout.stats)).replace("//", "/"),
        ));
    }
    let str_of = |v: Option<&Value>, k: &str| {
        v.and_then(|u| u.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    private |= user
        .and_then(|u| u.get("privateAccount"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let page = CreatorPage {
        generation: layout.generation,
        handle: str_of(user, "uniqueId"),
        sec_uid: str_of(user, "secUid"),
        private,
        followers: stat(stats_v2, stats, &["followerCount"]),
        following: stat(stats_v2, stats, &["followingCount"]),
        likes: stat(stats_v2, stats, &["heartCount", "heart"]),
        videos: stat(stats_v2, stats, &["videoCount"]),
        recent: items_of(&scope, layout),
    };
    if page.followers.is_none() {
        let base = if stats_v2.is_some() {
            layout.stats_v2
        } else {
            layout.stats
        };
        return Err(PageError::missing(
            layout.generation,
            format!("{}/followerCount", at(base)),
        ));
    }
    // A profile that answers for another account (a renamed handle now someone else's, a
    // redirect) is not the creator asked for: its numbers are never stored as theirs.
    match &page.handle {
        Some(shown) if normalize_name(shown) != normalize_name(handle) => {
            Err(PageError::OtherEntity {
                asked: format!("@{handle}"),
                shown: format!(
                    "@{}",
                    crate::model::clean_text(shown, crate::model::MAX_TAG_CHARS)
                ),
            })
        }
        _ => Ok(page),
    }
}

/// Where a video page keeps its video: `webapp.video-detail` → `itemInfo.itemStruct`.
const VIDEO_LAYOUT: Layout = Layout {
    generation: Generation::Universal,
    scope: &["__DEFAULT_SCOPE__", "webapp.video-detail"],
    status: "/statusCode",
    entity: "/itemInfo/itemStruct",
    stats: "/itemInfo/itemStruct/stats",
    stats_v2: "/itemInfo/itemStruct/statsV2",
    items: "",
};

/// What a followed video's page gives.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoPage {
    pub video: VideoRecord,
    /// The creator's followers (`authorStatsV2`, else `authorStats`), for their tier.
    pub author_followers: Option<u64>,
}

/// A followed video's page (`/@handle/video/ID`): its exact counts (`statsV2`, else
/// `stats`). A video removed, private or held back in the region is a typed failure; a page
/// that shows another video is refused.
pub fn parse_video_page(html: &str, video_id: &str) -> Result<VideoPage, PageError> {
    let Some(json) = data_script(html, VIDEO_LAYOUT.generation) else {
        return Err(no_data(html));
    };
    let scope = scope_value(json, &VIDEO_LAYOUT)?;
    let code = status_code(scope.pointer(VIDEO_LAYOUT.status)).unwrap_or(0);
    if let Some(e) = status_error(code) {
        return Err(e);
    }
    let item = scope.pointer(VIDEO_LAYOUT.entity).ok_or_else(|| {
        PageError::missing(
            VIDEO_LAYOUT.generation,
            "/__DEFAULT_SCOPE__/webapp.video-detail/itemInfo/itemStruct",
        )
    })?;
    let video = parse_item(item).ok_or_else(|| {
        PageError::missing(
            VIDEO_LAYOUT.generation,
            "/__DEFAULT_SCOPE__/webapp.video-detail/itemInfo/itemStruct/id",
        )
    })?;
    if scope.pointer(VIDEO_LAYOUT.stats).is_none() && scope.pointer(VIDEO_LAYOUT.stats_v2).is_none()
    {
        return Err(PageError::missing(
            VIDEO_LAYOUT.generation,
            "/__DEFAULT_SCOPE__/webapp.video-detail/itemInfo/itemStruct/stats",
        ));
    }
    if video.id != video_id {
        return Err(PageError::OtherEntity {
            asked: format!("video {video_id}"),
            shown: format!("video {}", crate::model::clean_text(&video.id, 30)),
        });
    }
    let author_followers = stat(
        item.get("authorStatsV2"),
        item.get("authorStats"),
        &["followerCount"],
    );
    Ok(VideoPage {
        video,
        author_followers,
    })
}

/// SIGI keys users by the handle as the page spells it; find it whatever its case.
fn entity_key(scope: &Value, layout: &Layout, handle: &str) -> String {
    if !layout.entity.contains("{key}") {
        return String::new();
    }
    let users_ptr = layout.entity.trim_end_matches("/{key}");
    let Some(users) = scope.pointer(users_ptr).and_then(Value::as_object) else {
        return handle.to_string();
    };
    users
        .keys()
        .find(|k| normalize_name(k) == handle)
        .or_else(|| (users.len() == 1).then(|| users.keys().next()).flatten())
        .cloned()
        .unwrap_or_else(|| handle.to_string())
}

fn items_of(scope: &Value, layout: &Layout) -> Vec<VideoRecord> {
    match scope.pointer(layout.items) {
        Some(Value::Array(items)) => items.iter().filter_map(parse_item).collect(),
        Some(Value::Object(by_id)) => {
            // SIGI: `ItemModule{id → item}` in the order of `ItemList["user-post"].list`.
            let order: Vec<&str> = scope
                .pointer("/ItemList/user-post/list")
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if order.is_empty() {
                by_id.values().filter_map(parse_item).collect()
            } else {
                order
                    .iter()
                    .filter_map(|id| by_id.get(*id))
                    .filter_map(parse_item)
                    .collect()
            }
        }
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Hashtags

/// Reads a hashtag page of any generation. An empty shell is [`PageError::EmptyShell`]: the
/// caller then tries [`parse_embed_tag_page`].
pub fn parse_tag_page(html: &str) -> Result<TagPage, PageError> {
    for layout in TAG_LAYOUTS {
        let Some(json) = data_script(html, layout.generation) else {
            continue;
        };
        return tag_from(json, layout);
    }
    Err(no_data(html))
}

/// Reads the answer of `/api/challenge/detail/` that a tag page's script fetched (signed, so
/// only a browser running the page gets it).
pub fn parse_challenge_detail(body: &str) -> Result<TagPage, PageError> {
    api_answer(body)?;
    tag_from(body, &TAG_API_LAYOUT)
}

/// Reads the answer of `/api/user/detail/` that a profile page's script fetched.
pub fn parse_user_detail(body: &str, handle: &str) -> Result<CreatorPage, PageError> {
    api_answer(body)?;
    creator_from(body, &CREATOR_API_LAYOUT, handle)
}

/// An API answer TikTok gives a client it refuses: empty, or a verification request.
fn api_answer(body: &str) -> Result<(), PageError> {
    if body.trim().is_empty() {
        return Err(PageError::Blocked("empty API answer".into()));
    }
    if is_verify_json(body) {
        return Err(PageError::Blocked("verification asked".into()));
    }
    Ok(())
}

fn tag_from(json: &str, layout: &Layout) -> Result<TagPage, PageError> {
    let scope = match scope_value(json, layout) {
        // SIGI and NEXT pages without the challenge scope are shells too.
        Err(PageError::UnknownShape { path })
            if matches!(layout.generation, Generation::Sigi | Generation::Next) =>
        {
            return Err(PageError::EmptyShell { path })
        }
        other => other?,
    };
    if let Some(e) = status_code(scope.pointer(layout.status)).and_then(status_error) {
        return Err(e);
    }
    let stats = scope.pointer(layout.stats).filter(|v| v.is_object());
    let stats_v2 = scope.pointer(layout.stats_v2).filter(|v| v.is_object());
    if stats.is_none() && stats_v2.is_none() {
        if matches!(layout.generation, Generation::Sigi | Generation::Next)
            && scope.pointer(layout.entity).is_none()
        {
            return Err(PageError::EmptyShell {
                path: format!("{} in {}", layout.stats, layout.generation.script_id()),
            });
        }
        return Err(PageError::missing(
            layout.generation,
            format!("/{}{}", layout.scope.join("/"), layout.stats).replace("//", "/"),
        ));
    }
    let Some(views) = stat(stats_v2, stats, &["viewCount"]) else {
        return Err(PageError::missing(
            layout.generation,
            format!("/{}{}/viewCount", layout.scope.join("/"), layout.stats).replace("//", "/"),
        ));
    };
    let title = scope
        .pointer(layout.entity)
        .and_then(|c| c.get("title"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    Ok(TagPage {
        generation: layout.generation,
        title,
        views,
        videos: stat(stats_v2, stats, &["videoCount"]).filter(|&n| n > 0),
        recent: items_of(&scope, layout),
    })
}

/// Reads `/embed/tag/NAME`: `source.data["/embed/tag/NAME"].embedInfo` (decimal strings) and
/// its `videoList`.
pub fn parse_embed_tag_page(html: &str, tag: &str) -> Result<TagPage, PageError> {
    let generation = Generation::Frontity;
    let Some(json) = data_script(html, generation) else {
        return Err(no_data(html));
    };
    let layout = Layout {
        generation,
        scope: &["source", "data"],
        status: "",
        entity: "",
        stats: "",
        stats_v2: "",
        items: "",
    };
    let data = scope_value(json, &layout).map_err(|e| match e {
        PageError::EmptyShell { path } => PageError::UnknownShape { path },
        other => other,
    })?;
    let want = format!("/embed/tag/{tag}");
    let entry = data.as_object().and_then(|m| {
        m.get(&want).or_else(|| {
            m.iter()
                .find(|(k, _)| {
                    k.strip_prefix("/embed/tag/")
                        .is_some_and(|name| normalize_name(name) == normalize_name(tag))
                })
                .map(|(_, v)| v)
        })
    });
    let Some(entry) = entry else {
        return Err(PageError::missing(
            generation,
            format!("/source/data/{want}"),
        ));
    };
    if let Some(e) = status_code(entry.get("statusCode")).and_then(status_error) {
        return Err(e);
    }
    let info = entry.get("embedInfo");
    let Some(views) = info.and_then(|i| i.get("viewCount")).and_then(count_of) else {
        return Err(PageError::missing(
            generation,
            format!("/source/data/{want}/embedInfo/viewCount"),
        ));
    };
    let recent = entry
        .get("videoList")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(parse_item).collect())
        .unwrap_or_default();
    Ok(TagPage {
        generation,
        title: None,
        views,
        videos: info
            .and_then(|i| i.get("videoCount"))
            .and_then(count_of)
            .filter(|&n| n > 0),
        recent,
    })
}

// ---------------------------------------------------------------------------------------------
// Videos

/// Reads the answer of `/api/creator/item_list/`: `{itemList: [item…], …}`.
pub fn parse_item_list(body: &str) -> Result<Vec<VideoRecord>, PageError> {
    if body.trim().is_empty() {
        // TikTok answers an empty 200 when it refuses an unsigned client.
        return Err(PageError::Blocked("empty item_list answer".into()));
    }
    let v: Value = serde_json::from_str(body).map_err(|e| PageError::UnknownShape {
        path: format!("valid JSON in item_list ({e})"),
    })?;
    if v.get("type").and_then(Value::as_str) == Some("verify") {
        return Err(PageError::Blocked("verification asked".into()));
    }
    if let Some(e) = status_code(v.get("statusCode")).and_then(status_error) {
        return Err(e);
    }
    match v.get("itemList") {
        Some(Value::Array(items)) => Ok(items.iter().filter_map(parse_item).collect()),
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(_) => Err(PageError::UnknownShape {
            path: "/itemList as an array in item_list".into(),
        }),
    }
}

/// One video item (the same shape in every list and on video pages). `None` without an id.
pub fn parse_item(item: &Value) -> Option<VideoRecord> {
    let id = match item.get("id")? {
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.clone(),
        Value::Number(n) => n.as_u64()?.to_string(),
        _ => return None,
    };
    let author = match item.get("author") {
        Some(Value::Object(a)) => a.get("uniqueId").and_then(Value::as_str),
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    }
    .map(normalize_name)
    .filter(|a| crate::model::is_valid_handle(a));
    let created_at = item
        .get("createTime")
        .and_then(count_of)
        .and_then(|t| UnixSeconds::try_from(t).ok())
        // A video id's high 32 bits are its upload time.
        .or_else(|| id.parse::<u64>().ok().map(|n| (n >> 32) as UnixSeconds))
        .unwrap_or(0);
    let stats = item.get("stats");
    let stats_v2 = item.get("statsV2");
    let n = |key: &str| stat(stats_v2, stats, &[key]).unwrap_or(0);
    let mut hashtags: Vec<String> = Vec::new();
    let challenge_titles = item
        .get("challenges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("title").and_then(Value::as_str));
    let text_tags = item
        .get("textExtra")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("type").and_then(Value::as_i64) == Some(1))
        .filter_map(|t| t.get("hashtagName").and_then(Value::as_str));
    for raw in challenge_titles.chain(text_tags) {
        // A name TikTok itself would refuse is hostile or broken: it never enters the store.
        let tag = normalize_name(raw);
        if crate::model::is_valid_tag(&tag) && !hashtags.contains(&tag) {
            hashtags.push(tag);
        }
    }
    let description = crate::model::clean_text(
        item.get("desc").and_then(Value::as_str).unwrap_or(""),
        MAX_DESCRIPTION_CHARS,
    );
    Some(VideoRecord {
        id,
        author,
        created_at,
        plays: n("playCount"),
        likes: n("diggCount"),
        comments: n("commentCount"),
        shares: n("shareCount"),
        saves: n("collectCount"),
        hashtags,
        description,
    })
}
