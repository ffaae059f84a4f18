//! The `trendwatch.toml` tables as they deserialize (unknown keys refused, spans kept), and
//! their checks into the typed [`Config`].

use super::*;
use crate::language::tr;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) watchlist: Option<Spanned<String>>,
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
    min_views: Option<Spanned<f64>>,
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
    pub(super) fn check(self, file: &SourceFile) -> Result<Config, ConfigError> {
        let watchlist_path = beside(
            file.path,
            self.watchlist
                .as_ref()
                .map(|w| w.get_ref().as_str())
                .unwrap_or("watchlist.toml"),
        );
        let state_dir = match &self.state_dir {
            Some(dir) if dir.get_ref().trim().is_empty() => {
                return Err(file.at(
                    dir,
                    tr!("`state_dir` ne doit pas être vide", "`state_dir` must not be empty"),
                ))
            }
            // A shell expands `~`, a config file does not: a folder literally named `~` would
            // be created (and a later `rm -rf ~` would delete the home folder).
            Some(dir) if dir.get_ref().trim().starts_with('~') => {
                return Err(file.at(
                    dir,
                    tr!(
                        "`~` n'est pas remplacé ici : écrivez le chemin complet, par exemple \"/home/lea/trendwatch-donnees\" (ou \"/var/lib/trendwatch\" pour le service)",
                        "`~` is not expanded here: write the full path, e.g. \"/home/lea/trendwatch-state\" (or \"/var/lib/trendwatch\" for the service)"
                    ),
                ))
            }
            Some(dir) => beside(file.path, dir.get_ref().trim()),
            None => state_directory_from_env(std::env::var("STATE_DIRECTORY").ok().as_deref()),
        };
        let timezone = match &self.timezone {
            Some(tz) => tz.get_ref().trim().parse::<Tz>().map_err(|_| {
                // Written in another case (`europe/paris`): name the zone it means.
                let wanted = tz.get_ref().trim().to_lowercase();
                let close = chrono_tz::TZ_VARIANTS
                    .iter()
                    .find(|z| z.name().to_lowercase() == wanted)
                    .map(|z| {
                        tr!(
                            format!(" ; vouliez-vous dire \"{}\" ?", z.name()),
                            format!("; did you mean \"{}\"?", z.name())
                        )
                    })
                    .unwrap_or_default();
                file.at(
                    tz,
                    tr!(
                        format!(
                            "fuseau horaire inconnu `{}`{close} Écrivez un nom IANA comme \"Europe/Paris\" ou \"UTC\"",
                            tz.get_ref()
                        ),
                        format!(
                            "unknown time zone `{}`{close} Use an IANA name such as \"Europe/Paris\" or \"UTC\"",
                            tz.get_ref()
                        )
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
        use crate::config::collect_defaults as defaults;
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
            None => Url::parse(crate::config::collect_defaults::TIKTOK_BASE_URL)
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
            min_views: non_negative(&self.min_views, crate::config::DEFAULT_MIN_VIEWS)?,
            min_score: non_negative(&self.min_score, crate::config::DEFAULT_MIN_SCORE)?,
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
                        tr!(
                            format!("langue inconnue `{other}` : écrivez \"fr\" ou \"en\""),
                            format!("unknown language `{other}`: use \"fr\" or \"en\"")
                        ),
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
