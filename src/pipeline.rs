//! The pipeline, in one home: collect → store → detect (→ digest → outbox → transport). The
//! daemon's workers, `trendwatch run --once` and the one-shot commands (`collect`, `digest`)
//! all run these functions.
//!
//! Each stage's failure is a [`PipelineError`] naming the stage, so a user reading the log or
//! the exit message knows where it broke. This module never schedules, sleeps or handles
//! signals: callers decide when a cycle runs and pass the token that stops it.

use tokio_util::sync::CancellationToken;

use crate::collect::{self, CollectError, Collector};
use crate::config::{Config, Watchlist};
use crate::model::UnixSeconds;
use crate::store::access::StoreAccess;
use crate::store::{Store, StoreError};

/// Meta keys of the daemon's bookkeeping in the store.
pub const LAST_COLLECT_AT: &str = "daemon.last_collect_at";
pub const LAST_DIGEST_AT: &str = "daemon.last_digest_at";

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("collect")]
    Collect(#[from] CollectError),
    #[error("store")]
    Store(#[from] StoreError),
    #[error("digest")]
    Digest(#[from] crate::digest::DigestError),
    #[error("mail")]
    Mail(#[from] crate::mail::MailError),
    /// The digest was made and waits in the outbox: the send will be tried again.
    #[error("digest {id} queued but not sent yet: {why}")]
    NotSentYet { id: String, why: String },
}

/// What a collection pass gave.
#[derive(Debug, Clone, Default)]
pub struct PassReport {
    pub entities: usize,
    pub failed: usize,
    pub trends: usize,
    /// The most common cause of failure, with one example's detail.
    pub main_failure: Option<(crate::model::FailureKind, String)>,
}

impl PassReport {
    /// Every entity failed: nothing new was learnt.
    pub fn all_failed(&self) -> bool {
        self.entities > 0 && self.failed == self.entities
    }

    /// `all 11 sources failed (network: dns error …)`, for one line of a terminal.
    pub fn all_failed_message(&self) -> String {
        let n = self.entities;
        match &self.main_failure {
            Some((kind, detail)) => {
                let detail = crate::digest::clean(detail, 120);
                crate::language::tr!(
                    format!("les {n} sources sont en échec ({kind} : {detail})"),
                    format!("all {n} sources failed ({kind}: {detail})")
                )
            }
            None => crate::language::tr!(
                format!("les {n} sources sont en échec"),
                format!("all {n} sources failed")
            ),
        }
    }
}

/// Where a digest went, for the person who ran the command.
#[derive(Debug, Clone)]
pub struct DigestReport {
    pub items: usize,
    pub message_id: String,
    /// `the file /var/lib/…/outbox/….eml`, `smtp.example.org:587` …
    pub delivered_to: String,
}

/// Reads a unix time stored by [`set_time`].
pub fn get_time(store: &Store, key: &str) -> Result<Option<UnixSeconds>, StoreError> {
    Ok(store
        .meta_get(key)?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|s| s.trim().parse().ok()))
}

pub fn set_time(store: &Store, key: &str, at: UnixSeconds) -> Result<(), StoreError> {
    store.meta_set(key, at.to_string().as_bytes())
}

/// One collection pass, stored as one durable batch, then detection over the store (which
/// also refreshes the discovered tags collected from now on). With `progress` (the units'
/// name), a person at the command line sees the pass advance.
pub async fn collect_pass(
    store: &impl StoreAccess,
    collector: &Collector,
    cfg: &Config,
    watchlist: &Watchlist,
    cancel: &CancellationToken,
    progress: Option<&'static str>,
) -> Result<PassReport, PipelineError> {
    let targets = store.with(|s| targets(s, watchlist)).await?;
    let pass = Pass {
        store,
        collector,
        cfg,
        watchlist,
        whole: true,
    };
    match progress {
        Some(what) => {
            let reporter = crate::progress::Reporter::new(what, targets.len());
            let report = pass.run(&targets, cancel, &reporter, &mut |_, _| {}).await;
            reporter.finish();
            report
        }
        None => {
            pass.run(&targets, cancel, &crate::progress::Quiet, &mut |_, _| {})
                .await
        }
    }
}

/// What a pass collects now: the watchlist's entities, the discovered tags being tracked,
/// and the campaigns' videos that are due, with the creators of a running campaign (their
/// profiles list the new videos that join it) and the videos that joined.
pub fn targets(store: &Store, watchlist: &Watchlist) -> Result<Vec<collect::Target>, StoreError> {
    let tracked = store.tracked_discovered()?;
    let mut targets = collect::targets(watchlist, &tracked);
    let now = crate::clock::now();
    let today = crate::clock::now_utc().date_naive();
    let running: Vec<&crate::config::Campaign> = watchlist
        .campaigns
        .iter()
        .filter(|c| c.running_on(today) && !c.creators.is_empty())
        .collect();
    if !running.is_empty() {
        let mut seen: std::collections::HashSet<crate::model::EntityId> =
            targets.iter().map(collect::Target::entity).collect();
        let videos = store.videos_seen_since(now - 60 * 86_400)?;
        for c in running {
            let creators = c
                .creators
                .iter()
                .map(|h| collect::Target::TiktokCreator(h.clone()));
            let joined =
                joined_videos(c, &videos, now)
                    .into_iter()
                    .map(|v| collect::Target::TiktokVideo {
                        handle: v.handle,
                        id: v.video_id,
                    });
            for t in creators.chain(joined) {
                if seen.insert(t.entity()) {
                    targets.push(t);
                }
            }
        }
    }
    daily_after_the_end(targets, watchlist, store)
}

/// The new videos of a campaign's `creators`, published in its window, that carry one of its
/// hashtags: they join the campaign's videos.
fn joined_videos(
    campaign: &crate::config::Campaign,
    seen: &[crate::model::StoredVideo],
    at: UnixSeconds,
) -> Vec<crate::config::CampaignVideo> {
    let day = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map_or(at, |t| t.and_utc().timestamp())
    };
    let from = day(campaign.start);
    let to = campaign.end.map_or(at, |end| day(end) + 86_400).min(at);
    let mut out: Vec<crate::config::CampaignVideo> = Vec::new();
    for s in seen {
        let v = &s.video;
        let Some(author) = v.author.as_deref() else {
            continue;
        };
        let listed = campaign.videos.iter().any(|c| c.video_id == v.id);
        let ours = campaign.creators.iter().any(|c| c == author);
        let tagged = v.hashtags.iter().any(|t| campaign.hashtags.contains(t));
        let in_window = (from..=to).contains(&v.created_at);
        if ours && tagged && in_window && !listed && !out.iter().any(|o| o.video_id == v.id) {
            out.push(crate::config::CampaignVideo {
                handle: author.to_owned(),
                video_id: v.id.clone(),
                cost: None,
            });
        }
    }
    out
}

/// A campaign's videos are read at every pass while it runs, then once a day for
/// [`crate::config::FOLLOW_AFTER_END_DAYS`] days: a video read less than 20 hours ago is left
/// out of this pass once its campaign has ended.
fn daily_after_the_end(
    targets: Vec<collect::Target>,
    watchlist: &Watchlist,
    store: &Store,
) -> Result<Vec<collect::Target>, StoreError> {
    let now = crate::clock::now();
    let today = crate::clock::now_utc().date_naive();
    let ended: Vec<crate::model::EntityId> = watchlist
        .campaigns
        .iter()
        .filter(|c| !c.running_on(today))
        .flat_map(|c| c.videos.iter().map(|v| v.entity()))
        .collect();
    if ended.is_empty() {
        return Ok(targets);
    }
    let recent: Vec<crate::model::EntityId> = store
        .entities()?
        .into_iter()
        .filter(|e| ended.contains(&e.id) && e.last_success.is_some_and(|t| now - t < 20 * 3600))
        .map(|e| e.id)
        .collect();
    Ok(targets
        .into_iter()
        .filter(|t| !recent.contains(&t.entity()))
        .collect())
}

/// Targets collected, then stored, together: a pass's memory is bounded by this many pages'
/// outcomes, not by the size of the watchlist. Small, because sled copies the nodes a
/// transaction touches: one transaction over 1,000 entities peaked at 14 MB of copies
/// (BENCHMARKS.md, "One `trendwatch collect` pass").
pub const PASS_CHUNK: usize = 100;

/// An entity's outcome and how long it took.
pub type TimedOutcome = (crate::model::EntityOutcome, std::time::Duration);

/// One collection pass over given targets: the one home of "collect, store, bookkeep" for the
/// daemon's workers, `run --once` and `trendwatch collect`.
pub struct Pass<'a, A: StoreAccess> {
    /// The store, reached for each chunk's write: a pass never holds it while it fetches.
    pub store: &'a A,
    pub collector: &'a Collector,
    pub cfg: &'a Config,
    pub watchlist: &'a Watchlist,
    /// A pass over the whole watchlist does the pass's bookkeeping (last collection time,
    /// discovered tags); `collect --only` stores only what it collected.
    pub whole: bool,
}

