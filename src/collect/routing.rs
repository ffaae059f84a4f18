//! Which fetcher reads a TikTok page: plain HTTP, the headless browser, or plain HTTP first
//! and the browser when the page came back as a shell or a wall; and how the browser's
//! pages are read with the same parsers as plain ones.
//!
//! A site whose pages keep needing the browser goes straight to it for a while
//! ([`FetchRoutes`]); the pipeline keeps that memory in the store between passes, since each
//! pass of the daemon runs in its own process.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::browser::{BrowserError, BrowserFetcher, Loaded};
use super::tiktok::{self, PageError};
use super::{failure, observed, Inner, Stop, Target, MAX_DETAIL_CHARS};
use crate::config::BrowserMode;
use crate::model::{
    EntityId, EntityOutcome, Failure, FailureKind, Fetcher, UnixSeconds, VideoRecord,
};

/// After this many pages of one host in a row needed the browser, that host's pages go to the
/// browser directly instead of costing a plain request first.
const ESCALATE_AFTER: u32 = 3;
/// How long a host stays on the browser before plain HTTP is given another chance.
const BROWSER_STAY_SECS: UnixSeconds = 6 * 3600;

/// What trendwatch remembers of each site's need for the browser.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchRoutes {
    pub hosts: BTreeMap<String, Route>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Pages in a row that plain HTTP could not read and the browser could.
    pub needed_in_a_row: u32,
    /// Until then, pages of this host go to the browser first.
    pub browser_until: Option<UnixSeconds>,
}

impl Inner {
    /// A TikTok target through the fetcher its host calls for: plain HTTP, the browser, or
    /// plain HTTP then the browser when the page came back as a shell or a wall.
    pub(super) async fn tiktok(
        &self,
        entity: &EntityId,
        target: &Target,
        cancel: &CancellationToken,
    ) -> Result<EntityOutcome, Stop> {
        let Some(browser) = &self.browser else {
            return self.plain_tiktok(entity, target, cancel).await;
        };
        let host = self.base.host_str().unwrap_or_default().to_owned();
        if self.browser_mode == BrowserMode::Always || self.browser_first(&host) {
            return self.browser_tiktok(browser, entity, target, cancel).await;
        }
        let plain = match self.plain_tiktok(entity, target, cancel).await {
            Err(Stop::Failed(f)) if browser_may_help(&f) => f,
            other => {
                if other.as_ref().is_ok_and(|o| o.observation.is_some()) {
                    self.route(&host, |r| r.needed_in_a_row = 0);
                }
                return other;
            }
        };
        tracing::info!(%entity, "plain HTTP got {} ({}); reading it in the browser", plain.kind, plain.detail);
        let mut out = self.browser_tiktok(browser, entity, target, cancel).await?;
        if out.observation.is_some() {
            self.route(&host, |r| {
                r.needed_in_a_row += 1;
                if r.needed_in_a_row >= ESCALATE_AFTER {
                    r.browser_until = Some(crate::clock::now() + BROWSER_STAY_SECS);
                }
            });
        } else if let Some(f) = &mut out.failure {
            f.detail = clip(format!(
                "{} (plain HTTP: {}: {})",
                f.detail, plain.kind, plain.detail
            ));
        }
        Ok(out)
    }

    /// Whether `host` needed the browser often enough lately to skip plain HTTP.
    fn browser_first(&self, host: &str) -> bool {
        let routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        routes
            .hosts
            .get(host)
            .and_then(|r| r.browser_until)
            .is_some_and(|until| crate::clock::now() < until)
    }

    fn route(&self, host: &str, change: impl FnOnce(&mut Route)) {
        let mut routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        change(routes.hosts.entry(host.to_owned()).or_default());
    }

    async fn plain_tiktok(
        &self,
        entity: &EntityId,
        target: &Target,
        cancel: &CancellationToken,
    ) -> Result<EntityOutcome, Stop> {
        match target {
            Target::TiktokCreator(handle) => self.creator(entity, handle, cancel).await,
            Target::TiktokHashtag(tag) => self.hashtag(entity, tag, cancel).await,
            Target::TiktokVideo { handle, id } => self.video(entity, handle, id, cancel).await,
            Target::ShopProduct { slug, id } => self.product(entity, slug, id, cancel).await,
            Target::Custom(..) => Err(Stop::Failed(failure(
                FailureKind::UnknownShape,
                "not a TikTok target",
            ))),
        }
    }

    /// Reads a TikTok target in the browser. Failures come back as outcomes (marked as read by
    /// the browser); only a cancelled pass is an `Err`.
    async fn browser_tiktok(
        &self,
        browser: &BrowserFetcher,
        entity: &EntityId,
        target: &Target,
        cancel: &CancellationToken,
    ) -> Result<EntityOutcome, Stop> {
        let result = match target {
            Target::TiktokCreator(handle) => {
                self.creator_in_browser(browser, entity, handle, cancel)
                    .await
            }
            Target::TiktokHashtag(tag) => {
                self.hashtag_in_browser(browser, entity, tag, cancel).await
            }
            Target::ShopProduct { slug, id } => {
                let url = self.tiktok_url(&["shop", "pdp", slug, id])?;
                let page = self
                    .browser_page(browser, &url, cancel, |l| {
                        tiktok::parse_product_page(&l.html, id)
                    })
                    .await?;
                Ok(super::plain::product_observed(entity, page))
            }
            Target::TiktokVideo { handle, id } => {
                let url = self.tiktok_url(&[&format!("@{handle}"), "video", id])?;
                let page = self
                    .browser_page(browser, &url, cancel, |l| {
                        tiktok::parse_video_page(&l.html, id)
                    })
                    .await?;
                Ok(observed(
                    entity.clone(),
                    super::plain::video_metrics(&page),
                    Vec::new(),
                ))
            }
            Target::Custom(..) => Err(Stop::Failed(failure(
                FailureKind::UnknownShape,
                "not a TikTok target",
            ))),
        };
        let mut out = match result {
            Ok(out) => out,
            Err(Stop::Cancelled) => return Err(Stop::Cancelled),
            Err(Stop::Failed(f)) => EntityOutcome {
                entity: entity.clone(),
                observation: None,
                failure: Some(f),
                fetched_by: Fetcher::Browser,
            },
        };
        out.fetched_by = Fetcher::Browser;
        Ok(out)
    }

