//! Collection: fetch public pages politely and turn them into observations.
//!
//! A [`Collector`] is built once from `[collect]` (one HTTP client, one per-host limiter) and
//! runs passes over [`Target`]s: TikTok hashtags and creators ([`tiktok`]) and custom JSON and
//! HTML sources (`custom`). Each target ends as one [`EntityOutcome`] carrying an observation,
//! a typed failure, or both (a private account still shows its counts). Parsing is pure and
//! lives in the submodules; this module only sequences requests.
//!
//! What this module must never do: let one entity's failure touch another's, panic on any
//! page, start a request after the pass is cancelled, or put a custom source's expanded URL
//! (which may hold an API key) in a message.

pub(crate) mod browser;
pub(crate) mod custom;
pub mod http;
pub mod numbers;
mod plain;
mod routing;
pub mod tiktok;

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use rand::Rng as _;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::{BrowserMode, CollectConfig, Source, SourceKind, Watchlist};
use crate::model::{
    normalize_name, EntityId, EntityOutcome, Failure, FailureKind, Metric, Observation,
    VideoRecord, TIKTOK,
};

use browser::BrowserFetcher;
use http::{Accept, FetchError, Http, Page};
pub use routing::FetchRoutes;
use tiktok::PageError;

/// Longest failure detail kept: it is shown in `status` and the digest.
const MAX_DETAIL_CHARS: usize = 300;

/// One thing to collect in a pass.
#[derive(Debug, Clone)]
pub enum Target {
    /// A normalised hashtag, without `#`.
    TiktokHashtag(String),
    /// A normalised handle, without `@`.
    TiktokCreator(String),
    /// A followed video (a campaign's): normalised handle and video id.
    TiktokVideo { handle: String, id: String },
    /// A TikTok Shop product: the slug of its page and its id.
    ShopProduct { slug: String, id: String },
    /// A custom source and one of its ids.
    Custom(Source, String),
}

impl Target {
    pub fn entity(&self) -> EntityId {
        match self {
            Self::TiktokHashtag(tag) => EntityId::hashtag(TIKTOK, tag),
            Self::TiktokCreator(handle) => EntityId::creator(TIKTOK, handle),
            Self::TiktokVideo { handle, id } => EntityId::video(TIKTOK, handle, id),
            Self::ShopProduct { id, .. } => EntityId::product(id),
            Self::Custom(source, id) => EntityId::custom(&source.name, id),
        }
    }
}

/// Everything a pass collects: the watchlist's hashtags, the discovered tags now tracked
/// automatically (once, not repeating a watched one), its creators, then each custom source's
/// ids, in that order.
pub fn targets(watchlist: &Watchlist, tracked_discovered: &[String]) -> Vec<Target> {
    let mut seen = HashSet::new();
    let mut out: Vec<Target> = Vec::new();
    for tag in watchlist.tiktok.hashtags.iter().chain(tracked_discovered) {
        let tag = normalize_name(tag);
        if !tag.is_empty() && seen.insert(format!("#{tag}")) {
            out.push(Target::TiktokHashtag(tag));
        }
    }
    for handle in &watchlist.tiktok.creators {
        let handle = normalize_name(handle);
        if !handle.is_empty() && seen.insert(format!("@{handle}")) {
            out.push(Target::TiktokCreator(handle));
        }
    }
    for p in &watchlist.shop.products {
        if seen.insert(format!("shop/{}", p.product_id)) {
            out.push(Target::ShopProduct {
                slug: p.slug.clone(),
                id: p.product_id.clone(),
            });
        }
    }
    // The brand tags of a followed campaign (their pages list the videos that mention it),
    // and its videos.
    let today = crate::clock::now_utc().date_naive();
    for campaign in watchlist.campaigns.iter().filter(|c| c.followed_on(today)) {
        for tag in &campaign.hashtags {
            if seen.insert(format!("#{tag}")) {
                out.push(Target::TiktokHashtag(tag.clone()));
            }
        }
        for v in &campaign.videos {
            if seen.insert(format!("@{}/{}", v.handle, v.video_id)) {
                out.push(Target::TiktokVideo {
                    handle: v.handle.clone(),
                    id: v.video_id.clone(),
                });
            }
        }
    }
    for source in &watchlist.sources {
        out.extend(
            source
                .ids
                .iter()
                .map(|id| Target::Custom(source.clone(), id.clone())),
        );
    }
    out
}

