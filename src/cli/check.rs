//! `trendwatch check`: validate both files and show what the service would do with them.

use super::{Cli, CommandError, CommandResult};
use crate::config::{BrowserLaunch, BrowserMode, Config, SourceKind, Transport, Watchlist};
use crate::mail::Secret;

pub(super) fn check(cli: &Cli, mail: bool) -> CommandResult {
    let (mut config, watchlist) = super::load_config_only(cli)?;
    print!("{}", summary(&config, &watchlist, crate::clock::now_utc()));
    let password = check_password(&config)?;
    if !mail {
        return Ok(());
    }
    if matches!(config.mail.transport, Transport::File) {
        // The test file goes where the digests go, as the store's user.
        super::owner::become_store_owner(&mut config.state_dir)?;
    }
    send_test(&config, password)
}

/// The SMTP password must be readable where it is said to be: a digest that cannot be sent
/// is found out now, not on Monday. From a shell, the service's credential is read where
/// systemd takes it from (the unit's `LoadCredential*=` line, or its credential stores).
fn check_password(config: &Config) -> Result<Option<Secret>, CommandError> {
    let Transport::Smtp(smtp) = &config.mail.transport else {
        return Ok(None);
    };
    let fr = super::say::lang() == super::say::Lang::Fr;
    match &smtp.password {
        None => Ok(None),
        Some(crate::config::PasswordSource::Credential(name))
            if std::env::var_os("CREDENTIALS_DIRECTORY").is_none() =>
        {
            match crate::mail::credential::read_outside_service(name) {
                Ok((secret, from)) => {
                    println!(
                        "{}",
                        if fr {
                            format!("mot de passe : identifiant systemd `{name}`, lu dans {}", from.display())
                        } else {
                            format!("password  the service's credential `{name}`, read from {}", from.display())
                        }
                    );
                    Ok(Some(secret))
                }
                Err(e) => Err(CommandError::user(anyhow::anyhow!(
                    "{e}: {}",
                    super::say::pick(
                        "le service ne pourra pas envoyer le résumé ; créez l'identifiant (README, « Le mot de passe SMTP »), en root (`sudo trendwatch check`)",
                        "the service could not send the digest; create the credential (README, \"The SMTP password\"), and run check as root (`sudo trendwatch check`)"
                    )
                ))),
            }
        }
        Some(src) => crate::mail::transport::read_password(src)
            .map(Some)
            .map_err(|e| {
                CommandError::user(anyhow::anyhow!(
                    "{e}: {}",
                    super::say::pick(
                        "le mot de passe SMTP ne peut pas être lu là ; définissez-le (un `export` dans ce terminal, ou `Environment=` dans le complément du service) ou indiquez sous [mail] où il se trouve",
                        "the SMTP password cannot be read there; set it (an `export` in this shell, or `Environment=` in the service's drop-in) or point `[mail]` at where it is"
                    )
                ))
            }),
    }
}

/// `check --mail`: the test message, then what became of it for each recipient.
fn send_test(config: &Config, password: Option<Secret>) -> CommandResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CommandError::runtime)?;
    let report = runtime
        .block_on(crate::mail::trial::send_test(
            config,
            password,
            crate::clock::now(),
        ))
        .map_err(CommandError::user)?;
    let fr = super::say::lang() == super::say::Lang::Fr;
    for to in &report.accepted {
        match (&report.file, fr) {
            (Some(file), true) => println!(
                "message d'essai pour {to} écrit dans {}",
                super::owner::shown(&file.display().to_string())
            ),
            (Some(file), false) => println!(
                "test message for {to} written to {}",
                super::owner::shown(&file.display().to_string())
            ),
            (None, true) => println!("message d'essai accepté pour {to}"),
            (None, false) => println!("test message accepted for {to}"),
        }
    }
    for (to, why) in &report.failed {
        eprintln!(
            "{}",
            crate::language::tr!(
                format!("message d'essai NON remis à {to} : {why}"),
                format!("test message NOT delivered to {to}: {why}")
            )
        );
    }
    let Some((_, why)) = report.failed.first() else {
        println!(
            "{}",
            super::say::pick(
                "aucun résumé envoyé ni compté : le prochain partira à son heure",
                "no digest was sent or counted: the next one goes out on schedule"
            )
        );
        return Ok(());
    };
    let fix = crate::mail::trial::advice(why, fr).unwrap_or(super::say::pick(
        "corrigez [mail] ou [digest] to, puis relancez `trendwatch check --mail`",
        "fix [mail] or [digest] to, then run `trendwatch check --mail` again",
    ));
    let failed = report.failed.len();
    Err(CommandError::runtime(anyhow::anyhow!(
        "{}",
        crate::language::tr!(
            format!("{failed} destinataire(s) n'ont pas reçu le message d'essai : {fix}"),
            format!("{failed} recipient(s) did not get the test message: {fix}")
        )
    )))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The summary `check` prints: counts of what is watched and the next run times, in the
