//! Reading and validating the two TOML files.
//!
//! The files deserialize into raw structs that refuse unknown keys and keep the span of every
//! value ([`toml::Spanned`]); each value is then checked and converted into the typed config.
//! Any problem becomes a [`ConfigError`] located at `file:line:col` of the key or value at
//! fault, so a user editing the watchlist over SSH sees at once what to fix.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::{
    BrowserConfig, BrowserLaunch, BrowserMode, CollectConfig, Config, DetectConfig, DigestConfig,
    Discovery, HtmlMetric, Language, MailConfig, PasswordSource, Schedule, SmtpConfig, Source,
    SourceKind, TiktokWatch, Tls, Transport, Watchlist,
};
use crate::model::normalize_name;

/// A config or watchlist problem, located in its file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `path:line:col: message`
    #[error("{}:{line}:{col}: {message}", path.display())]
    At {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    /// The file itself could not be read (missing, unreadable, not UTF-8).
    #[error("{}: cannot read this file: {error}", path.display())]
    Io {
        path: PathBuf,
        // Not a `#[source]`: the reason is already in the message, and `{:#}` would print it twice.
        error: std::io::Error,
    },
}

impl Schedule {
    /// Parses a cron expression with seconds exactly as the scheduler will.
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Required)
            // The daemon's scheduler runs this very `Cron`, so `check` shows the runs it will
            // make. A day-of-month and a day-of-week must both match, as in
            // tokio-cron-scheduler's time-zoned jobs, so a schedule means the same in both.
            .dom_and_dow(true)
            .build()
            .parse(expr.trim())
            .map_err(|e| format!("invalid cron expression `{expr}` (six fields, seconds first, e.g. \"0 0 */3 * * *\"): {e}"))?;
        Ok(Schedule {
            expr: expr.trim().to_string(),
            cron,
        })
    }

    /// The next `n` run times strictly after `after`, in the zone `tz`.
    pub fn next_runs(&self, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
        self.cron
            .iter_after(after.with_timezone(&tz))
            .take(n)
            .collect()
    }

    /// The most recent run time at or before `at` within `lookback`, if any: what catch-up
    /// compares the last digest with.
    pub fn previous_run(
        &self,
        tz: Tz,
        at: DateTime<Utc>,
        lookback: Duration,
    ) -> Option<DateTime<Tz>> {
        let lookback = chrono::Duration::from_std(lookback).ok()?;
        let start = (at - lookback).with_timezone(&tz);
        let at = at.with_timezone(&tz);
        self.cron.iter_after(start).take_while(|t| *t <= at).last()
    }
}

/// The two files' texts as they were validated. The daemon hands them to its workers, so a
/// worker runs on the last good config even while a file on disk is mid-edit or broken.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConfigTexts {
    pub config: String,
    pub watchlist: String,
}

/// Loads `trendwatch.toml` and the watchlist it names.
pub fn load(path: &Path) -> Result<(Config, Watchlist), ConfigError> {
    load_keeping_texts(path).map(|(config, watchlist, _)| (config, watchlist))
}

/// [`load`], also returning the texts that were validated.
pub fn load_keeping_texts(path: &Path) -> Result<(Config, Watchlist, ConfigTexts), ConfigError> {
    let text = read(path)?;
    let mut watchlist_text = String::new();
    let (config, watchlist) = load_with(path, &text, |p| {
        let t = read(p)?;
        watchlist_text.clone_from(&t);
        Ok(t)
    })?;
    Ok((
        config,
        watchlist,
        ConfigTexts {
            config: text,
            watchlist: watchlist_text,
        },
    ))
}

/// Loads the config from texts validated earlier; `path` still anchors relative paths and
/// names the file in messages.
pub fn load_from_texts(
    path: &Path,
    texts: &ConfigTexts,
) -> Result<(Config, Watchlist), ConfigError> {
    load_with(path, &texts.config, |_| Ok(texts.watchlist.clone()))
}

fn load_with(
    path: &Path,
    text: &str,
    mut read_watchlist: impl FnMut(&Path) -> Result<String, ConfigError>,
) -> Result<(Config, Watchlist), ConfigError> {
    let file = SourceFile { path, text };
    let raw: RawConfig = file.parse()?;
    let watchlist_key = raw.watchlist.as_ref().map(|w| w.span());
    let config = raw.check(&file)?;
    let watchlist = match read_watchlist(&config.watchlist_path)
        .and_then(|t| watchlist_from_text(&config.watchlist_path, &t))
    {
        Ok(w) => w,
        // An unreadable watchlist is reported at the config key that names it: that is the
        // line to fix when the path is wrong.
        Err(ConfigError::Io { path, error }) => {
            let (span, hint) = match watchlist_key {
                Some(span) => (span, ""),
                None => (
                    0..0,
                    " (the default; set `watchlist = \"...\"` to name another file)",
                ),
            };
            return Err(file.error(
                span,
                format!(
                    "cannot read the watchlist `{}`{hint}: {error}",
                    path.display()
                ),
            ));
        }
        Err(other) => return Err(other),
    };
    Ok((config, watchlist))
}

/// Where the service keeps the last watchlist it validated, under `state_dir`.
pub const LAST_GOOD_WATCHLIST: &str = "watchlist.last-good.toml";