impl<A: StoreAccess> Pass<'_, A> {
    /// Collects `targets` chunk by chunk, each chunk stored in one durable batch before the
    /// next starts; `on_chunk` sees each chunk's outcomes (the CLI's table). Once `cancel`
    /// fires, what was collected is stored and the pass ends.
    pub async fn run(
        &self,
        targets: &[collect::Target],
        cancel: &CancellationToken,
        progress: &dyn crate::progress::Progress,
        on_chunk: &mut dyn FnMut(&[crate::model::EntityOutcome], &[std::time::Duration]),
    ) -> Result<PassReport, PipelineError> {
        // One pass at a time on a state directory: two would read the same sites at twice
        // the polite pace.
        let Some(_pass_lock) = PassLock::take(self.store.state_dir(), cancel).await? else {
            return Ok(Tally::default().report(0));
        };
        let collector = self.collector;
        self.store
            .with(|s| restore_fetch_routes(s, collector))
            .await?;
        let mut tally = Tally::default();
        let mut stored = Ok(());
        for chunk in targets.chunks(PASS_CHUNK) {
            let fetching = std::time::Instant::now();
            let timed = self.collector.collect_part(chunk, cancel, progress).await;
            // Pages that arrive at once (a mirror, no politeness interval) would make
            // reopening the store for each chunk the cost of the pass; pages that take their
            // time (the usual per-host interval: minutes a chunk) leave it free meanwhile.
            let quick = fetching.elapsed() < LINGER_UNDER;
            let (outcomes, took): (Vec<_>, Vec<_>) = timed.into_iter().unzip();
            stored = self
                .store
                .with(|s| {
                    s.record_pass(&outcomes)
                        .and_then(|()| save_labels(s, &outcomes))
                })
                .await;
            if stored.is_err() {
                break;
            }
            self.store.linger(quick);
            tally.add(&outcomes);
            on_chunk(&outcomes, &took);
            if cancel.is_cancelled() {
                break;
            }
        }
        self.collector.finish_pass().await;
        let done = self.finish(stored, tally).await;
        self.store.linger(false);
        done
    }

    /// The pass's last writes: the sites' routes and, for a whole pass, its bookkeeping.
    async fn finish(
        &self,
        stored: Result<(), StoreError>,
        tally: Tally,
    ) -> Result<PassReport, PipelineError> {
        let collector = self.collector;
        stored?;
        self.store.with(|s| save_fetch_routes(s, collector)).await?;
        if self.whole {
            let (cfg, watchlist) = (self.cfg, self.watchlist);
            self.store
                .with(|s| bookkeep(s, cfg, watchlist, tally))
                .await
        } else {
            Ok(tally.report(0))
        }
    }
}