/// The collector could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Http(#[from] http::HttpError),
}

/// Collects targets; built once, shared by every pass.
#[derive(Clone)]
pub struct Collector {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    base: Url,
    concurrency: usize,
    /// `None` with `browser = "off"`.
    browser: Option<BrowserFetcher>,
    browser_mode: BrowserMode,
    /// Per host: how often in a row its pages needed the browser.
    routes: std::sync::Mutex<FetchRoutes>,
}

impl Collector {
    pub fn new(cfg: &CollectConfig) -> Result<Collector, CollectError> {
        Ok(Self {
            inner: Arc::new(Inner {
                http: Http::new(cfg)?,
                base: cfg.tiktok_base_url.clone(),
                concurrency: cfg.concurrency.max(1),
                browser: (cfg.browser.mode != BrowserMode::Off).then(|| BrowserFetcher::new(cfg)),
                browser_mode: cfg.browser.mode,
                routes: Default::default(),
            }),
        })
    }

    /// Bytes read off the wire by this collector so far (bodies, decompressed).
    pub fn bytes_read(&self) -> u64 {
        self.inner.http.bytes_read()
    }

    /// One pass: one outcome per target, in the order of `targets`. Never panics. Once
    /// `cancel` fires no new request starts and requests in flight finish; targets that had
    /// not started by then are left out of the result (nothing was learnt about them).
    pub async fn collect(
        &self,
        targets: &[Target],
        cancel: &CancellationToken,
    ) -> Vec<EntityOutcome> {
        self.collect_timed(targets, cancel)
            .await
            .into_iter()
            .map(|(outcome, _)| outcome)
            .collect()
    }

    /// [`Collector::collect`], with the time each entity took (for `trendwatch collect`).
    pub async fn collect_timed(
        &self,
        targets: &[Target],
        cancel: &CancellationToken,
    ) -> Vec<(EntityOutcome, Duration)> {
        self.collect_reporting(targets, cancel, &crate::progress::Quiet)
            .await
    }

    /// [`Collector::collect_timed`], telling `progress` of each entity as it finishes.
    pub async fn collect_reporting(
        &self,
        targets: &[Target],
        cancel: &CancellationToken,
        progress: &dyn crate::progress::Progress,
    ) -> Vec<(EntityOutcome, Duration)> {
        let out = self.collect_part(targets, cancel, progress).await;
        self.finish_pass().await;
        out
    }

    /// The end of a pass collected in parts: the browser, if one was started, is stopped (an
    /// idle daemon runs none).
    pub async fn finish_pass(&self) {
        if let Some(browser) = &self.inner.browser {
            browser.shut_down().await;
        }
    }

    /// One part of a pass (see [`Collector::collect_reporting`]); the browser stays up for
    /// the next part until [`Collector::finish_pass`].
    pub async fn collect_part(
        &self,
        targets: &[Target],
        cancel: &CancellationToken,
        progress: &dyn crate::progress::Progress,
    ) -> Vec<(EntityOutcome, Duration)> {
        // Entities in progress are bounded too, so bodies cannot pile up in memory.
        let running = Arc::new(Semaphore::new(self.inner.concurrency));
        let mut set = JoinSet::new();
        let mut slots: Vec<Option<(EntityOutcome, Duration)>> = vec![None; targets.len()];
        for (i, target) in targets.iter().enumerate() {
            let permit = tokio::select! {
                _ = cancel.cancelled() => break,
                p = Arc::clone(&running).acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let inner = Arc::clone(&self.inner);
            let target = target.clone();
            let cancel = cancel.clone();
            set.spawn(async move {
                let started = Instant::now();
                // A panic would be a bug in a parser; it fails this entity, not the pass.
                let out = AssertUnwindSafe(inner.collect_one(&target, &cancel))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| {
                        tracing::error!(entity = %target.entity(), "collection task panicked");
                        Some(failed(
                            target.entity(),
                            FailureKind::UnknownShape,
                            "internal error while reading the page".into(),
                        ))
                    });
                drop(permit);
                (i, out.map(|o| (o, started.elapsed())))
            });
            // Collect finished ones as we go so the set stays small.
            while let Some(done) = set.try_join_next() {
                store_result(&mut slots, done, progress);
            }
        }
        while let Some(done) = set.join_next().await {
            store_result(&mut slots, done, progress);
        }
        slots.into_iter().flatten().collect()
    }