/// Keeps `text`, a watchlist that just passed validation, for the commands that only read:
/// a later broken edit does not keep them from showing the store. A failure to write is only
/// logged (the running config is unaffected).
pub fn remember_watchlist(state_dir: &Path, text: &str) {
    let path = state_dir.join(LAST_GOOD_WATCHLIST);
    let tmp = state_dir.join(format!("{LAST_GOOD_WATCHLIST}.tmp"));
    let written = std::fs::create_dir_all(state_dir)
        .and_then(|()| std::fs::write(&tmp, text))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        tracing::warn!(
            "cannot keep the last good watchlist in {}: {e}",
            path.display()
        );
    }
}

/// For commands that only read (`status`, `export`, `outbox`, `show`, `detect`,
/// `backtest`): the config must be valid, but a broken watchlist does not stop them. They then
/// run on the last watchlist the service validated (or none), and the watchlist's error is
/// returned beside, for the command to warn about.
pub fn load_for_reading(
    path: &Path,
) -> Result<(Config, Watchlist, Option<ConfigError>), ConfigError> {
    let watchlist_error = match load(path) {
        Ok((config, watchlist)) => return Ok((config, watchlist, None)),
        Err(e) => e,
    };
    let text = read(path)?;
    // With an empty watchlist the config alone is judged: an error there is the config's.
    let Ok((config, empty)) = load_with(path, &text, |_| Ok(String::new())) else {
        return Err(watchlist_error);
    };
    let last_good = std::fs::read_to_string(config.state_dir.join(LAST_GOOD_WATCHLIST))
        .ok()
        .and_then(|t| watchlist_from_text(&config.watchlist_path, &t).ok());
    let watchlist = last_good.unwrap_or(empty);
    Ok((config, watchlist, Some(watchlist_error)))
}

/// Loads only the watchlist (live reload re-reads it when only it changed).
pub fn load_watchlist(path: &Path) -> Result<Watchlist, ConfigError> {
    watchlist_from_text(path, &read(path)?)
}

fn watchlist_from_text(path: &Path, text: &str) -> Result<Watchlist, ConfigError> {
    let file = SourceFile { path, text };
    let raw: RawWatchlist = file.parse()?;
    raw.check(&file)
}

/// The most `max_body` may be: every page is held in memory while it is parsed.
const MAX_BODY_LIMIT: u64 = 64 * 1024 * 1024;

/// The largest config or watchlist file read: a watchlist of 100,000 tags is ~1.5 MB.
const MAX_CONFIG_FILE: u64 = 8 * 1024 * 1024;

/// Reads a config file, refusing what is not a regular file (a FIFO would block, a device
/// like `/dev/zero` never ends) and what is larger than [`MAX_CONFIG_FILE`].
fn read(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read;
    let io = |error| ConfigError::Io {
        path: path.to_path_buf(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a directory, FIFO or device)",
        )));
    }
    let too_large = || {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {} KiB", MAX_CONFIG_FILE / 1024),
        ))
    };
    if meta.len() > MAX_CONFIG_FILE {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CONFIG_FILE + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    if bytes.len() as u64 > MAX_CONFIG_FILE {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text ({e})"),
        ))
    })
}

/// One TOML file being checked: turns byte spans into `file:line:col` errors.
struct SourceFile<'a> {
    path: &'a Path,
    text: &'a str,
}

impl SourceFile<'_> {
    fn parse<T: for<'de> Deserialize<'de>>(&self) -> Result<T, ConfigError> {
        toml::from_str(self.text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let message = explain_toml_error(e.message(), self.text.get(span.clone()));
            self.error(span, message)
        })
    }

    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let (line, col) = line_col(self.text, span.start);
        ConfigError::At {
            path: self.path.to_path_buf(),
            line,
            col,
            message: message.into(),
        }
    }

    fn at<T>(&self, value: &Spanned<T>, message: impl Into<String>) -> ConfigError {
        self.error(value.span(), message)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before
        .get(line_start..)
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// Makes serde's messages read like advice: unknown keys get a "did you mean".
fn explain_toml_error(message: &str, spanned_text: Option<&str>) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, rest) = rest.split_once('`').unwrap_or((rest, ""));
        let expected: Vec<&str> = rest
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|s| !s.is_empty())
            .collect();
        if field == "password" {
            return "`password` is not accepted in the config file: give `password_credential` (a systemd credential name), `password_file` or `password_env`".into();
        }
        let suggestion = expected
            .iter()
            .map(|candidate| (strsim::jaro_winkler(field, candidate), candidate))
            .filter(|(score, _)| *score >= 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, candidate)| format!("; did you mean `{candidate}`?"))
            .unwrap_or_default();
        let known = if expected.is_empty() {
            String::new()
        } else {
            format!(" (known keys: {})", expected.join(", "))
        };
        return format!("unknown key `{field}`{suggestion}{known}");
    }
    let _ = spanned_text;
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return format!("missing key `{field}` in this table");
    }
    message
        .replace("expected i64", "expected an integer")
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected a list")
}