/// Writes what `trendwatch status` shows when it cannot open the store itself (another
/// process holds it past its wait, or the store is another user's): every job and `collect`
/// leave one behind.
pub fn write_status_snapshot(store: &Store, cfg: &Config, watchlist: &Watchlist) {
    let written = crate::status::StatusReport::build(store, cfg, watchlist, crate::clock::now())
        .map_err(|e| crate::error::Chain(&e).to_string())
        .and_then(|r| {
            r.save_snapshot(&cfg.state_dir)
                .map_err(|e| crate::error::Chain(&e).to_string())
        });
    if let Err(e) = written {
        tracing::warn!("cannot write the status snapshot: {e}");
    }
}

/// A chunk of pages fetched within this keeps the store open over the next fetch
/// ([`StoreAccess::linger`]).
const LINGER_UNDER: std::time::Duration = std::time::Duration::from_secs(1);

/// A collection pass's claim on a state directory (`STATE_DIR/collect.lock`): a pass started
/// while another runs (the daemon's, a `trendwatch collect`) waits for it to end.
struct PassLock {
    _file: std::fs::File,
}

impl PassLock {
    /// Waits for the lock; `None` when `cancel` fires first.
    async fn take(
        state_dir: &std::path::Path,
        cancel: &CancellationToken,
    ) -> Result<Option<PassLock>, StoreError> {
        let path = state_dir.join("collect.lock");
        let io = |source| StoreError::Io {
            state_dir: state_dir.to_path_buf(),
            source,
        };
        let file = crate::files::lock_file(&path).map_err(io)?;
        let mut said = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(PassLock { _file: file })),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if !said {
                        tracing::info!(
                            "{}",
                            crate::language::tr!(
                                "une autre collecte est en cours sur cette base : celle-ci commence dès qu'elle finit",
                                "another collection is running on this store: this one starts when it ends"
                            )
                        );
                        said = true;
                    }
                    tokio::select! {
                        () = cancel.cancelled() => return Ok(None),
                        () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
                    }
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
        }
    }
}