    /// What this collector learnt of each site's need for the browser, to keep for the next
    /// pass (each pass of the daemon is a new process).
    pub fn fetch_routes(&self) -> FetchRoutes {
        self.inner
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Starts from what an earlier pass learnt of each site's need for the browser.
    pub fn restore_fetch_routes(&self, routes: FetchRoutes) {
        *self
            .inner
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = routes;
    }

    /// Pages read through the browser so far.
    pub fn browser_pages(&self) -> u64 {
        self.inner.browser.as_ref().map_or(0, |b| b.pages_loaded())
    }

    /// The process id of the browser this collector started and still runs, if any.
    pub async fn browser_pid(&self) -> Option<u32> {
        match &self.inner.browser {
            Some(b) => b.browser_pid().await,
            None => None,
        }
    }

    /// Collects one target; `None` only when the pass was cancelled before anything was learnt.
    pub async fn collect_one(
        &self,
        target: &Target,
        cancel: &CancellationToken,
    ) -> Option<EntityOutcome> {
        self.inner.collect_one(target, cancel).await
    }
}

type Timed = (EntityOutcome, Duration);
type Done = Result<(usize, Option<Timed>), tokio::task::JoinError>;

fn store_result(slots: &mut [Option<Timed>], done: Done, progress: &dyn crate::progress::Progress) {
    match done {
        Ok((i, out)) => {
            if let Some((o, _)) = &out {
                progress.done(o.failure.is_some() && o.observation.is_none());
            }
            if let Some(slot) = slots.get_mut(i) {
                *slot = out;
            }
        }
        // Only a runtime shutting down aborts a task; its entity is simply not reported.
        Err(e) => tracing::warn!("collection task stopped: {e}"),
    }
}

fn failure(kind: FailureKind, detail: impl Into<String>) -> Failure {
    let detail: String = detail.into();
    let detail = if detail.chars().count() > MAX_DETAIL_CHARS {
        let mut d: String = detail.chars().take(MAX_DETAIL_CHARS).collect();
        d.push('…');
        d
    } else {
        detail
    };
    Failure {
        at: crate::clock::now(),
        kind,
        detail,
    }
}

fn failed(entity: EntityId, kind: FailureKind, detail: String) -> EntityOutcome {
    EntityOutcome {
        fetched_by: Default::default(),
        entity,
        observation: None,
        failure: Some(failure(kind, detail)),
    }
}

fn observed(
    entity: EntityId,
    metrics: Vec<(Metric, f64)>,
    videos: Vec<VideoRecord>,
) -> EntityOutcome {
    EntityOutcome {
        fetched_by: Default::default(),
        entity,
        observation: Some(Observation {
            at: crate::clock::now(),
            metrics,
            videos,
            label: None,
        }),
        failure: None,
    }
}

/// Why a TikTok fetch or page gave nothing, as a failure (or `None` when cancelled).
enum Stop {
    Cancelled,
    Failed(Failure),
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Self {
        Self::Failed(f)
    }
}

impl Inner {
    async fn collect_one(
        &self,
        target: &Target,
        cancel: &CancellationToken,
    ) -> Option<EntityOutcome> {
        let entity = target.entity();
        let started = Instant::now();
        let result = match target {
            Target::TiktokCreator(_)
            | Target::TiktokHashtag(_)
            | Target::TiktokVideo { .. }
            | Target::ShopProduct { .. } => self.tiktok(&entity, target, cancel).await,
            Target::Custom(source, id) => self.custom(&entity, source, id, cancel).await,
        };
        let out = match result {
            Ok(out) => out,
            Err(Stop::Cancelled) => return None,
            Err(Stop::Failed(f)) => EntityOutcome {
                fetched_by: Default::default(),
                entity,
                observation: None,
                failure: Some(f),
            },
        };
        tracing::debug!(
            entity = %out.entity,
            failure = out.failure.as_ref().map(|f| f.kind.as_str()),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "collected"
        );
        Some(out)
    }

