//! Configuration: `trendwatch.toml` (how the daemon runs) and the watchlist it names (what to
//! watch). Everything is validated here, once, into typed values; code past this module never
//! re-validates. Every error names `path/to/file.toml:LINE:COL`.
//!
//! Loading goes raw → checked: the files deserialize into raw structs that refuse unknown keys,
//! then each value is parsed (cron expressions, time zones, durations, sizes, addresses,
//! selectors) into the types below.

use std::path::PathBuf;
use std::time::Duration;

use chrono_tz::Tz;
use lettre::message::Mailbox;
use url::Url;

use crate::model::{EntityId, TIKTOK};

mod campaign;
mod load;
mod shop;
pub use shop::{parse_product_url, ShopProduct, ShopWatch};
mod url_template;
pub use campaign::{parse_video_url, Campaign, CampaignVideo, Objective, FOLLOW_AFTER_END_DAYS};
pub use load::{
    load, load_for_reading, load_from_texts, load_keeping_texts, load_watchlist,
    remember_watchlist, ConfigError, ConfigTexts, LAST_GOOD_WATCHLIST,
};
pub(crate) use url_template::encode_component;
pub use url_template::{UrlTemplate, UrlTemplateError};

/// Where the config is looked for when `-c` is not given and `$TRENDWATCH_CONFIG` is unset.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/trendwatch/trendwatch.toml";

/// The checked content of `trendwatch.toml` plus the watchlist it names.
#[derive(Debug, Clone)]
pub struct Config {
    /// The `trendwatch.toml` this was read from.
    pub path: PathBuf,
    /// The watchlist file, resolved relative to `path`.
    pub watchlist_path: PathBuf,
    /// Where the sled store and the file outbox live.
    pub state_dir: PathBuf,
    pub timezone: Tz,
    pub collect: CollectConfig,
    pub detect: DetectConfig,
    pub digest: DigestConfig,
    pub mail: MailConfig,
}

/// A cron expression with seconds, parsed with the same parser the scheduler uses.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// As the user wrote it, for messages and the scheduler.
    pub expr: String,
    pub cron: croner::Cron,
}

#[derive(Debug, Clone)]
pub struct CollectConfig {
    pub schedule: Schedule,
    /// Requests in flight at once, over all hosts.
    pub concurrency: usize,
    /// At most one request per host per this interval.
    pub per_host_interval: Duration,
    /// Total time allowed for one request, body included.
    pub timeout: Duration,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Retries after the first attempt on timeouts, 429 and 5xx.
    pub retries: u32,
    /// Bodies are cut (and the fetch failed as `too_large`) past this many bytes.
    pub max_body: u64,
    pub user_agent: String,
    pub proxy: Option<Url>,
    /// `https://www.tiktok.com` unless a mirror or a test server is configured.
    pub tiktok_base_url: Url,
    /// Whether and how a real headless browser reads the pages plain HTTP cannot.
    pub browser: BrowserConfig,
}

/// `[collect] browser`: when the browser fetcher is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BrowserMode {
    /// Plain HTTP only.
    #[default]
    Off,
    /// Plain HTTP first; a page that comes back as an empty shell, a bot wall or a login
    /// wall is read again in the browser.
    Fallback,
    /// Every TikTok page through the browser.
    Always,
}

impl BrowserMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Fallback => "fallback",
            Self::Always => "always",
        }
    }
}

/// Where the browser comes from: a Chromium started for each pass, or one already running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserLaunch {
    /// `browser_command`: the program (looked up in `PATH`) and its extra arguments.
    Command { program: String, args: Vec<String> },
    /// `browser_url`: the DevTools websocket of a running Chromium (a browserless container).
    Connect(Url),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserConfig {
    pub mode: BrowserMode,
    pub launch: BrowserLaunch,
}

impl Default for BrowserConfig {
    fn default() -> Self {
        Self {
            mode: BrowserMode::Off,
            launch: BrowserLaunch::Command {
                program: collect_defaults::BROWSER_COMMAND.to_owned(),
                args: Vec::new(),
            },
        }
    }
}

/// The `[collect]` values used when the config leaves a key out: the one place they live.
pub mod collect_defaults {
    use std::time::Duration;

    pub const SCHEDULE: &str = "0 0 */3 * * *";
    pub const CONCURRENCY: usize = 4;
    pub const PER_HOST_INTERVAL: Duration = Duration::from_secs(2);
    pub const TIMEOUT: Duration = Duration::from_secs(20);
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    pub const RETRIES: u32 = 3;
    pub const MAX_BODY: u64 = 8 * 1024 * 1024;
    pub const TIKTOK_BASE_URL: &str = "https://www.tiktok.com";
    /// A current desktop browser's: TikTok answers browser-like clients.
    pub const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    /// Debian's package name and binary for Chromium.
    pub const BROWSER_COMMAND: &str = "chromium";
}

impl CollectConfig {
    /// The defaults of every key but the two that have no infallible default value.
    pub fn with_defaults(schedule: Schedule, tiktok_base_url: Url) -> Self {
        use collect_defaults as d;
        CollectConfig {
            schedule,
            concurrency: d::CONCURRENCY,
            per_host_interval: d::PER_HOST_INTERVAL,
            timeout: d::TIMEOUT,
            connect_timeout: d::CONNECT_TIMEOUT,
            retries: d::RETRIES,
            max_body: d::MAX_BODY,
            user_agent: d::USER_AGENT.to_owned(),
            proxy: None,
            tiktok_base_url,
            browser: BrowserConfig::default(),
        }
    }
}