/// What a pass's chunks add up to.
#[derive(Default)]
struct Tally {
    entities: usize,
    failed: usize,
    /// Per failure kind: how many, and the first one's detail.
    failures: Vec<(crate::model::FailureKind, usize, String)>,
}

impl Tally {
    fn add(&mut self, outcomes: &[crate::model::EntityOutcome]) {
        self.entities += outcomes.len();
        for f in outcomes.iter().filter_map(|o| o.failure.as_ref()) {
            self.failed += 1;
            match self.failures.iter_mut().find(|c| c.0 == f.kind) {
                Some(c) => c.1 += 1,
                None => self.failures.push((f.kind, 1, f.detail.clone())),
            }
        }
    }

    fn report(self, trends: usize) -> PassReport {
        PassReport {
            entities: self.entities,
            failed: self.failed,
            trends,
            main_failure: self
                .failures
                .into_iter()
                .max_by_key(|c| c.1)
                .map(|(k, _, d)| (k, d)),
        }
    }
}

/// Where the sites' need for the browser is kept between passes.
const FETCH_ROUTES: &str = "fetch_routes";

/// Gives `collector` what earlier passes learnt of each site's need for the browser. A record
/// that cannot be read is forgotten (the next pages simply try plain HTTP first).
pub fn restore_fetch_routes(store: &Store, collector: &Collector) -> Result<(), PipelineError> {
    if let Some(raw) = store.meta_get(FETCH_ROUTES)? {
        match serde_json::from_slice(&raw) {
            Ok(routes) => collector.restore_fetch_routes(routes),
            Err(e) => tracing::warn!("forgetting an unreadable fetch_routes record: {e}"),
        }
    }
    Ok(())
}

/// Keeps what this pass learnt of each site's need for the browser.
pub fn save_fetch_routes(store: &Store, collector: &Collector) -> Result<(), PipelineError> {
    let routes = collector.fetch_routes();
    if routes.hosts.is_empty() {
        return Ok(());
    }
    // A map of strings and numbers always serialises.
    let Ok(raw) = serde_json::to_vec(&routes) else {
        return Ok(());
    };
    store.meta_set(FETCH_ROUTES, &raw)?;
    Ok(())
}

/// The bookkeeping of a whole pass, once it is stored: the time of the last collection (so
/// the daemon does not collect again at start), detection, and the discovered tags to follow
/// from now on.
fn bookkeep(
    store: &Store,
    cfg: &Config,
    watchlist: &Watchlist,
    tally: Tally,
) -> Result<PassReport, PipelineError> {
    let at = crate::clock::now();
    set_time(store, LAST_COLLECT_AT, at)?;
    let input = crate::detect::load_input(store, watchlist, &cfg.detect, at)?;
    let trends = crate::detect::detect(&input, &cfg.detect, at);
    let discovery_on = watchlist.discovery.enabled;
    if discovery_on {
        store.set_tracked_discovered(&crate::detect::tags_to_track(
            &input,
            watchlist.discovery.max_tracked,
        ))?;
    }
    Ok(tally.report(trends.len()))
}

/// A digest written to the outbox, not sent yet.
#[derive(Debug, Clone)]
pub struct QueuedDigest {
    pub items: usize,
    pub item: crate::model::OutboxItem,
}

/// Builds the digest as of now and writes it to the outbox. Queued and recorded as the last
/// digest in one durable step: this digest is done, and sending is retried from the outbox,
/// so neither a crash nor a failed send ever makes a second digest.
pub fn queue_digest(
    store: &Store,
    cfg: &Config,
    watchlist: &Watchlist,
) -> Result<QueuedDigest, PipelineError> {
    let at = crate::clock::now();
    let digest = digest_as_of(store, cfg, watchlist, at)?;
    let rendered = crate::digest::render(&digest, cfg.digest.language)?;
    let last = [(LAST_DIGEST_AT, at.to_string().into_bytes())];
    let item = crate::mail::queue_digest(store, cfg, &digest, &rendered, at, &last)?;
    Ok(QueuedDigest {
        items: digest.item_count(),
        item,
    })
}

