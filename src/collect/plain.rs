//! TikTok over plain HTTP: the profile, its unsigned item list, the tag page and its embed
//! fallback, a login wall recognised by its redirect, and the bot wall solved once.

use super::*;

fn tiktok_fetch_failure(e: FetchError) -> Stop {
    match e {
        FetchError::Cancelled => Stop::Cancelled,
        FetchError::Status { status: 403, .. } => {
            Stop::Failed(failure(FailureKind::Blocked, "HTTP 403 (refused)"))
        }
        FetchError::Status { status: 429, .. } => Stop::Failed(failure(
            FailureKind::Blocked,
            "HTTP 429 (rate limited) after retries",
        )),
        FetchError::Status { status: 404, .. } => {
            Stop::Failed(failure(FailureKind::NotFound, "HTTP 404"))
        }
        other => Stop::Failed(failure(other.kind(), other.to_string())),
    }
}

fn page_failure(e: &PageError) -> Failure {
    failure(e.kind(), e.to_string())
}

impl Inner {
    pub(super) fn tiktok_url(&self, segments: &[&str]) -> Result<Url, Stop> {
        let mut url = self.base.clone();
        match url.path_segments_mut() {
            Ok(mut path) => {
                path.pop_if_empty();
                path.extend(segments);
            }
            Err(()) => {
                return Err(Stop::Failed(failure(
                    FailureKind::Network,
                    "tiktok_base_url cannot take a path",
                )))
            }
        }
        Ok(url)
    }

    /// Fetches a TikTok page: a redirect to `/login` is a login wall.
    async fn fetch_tiktok(
        &self,
        url: &Url,
        accept: Accept,
        cancel: &CancellationToken,
    ) -> Result<Page, Stop> {
        let page = self
            .http
            .get(url, accept, cancel)
            .await
            .map_err(tiktok_fetch_failure)?;
        let login = page
            .final_url
            .path_segments()
            .and_then(|mut s| s.next())
            .is_some_and(|first| first == "login");
        if login {
            return Err(failure(FailureKind::Blocked, "login wall (redirected to /login)").into());
        }
        Ok(page)
    }

    /// Fetches and parses a TikTok page; a bot wall is solved once and the page asked again.
    async fn tiktok_page<T>(
        &self,
        url: &Url,
        cancel: &CancellationToken,
        parse: impl Fn(&str) -> Result<T, PageError>,
    ) -> Result<Result<T, PageError>, Stop> {
        let page = self.fetch_tiktok(url, Accept::Html, cancel).await?;
        let wall = match parse(&page.text()) {
            Err(PageError::BotWall(wall)) => wall,
            other => return Ok(other),
        };
        // Up to a million SHA-256 rounds: off the async workers.
        let cookies = tokio::task::spawn_blocking(move || wall.solve())
            .await
            .ok()
            .flatten();
        let Some(cookies) = cookies else {
            return Err(failure(
                FailureKind::Blocked,
                "bot wall with an unsolvable challenge",
            )
            .into());
        };
        for (name, value) in &cookies {
            self.http.set_cookie(url, name, value);
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(Stop::Cancelled),
            _ = tokio::time::sleep(std::time::Duration::from_millis(150)) => {}
        }
        let page = self.fetch_tiktok(url, Accept::Html, cancel).await?;
        match parse(&page.text()) {
            Err(PageError::BotWall(_)) => {
                Err(failure(FailureKind::Blocked, "bot wall not passed after solving it").into())
            }
            other => Ok(other),
        }
    }

    pub(super) async fn creator(
        &self,
        entity: &EntityId,
        handle: &str,
        cancel: &CancellationToken,
    ) -> Result<EntityOutcome, Stop> {
        let url = self.tiktok_url(&[&format!("@{handle}")])?;
        let page = match self
            .tiktok_page(&url, cancel, |html| {
                tiktok::parse_creator_page(html, handle)
            })
            .await?
        {
            Ok(page) => page,
            Err(e) => return Err(page_failure(&e).into()),
        };
        let videos = page.recent.clone();
        Ok(self.creator_outcome(entity, &page, videos, cancel).await)
    }

    /// A creator's outcome from its page: the counts, the videos the page listed (else the
    /// unsigned item list), and a private account's counts kept with its failure.
    pub(super) async fn creator_outcome(
        &self,
        entity: &EntityId,
        page: &tiktok::CreatorPage,
        mut videos: Vec<VideoRecord>,
        cancel: &CancellationToken,
    ) -> EntityOutcome {
        if videos.is_empty() {
            if let Some(sec_uid) = &page.sec_uid {
                videos = self.creator_videos(entity, sec_uid, cancel).await;
            }
        }
        let mut out = observed(entity.clone(), page.metrics(), videos);
        if page.private {
            out.failure = Some(failure(
                FailureKind::Private,
                "private account (counts still shown)",
            ));
        }
        out
    }