/// user's language and the configured zone.
pub(super) fn summary(
    config: &Config,
    watchlist: &Watchlist,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let fr = super::say::lang() == super::say::Lang::Fr;
    let w = |f: &'static str, e: &'static str| if fr { f } else { e };
    let ids: usize = watchlist.sources.iter().map(|s| s.ids.len()).sum();
    let sources = match watchlist.sources.len() {
        0 => w("0 source", "0 sources").to_string(),
        n => {
            let json = watchlist
                .sources
                .iter()
                .filter(|s| matches!(s.kind, SourceKind::Json { .. }))
                .count();
            format!(
                "{} ({}; {json} json, {} html)",
                plural(n, "source", "sources"),
                plural(ids, w("identifiant", "id"), w("identifiants", "ids")),
                n - json
            )
        }
    };
    let discovery = if watchlist.discovery.enabled {
        format!(
            "{} ({}, {} {})",
            w("découverte active", "discovery on"),
            plural(
                watchlist.discovery.keywords.len(),
                w("mot-clé", "keyword"),
                w("mots-clés", "keywords")
            ),
            w("jusqu'à", "up to"),
            plural(
                watchlist.discovery.max_tracked,
                w("suivi", "tracked"),
                w("suivis", "tracked")
            ),
        )
    } else {
        w("découverte désactivée", "discovery off").to_string()
    };
    let runs = |schedule: &crate::config::Schedule| {
        schedule
            .next_runs(config.timezone, now, 3)
            .iter()
            .map(|t| crate::language::local_time(t.timestamp(), config.timezone))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mail = match &config.mail.transport {
        Transport::File => format!(
            "{} → {}",
            w("fichiers", "file"),
            config.state_dir.join("outbox").display()
        ),
        Transport::Smtp(smtp) => format!(
            "smtp {}:{} ({}){}",
            smtp.host,
            smtp.port,
            match smtp.tls {
                crate::config::Tls::Tls => "tls",
                crate::config::Tls::StartTls => "starttls",
                crate::config::Tls::None => w(
                    "sans chiffrement : machine locale seulement",
                    "no encryption: loopback only"
                ),
            },
            smtp.username
                .as_ref()
                .map(|u| format!(" {} {u}", w("en tant que", "as")))
                .unwrap_or_default()
        ),
        Transport::Sendmail { command } => format!(
            "sendmail ({})",
            command
                .as_ref()
                .map(|c| c.display().to_string())
                .unwrap_or_else(|| w("sendmail du système", "sendmail on PATH").into())
        ),
    };
    let browser = match (&config.collect.browser.mode, &config.collect.browser.launch) {
        (BrowserMode::Off, _) => {
            w("désactivé (HTTP simple seulement)", "off (plain HTTP only)").to_owned()
        }
        (mode, BrowserLaunch::Connect(url)) => {
            format!(
                "{} {} {url}",
                mode.as_str(),
                w("via le navigateur ouvert à", "via the running browser at")
            )
        }
        (mode, BrowserLaunch::Command { program, .. }) => {
            match crate::collect::browser::find_program(program) {
                Some(path) => format!("{} {} {}", mode.as_str(), w("avec", "with"), path.display()),
                None => format!(
                    "{} {}",
                    mode.as_str(),
                    if fr {
                        format!("mais `{program}` n'est pas installé : les pages qui en ont besoin échoueront (browser_unavailable) ; installez-le (apt install chromium) ou indiquez browser_url")
                    } else {
                        format!("but `{program}` is not installed: pages that need it will fail as browser_unavailable (apt install chromium, or set browser_url)")
                    }
                ),
            }
        }
    };
    let recipients = config.digest.recipients();
    let label = |f: &str, e: &str| format!("{:<11}", if fr { f } else { e });
    let to = w("pour", "to");
    let colon = w(" :", ":");
    format!(
        "{}{} (ok)\n\
         {}{} (ok){colon} {}, {}, {}, {}\n\
         {}{}\n\
         {}{} ({}){colon} {}\n\
         {}{}\n\
         {}{} ({}){colon} {}\n\
         {}{} {to} {}\n",
        label("config", "config"),
        config.path.display(),
        label("liste", "watchlist"),
        watchlist.path.display(),
        plural(watchlist.tiktok.hashtags.len(), "hashtag", "hashtags"),
        plural(
            watchlist.tiktok.creators.len(),
            w("créateur", "creator"),
            w("créateurs", "creators")
        ),
        sources,
        discovery,
        label("données", "state"),
        super::owner::shown(&config.state_dir.display().to_string()),
        label("collecte", "collect"),
        config.collect.schedule.expr,
        config.timezone,
        runs(&config.collect.schedule),
        label("navigateur", "browser"),
        browser,
        label("résumé", "digest"),
        config.digest.schedule.expr,
        config.timezone,
        runs(&config.digest.schedule),
        label("courrier", "mail"),
        mail,
        recipients,
    )
}
