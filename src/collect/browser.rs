//! The browser fetcher: a real headless Chromium, driven over the DevTools protocol
//! (chromiumoxide), for the TikTok pages that plain HTTP clients only get as shells.
//!
//! A page is loaded like a person would: its scripts run (a bot wall's challenge sets its
//! cookie and reloads, a tag page signs and sends its own API calls), and what the page holds
//! is read back: the document as it stands and the JSON answers the page itself fetched from
//! its own host. The caller parses both with the same parsers as plain HTTP pages.
//!
//! The browser is started on the first page of a pass that needs it and stopped when the pass
//! ends ([`BrowserFetcher::shut_down`]), so an idle daemon runs no browser. A Chromium started
//! here gets its own process group and dies with the process that started it (Linux
//! `PR_SET_PDEATHSIG`), so even a SIGKILL of the worker leaves no browser behind.
//!
//! What this module must never do: start a page without the host's politeness slot, read a
//! body past `max_body`, keep a tab open past its deadline, or close a browser it did not
//! start (`browser_url`).

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFinished, EventResponseReceived, GetResponseBodyParams, RequestId,
};
use chromiumoxide::cdp::browser_protocol::target::CloseTargetParams;
use chromiumoxide::cdp::js_protocol::runtime::TerminateExecutionParams;
use chromiumoxide::{Browser, Page};
use futures_util::{FutureExt as _, StreamExt as _};
use tokio::sync::{Mutex, Semaphore};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::{BrowserLaunch, CollectConfig};

mod chromium;

#[cfg(test)]
use chromium::chromium_proxy;
pub(crate) use chromium::find_program;
use chromium::{kill_group, Chromium};

/// Tabs open at once: each costs a renderer process (tens of MB).
const MAX_TABS: usize = 2;
/// How long a started Chromium may take to print its DevTools address.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(20);
/// How often a loading page is looked at again.
const POLL: Duration = Duration::from_millis(200);
/// How long a browser is given to close before its processes are killed.
/// How long a look at a tab may go unanswered before the script holding its renderer is
/// stopped.
const HUNG_AFTER: Duration = Duration::from_secs(2);
const CLOSE_GRACE: Duration = Duration::from_secs(3);

/// Why the browser could not read a page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BrowserError {
    /// No browser could be started or reached; the detail says what to do.
    #[error("{0}")]
    Unavailable(String),
    #[error("page not ready within {0:?} in the browser")]
    Timeout(Duration),
    #[error("page larger than {0} bytes in the browser")]
    TooLarge(u64),
    #[error("the browser could not load the page: {0}")]
    Load(String),
    #[error("cancelled before the page was loaded")]
    Cancelled,
}

/// A page as the browser holds it once its scripts ran.
#[derive(Debug, Clone, Default)]
pub(crate) struct Loaded {
    /// The document's address after redirects and script navigations.
    pub final_url: Option<Url>,
    /// The document as it stands (`outerHTML`).
    pub html: String,
    /// JSON answers the page fetched from its own host, in arrival order.
    pub answers: Vec<Answer>,
}

/// One JSON answer a page's own script fetched.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub url: Url,
    pub body: String,
}

impl Loaded {
    /// The bodies of the answers whose path starts with `prefix`, newest first.
    pub(crate) fn answers_to<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.answers
            .iter()
            .rev()
            .filter(move |a| a.url.path().starts_with(prefix))
            .map(|a| a.body.as_str())
    }
}

/// A started or connected browser, for one pass.
struct Session {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    /// `None` for a browser reached at `browser_url`: not ours to stop.
    process: Option<Chromium>,
    /// Set on every tab.
    user_agent: String,
}

enum Slot {
    Idle,
    Running(Arc<Session>),
    /// Starting failed in this pass: every page that needs the browser gets the same answer
    /// instead of a new launch attempt each.
    Failed(String),
}

/// Drives one browser for the pages that need it; shared by the tasks of a pass.
pub(crate) struct BrowserFetcher {
    launch: BrowserLaunch,
    /// `None`: the browser's own, without the `Headless` mark, so that the user agent and
    /// the client hints the browser sends agree. A user's explicit `user_agent` wins.
    user_agent: Option<String>,
    proxy: Option<Url>,
    page_timeout: Duration,
    max_body: u64,
    tabs: Arc<Semaphore>,
    slot: Mutex<Slot>,
    pages_loaded: std::sync::atomic::AtomicU64,
}

