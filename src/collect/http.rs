//! The polite HTTP client every source shares: one `reqwest::Client` (rustls, HTTP/2, gzip,
//! brotli, a cookie jar kept per host), per host a bound on requests in flight and at most
//! one request start per interval (governor), retries with exponential backoff and jitter
//! that honour `Retry-After`, real connect and total timeouts, and bodies read as a stream and cut at `max_body`.
//!
//! It must never hold more than `max_body` bytes of one body, never retry what a retry cannot
//! fix (404, 403, a body too large), never start a request once the pass is cancelled, and
//! never put a URL in an error message (custom source URLs may carry API keys).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng as _;
use reqwest::cookie::Jar;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, ACCEPT_LANGUAGE, RETRY_AFTER};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::CollectConfig;
use crate::model::FailureKind;

mod page;

use page::charset_param;
pub use page::Page;

/// First backoff step; doubled each retry.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// No backoff step is longer than this.
const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// A server asking to wait longer than this is not retried in this pass.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(120);

/// What a request is for, which decides its `Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    Html,
    Json,
}

impl Accept {
    fn header(self) -> &'static str {
        match self {
            Self::Html => "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            Self::Json => "application/json, text/plain, */*",
        }
    }
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("HTTP {status}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("network error: {0}")]
    Network(String),
    /// Nothing answers at the address, or the name does not resolve: a machine offline or a
    /// mistyped host. Worth one more try (a DNS hiccup), not a whole backoff series.
    #[error("network error: {0}")]
    Unreachable(String),
    /// `read` is how many bytes were taken off the wire before giving up.
    #[error("body larger than {limit} bytes")]
    TooLarge { limit: u64, read: u64 },
    #[error("cancelled before the request was sent")]
    Cancelled,
    /// A redirect that was not followed: to another host or port, in a loop, or too many.
    #[error("redirect not followed: {0}")]
    Redirect(String),
}

impl FetchError {
    pub fn kind(&self) -> FailureKind {
        match self {
            Self::Timeout(_) => FailureKind::Timeout,
            Self::Status { .. } | Self::Redirect(_) => FailureKind::HttpStatus,
            Self::Network(_) | Self::Unreachable(_) | Self::Cancelled => FailureKind::Network,
            Self::TooLarge { .. } => FailureKind::TooLarge,
        }
    }
}

/// Whether trying again later in the same pass can help: timeouts, connection problems, 429
/// and 5xx. A 4xx other than 429, a body too large or a cancelled pass cannot.
pub fn retryable(err: &FetchError) -> bool {
    match err {
        FetchError::Timeout(_) | FetchError::Network(_) | FetchError::Unreachable(_) => true,
        FetchError::Status { status, .. } => *status == 429 || (500..=599).contains(status),
        FetchError::TooLarge { .. } | FetchError::Cancelled | FetchError::Redirect(_) => false,
    }
}

/// A `Retry-After` value: delay seconds or an HTTP date (relative to `now`, unix seconds).
pub fn parse_retry_after(value: &str, now: f64) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?.timestamp() as f64;
    Some(Duration::from_secs_f64((at - now).max(0.0)))
}

/// The wait before retry number `attempt` (0-based): exponential with jitter, at least what
/// the server asked for.
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << attempt.min(16));
    let exp = exp.min(BACKOFF_CAP);
    // Jitter in [50 %, 100 %] so clients that failed together do not retry together.
    let jittered = exp.mul_f64(rand::thread_rng().gen_range(0.5..=1.0));
    match retry_after {
        Some(ra) => ra.max(jittered),
        None => jittered,
    }
}

/// One host's politeness: at most `concurrency` requests in flight to it, and request starts
/// at least `per_host_interval` apart (a governor limiter with no burst). Each host has its
/// own, so a slow or strictly spaced host never holds up requests to another.
struct HostGate {
    in_flight: Arc<Semaphore>,
    limiter: Option<governor::DefaultDirectRateLimiter>,
}

/// Redirect hops followed for one request.
const MAX_REDIRECTS: usize = 10;

/// Whether a redirect from `asked` to `next` stays where it may: the same host and port, or
/// from one of TikTok's own hosts to another (`tiktok.com` → `www.tiktok.com`).
pub(crate) fn same_site(asked: &Url, next: &Url) -> bool {
    let tiktok = |u: &Url| {
        u.host_str()
            .is_some_and(|h| h == "tiktok.com" || h.ends_with(".tiktok.com"))
    };
    if asked.port_or_known_default() != next.port_or_known_default() {
        return false;
    }
    asked.host_str() == next.host_str() || (tiktok(asked) && tiktok(next))
}

/// The shared client. Cheap to share behind an `Arc`.
pub struct Http {
    client: reqwest::Client,
    jar: Arc<Jar>,
    /// Requests in flight to one host at most.
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
    interval: Duration,
    timeout: Duration,
    retries: u32,
    max_body: u64,
    bytes_read: AtomicU64,
}

/// The client could not be built from the config.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("invalid proxy: {0}")]
    Proxy(String),
    #[error("invalid user_agent: {0}")]
    UserAgent(String),
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

impl Http {
    pub fn new(cfg: &CollectConfig) -> Result<Self, HttpError> {
        let jar = Arc::new(Jar::default());
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-US,en;q=0.9,fr-FR;q=0.8,fr;q=0.7"),
        );
        let user_agent = HeaderValue::from_str(&cfg.user_agent)
            .map_err(|e| HttpError::UserAgent(e.to_string()))?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .dns_resolver(std::sync::Arc::new(SystemResolver))
            .user_agent(user_agent)
            .default_headers(headers)
            .cookie_provider(Arc::clone(&jar))
            .gzip(true)
            .brotli(true)
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            // Redirects are followed by hand: each hop waits for its host's slot, and none
            // leaves the host that was asked for.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(proxy) = &cfg.proxy {
            let proxy = reqwest::Proxy::all(proxy.as_str())
                .map_err(|e| HttpError::Proxy(e.without_url().to_string()))?;
            builder = builder.proxy(proxy);
        }
        let client = builder
            .build()
            .map_err(|e| HttpError::Build(error_chain(&e)))?;
        Ok(Self {
            client,
            jar,
            per_host: cfg.concurrency.max(1),
            hosts: Mutex::new(HashMap::new()),
            interval: cfg.per_host_interval,
            timeout: cfg.timeout,
            retries: cfg.retries,
            max_body: cfg.max_body,
            bytes_read: AtomicU64::new(0),
        })
    }

    /// Bytes taken off the wire so far (decompressed), over all requests.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Adds a cookie for `url`'s host, e.g. the answer to a bot wall.
    pub fn set_cookie(&self, url: &Url, name: &str, value: &str) {
        self.jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), url);
    }

    /// GET with retries. Once `cancel` fires no new attempt starts; one already sent finishes.
    pub async fn get(
        &self,
        url: &Url,
        accept: Accept,
        cancel: &CancellationToken,
    ) -> Result<Page, FetchError> {
        let mut attempt = 0;
        loop {
            let err = match self.attempt(url, accept, cancel).await {
                Ok(page) => return Ok(page),
                Err(e) => e,
            };
            if attempt >= retry_limit(&err, self.retries) || !retryable(&err) {
                return Err(err);
            }
            let retry_after = match &err {
                FetchError::Status { retry_after, .. } => *retry_after,
                _ => None,
            };
            if retry_after.is_some_and(|ra| ra > RETRY_AFTER_CAP) {
                return Err(err);
            }
            let wait = backoff(attempt, retry_after);
            tracing::debug!(host = url.host_str(), %err, ?wait, "retrying");
            attempt += 1;
            tokio::select! {
                _ = cancel.cancelled() => return Err(FetchError::Cancelled),
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Waits for `url`'s host to allow one more request (its interval and its requests in
    /// flight, shared with this client's own requests); `None` once `cancel` fires. The
    /// browser fetcher holds the permit while its tab loads.
    pub async fn wait_turn(
        &self,
        url: &Url,
        cancel: &CancellationToken,
    ) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.enter(url.host_str().unwrap_or(""), cancel).await.ok()
    }

    /// The gate of `host`, made on first use.
    fn gate(&self, host: &str) -> Arc<HostGate> {
        let mut hosts = self
            .hosts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        hosts
            .entry(host.to_owned())
            .or_insert_with(|| {
                Arc::new(HostGate {
                    in_flight: Arc::new(Semaphore::new(self.per_host)),
                    limiter: governor::Quota::with_period(self.interval)
                        .map(governor::RateLimiter::direct),
                })
            })
            .clone()
    }

    /// Waits for a free request to `host` and for its next start; the permit is held until
    /// the answer has been read.
    async fn enter(
        &self,
        host: &str,
        cancel: &CancellationToken,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, FetchError> {
        let gate = self.gate(host);
        let permit = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(FetchError::Cancelled),
            p = Arc::clone(&gate.in_flight).acquire_owned() => p.map_err(|_| FetchError::Cancelled)?,
        };
        if let Some(limiter) = &gate.limiter {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(FetchError::Cancelled),
                _ = limiter.until_ready() => {}
            }
        }
        Ok(permit)
    }

    async fn attempt(
        &self,
        url: &Url,
        accept: Accept,
        cancel: &CancellationToken,
    ) -> Result<Page, FetchError> {
        if cancel.is_cancelled() {
            return Err(FetchError::Cancelled);
        }
        let mut current = url.clone();
        let mut visited = vec![url.clone()];
        let mut _permit = None;
        let mut resp = loop {
            // Nothing else waits between the host's go and the send, so two requests to one
            // host never start closer than the interval; a redirect hop is a request like any
            // other (the previous hop's permit is let go first: hops may stay on one host).
            _permit = None;
            _permit = Some(self.enter(current.host_str().unwrap_or(""), cancel).await?);
            let resp = self
                .client
                .get(current.clone())
                .header(ACCEPT, accept.header())
                .send()
                .await
                .map_err(|e| self.classify(&e))?;
            if !resp.status().is_redirection() {
                break resp;
            }
            let next = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| current.join(v).ok())
                .ok_or_else(|| FetchError::Redirect("no usable Location".into()))?;
            if !same_site(url, &next) {
                return Err(FetchError::Redirect(format!(
                    "to another host ({})",
                    next.host_str().unwrap_or("?")
                )));
            }
            if visited.contains(&next) {
                return Err(FetchError::Redirect("a loop".into()));
            }
            if visited.len() > MAX_REDIRECTS {
                return Err(FetchError::Redirect(format!("more than {MAX_REDIRECTS}")));
            }
            visited.push(next.clone());
            current = next;
        };
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            let retry_after = resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, crate::clock::now_f64()));
            return Err(FetchError::Status {
                status,
                retry_after,
            });
        }
        let limit = self.max_body;
        if resp.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::TooLarge { limit, read: 0 });
        }
        let charset = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(charset_param);
        let capacity = resp.content_length().unwrap_or(64 * 1024).min(limit);
        let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.classify(&e))? {
            self.bytes_read
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            let read = (body.len() + chunk.len()) as u64;
            if read > limit {
                return Err(FetchError::TooLarge { limit, read });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Page {
            final_url: resp.url().clone(),
            status,
            body,
            charset,
        })
    }

    fn classify(&self, e: &reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.timeout)
        } else if e.is_connect() && unreachable(e) {
            FetchError::Unreachable(error_chain(e))
        } else {
            FetchError::Network(error_chain(e))
        }
    }
}

/// Retries of a connection refused or a name that does not resolve: one, for a hiccup.
const UNREACHABLE_RETRIES: u32 = 1;

/// How many retries `err` gets when the config allows `retries`: offline, an entity fails in
/// one backoff step instead of a whole series.
pub fn retry_limit(err: &FetchError, retries: u32) -> u32 {
    match err {
        FetchError::Unreachable(_) => retries.min(UNREACHABLE_RETRIES),
        _ => retries,
    }
}

/// A host name the system cannot resolve, said by trendwatch's own resolver so that it is
/// recognised by its type, not by the words of the system's message.
#[derive(Debug, thiserror::Error)]
#[error("the name {host} does not resolve")]
struct UnresolvedHost {
    host: String,
    #[source]
    source: std::io::Error,
}

/// The system's resolver (`getaddrinfo`, as reqwest's own), failing with [`UnresolvedHost`].
struct SystemResolver;

impl reqwest::dns::Resolve for SystemResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // The port is the URL's: the connector sets it on each address.
            let found = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map(|addrs| addrs.collect::<Vec<std::net::SocketAddr>>());
            match found {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                Err(source) => Err(Box::new(UnresolvedHost { host, source }) as _),
            }
        })
    }
}

/// Whether a connect error is "nothing there" (refused, unresolvable) rather than a
/// connection that went wrong (reset, TLS), which backoff may cure.
fn unreachable(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        if s.downcast_ref::<UnresolvedHost>().is_some() {
            return true;
        }
        source = s.source();
    }
    false
}

/// An error and its causes on one line, without the URL.
fn error_chain(e: &reqwest::Error) -> String {
    let mut out = String::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    out.push_str(&strip_url(&e.to_string()));
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&strip_url(&s.to_string()));
        source = s.source();
    }
    out
}

/// reqwest prints `… for url (https://…)`; the URL may carry a secret.
fn strip_url(s: &str) -> String {
    match s.find(" for url (") {
        Some(at) => s[..at].to_string(),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests;