impl QueuedDigest {
    /// Where it went after `report`, or why it is still waiting.
    pub fn delivered(
        self,
        cfg: &Config,
        report: &crate::mail::FlushReport,
    ) -> Result<DigestReport, PipelineError> {
        if let Some((_, why)) = report.failed.iter().find(|(id, _)| *id == self.item.id) {
            return Err(PipelineError::NotSentYet {
                id: self.item.id,
                why: why.clone(),
            });
        }
        Ok(DigestReport {
            items: self.items,
            delivered_to: crate::mail::delivered_to(cfg, &self.item),
            message_id: self.item.id,
        })
    }
}

/// Builds the digest as of now, writes it to the outbox, then sends what is due.
pub async fn digest_pass(
    store: &Store,
    cfg: &Config,
    watchlist: &Watchlist,
) -> Result<DigestReport, PipelineError> {
    let queued = queue_digest(store, cfg, watchlist)?;
    let report = flush_outbox(store, cfg).await?;
    queued.delivered(cfg, &report)
}

/// What the digest as of `at` says: detection over the store, then the digest's own choices.
pub fn digest_as_of(
    store: &Store,
    cfg: &Config,
    watchlist: &Watchlist,
    at: UnixSeconds,
) -> Result<crate::digest::Digest, PipelineError> {
    let input = crate::detect::load_input(store, watchlist, &cfg.detect, at)?;
    let trends = crate::detect::detect(&input, &cfg.detect, at);
    let health = store.entities()?;
    let inputs = digest_inputs(trends, health, Some(watchlist), store, at)?;
    Ok(crate::digest::build(&inputs, cfg, at)?)
}

/// The digest of `trends` and `health` as of `at`, with no campaign: [`digest_inputs`],
/// then the digest.
pub fn build_digest(
    trends: Vec<crate::detect::Trend>,
    health: Vec<crate::model::EntityInfo>,
    store: &Store,
    cfg: &Config,
    at: UnixSeconds,
) -> Result<crate::digest::Digest, PipelineError> {
    let inputs = digest_inputs(trends, health, None, store, at)?;
    Ok(crate::digest::build(&inputs, cfg, at)?)
}

/// The digest's one load step: everything it shows ([`crate::digest::wanted`]) read from the
/// store here, so the digest stage itself never reads it.
pub fn digest_inputs(
    trends: Vec<crate::detect::Trend>,
    health: Vec<crate::model::EntityInfo>,
    watchlist: Option<&Watchlist>,
    store: &Store,
    at: UnixSeconds,
) -> Result<crate::digest::Inputs, StoreError> {
    let watchlist_campaigns = watchlist.map_or(&[][..], |w| &w.campaigns[..]);
    let wanted = crate::digest::wanted(&trends, &health, at);
    let mut series: std::collections::HashMap<_, Vec<(UnixSeconds, f64)>> = Default::default();
    let mut from_of: std::collections::HashMap<_, UnixSeconds> = Default::default();
    for (id, metric, from) in wanted.series {
        let earliest = from_of.entry((id, metric)).or_insert(from);
        *earliest = (*earliest).min(from);
    }
    for ((id, metric), from) in from_of {
        let points = store.series(&id, &metric, from, at)?;
        series.insert((id, metric), points);
    }
    let mut sent = std::collections::HashMap::new();
    for key in wanted.alert_keys {
        if let Some(last) = store.alert_last(&key)? {
            sent.insert(key, last);
        }
    }
    let day = chrono::DateTime::from_timestamp(at, 0)
        .unwrap_or_default()
        .date_naive();
    let mut campaigns = Vec::new();
    for c in watchlist_campaigns
        .iter()
        .filter(|c| crate::campaign::in_digest(c, day))
    {
        let input = campaign_input(store, c, at)?;
        campaigns.push(crate::digest::CampaignWeek {
            now: crate::campaign::kpis(c, &input, at),
            week_before: crate::campaign::kpis(c, &input, at - 7 * 86_400),
        });
    }
    let mut products = std::collections::HashMap::new();
    for p in watchlist.map_or(&[][..], |w| &w.shop.products[..]) {
        let id = p.entity();
        let label = label(store, &id)?.unwrap_or_default();
        let price = store
            .series(&id, &crate::model::Metric::PRICE, at - 30 * 86_400, at)?
            .last()
            .map(|p| p.1);
        products.insert(
            id,
            crate::digest::ProductFacts {
                title: crate::model::clean_text(&label.title, 120),
                seller: crate::model::clean_text(&label.seller, 80),
                currency: label.currency,
                price,
                my_price: p.my_price,
                url: p.url(),
            },
        );
    }
    Ok(crate::digest::Inputs {
        products,
        campaigns,
        videos: store.videos_seen_since(wanted.videos_since)?,
        refused: crate::model::latest_refusals(&store.outbox_list()?).to_vec(),
        series,
        sent,
        trends,
        health,
    })
}