impl BrowserFetcher {
    pub(crate) fn new(cfg: &CollectConfig) -> Self {
        Self {
            launch: cfg.browser.launch.clone(),
            user_agent: (cfg.user_agent != crate::config::collect_defaults::USER_AGENT)
                .then(|| cfg.user_agent.clone()),
            proxy: cfg.proxy.clone(),
            page_timeout: cfg.timeout,
            max_body: cfg.max_body,
            tabs: Arc::new(Semaphore::new(cfg.concurrency.clamp(1, MAX_TABS))),
            slot: Mutex::new(Slot::Idle),
            pages_loaded: Default::default(),
        }
    }

    /// Pages loaded so far.
    pub(crate) fn pages_loaded(&self) -> u64 {
        self.pages_loaded.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The process id of the Chromium this fetcher started and still runs, if any.
    pub(crate) async fn browser_pid(&self) -> Option<u32> {
        match &*self.slot.lock().await {
            Slot::Running(s) => s.process.as_ref().map(|p| p.pid),
            _ => None,
        }
    }

    async fn session(&self) -> Result<Arc<Session>, BrowserError> {
        let mut slot = self.slot.lock().await;
        match &*slot {
            Slot::Running(s) => return Ok(Arc::clone(s)),
            Slot::Failed(why) => return Err(BrowserError::Unavailable(why.clone())),
            Slot::Idle => {}
        }
        match self.start().await {
            Ok(session) => {
                let session = Arc::new(session);
                *slot = Slot::Running(Arc::clone(&session));
                Ok(session)
            }
            Err(why) => {
                tracing::error!("browser unavailable: {why}");
                *slot = Slot::Failed(why.clone());
                Err(BrowserError::Unavailable(why))
            }
        }
    }

    async fn start(&self) -> Result<Session, String> {
        let (ws, process) = match &self.launch {
            BrowserLaunch::Connect(url) => (url.to_string(), None),
            BrowserLaunch::Command { program, args } => {
                let program = program.clone();
                let args = args.clone();
                let proxy = self.proxy.clone();
                let (ws, process) = tokio::task::spawn_blocking(move || {
                    Chromium::start(&program, &args, proxy.as_ref())
                })
                .await
                .map_err(|e| format!("the browser start was interrupted: {e}"))??;
                (ws, Some(process))
            }
        };
        let (browser, mut handler) = Browser::connect(ws.clone())
            .await
            .map_err(|e| format!("cannot talk to the browser at {ws}: {e}"))?;
        let handler = tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                match event {
                    // The connection is gone (the browser crashed or was killed): ending
                    // here makes every waiting command fail at once.
                    Err(chromiumoxide::error::CdpError::Ws(e)) => {
                        tracing::warn!("browser connection lost: {e}");
                        break;
                    }
                    Err(e) => tracing::debug!("browser connection: {e}"),
                    Ok(()) => {}
                }
            }
        });
        let user_agent = match &self.user_agent {
            Some(ua) => ua.clone(),
            None => browser
                .user_agent()
                .await
                .map_err(|e| format!("the browser does not answer: {e}"))?
                .replace("HeadlessChrome", "Chrome"),
        };
        match &process {
            Some(p) => tracing::info!(pid = p.pid, %user_agent, "browser started"),
            None => tracing::info!(%user_agent, "browser connected"),
        }
        Ok(Session {
            browser,
            handler,
            process,
            user_agent,
        })
    }

    /// Stops the browser of this pass (a started one is closed, then killed if it lingers;
    /// a connected one keeps running). The next page that needs a browser starts a new one.
    pub(crate) async fn shut_down(&self) {
        let old = std::mem::replace(&mut *self.slot.lock().await, Slot::Idle);
        let Slot::Running(session) = old else {
            return;
        };
        let Ok(mut session) = Arc::try_unwrap(session) else {
            // A page still holds it (a cancelled pass); its drop kills the process.
            return;
        };
        if session.process.is_some() {
            let _ = tokio::time::timeout(CLOSE_GRACE, session.browser.close()).await;
        }
        session.handler.abort();
        if let Some(process) = session.process.take() {
            let _ = tokio::task::spawn_blocking(move || process.stop(CLOSE_GRACE)).await;
        }
        tracing::info!(pages = self.pages_loaded(), "browser stopped");
    }

    /// Loads `url` in a new tab and looks at it until `ready` says it holds what is needed or
    /// the page's deadline passes; the last look is returned either way. `slot` is awaited
    /// first: the host's politeness, held while the tab is open.
    pub(crate) async fn load<P>(
        &self,
        url: &Url,
        slot: impl std::future::Future<Output = Option<P>>,
        cancel: &CancellationToken,
        ready: impl Fn(&Loaded) -> bool,
    ) -> Result<Loaded, BrowserError> {
        let session = self.session().await?;
        let _tab = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(BrowserError::Cancelled),
            t = Arc::clone(&self.tabs).acquire_owned() => t.map_err(|_| BrowserError::Cancelled)?,
        };
        let page =
            match tokio::time::timeout(self.page_timeout, session.browser.new_page("about:blank"))
                .await
            {
                Ok(Ok(page)) => page,
                Ok(Err(e)) => {
                    return Err(self
                        .lost(&session, format!("the browser cannot open a tab: {e}"))
                        .await)
                }
                Err(_) => {
                    return Err(self
                        .lost(&session, "the browser did not open a tab in time".into())
                        .await)
                }
            };
        if let Err(e) = page.set_user_agent(session.user_agent.as_str()).await {
            tracing::debug!("user agent not set on the tab: {e}");
        }
        let result = tokio::select! {
            _ = cancel.cancelled() => Err(BrowserError::Cancelled),
            r = self.watch(&page, url, slot, &ready) => r,
        };
        if result.is_err() && session.handler.is_finished() {
            return Err(self
                .lost(
                    &session,
                    "the browser stopped during the pass (crashed or killed)".into(),
                )
                .await);
        }
        if matches!(result, Err(BrowserError::Timeout(_))) {
            // A script that never yields holds the renderer every tab of the site shares:
            // stop it (V8 handles this command between two instructions).
            let _ = tokio::time::timeout(
                CLOSE_GRACE,
                page.execute(TerminateExecutionParams::default()),
            )
            .await;
        }
        let target = page.target_id().clone();
        let closed = matches!(
            tokio::time::timeout(CLOSE_GRACE, page.close()).await,
            Ok(Ok(()))
        ) || matches!(
            tokio::time::timeout(
                CLOSE_GRACE,
                session.browser.execute(CloseTargetParams::new(target)),
            )
            .await,
            Ok(Ok(_))
        );
        if !closed {
            // The tab cannot even be closed: start a fresh browser for the next pages
            // rather than let one page hold the rest of the pass.
            self.restart(&session).await;
        }
        result
    }

    /// Replaces a wedged browser: the next page starts a new one (a connected one at
    /// `browser_url` is left to its owner, and used again).
    async fn restart(&self, session: &Arc<Session>) {
        let mut slot = self.slot.lock().await;
        if matches!(&*slot, Slot::Running(s) if Arc::ptr_eq(s, session)) {
            tracing::warn!("a page left the browser unresponsive; starting a fresh one");
            *slot = Slot::Idle;
            if let Some(pid) = session.process.as_ref().map(|p| p.pid) {
                kill_group(pid);
            }
        }
    }

    /// The browser of `session` is gone: the rest of the pass gets the same answer at once
    /// instead of each page waiting for a dead browser.
    async fn lost(&self, session: &Arc<Session>, why: String) -> BrowserError {
        let mut slot = self.slot.lock().await;
        if matches!(&*slot, Slot::Running(s) if Arc::ptr_eq(s, session)) {
            tracing::error!("browser unavailable: {why}");
            *slot = Slot::Failed(why.clone());
        }
        BrowserError::Unavailable(why)
    }

    async fn watch<P>(
        &self,
        page: &Page,
        url: &Url,
        slot: impl std::future::Future<Output = Option<P>>,
        ready: &impl Fn(&Loaded) -> bool,
    ) -> Result<Loaded, BrowserError> {
        let load_err = |e: chromiumoxide::error::CdpError| BrowserError::Load(e.to_string());
        let mut responses = page
            .event_listener::<EventResponseReceived>()
            .await
            .map_err(load_err)?;
        let mut finished = page
            .event_listener::<EventLoadingFinished>()
            .await
            .map_err(load_err)?;
        let mut pending: HashMap<RequestId, Url> = HashMap::new();
        let mut loaded = Loaded::default();
        // The host's turn is taken last, right before the request leaves.
        let Some(_politeness) = slot.await else {
            return Err(BrowserError::Cancelled);
        };
        self.pages_loaded
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let deadline = Instant::now() + self.page_timeout;
        // Every look at the page is bounded: a renderer busy with a script that never yields
        // answers nothing, and tabs of one site may share that renderer. A look unanswered
        // for `HUNG_AFTER` stops whatever script holds the renderer (this tab's or another's)
        // and the page is looked at again until its deadline.
        let look = || {
            deadline
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(200), HUNG_AFTER)
        };
        let unstick = || async {
            tracing::debug!(
                url = url.path(),
                "the page does not answer; stopping its script"
            );
            let _ = tokio::time::timeout(
                CLOSE_GRACE,
                page.execute(TerminateExecutionParams::default()),
            )
            .await;
        };
        // The page is looked at while it loads: its data often arrives long before the last
        // script or stylesheet lets the load event fire.
        let navigation = page.goto(url.as_str());
        tokio::pin!(navigation);
        let mut navigating = true;
        loop {
            if navigating {
                tokio::select! {
                    done = &mut navigation => {
                        navigating = false;
                        if let Err(e) = done {
                            return Err(BrowserError::Load(e.to_string()));
                        }
                    }
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
            while let Some(Some(event)) = responses.next().now_or_never() {
                let is_json = event.response.mime_type.contains("json");
                if let Ok(answer_url) = Url::parse(&event.response.url) {
                    if is_json && super::http::same_site(url, &answer_url) {
                        pending.insert(event.request_id.clone(), answer_url);
                    }
                }
            }
            while let Some(Some(event)) = finished.next().now_or_never() {
                let Some(answer_url) = pending.remove(&event.request_id) else {
                    continue;
                };
                if event.encoded_data_length > self.max_body as f64 {
                    tracing::debug!(url = answer_url.path(), "answer over max_body skipped");
                    continue;
                }
                let body = tokio::time::timeout(
                    look(),
                    page.execute(GetResponseBodyParams::new(event.request_id.clone())),
                )
                .await;
                if body.is_err() {
                    unstick().await;
                }
                if let Ok(Ok(body)) = body {
                    if !body.result.base64_encoded && body.result.body.len() as u64 <= self.max_body
                    {
                        loaded.answers.push(Answer {
                            url: answer_url,
                            body: body.result.body.clone(),
                        });
                    }
                }
            }
            // A script navigation (the challenge's reload) destroys the document for a
            // moment: that look is skipped, not fatal.
            let content = tokio::time::timeout(look(), page.content()).await;
            if content.is_err() {
                unstick().await;
            }
            if let Ok(Ok(html)) = content {
                if html.len() as u64 > self.max_body {
                    return Err(BrowserError::TooLarge(self.max_body));
                }
                loaded.html = html;
                loaded.final_url = match tokio::time::timeout(look(), page.url()).await {
                    Ok(url) => url.ok().flatten().and_then(|u| Url::parse(&u).ok()),
                    Err(_) => {
                        unstick().await;
                        loaded.final_url.take()
                    }
                };
                if ready(&loaded) {
                    return Ok(loaded);
                }
            }
            if Instant::now() + POLL >= deadline {
                let nowhere = loaded
                    .final_url
                    .as_ref()
                    .is_none_or(|u| u.scheme() == "about");
                if navigating && nowhere {
                    return Err(BrowserError::Timeout(self.page_timeout));
                }
                return Ok(loaded);
            }
            if !navigating {
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_is_given_to_chromium_in_its_own_form() {
        let p = |s: &str| chromium_proxy(&Url::parse(s).expect("url"));
        assert_eq!(p("socks5h://127.0.0.1:1080"), "socks5://127.0.0.1:1080");
        assert_eq!(
            p("http://user:secret@proxy.local:3128"),
            "http://proxy.local:3128"
        );
        assert_eq!(p("http://proxy.local"), "http://proxy.local:80");
    }

    #[test]
    fn programs_are_found_in_path_or_by_path() {
        assert!(find_program("sh").is_some());
        assert_eq!(find_program("/bin/sh"), Some(PathBuf::from("/bin/sh")));
        assert_eq!(find_program("trendwatch-no-such-browser"), None);
        assert_eq!(find_program("/nonexistent/chromium"), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missing_browser_is_unavailable_with_advice_and_tried_once() {
        let mut cfg = crate::config::CollectConfig::with_defaults(
            crate::config::Schedule::parse("0 0 * * * *").expect("schedule"),
            Url::parse("http://127.0.0.1:9/").expect("url"),
        );
        cfg.browser.launch = BrowserLaunch::Command {
            program: "/nonexistent/chromium".into(),
            args: Vec::new(),
        };
        let fetcher = BrowserFetcher::new(&cfg);
        let url = Url::parse("http://127.0.0.1:9/tag/x").expect("url");
        let cancel = CancellationToken::new();
        for _ in 0..2 {
            let err = fetcher
                .load(&url, async { Some(()) }, &cancel, |_| true)
                .await
                .expect_err("no browser");
            let BrowserError::Unavailable(why) = err else {
                panic!("not unavailable: {err:?}");
            };
            assert!(why.contains("apt install chromium"), "{why}");
        }
        assert_eq!(fetcher.pages_loaded(), 0);
    }
}