fn duration(file: &SourceFile, value: &Spanned<String>) -> Result<Duration, ConfigError> {
    humantime::parse_duration(value.get_ref().trim()).map_err(|e| {
        file.at(
            value,
            format!(
                "invalid duration `{}` ({e}); write e.g. \"90s\", \"6h\", \"14d\"",
                value.get_ref()
            ),
        )
    })
}

fn positive_duration(file: &SourceFile, value: &Spanned<String>) -> Result<Duration, ConfigError> {
    let d = duration(file, value)?;
    if d.is_zero() {
        return Err(file.at(value, "this duration must be greater than zero"));
    }
    Ok(d)
}

fn size(file: &SourceFile, value: &Spanned<String>) -> Result<u64, ConfigError> {
    value
        .get_ref()
        .trim()
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| {
            file.at(
                value,
                format!(
                    "invalid size `{}` ({e}); write e.g. \"8MiB\", \"500KB\"",
                    value.get_ref()
                ),
            )
        })
}

fn schedule(
    file: &SourceFile,
    value: Option<&Spanned<String>>,
    default: &str,
) -> Result<Schedule, ConfigError> {
    match value {
        Some(v) => Schedule::parse(v.get_ref()).map_err(|m| file.at(v, m)),
        None => Schedule::parse(default).map_err(|m| file.error(0..0, m)),
    }
}

fn count(file: &SourceFile, value: &Spanned<i64>, min: i64, max: i64) -> Result<i64, ConfigError> {
    let n = *value.get_ref();
    if n < min || n > max {
        return Err(file.at(value, format!("must be between {min} and {max}, not {n}")));
    }
    Ok(n)
}

fn mailbox(file: &SourceFile, value: &Spanned<String>) -> Result<Mailbox, ConfigError> {
    value.get_ref().trim().parse::<Mailbox>().map_err(|e| {
        file.at(
            value,
            format!(
                "invalid email address `{}` ({e}); write e.g. \"equipe@example.org\" or \"Équipe <equipe@example.org>\"",
                value.get_ref()
            ),
        )
    })
}