/// Sends the outbox items that are due (new digests and retries of failed sends).
pub async fn flush_outbox(
    access: &impl crate::mail::OutboxAccess,
    cfg: &Config,
) -> Result<crate::mail::FlushReport, PipelineError> {
    crate::mail::flush(access, cfg, crate::clock::now())
        .await
        .map_err(PipelineError::from)
}

/// `run --once`: one collection, detection, then a digest queued and flushed. The error
/// names the stage that failed; when every source failed, the digest (which says so in its
/// health section) is still made, and the pass is reported as failed.
pub async fn once(
    cfg: &Config,
    watchlist: &Watchlist,
    store: &Store,
) -> Result<OnceReport, PipelineError> {
    let collector = Collector::new(&cfg.collect)?;
    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.cancel();
        }
    });
    let pass = collect_pass(store, &collector, cfg, watchlist, &cancel, Some("sources")).await?;
    tracing::info!(
        "collected {} ({} failed); {}",
        crate::digest::locale::plural(pass.entities as i64, "entity", "entities"),
        pass.failed,
        crate::digest::locale::plural(pass.trends as i64, "trend", "trends")
    );
    let digest = digest_pass(store, cfg, watchlist).await?;
    tracing::info!(
        "digest with {} ({}) delivered to {}",
        crate::digest::locale::plural(digest.items as i64, "item", "items"),
        digest.message_id,
        digest.delivered_to
    );
    store.flush()?;
    Ok(OnceReport { pass, digest })
}

/// What `run --once` did.
#[derive(Debug, Clone)]
pub struct OnceReport {
    pub pass: PassReport,
    pub digest: DigestReport,
}

/// Meta key of what a page said of an entity in words (a product's title, seller, currency).
fn label_key(id: &crate::model::EntityId) -> String {
    format!("label.{id}")
}

/// Keeps the latest words each page said of its entity.
fn save_labels(store: &Store, outcomes: &[crate::model::EntityOutcome]) -> Result<(), StoreError> {
    for o in outcomes {
        if let Some(label) = o.observation.as_ref().and_then(|obs| obs.label.as_ref()) {
            let json = serde_json::to_vec(label).unwrap_or_default();
            store.meta_set(&label_key(&o.entity), &json)?;
        }
    }
    Ok(())
}

/// What the pages said of `id` in words, when one did.
pub fn label(
    store: &Store,
    id: &crate::model::EntityId,
) -> Result<Option<crate::model::Label>, StoreError> {
    Ok(store
        .meta_get(&label_key(id))?
        .and_then(|raw| serde_json::from_slice(&raw).ok()))
}

/// A followed video's counters (and its creator's followers read on its page) up to `at`.
fn video_series(
    store: &Store,
    id: &crate::model::EntityId,
    at: UnixSeconds,
) -> Result<std::collections::HashMap<crate::model::Metric, Vec<(UnixSeconds, f64)>>, StoreError> {
    use crate::model::Metric;
    let mut series = std::collections::HashMap::new();
    for metric in Metric::VIDEO_COUNTERS
        .into_iter()
        .chain([Metric::FOLLOWERS])
    {
        let points = store.series(id, &metric, UnixSeconds::MIN, at)?;
        if !points.is_empty() {
            series.insert(metric, points);
        }
    }
    Ok(series)
}

