//! Reading and validating the two TOML files.
//!
//! The files deserialize into raw structs that refuse unknown keys and keep the span of every
//! value ([`toml::Spanned`]); each value is then checked and converted into the typed config.
//! Any problem becomes a [`ConfigError`] located at `file:line:col` of the key or value at
//! fault, so a user editing the watchlist over SSH sees at once what to fix.

use crate::language::tr;
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
    #[error("{}", tr!(format!("{} : impossible de lire ce fichier : {error}", path.display()), format!("{}: cannot read this file: {error}", path.display())))]
    Io {
        path: PathBuf,
        // Not a `#[source]`: the reason is already in the message, and `{:#}` would print it twice.
        error: std::io::Error,
    },
}

/// A French day name in a schedule, with the English one cron expects.
fn french_day(expr: &str) -> Option<(String, &'static str)> {
    const DAYS: [(&str, &str); 14] = [
        ("lundi", "Mon"),
        ("mardi", "Tue"),
        ("mercredi", "Wed"),
        ("jeudi", "Thu"),
        ("vendredi", "Fri"),
        ("samedi", "Sat"),
        ("dimanche", "Sun"),
        ("lun", "Mon"),
        ("mar", "Tue"),
        ("mer", "Wed"),
        ("jeu", "Thu"),
        ("ven", "Fri"),
        ("sam", "Sat"),
        ("dim", "Sun"),
    ];
    let last = expr.split_whitespace().last()?;
    last.split([',', '-']).find_map(|word| {
        let lower = word.to_lowercase();
        DAYS.iter()
            .find(|(fr, _)| *fr == lower)
            .map(|(_, en)| (word.to_owned(), *en))
    })
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
            .map_err(|e| match french_day(expr) {
                Some((fr, en)) => tr!(
                    format!(
                        "`{fr}` dans l'horaire `{}` : écrivez le jour en anglais, `{en}` (par exemple \"0 0 8 * * {en}\")",
                        expr.trim()
                    ),
                    format!(
                        "`{fr}` in the schedule `{}`: write the day in English, `{en}` (e.g. \"0 0 8 * * {en}\")",
                        expr.trim()
                    )
                ),
                None => tr!(
                    format!("horaire cron invalide `{expr}` (six champs, les secondes d'abord, par exemple \"0 0 */3 * * *\" pour toutes les trois heures) : {e}"),
                    format!("invalid cron expression `{expr}` (six fields, seconds first, e.g. \"0 0 */3 * * *\"): {e}")
                ),
            })?;
        // A schedule that can never fire would leave the service silent for good.
        if cron.iter_after(Utc::now()).next().is_none() {
            return Err(tr!(
                format!(
                    "l'horaire `{}` ne se déclenche jamais (un jour qui n'existe pas, comme le 30 \
                     février ou le 31 avril, ou une année passée) ; par exemple \"0 0 8 * * Mon\" \
                     pour le lundi à 8 h",
                    expr.trim()
                ),
                format!(
                    "the schedule `{}` never fires (a day that does not exist, like 30 February or \
                     31 April, or a year in the past); e.g. \"0 0 8 * * Mon\" for Mondays at 08:00",
                    expr.trim()
                )
            ));
        }
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
    if let Err(e) = crate::files::write_atomically(&path, text.as_bytes()) {
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
            return tr!(
                "`password` n'est pas accepté dans le fichier : indiquez `password_credential` (un identifiant systemd), `password_file` ou `password_env`",
                "`password` is not accepted in the config file: give `password_credential` (a systemd credential name), `password_file` or `password_env`"
            )
            .into();
        }
        // Case does not make a different word: `[TikTok]` means `[tiktok]`.
        let suggestion = expected
            .iter()
            .map(|candidate| {
                let score = strsim::jaro_winkler(&field.to_lowercase(), &candidate.to_lowercase());
                (score, candidate)
            })
            .filter(|(score, _)| *score >= 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, candidate)| {
                tr!(
                    format!(" ; vouliez-vous dire `{candidate}` ?"),
                    format!("; did you mean `{candidate}`?")
                )
            })
            .unwrap_or_default();
        let known = if expected.is_empty() {
            String::new()
        } else {
            tr!(
                format!(" (clés connues : {})", expected.join(", ")),
                format!(" (known keys: {})", expected.join(", "))
            )
        };
        return tr!(
            format!("clé inconnue `{field}`{suggestion}{known}"),
            format!("unknown key `{field}`{suggestion}{known}")
        );
    }
    let _ = spanned_text;
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return tr!(
            format!("clé `{field}` manquante dans cette table"),
            format!("missing key `{field}` in this table")
        );
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
            tr!(
                format!(
                    "durée invalide `{}` ({e}) ; écrivez par exemple \"90s\", \"6h\", \"14d\" (d = jours)",
                    value.get_ref()
                ),
                format!(
                    "invalid duration `{}` ({e}); write e.g. \"90s\", \"6h\", \"14d\"",
                    value.get_ref()
                )
            ),
        )
    })
}

fn positive_duration(file: &SourceFile, value: &Spanned<String>) -> Result<Duration, ConfigError> {
    let d = duration(file, value)?;
    if d.is_zero() {
        return Err(file.at(
            value,
            tr!(
                "cette durée doit être plus grande que zéro",
                "this duration must be greater than zero"
            ),
        ));
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
                tr!(
                    format!(
                        "taille invalide `{}` ({e}) ; écrivez par exemple \"8MiB\", \"500KB\"",
                        value.get_ref()
                    ),
                    format!(
                        "invalid size `{}` ({e}); write e.g. \"8MiB\", \"500KB\"",
                        value.get_ref()
                    )
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
        return Err(file.at(
            value,
            tr!(
                format!("doit être entre {min} et {max}, pas {n}"),
                format!("must be between {min} and {max}, not {n}")
            ),
        ));
    }
    Ok(n)
}

fn mailbox(file: &SourceFile, value: &Spanned<String>) -> Result<Mailbox, ConfigError> {
    value.get_ref().trim().parse::<Mailbox>().map_err(|e| {
        file.at(
            value,
            tr!(
                format!(
                    "adresse e-mail invalide `{}` ({e}) ; écrivez par exemple \"equipe@example.org\" ou \"Équipe <equipe@example.org>\"",
                    value.get_ref()
                ),
                format!(
                    "invalid email address `{}` ({e}); write e.g. \"equipe@example.org\" or \"Équipe <equipe@example.org>\"",
                    value.get_ref()
                )
            ),
        )
    })
}

/// A URL with a host and one of `schemes` (what reqwest can use in that place).
fn url(file: &SourceFile, value: &Spanned<String>, schemes: &[&str]) -> Result<Url, ConfigError> {
    let parsed = Url::parse(value.get_ref().trim()).map_err(|e| {
        file.at(
            value,
            tr!(
                format!("adresse web invalide `{}` : {e}", value.get_ref()),
                format!("invalid URL `{}`: {e}", value.get_ref())
            ),
        )
    })?;
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

mod raw_campaign;
mod raw_config;
mod raw_watchlist;

use raw_config::RawConfig;
use raw_watchlist::RawWatchlist;

#[cfg(test)]
mod tests;