/// A URL with a host and one of `schemes` (what reqwest can use in that place).
fn url(file: &SourceFile, value: &Spanned<String>, schemes: &[&str]) -> Result<Url, ConfigError> {
    let parsed = Url::parse(value.get_ref().trim())
        .map_err(|e| file.at(value, format!("invalid URL `{}`: {e}", value.get_ref())))?;
    if parsed.cannot_be_a_base()
        || parsed.host_str().is_none()
        || !schemes.contains(&parsed.scheme())
    {
        return Err(file.at(
            value,
            format!(
                "`{}` is not a URL with a host and a scheme among: {}",
                value.get_ref(),
                schemes.join(", ")
            ),
        ));
    }
    Ok(parsed)
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// The state directory when the config names none: systemd's `StateDirectory=` exports
/// `$STATE_DIRECTORY` (a `:`-separated list when the unit names several; the first is ours).
fn state_directory_from_env(value: Option<&str>) -> PathBuf {
    value
        .and_then(|v| v.split(':').map(str::trim).find(|p| !p.is_empty()))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/lib/trendwatch"))
}

/// Resolves `relative` against the directory of the config file.
fn beside(config_path: &Path, relative: &str) -> PathBuf {
    let p = Path::new(relative);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match config_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(p),
        _ => p.to_path_buf(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    watchlist: Option<Spanned<String>>,
    state_dir: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    #[serde(default)]
    collect: RawCollect,
    #[serde(default)]
    detect: RawDetect,
    #[serde(default)]
    digest: RawDigest,
    #[serde(default)]
    mail: RawMail,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCollect {
    schedule: Option<Spanned<String>>,
    concurrency: Option<Spanned<i64>>,
    per_host_interval: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    retries: Option<Spanned<i64>>,
    max_body: Option<Spanned<String>>,
    user_agent: Option<Spanned<String>>,
    proxy: Option<Spanned<String>>,
    tiktok_base_url: Option<Spanned<String>>,
    browser: Option<Spanned<String>>,
    browser_command: Option<Spanned<String>>,
    browser_url: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDetect {
    baseline: Option<Spanned<String>>,
    recent: Option<Spanned<String>>,
    min_rate: Option<Spanned<f64>>,
    min_score: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDigest {
    schedule: Option<Spanned<String>>,
    language: Option<Spanned<String>>,
    max_items: Option<Spanned<i64>>,
    cooldown: Option<Spanned<String>>,
    to: Option<Spanned<Vec<Spanned<String>>>>,
    from: Option<Spanned<String>>,
}

/// The whole SMTP conversation for one digest (connection, greeting, every command, the
/// message itself) must end within this: a server that accepts and never answers becomes a
/// retryable failure instead of a hung pass. A digest of ~40 KB needs a fraction of it.
const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(120);
const MIN_SMTP_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_SMTP_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMail {
    transport: Option<Spanned<String>>,
    host: Option<Spanned<String>>,
    port: Option<Spanned<i64>>,
    tls: Option<Spanned<String>>,
    username: Option<Spanned<String>>,
    password_credential: Option<Spanned<String>>,
    password_file: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    sendmail_command: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
}

impl RawConfig {
    fn check(self, file: &SourceFile) -> Result<Config, ConfigError> {
        let watchlist_path = beside(
            file.path,
            self.watchlist
                .as_ref()
                .map(|w| w.get_ref().as_str())
                .unwrap_or("watchlist.toml"),
        );
        let state_dir = match &self.state_dir {
            Some(dir) if dir.get_ref().trim().is_empty() => {
                return Err(file.at(dir, "`state_dir` must not be empty"))
            }
            Some(dir) => beside(file.path, dir.get_ref().trim()),
            None => state_directory_from_env(std::env::var("STATE_DIRECTORY").ok().as_deref()),
        };
        let timezone = match &self.timezone {
            Some(tz) => tz.get_ref().trim().parse::<Tz>().map_err(|_| {
                file.at(
                    tz,
                    format!(
                        "unknown time zone `{}`; use an IANA name such as \"Europe/Paris\" or \"UTC\"",
                        tz.get_ref()
                    ),
                )
            })?,
            None => Tz::UTC,
        };
        Ok(Config {
            path: file.path.to_path_buf(),
            watchlist_path,
            state_dir,
            timezone,
            collect: self.collect.check(file)?,
            detect: self.detect.check(file)?,
            digest: self.digest.check(file)?,
            mail: self.mail.check(file)?,
        })
    }
}

impl RawCollect {
    fn check(self, file: &SourceFile) -> Result<CollectConfig, ConfigError> {
        use super::collect_defaults as defaults;
        let opt_duration = |v: &Option<Spanned<String>>, default: Duration| match v {
            Some(v) => duration(file, v),
            None => Ok(default),
        };
        let opt_positive = |v: &Option<Spanned<String>>, default: Duration| match v {
            Some(v) => positive_duration(file, v),
            None => Ok(default),
        };
        let tiktok_base_url = match &self.tiktok_base_url {
            Some(v) => url(file, v, &["http", "https"])?,
            None => Url::parse(super::collect_defaults::TIKTOK_BASE_URL)
                .map_err(|e| file.error(0..0, e.to_string()))?,
        };
        let user_agent = match &self.user_agent {
            Some(ua) if ua.get_ref().trim().is_empty() => {
                return Err(file.at(ua, "`user_agent` must not be empty"))
            }
            Some(ua) if ua.get_ref().chars().any(char::is_control) => {
                return Err(file.at(ua, "`user_agent` must not contain control characters"))
            }
            Some(ua) => ua.get_ref().trim().to_string(),
            None => defaults::USER_AGENT.to_string(),
        };
        Ok(CollectConfig {
            schedule: schedule(file, self.schedule.as_ref(), defaults::SCHEDULE)?,
            concurrency: match &self.concurrency {
                Some(v) => count(file, v, 1, 256)? as usize,
                None => defaults::CONCURRENCY,
            },
            per_host_interval: opt_duration(&self.per_host_interval, defaults::PER_HOST_INTERVAL)?,
            timeout: opt_positive(&self.timeout, defaults::TIMEOUT)?,
            connect_timeout: opt_positive(&self.connect_timeout, defaults::CONNECT_TIMEOUT)?,
            retries: match &self.retries {
                Some(v) => count(file, v, 0, 10)? as u32,
                None => defaults::RETRIES,
            },
            max_body: match &self.max_body {
                Some(v) => {
                    let n = size(file, v)?;
                    if n < 1024 {
                        return Err(file.at(v, "`max_body` must be at least 1KiB"));
                    }
                    if n > MAX_BODY_LIMIT {
                        return Err(file.at(
                            v,
                            "`max_body` must be at most 64MiB (a TikTok page is well under 1MiB; larger limits let one hostile page take the machine's memory)",
                        ));
                    }
                    n
                }
                None => defaults::MAX_BODY,
            },
            user_agent,
            proxy: self
                .proxy
                .as_ref()
                .map(|v| url(file, v, &["http", "https", "socks5", "socks5h"]))
                .transpose()?,
            tiktok_base_url,
            browser: self.browser_config(file)?,
        })
    }

    fn browser_config(&self, file: &SourceFile) -> Result<BrowserConfig, ConfigError> {
        let mode = match &self.browser {
            None => BrowserMode::Off,
            Some(v) => match v.get_ref().trim() {
                "off" => BrowserMode::Off,
                "fallback" => BrowserMode::Fallback,
                "always" => BrowserMode::Always,
                other => {
                    return Err(file.at(
                        v,
                        format!(
                        "unknown browser mode `{other}`; use \"off\", \"fallback\" or \"always\""
                    ),
                    ))
                }
            },
        };
        let launch = match (&self.browser_command, &self.browser_url) {
            (Some(cmd), Some(_)) => {
                return Err(file.at(
                    cmd,
                    "set either `browser_command` (start a Chromium) or `browser_url` (use a running one), not both",
                ))
            }
            (Some(cmd), None) => {
                if cmd.get_ref().chars().any(char::is_control) {
                    return Err(file.at(cmd, "`browser_command` must not contain control characters"));
                }
                let mut words = cmd.get_ref().split_whitespace().map(str::to_owned);
                let Some(program) = words.next() else {
                    return Err(file.at(cmd, "`browser_command` must not be empty"));
                };
                BrowserLaunch::Command {
                    program,
                    args: words.collect(),
                }
            }
            (None, Some(v)) => BrowserLaunch::Connect(url(file, v, &["ws", "wss"])?),
            (None, None) => BrowserConfig::default().launch,
        };
        Ok(BrowserConfig { mode, launch })
    }
}

impl RawDetect {
    fn check(self, file: &SourceFile) -> Result<DetectConfig, ConfigError> {
        let baseline = match &self.baseline {
            Some(v) => positive_duration(file, v)?,
            None => Duration::from_secs(14 * 86_400),
        };
        let recent = match &self.recent {
            Some(v) => positive_duration(file, v)?,
            None => Duration::from_secs(86_400),
        };
        if recent >= baseline {
            let at = self.recent.as_ref().or(self.baseline.as_ref());
            let span = at.map(|v| v.span()).unwrap_or(0..0);
            return Err(file.error(span, "`recent` must be shorter than `baseline`"));
        }
        let non_negative = |v: &Option<Spanned<f64>>, default: f64| -> Result<f64, ConfigError> {
            match v {
                Some(v) if !v.get_ref().is_finite() || *v.get_ref() < 0.0 => {
                    Err(file.at(v, "must be a number of zero or more"))
                }
                Some(v) => Ok(*v.get_ref()),
                None => Ok(default),
            }
        };
        Ok(DetectConfig {
            baseline,
            recent,
            min_rate: non_negative(&self.min_rate, 0.0)?,
            min_score: non_negative(&self.min_score, 3.0)?,
        })
    }
}

impl RawDigest {
    fn check(self, file: &SourceFile) -> Result<DigestConfig, ConfigError> {
        let language = match &self.language {
            Some(v) => match v.get_ref().trim() {
                "fr" => Language::Fr,
                "en" => Language::En,
                other => {
                    return Err(file.at(
                        v,
                        format!("unknown language `{other}`: use \"fr\" or \"en\""),
                    ))
                }
            },
            None => Language::Fr,
        };
        let to = match &self.to {
            Some(list) if list.get_ref().is_empty() => {
                return Err(file.at(list, "`to` needs at least one recipient"))
            }
            Some(list) => list
                .get_ref()
                .iter()
                .map(|v| mailbox(file, v))
                .collect::<Result<Vec<_>, _>>()?,
            None => vec![mailbox(
                file,
                &Spanned::new(0..0, "trendwatch@localhost".to_string()),
            )?],
        };
        let from = match &self.from {
            Some(v) => mailbox(file, v)?,
            None => mailbox(
                file,
                &Spanned::new(0..0, "trendwatch <trendwatch@localhost>".to_string()),
            )?,
        };
        Ok(DigestConfig {
            schedule: schedule(file, self.schedule.as_ref(), "0 0 8 * * Mon")?,
            language,
            max_items: match &self.max_items {
                Some(v) => count(file, v, 1, 100)? as usize,
                None => 12,
            },
            cooldown: match &self.cooldown {
                Some(v) => duration(file, v)?,
                None => Duration::from_secs(7 * 86_400),
            },
            to,
            from,
        })
    }
}

impl RawMail {
    fn check(self, file: &SourceFile) -> Result<MailConfig, ConfigError> {
        let transport_name = self
            .transport
            .as_ref()
            .map(|t| t.get_ref().trim().to_string())
            .unwrap_or_else(|| "file".into());
        let transport = match transport_name.as_str() {
            "file" => Transport::File,
            "sendmail" => Transport::Sendmail {
                command: self
                    .sendmail_command
                    .as_ref()
                    .map(|c| PathBuf::from(c.get_ref().trim())),
            },
            "smtp" => Transport::Smtp(self.check_smtp(file)?),
            other => {
                let at = self.transport.as_ref().map(|t| t.span()).unwrap_or(0..0);
                return Err(file.error(
                    at,
                    format!("unknown transport `{other}`: use \"file\", \"smtp\" or \"sendmail\""),
                ));
            }
        };
        Ok(MailConfig { transport })
    }

    fn check_smtp(&self, file: &SourceFile) -> Result<SmtpConfig, ConfigError> {
        let transport_span = self.transport.as_ref().map(|t| t.span()).unwrap_or(0..0);
        let host = match &self.host {
            Some(h) if !h.get_ref().trim().is_empty() => h,
            Some(h) => return Err(file.at(h, "`host` must not be empty")),
            None => {
                return Err(file.error(
                    transport_span,
                    "transport \"smtp\" needs `host` (and usually `port`, `tls`, `username`)",
                ))
            }
        };
        let tls = match &self.tls {
            Some(v) => match v.get_ref().trim() {
                "tls" => Tls::Tls,
                "starttls" => Tls::StartTls,
                "none" => Tls::None,
                other => {
                    return Err(file.at(
                        v,
                        format!(
                            "unknown tls mode `{other}`: use \"tls\", \"starttls\" or \"none\""
                        ),
                    ))
                }
            },
            None => Tls::StartTls,
        };
        if tls == Tls::None && !is_loopback(host.get_ref()) {
            let at = self.tls.as_ref().map(|t| t.span()).unwrap_or(host.span());
            return Err(file.error(
                at,
                format!(
                    "tls = \"none\" would send the password and the digest in clear text to `{}`; it is allowed only for a server on this machine (localhost, 127.0.0.1, ::1): use \"starttls\" or \"tls\"",
                    host.get_ref()
                ),
            ));
        }
        let port = match &self.port {
            Some(p) => count(file, p, 1, 65_535)? as u16,
            None => match tls {
                Tls::Tls => 465,
                Tls::StartTls => 587,
                Tls::None => 25,
            },
        };
        let sources: Vec<(&Spanned<String>, PasswordSource)> = [
            self.password_credential.as_ref().map(|v| {
                (
                    v,
                    PasswordSource::Credential(v.get_ref().trim().to_string()),
                )
            }),
            self.password_file.as_ref().map(|v| {
                (
                    v,
                    PasswordSource::File(beside(file.path, v.get_ref().trim())),
                )
            }),
            self.password_env
                .as_ref()
                .map(|v| (v, PasswordSource::Env(v.get_ref().trim().to_string()))),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Some((second, _)) = sources.get(1) {
            return Err(file.at(
                second,
                "give only one of `password_credential`, `password_file`, `password_env`",
            ));
        }
        let password = match sources.into_iter().next() {
            Some((v, _)) if v.get_ref().trim().is_empty() => {
                return Err(file.at(v, "must not be empty"))
            }
            Some((_, source)) => Some(source),
            None => None,
        };
        if password.is_some() && self.username.is_none() {
            return Err(file.error(transport_span, "a password is configured but no `username`"));
        }
        let timeout = match &self.timeout {
            Some(v) => {
                let d = duration(file, v)?;
                if !(MIN_SMTP_TIMEOUT..=MAX_SMTP_TIMEOUT).contains(&d) {
                    return Err(file.at(v, "`timeout` must be between 1s and 10m"));
                }
                d
            }
            None => DEFAULT_SMTP_TIMEOUT,
        };
        Ok(SmtpConfig {
            timeout,
            host: host.get_ref().trim().to_string(),
            port,
            tls,
            username: self
                .username
                .as_ref()
                .map(|u| u.get_ref().trim().to_string()),
            password,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWatchlist {
    #[serde(default)]
    tiktok: RawTiktok,
    #[serde(default)]
    discovery: RawDiscovery,
    #[serde(default)]
    source: Vec<RawSource>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTiktok {
    #[serde(default)]
    hashtags: Vec<Spanned<String>>,
    #[serde(default)]
    creators: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscovery {
    enabled: Option<bool>,
    #[serde(default)]
    keywords: Vec<Spanned<String>>,
    max_tracked: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Spanned<String>,
    kind: Spanned<String>,
    url: Spanned<String>,
    ids: Spanned<Vec<Spanned<String>>>,
    metrics: Spanned<BTreeMap<String, Spanned<RawMetric>>>,
}

/// A metric of a custom source: a string (JSON pointer, or a bare CSS selector) or a
/// `{ selector, regex }` table.
#[derive(Debug)]
enum RawMetric {
    Pointer(String),
    Html(RawHtmlMetric),
}

// Written by hand rather than `#[serde(untagged)]`: untagged enums swallow the inner error,
// and a misspelt `selecter` must still be reported as an unknown key with its location.
impl<'de> Deserialize<'de> for RawMetric {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawMetric;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON pointer string (\"/a/b\") or a table { selector = \"...\", regex = \"...\" }")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawMetric, E> {
                Ok(RawMetric::Pointer(v.to_string()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<RawMetric, A::Error> {
                RawHtmlMetric::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawMetric::Html)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHtmlMetric {
    selector: String,
    regex: Option<String>,
}

impl RawWatchlist {
    fn check(self, file: &SourceFile) -> Result<Watchlist, ConfigError> {
        let hashtags = names(file, &self.tiktok.hashtags, "hashtag")?;
        let creators = names(file, &self.tiktok.creators, "creator")?;
        let mut keywords = Vec::new();
        for k in &self.discovery.keywords {
            let n = normalize_name(k.get_ref());
            if n.is_empty() {
                return Err(file.at(k, "empty keyword"));
            }
            if !keywords.contains(&n) {
                keywords.push(n);
            }
        }
        let discovery = Discovery {
            enabled: self.discovery.enabled.unwrap_or(true),
            keywords,
            max_tracked: match &self.discovery.max_tracked {
                Some(v) => count(file, v, 0, 1000)? as usize,
                None => 20,
            },
        };
        let mut sources: Vec<(Source, Range<usize>)> = Vec::new();
        for raw in self.source {
            let name_span = raw.name.span();
            let source = raw.check(file)?;
            if let Some((_, first)) = sources.iter().find(|(s, _)| s.name == source.name) {
                let (line, col) = line_col(file.text, first.start);
                return Err(file.error(
                    name_span,
                    format!(
                        "duplicate source name `{}`: same as the [[source]] at line {line}, column {col}",
                        source.name
                    ),
                ));
            }
            sources.push((source, name_span));
        }
        Ok(Watchlist {
            path: file.path.to_path_buf(),
            tiktok: TiktokWatch { hashtags, creators },
            discovery,
            sources: sources.into_iter().map(|(s, _)| s).collect(),
        })
    }
}

/// Normalises hashtags or handles; a name listed twice (after normalisation) is an error that
/// names both places, since a silent merge would hide a typo.
fn names(
    file: &SourceFile,
    raw: &[Spanned<String>],
    what: &str,
) -> Result<Vec<String>, ConfigError> {
    let mut seen: HashMap<String, Range<usize>> = HashMap::new();
    let mut out = Vec::new();
    for item in raw {
        let name = normalize_name(item.get_ref());
        if name.is_empty() {
            return Err(file.at(item, format!("empty {what} name")));
        }
        let (valid, rule) = if what == "creator" {
            (
                crate::model::is_valid_handle(&name),
                "TikTok handles are 2 to 24 letters, digits, `_` or `.`, not ending with `.`",
            )
        } else {
            (
                crate::model::is_valid_tag(&name),
                "TikTok hashtags are letters, digits and `_`, at most 100 characters",
            )
        };
        if !valid {
            let shown: String = item.get_ref().escape_debug().take(60).collect();
            return Err(file.at(
                item,
                format!("\"{shown}\" is not a valid {what} name: {rule}"),
            ));
        }
        if let Some(first) = seen.get(&name) {
            let (line, col) = line_col(file.text, first.start);
            return Err(file.at(
                item,
                format!(
                    "duplicate {what} `{}`: same as `{name}` at line {line}, column {col}",
                    item.get_ref()
                ),
            ));
        }
        seen.insert(name.clone(), item.span());
        out.push(name);
    }
    Ok(out)
}

impl RawSource {
    fn check(self, file: &SourceFile) -> Result<Source, ConfigError> {
        let name = self.name.get_ref().trim().to_ascii_lowercase();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(file.at(
                &self.name,
                "a source name uses letters, digits, `_` and `-` only (it prefixes entity ids)",
            ));
        }
        if name == crate::model::TIKTOK {
            return Err(file.at(
                &self.name,
                "`tiktok` is the built-in source: choose another name",
            ));
        }
        check_url_template(file, &self.url)?;
        if self.ids.get_ref().is_empty() {
            return Err(file.at(&self.ids, "`ids` needs at least one id"));
        }
        let mut ids: Vec<String> = Vec::new();
        for id in self.ids.get_ref() {
            let trimmed = id.get_ref().trim();
            if trimmed.is_empty() {
                return Err(file.at(id, "empty id"));
            }
            if ids.iter().any(|i| i == trimmed) {
                return Err(file.at(id, format!("duplicate id `{trimmed}`")));
            }
            ids.push(trimmed.to_string());
        }
        if self.metrics.get_ref().is_empty() {
            return Err(file.at(&self.metrics, "`metrics` needs at least one metric"));
        }
        let kind = match self.kind.get_ref().trim() {
            "json" => {
                let mut metrics = Vec::new();
                for (metric, spec) in self.metrics.get_ref() {
                    match spec.get_ref() {
                        RawMetric::Pointer(p) if p.is_empty() || p.starts_with('/') => {
                            metrics.push((metric.clone(), p.clone()))
                        }
                        RawMetric::Pointer(p) => {
                            return Err(file.at(
                                spec,
                                format!("`{p}` is not a JSON pointer: it starts with `/`, e.g. \"/items/0/statistics/viewCount\""),
                            ))
                        }
                        RawMetric::Html(_) => {
                            return Err(file.at(
                                spec,
                                "a json source reads each metric by a JSON pointer string, not a selector",
                            ))
                        }
                    }
                }
                SourceKind::Json { metrics }
            }
            "html" => {
                let mut metrics = Vec::new();
                for (metric, spec) in self.metrics.get_ref() {
                    let (selector, regex) = match spec.get_ref() {
                        RawMetric::Html(h) => (h.selector.clone(), h.regex.clone()),
                        RawMetric::Pointer(s) => (s.clone(), None),
                    };
                    if let Err(e) = scraper::Selector::parse(&selector) {
                        return Err(
                            file.at(spec, format!("invalid CSS selector `{selector}`: {e}"))
                        );
                    }
                    let regex = match regex {
                        Some(r) => {
                            let compiled = regex::Regex::new(&r)
                                .map_err(|e| file.at(spec, format!("invalid regex `{r}`: {e}")))?;
                            if compiled.captures_len() > 2 {
                                return Err(file.at(
                                    spec,
                                    format!("regex `{r}` has more than one capture group: the number is taken from the first, so keep only one"),
                                ));
                            }
                            Some(compiled)
                        }
                        None => None,
                    };
                    metrics.push((metric.clone(), HtmlMetric { selector, regex }));
                }
                SourceKind::Html { metrics }
            }
            other => {
                return Err(file.at(
                    &self.kind,
                    format!("unknown source kind `{other}`: use \"json\" or \"html\""),
                ))
            }
        };
        Ok(Source {
            name,
            url: self.url.get_ref().trim().to_string(),
            ids,
            kind,
        })
    }
}

/// A source URL must be http(s) and its placeholders must be `{id}` or `{env:NAME}`.
fn check_url_template(file: &SourceFile, value: &Spanned<String>) -> Result<(), ConfigError> {
    let template = value.get_ref().trim();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(file.at(value, "unclosed `{` in the URL"));
        };
        let placeholder = &after[..close];
        let ok = placeholder == "id"
            || placeholder
                .strip_prefix("env:")
                .map(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(false);
        if !ok {
            return Err(file.at(
                value,
                format!("unknown placeholder `{{{placeholder}}}`: use {{id}} or {{env:NAME}}"),
            ));
        }
        // Checked with the rest of the config: a key missing from the service's environment
        // is a mistake to fix before it runs, not a network failure at every pass.
        if let Some(var) = placeholder.strip_prefix("env:") {
            if std::env::var_os(var).is_none() {
                return Err(file.at(
                    value,
                    format!(
                        "the environment variable `{var}` (for `{{env:{var}}}`) is not set: \
                         set it where trendwatch runs (for the service: `Environment=` or \
                         `EnvironmentFile=` in a drop-in)"
                    ),
                ));
            }
        }
        rest = &after[close + 1..];
    }
    if !template.contains("{id}") {
        return Err(file.at(
            value,
            "the URL needs an `{id}` placeholder: it is replaced by each of `ids` in turn",
        ));
    }
    let probe = template.replace("{id}", "x");
    let probe = regex::Regex::new(r"\{env:[A-Za-z0-9_]+\}")
        .map(|re| re.replace_all(&probe, "x").into_owned())
        .unwrap_or(probe);
    match Url::parse(&probe) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host_str().is_some() => {
            Ok(())
        }
        _ => Err(file.at(value, format!("`{template}` is not an http(s) URL"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_become_one_based_lines_and_character_columns() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        // "bé = " is 6 bytes but 5 characters: the value starts at column 6.
        assert_eq!(line_col(text, 12), (2, 6));
        assert_eq!(line_col(text, 10_000), (3, 1));
    }

    #[test]
    fn unknown_keys_get_a_suggestion_when_one_is_close() {
        let m = explain_toml_error(
            "unknown field `schedul`, expected one of `schedule`, `concurrency`",
            None,
        );
        assert!(m.contains("did you mean `schedule`?"), "{m}");
        let m = explain_toml_error("unknown field `zzz`, expected `schedule`", None);
        assert!(!m.contains("did you mean"), "{m}");
    }

    #[test]
    fn schedules_list_their_next_runs_in_the_zone() {
        let s = Schedule::parse("0 0 8 * * Mon").unwrap();
        let after = DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let runs = s.next_runs(chrono_tz::Europe::Paris, after, 2);
        assert_eq!(runs[0].to_rfc3339(), "2026-11-30T08:00:00+01:00");
        assert_eq!(runs[1].to_rfc3339(), "2026-12-07T08:00:00+01:00");
        let prev = s
            .previous_run(
                chrono_tz::Europe::Paris,
                after,
                Duration::from_secs(8 * 86_400),
            )
            .unwrap();
        assert_eq!(prev.to_rfc3339(), "2026-11-23T08:00:00+01:00");
        assert!(
            Schedule::parse("0 */3 * * *").is_err(),
            "five fields lack seconds"
        );
    }

    #[test]
    fn day_of_month_and_day_of_week_must_both_match_as_in_the_scheduler() {
        // `dom_and_dow(true)`, as tokio-cron-scheduler's time-zoned jobs: "the 1st, if a
        // Monday", not "every Monday and every 1st".
        let s = Schedule::parse("0 0 8 1 * Mon").unwrap();
        let after = DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let runs = s.next_runs(chrono_tz::Europe::Paris, after, 1);
        assert_eq!(runs[0].to_rfc3339(), "2027-02-01T08:00:00+01:00");
    }

    #[test]
    fn next_runs_are_strictly_after_the_given_time() {
        let s = Schedule::parse("0 0 */3 * * *").unwrap();
        let on_a_run = DateTime::parse_from_rfc3339("2026-11-23T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let runs = s.next_runs(Tz::UTC, on_a_run, 3);
        let shown: Vec<String> = runs.iter().map(|t| t.format("%H:%M").to_string()).collect();
        assert_eq!(shown, vec!["09:00", "12:00", "15:00"]);
    }

    #[test]
    fn state_directory_comes_from_systemd_or_the_default() {
        assert_eq!(
            state_directory_from_env(Some("/var/lib/trendwatch-a:/var/lib/other")),
            PathBuf::from("/var/lib/trendwatch-a")
        );
        assert_eq!(
            state_directory_from_env(Some("/var/lib/private/trendwatch")),
            PathBuf::from("/var/lib/private/trendwatch")
        );
        assert_eq!(
            state_directory_from_env(None),
            PathBuf::from("/var/lib/trendwatch")
        );
        assert_eq!(
            state_directory_from_env(Some("")),
            PathBuf::from("/var/lib/trendwatch")
        );
    }

    #[test]
    fn serde_messages_read_as_advice() {
        assert_eq!(
            explain_toml_error("missing field `name`", None),
            "missing key `name` in this table"
        );
        let m = explain_toml_error("unknown field `password`, expected `host`", None);
        assert!(m.contains("password_credential"), "{m}");
        assert_eq!(
            explain_toml_error("invalid type: string \"4\", expected i64", None),
            "invalid type: string \"4\", expected an integer"
        );
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback("localhost"));
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("127.1.2.3"), "all of 127.0.0.0/8 is loopback");
        assert!(is_loopback("::1"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("smtp.example.org"));
        assert!(!is_loopback("10.0.0.1"));
    }
}
