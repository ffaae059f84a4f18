//! `trendwatch check`: validate both files and show what the service would do with them.

use super::{Cli, CommandResult};
use crate::config::{BrowserLaunch, BrowserMode, Config, SourceKind, Transport, Watchlist};

pub(super) fn check(cli: &Cli) -> CommandResult {
    let (config, watchlist) = super::load_config_only(cli)?;
    print!("{}", summary(&config, &watchlist, crate::clock::now_utc()));
    check_password(&config)
}

/// The SMTP password must be readable where it is said to be: a digest that cannot be sent
/// is found out now, not on Monday. A systemd credential only exists inside the service.
fn check_password(config: &Config) -> CommandResult {
    let Transport::Smtp(smtp) = &config.mail.transport else {
        return Ok(());
    };
    match &smtp.password {
        None => Ok(()),
        Some(crate::config::PasswordSource::Credential(name))
            if std::env::var_os("CREDENTIALS_DIRECTORY").is_none() =>
        {
            println!(
                "note: the password is the service's credential `{name}`: it can only be read inside the service (`systemctl status trendwatch` shows whether it started)"
            );
            Ok(())
        }
        Some(src) => crate::mail::transport::read_password(src)
            .map(|_| ())
            .map_err(|e| {
                super::CommandError::user(anyhow::anyhow!(
                    "{e}: the SMTP password cannot be read there; set it (an `export` in this shell, or `Environment=` in the service's drop-in) or point `[mail]` at where it is"
                ))
            }),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The summary `check` prints: counts of what is watched and the next run times.
pub(super) fn summary(
    config: &Config,
    watchlist: &Watchlist,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let ids: usize = watchlist.sources.iter().map(|s| s.ids.len()).sum();
    let sources = match watchlist.sources.len() {
        0 => "0 sources".to_string(),
        n => {
            let json = watchlist
                .sources
                .iter()
                .filter(|s| matches!(s.kind, SourceKind::Json { .. }))
                .count();
            format!(
                "{} ({}; {json} json, {} html)",
                plural(n, "source", "sources"),
                plural(ids, "id", "ids"),
                n - json
            )
        }
    };
    let discovery = if watchlist.discovery.enabled {
        format!(
            "discovery on ({}, up to {} tracked)",
            plural(watchlist.discovery.keywords.len(), "keyword", "keywords"),
            watchlist.discovery.max_tracked
        )
    } else {
        "discovery off".to_string()
    };
    let runs = |schedule: &crate::config::Schedule| {
        schedule
            .next_runs(config.timezone, now, 3)
            .iter()
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mail = match &config.mail.transport {
        Transport::File => format!("file → {}", config.state_dir.join("outbox").display()),
        Transport::Smtp(smtp) => format!(
            "smtp {}:{} ({:?}){}",
            smtp.host,
            smtp.port,
            smtp.tls,
            smtp.username
                .as_ref()
                .map(|u| format!(" as {u}"))
                .unwrap_or_default()
        ),
        Transport::Sendmail { command } => format!(
            "sendmail ({})",
            command
                .as_ref()
                .map(|c| c.display().to_string())
                .unwrap_or_else(|| "sendmail on PATH".into())
        ),
    };
    let browser = match (&config.collect.browser.mode, &config.collect.browser.launch) {
        (BrowserMode::Off, _) => "off (plain HTTP only)".to_owned(),
        (mode, BrowserLaunch::Connect(url)) => {
            format!("{} via the running browser at {url}", mode.as_str())
        }
        (mode, BrowserLaunch::Command { program, .. }) => {
            match crate::collect::browser::find_program(program) {
                Some(path) => format!("{} with {}", mode.as_str(), path.display()),
                None => format!(
                    "{} but `{program}` is not installed: pages that need it will fail as \
                     browser_unavailable (apt install chromium, or set browser_url)",
                    mode.as_str()
                ),
            }
        }
    };
    let recipients = config.digest.recipients();
    format!(
        "config    {} (ok)\n\
         watchlist {} (ok): {}, {}, {}, {}\n\
         state     {}\n\
         collect   {} ({}): {}\n\
         browser   {}\n\
         digest    {} ({}): {}\n\
         mail      {} to {}\n",
        config.path.display(),
        watchlist.path.display(),
        plural(watchlist.tiktok.hashtags.len(), "hashtag", "hashtags"),
        plural(watchlist.tiktok.creators.len(), "creator", "creators"),
        sources,
        discovery,
        config.state_dir.display(),
        config.collect.schedule.expr,
        config.timezone,
        runs(&config.collect.schedule),
        browser,
        config.digest.schedule.expr,
        config.timezone,
        runs(&config.digest.schedule),
        mail,
        recipients,
    )
}