/// A campaign's one load step: its videos' series, the failures of those that could not be
/// read, its creators' usual engagement and the organic mentions of its tags, read from the
/// store so that [`crate::campaign::kpis`] stays a pure function.
pub fn campaign_input(
    store: &Store,
    campaign: &crate::config::Campaign,
    at: UnixSeconds,
) -> Result<crate::campaign::CampaignInput, StoreError> {
    let mut input = crate::campaign::CampaignInput::default();
    let entities = store.entities()?;
    for v in &campaign.videos {
        let id = v.entity();
        let series = video_series(store, &id, at)?;
        input.series.insert(id.clone(), series);
        if let Some(f) = entities
            .iter()
            .find(|e| e.id == id && e.is_failing())
            .and_then(|e| e.last_failure.as_ref())
        {
            input.failures.insert(
                id,
                format!("{}: {}", f.kind, crate::model::clean_text(&f.detail, 120)),
            );
        }
    }
    let day = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map_or(at, |t| t.and_utc().timestamp())
    };
    let window_start = day(campaign.start);
    let window_end = campaign.end.map_or(at, |end| {
        day(end) + (crate::config::FOLLOW_AFTER_END_DAYS + 1) * 86_400
    });
    let seen = store.videos_seen_since(window_start - 60 * 86_400)?;
    input.joined = joined_videos(campaign, &seen, at);
    // The joined videos' series (they are followed from the pass after they were seen).
    for v in &input.joined {
        let id = v.entity();
        let series = video_series(store, &id, at)?;
        input.series.insert(id, series);
    }
    let sponsored: Vec<&str> = campaign
        .videos
        .iter()
        .chain(&input.joined)
        .map(|v| v.video_id.as_str())
        .collect();
    let mut usual: std::collections::HashMap<String, Vec<f64>> = Default::default();
    for s in &seen {
        let v = &s.video;
        if sponsored.contains(&v.id.as_str()) {
            continue;
        }
        if let Some(author) = v.author.as_deref() {
            if campaign.videos.iter().any(|c| c.handle == author) && v.plays > 0 {
                let engagements = (v.likes + v.comments + v.shares + v.saves) as f64;
                usual
                    .entry(author.to_owned())
                    .or_default()
                    .push(engagements / v.plays as f64);
            }
        }
        let tagged = v.hashtags.iter().any(|t| campaign.hashtags.contains(t));
        if tagged && v.created_at >= window_start && v.created_at <= window_end.min(at) {
            input.mentions.push((v.id.clone(), v.plays));
        }
    }
    for (author, rates) in usual {
        if let Some(m) = crate::detect::stats::median(&rates) {
            input.usual_engagement.insert(author, m);
        }
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Campaign, CampaignVideo, Objective};
    use crate::model::{StoredVideo, VideoRecord};

    fn seen(id: &str, author: &str, created_at: UnixSeconds, tags: &[&str]) -> StoredVideo {
        StoredVideo {
            video: VideoRecord {
                id: id.into(),
                author: Some(author.into()),
                created_at,
                hashtags: tags.iter().map(|t| (*t).to_owned()).collect(),
                ..Default::default()
            },
            first_seen: created_at,
            last_seen: created_at,
            via: Vec::new(),
        }
    }

    #[test]
    fn a_campaign_creators_new_tagged_video_in_the_window_joins_it() {
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let t = |d: u32| {
            day(d)
                .and_hms_opt(12, 0, 0)
                .map(|x| x.and_utc().timestamp())
                .unwrap()
        };
        let c = Campaign {
            name: "n".into(),
            start: day(3),
            end: Some(day(20)),
            objective: Objective::Engagement,
            currency: "EUR".into(),
            budget: Some(500.0),
            revenue: None,
            hashtags: vec!["baumekarite".into()],
            videos: vec![CampaignVideo {
                handle: "lea".into(),
                video_id: "1".into(),
                cost: None,
            }],
            creators: vec!["lea".into()],
        };
        let videos = [
            seen("1", "lea", t(4), &["baumekarite"]),  // already listed
            seen("2", "lea", t(5), &["baumekarite"]),  // joins
            seen("3", "lea", t(6), &["autre"]),        // not the brand's tag
            seen("4", "tam", t(6), &["baumekarite"]),  // not a campaign creator: a mention
            seen("5", "lea", t(1), &["baumekarite"]),  // before the start
            seen("6", "lea", t(25), &["baumekarite"]), // after the end
        ];
        let joined = joined_videos(&c, &videos, t(28));
        let ids: Vec<&str> = joined.iter().map(|v| v.video_id.as_str()).collect();
        assert_eq!(ids, ["2"]);
    }
}