    async fn custom(
        &self,
        entity: &EntityId,
        source: &Source,
        id: &str,
        cancel: &CancellationToken,
    ) -> Result<EntityOutcome, Stop> {
        let url = source
            .url
            .expand(id, |name| std::env::var(name).ok())
            .map_err(|e| failure(FailureKind::Network, format!("source {}: {e}", source.name)))?;
        let accept = match source.kind {
            SourceKind::Json { .. } => Accept::Json,
            SourceKind::Html { .. } => Accept::Html,
        };
        let page = self
            .http
            .get(&url, accept, cancel)
            .await
            .map_err(|e| match e {
                FetchError::Cancelled => Stop::Cancelled,
                other => Stop::Failed(failure(other.kind(), other.to_string())),
            })?;
        let text = page.text();
        let extracted = match &source.kind {
            SourceKind::Json { metrics } => custom::extract_json(&text, metrics)
                .map_err(|why| failure(FailureKind::UnknownShape, why))?,
            SourceKind::Html { metrics } => {
                custom::check_html_shape(&text)
                    .map_err(|why| failure(FailureKind::UnknownShape, why))?;
                custom::extract_html(&text, metrics)
            }
        };
        let mut out = if extracted.metrics.is_empty() {
            EntityOutcome {
                fetched_by: Default::default(),
                entity: entity.clone(),
                observation: None,
                failure: None,
            }
        } else {
            observed(entity.clone(), extracted.metrics, Vec::new())
        };
        if !extracted.missing.is_empty() {
            out.failure = Some(failure(
                FailureKind::UnknownShape,
                extracted.missing.join("; "),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TiktokWatch;

    /// The daemon runs passes on spawned tasks: the collector and its futures must be `Send`.
    #[test]
    fn a_pass_can_run_on_any_worker() {
        fn assert_send<T: Send>(_: &T) {}
        fn assert_sync<T: Send + Sync>() {}
        assert_sync::<Collector>();
        let cfg = CollectConfig {
            concurrency: 1,
            per_host_interval: Duration::ZERO,
            timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            retries: 0,
            max_body: 1024,
            ..CollectConfig::with_defaults(
                crate::config::Schedule::parse("0 0 * * * *").unwrap(),
                Url::parse("http://127.0.0.1:9").unwrap(),
            )
        };
        let collector = Collector::new(&cfg).unwrap();
        let cancel = CancellationToken::new();
        let pass = collector.collect(&[], &cancel);
        assert_send(&pass);
    }

    #[test]
    fn targets_cover_the_watchlist_once_in_a_stable_order() {
        let watchlist = Watchlist {
            tiktok: TiktokWatch {
                hashtags: vec!["skincarenaturel".into(), "bienetre".into()],
                creators: vec!["lea.soinsnaturels".into()],
            },
            sources: vec![Source {
                name: "shop".into(),
                url: crate::config::UrlTemplate::parse("https://example.org/p/{id}").unwrap(),
                ids: vec!["baume".into(), "savon".into()],
                kind: SourceKind::Json { metrics: vec![] },
            }],
            ..Watchlist::default()
        };
        let got: Vec<String> = targets(&watchlist, &["#MushroomCoffee".into(), "bienetre".into()])
            .iter()
            .map(|t| t.entity().to_string())
            .collect();
        assert_eq!(
            got,
            [
                "tiktok:#skincarenaturel",
                "tiktok:#bienetre",
                "tiktok:#mushroomcoffee",
                "tiktok:@lea.soinsnaturels",
                "shop:baume",
                "shop:savon"
            ]
        );
    }
}