    /// The creator's recent videos; a failure here only costs the videos, not the counts.
    pub(super) async fn creator_videos(
        &self,
        entity: &EntityId,
        sec_uid: &str,
        cancel: &CancellationToken,
    ) -> Vec<VideoRecord> {
        let url = match self.tiktok_url(&["api", "creator", "item_list", ""]) {
            Ok(mut url) => {
                let now_ms = (crate::clock::now_f64() * 1000.0) as u64;
                let device_id: u64 = rand::thread_rng()
                    .gen_range(7_250_000_000_000_000_000..7_351_147_085_025_500_000);
                url.query_pairs_mut()
                    .append_pair("aid", "1988")
                    .append_pair("app_language", "en")
                    .append_pair("app_name", "tiktok_web")
                    .append_pair("browser_language", "en-US")
                    .append_pair("browser_name", "Mozilla")
                    .append_pair("browser_online", "true")
                    .append_pair("browser_platform", "Linux x86_64")
                    .append_pair("channel", "tiktok_web")
                    .append_pair("cookie_enabled", "true")
                    .append_pair("count", "15")
                    .append_pair("cursor", &now_ms.to_string())
                    .append_pair("device_id", &device_id.to_string())
                    .append_pair("device_platform", "web_pc")
                    .append_pair("from_page", "user")
                    .append_pair("language", "en")
                    .append_pair("os", "linux")
                    .append_pair("region", "US")
                    .append_pair("secUid", sec_uid)
                    .append_pair("type", "1");
                url
            }
            Err(_) => return Vec::new(),
        };
        let result = match self.fetch_tiktok(&url, Accept::Json, cancel).await {
            Ok(page) => tiktok::parse_item_list(&page.text()).map_err(|e| e.to_string()),
            Err(Stop::Failed(f)) => Err(format!("{}: {}", f.kind, f.detail)),
            Err(Stop::Cancelled) => Err("cancelled".into()),
        };
        match result {
            Ok(videos) => videos,
            Err(why) => {
                tracing::warn!(%entity, "recent videos not listed: {why}");
                Vec::new()
            }
        }
    }

    pub(super) async fn hashtag(
        &self,
        entity: &EntityId,
        tag: &str,
        cancel: &CancellationToken,
    ) -> Result<EntityOutcome, Stop> {
        let url = self.tiktok_url(&["tag", tag])?;
        let shell = match self
            .tiktok_page(&url, cancel, |html| {
                tiktok::parse_tag_page(html).and_then(|p| p.of_tag(tag))
            })
            .await?
        {
            Ok(page) => return Ok(observed(entity.clone(), page.metrics(), page.recent)),
            Err(PageError::EmptyShell { path }) => path,
            Err(e) => return Err(page_failure(&e).into()),
        };
        // Anonymous clients often get the tag page without its data; the embed page has it.
        tracing::debug!(%entity, "tag page is an empty shell (no {shell}); trying the embed page");
        let url = self.tiktok_url(&["embed", "tag", tag])?;
        let embed = self
            .tiktok_page(&url, cancel, |html| tiktok::parse_embed_tag_page(html, tag))
            .await
            .map_err(|stop| match stop {
                // The tag exists (it has a page); only its embed is missing.
                Stop::Failed(f) if f.kind == FailureKind::NotFound => Stop::Failed(failure(
                    FailureKind::UnknownShape,
                    format!("tag page without data, embed page: {}", f.detail),
                )),
                other => other,
            })?;
        match embed {
            Ok(page) => Ok(observed(entity.clone(), page.metrics(), page.recent)),
            Err(e) => {
                Err(failure(e.kind(), format!("tag page without data, embed page: {e}")).into())
            }
        }
    }

    /// A TikTok Shop product's page: units sold, lowest price, rating and reviews.
    pub(super) async fn product(
        &self,
        entity: &EntityId,
        slug: &str,
        id: &str,
        cancel: &CancellationToken,
    ) -> Result<EntityOutcome, Stop> {
        let url = self.tiktok_url(&["shop", "pdp", slug, id])?;
        match self
            .tiktok_page(&url, cancel, |html| tiktok::parse_product_page(html, id))
            .await?
        {
            Ok(page) => Ok(product_observed(entity, page)),
            Err(e) => Err(page_failure(&e).into()),
        }
    }

    /// A followed video's page: its exact counts, no list of videos.
    pub(super) async fn video(
        &self,
        entity: &EntityId,
        handle: &str,
        id: &str,
        cancel: &CancellationToken,
    ) -> Result<EntityOutcome, Stop> {
        let url = self.tiktok_url(&[&format!("@{handle}"), "video", id])?;
        match self
            .tiktok_page(&url, cancel, |html| tiktok::parse_video_page(html, id))
            .await?
        {
            Ok(page) => Ok(observed(entity.clone(), video_metrics(&page), Vec::new())),
            Err(e) => Err(page_failure(&e).into()),
        }
    }
}

/// A product page's figures and words, as an outcome.
pub(super) fn product_observed(entity: &EntityId, page: tiktok::ProductPage) -> EntityOutcome {
    let mut out = observed(entity.clone(), page.metrics(), Vec::new());
    if let Some(obs) = out.observation.as_mut() {
        obs.label = Some(page.label);
    }
    out
}

/// A followed video's counters, as its series; `followers` is its creator's, read on the
/// same page (it gives the creator's tier).
pub(super) fn video_metrics(page: &tiktok::VideoPage) -> Vec<(Metric, f64)> {
    let v = &page.video;
    let counts = [v.plays, v.likes, v.comments, v.shares, v.saves];
    let mut m: Vec<(Metric, f64)> = Metric::VIDEO_COUNTERS
        .into_iter()
        .zip(counts.map(|c| c as f64))
        .collect();
    if let Some(f) = page.author_followers {
        m.push((Metric::FOLLOWERS, f as f64));
    }
    m
}