/// The default of `[detect] min_score`: with the searches and replays of a week, a quiet tag
/// then gets under one false alarm in six months (BENCHMARKS.md, "Counters as TikTok shows
/// them").
pub const DEFAULT_MIN_SCORE: f64 = 3.0;
/// The default of `[detect] min_views`: a few hundred views are one video's worth.
pub const DEFAULT_MIN_VIEWS: f64 = 200.0;

#[derive(Debug, Clone)]
pub struct DetectConfig {
    /// How far back the baseline rate looks.
    pub baseline: Duration,
    /// The window whose rate is compared with the baseline.
    pub recent: Duration,
    /// Per hour: an absolute floor a user may set; 0 (the default) leaves only the floors
    /// relative to each entity's own level, so small niches are watched too.
    pub min_rate: f64,
    /// The fewest views above usual (below it, for `cooling`) an alert may rest on: fewer
    /// are one video's worth, not a trend.
    pub min_views: f64,
    /// Trends scoring below this are not reported.
    pub min_score: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Fr,
    En,
}

#[derive(Debug, Clone)]
pub struct DigestConfig {
    pub schedule: Schedule,
    pub language: Language,
    /// Items per section.
    pub max_items: usize,
    /// A trend already sent is not repeated within this unless it escalated.
    pub cooldown: Duration,
    pub to: Vec<Mailbox>,
    pub from: Mailbox,
}

impl DigestConfig {
    /// The recipients' addresses, comma-separated, for messages to whoever runs trendwatch.
    pub fn recipients(&self) -> String {
        self.to
            .iter()
            .map(|m| m.email.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub transport: Transport,
}

#[derive(Debug, Clone)]
pub enum Transport {
    /// `.eml` files under `state_dir/outbox`: works with no mail server.
    File,
    Smtp(SmtpConfig),
    Sendmail {
        /// The sendmail binary; `sendmail` on `PATH` when unset.
        command: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// Implicit TLS (port 465).
    Tls,
    StartTls,
    /// Plain text: refused unless the host is loopback.
    None,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Deadline of the whole conversation with the server for one message.
    pub timeout: Duration,
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub username: Option<String>,
    pub password: Option<PasswordSource>,
}

/// Where the SMTP password comes from. Never from the TOML itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// `$CREDENTIALS_DIRECTORY/NAME`, from systemd's `LoadCredential=`.
    Credential(String),
    File(PathBuf),
    Env(String),
}

/// The checked watchlist.
#[derive(Debug, Clone, Default)]
pub struct Watchlist {
    pub path: PathBuf,
    pub tiktok: TiktokWatch,
    pub discovery: Discovery,
    pub sources: Vec<Source>,
    /// Sponsored videos followed over time (`[[campaign]]`).
    pub campaigns: Vec<Campaign>,
    /// TikTok Shop products followed over time (`[shop]`).
    pub shop: ShopWatch,
}

/// Normalised names (no `#`/`@`), duplicates removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TiktokWatch {
    pub hashtags: Vec<String>,
    pub creators: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub enabled: bool,
    /// Normalised keywords that make a riding tag relevant.
    pub keywords: Vec<String>,
    /// How many discovered tags are tracked automatically at most.
    pub max_tracked: usize,
}

impl Default for Discovery {
    fn default() -> Self {
        Self {
            enabled: true,
            keywords: Vec::new(),
            max_tracked: 20,
        }
    }
}

/// A custom `[[source]]`.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    /// URL with `{id}` and `{env:NAME}` placeholders.
    pub url: UrlTemplate,
    pub ids: Vec<String>,
    pub kind: SourceKind,
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    /// Metric name → JSON pointer.
    Json {
        metrics: Vec<(crate::model::Metric, String)>,
    },
    /// Metric name → CSS selector and optional regex (first capture group, else whole match).
    Html {
        metrics: Vec<(crate::model::Metric, HtmlMetric)>,
    },
}

#[derive(Debug, Clone)]
pub struct HtmlMetric {
    /// Parsed once, when the watchlist is loaded.
    pub selector: scraper::Selector,
    /// The selector as written, for messages.
    pub selector_text: String,
    pub regex: Option<regex::Regex>,
}

impl Watchlist {
    /// Every entity this watchlist asks to collect, in a stable order.
    pub fn entities(&self) -> Vec<EntityId> {
        let mut out = Vec::new();
        out.extend(
            self.tiktok
                .hashtags
                .iter()
                .map(|t| EntityId::hashtag(TIKTOK, t)),
        );
        out.extend(
            self.tiktok
                .creators
                .iter()
                .map(|c| EntityId::creator(TIKTOK, c)),
        );
        out.extend(self.shop.products.iter().map(ShopProduct::entity));
        for campaign in &self.campaigns {
            out.extend(campaign.videos.iter().map(CampaignVideo::entity));
        }
        for source in &self.sources {
            out.extend(
                source
                    .ids
                    .iter()
                    .map(|id| EntityId::custom(&source.name, id)),
            );
        }
        out
    }
}