    /// Loads `url` in the browser until `read` gives an answer that more waiting cannot change.
    async fn browser_page<T>(
        &self,
        browser: &BrowserFetcher,
        url: &Url,
        cancel: &CancellationToken,
        read: impl Fn(&Loaded) -> Result<T, PageError>,
    ) -> Result<T, Stop> {
        let loaded = browser
            .load(url, self.http.wait_turn(url, cancel), cancel, |l| {
                settled(&read(l)) || at_login(l)
            })
            .await
            .map_err(browser_failure)?;
        if at_login(&loaded) {
            return Err(failure(
                FailureKind::Blocked,
                "login wall in the browser (sent to /login)",
            )
            .into());
        }
        // A script may send the tab anywhere; what another site shows is never stored.
        if let Some(went) = loaded
            .final_url
            .as_ref()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .filter(|u| !super::http::same_site(url, u))
        {
            return Err(failure(
                FailureKind::UnknownShape,
                format!(
                    "in the browser, the page went to another site ({}): nothing stored",
                    went.host_str().unwrap_or("?")
                ),
            )
            .into());
        }
        read(&loaded).map_err(|e| failure(e.kind(), format!("in the browser: {e}")).into())
    }

    async fn creator_in_browser(
        &self,
        browser: &BrowserFetcher,
        entity: &EntityId,
        handle: &str,
        cancel: &CancellationToken,
    ) -> Result<EntityOutcome, Stop> {
        let url = self.tiktok_url(&[&format!("@{handle}")])?;
        let (page, listed) = self
            .browser_page(browser, &url, cancel, |l| {
                let page = tiktok::parse_creator_page(&l.html, handle).or_else(|e| {
                    l.answers_to("/api/user/detail")
                        .find_map(|body| tiktok::parse_user_detail(body, handle).ok())
                        .ok_or(e)
                })?;
                let listed: Vec<VideoRecord> = ["/api/creator/item_list", "/api/post/item_list"]
                    .iter()
                    .flat_map(|p| l.answers_to(p))
                    .find_map(|body| tiktok::parse_item_list(body).ok().filter(|v| !v.is_empty()))
                    .unwrap_or_default();
                Ok((page, listed))
            })
            .await?;
        let videos = if page.recent.is_empty() {
            listed
        } else {
            page.recent.clone()
        };
        Ok(self.creator_outcome(entity, &page, videos, cancel).await)
    }

    async fn hashtag_in_browser(
        &self,
        browser: &BrowserFetcher,
        entity: &EntityId,
        tag: &str,
        cancel: &CancellationToken,
    ) -> Result<EntityOutcome, Stop> {
        let url = self.tiktok_url(&["tag", tag])?;
        let page = self
            .browser_page(browser, &url, cancel, |l| {
                let mut page = tiktok::parse_tag_page(&l.html)
                    .and_then(|p| p.of_tag(tag))
                    .or_else(|e| {
                        l.answers_to("/api/challenge/detail")
                            .find_map(|body| {
                                tiktok::parse_challenge_detail(body)
                                    .and_then(|p| p.of_tag(tag))
                                    .ok()
                            })
                            .ok_or(e)
                    })?;
                if page.recent.is_empty() {
                    page.recent = l
                        .answers_to("/api/challenge/item_list")
                        .find_map(|body| {
                            tiktok::parse_item_list(body).ok().filter(|v| !v.is_empty())
                        })
                        .unwrap_or_default();
                }
                Ok(page)
            })
            .await?;
        Ok(observed(entity.clone(), page.metrics(), page.recent))
    }
}

/// Whether the browser may read what plain HTTP could not: a shell, a wall, a verification.
fn browser_may_help(f: &Failure) -> bool {
    matches!(f.kind, FailureKind::Blocked | FailureKind::UnknownShape)
}

/// Whether a page read says all it will: data, or an answer such as "no such account" that
/// waiting for more scripts will not change. A shell or a wall may still turn into data.
fn settled<T>(read: &Result<T, PageError>) -> bool {
    match read {
        Ok(_) => true,
        Err(e) => matches!(
            e,
            PageError::NotFound(_) | PageError::Private(_) | PageError::Region(_)
        ),
    }
}

fn at_login(l: &Loaded) -> bool {
    l.final_url
        .as_ref()
        .and_then(|u| u.path_segments()?.next().map(|s| s == "login"))
        .unwrap_or(false)
}

fn browser_failure(e: BrowserError) -> Stop {
    let kind = match &e {
        BrowserError::Cancelled => return Stop::Cancelled,
        BrowserError::Unavailable(_) => FailureKind::BrowserUnavailable,
        BrowserError::Timeout(_) => FailureKind::Timeout,
        BrowserError::TooLarge(_) => FailureKind::TooLarge,
        BrowserError::Load(_) => FailureKind::Network,
    };
    Stop::Failed(failure(kind, e.to_string()))
}

fn clip(detail: String) -> String {
    if detail.chars().count() > MAX_DETAIL_CHARS {
        detail.chars().take(MAX_DETAIL_CHARS).collect()
    } else {
        detail
    }
}
