//! The command line (README, "Commands") and its one-shot commands.
//!
//! `main.rs` parses [`Cli`], sets up logging and calls [`run`]; each command lives in a
//! submodule and returns a [`CommandError`] whose kind decides the exit code: 1 for a user
//! error (bad config, bad input file), 2 for a runtime failure.

use crate::logging::LogFormat;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod campaign;
mod check;
mod collect;
mod data;
mod detect;
mod digest;
mod init;
pub mod owner;
mod run;
pub mod say;

/// Trend watching on short-video platforms: collect, detect, digest.
#[derive(Debug, Parser)]
#[command(name = "trendwatch", version, about, long_about = None)]
pub struct Cli {
    /// trendwatch.toml to use [default: $TRENDWATCH_CONFIG, then /etc/trendwatch/trendwatch.toml]
    #[arg(short, long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Log format on stderr (journald is used by itself when stderr is the journal).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// The language of the files `init` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StarterLanguage {
    Fr,
    En,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: collect, detect and send digests on schedule.
    Run {
        /// One collect → detect → digest cycle, then exit.
        #[arg(long)]
        once: bool,
        /// One job of the daemon, in the process the daemon started for it.
        #[arg(long, hide = true, value_enum, conflicts_with = "once")]
        worker: Option<crate::daemon::worker::WorkerJob>,
    },
    /// Validate the config and the watchlist, print a summary.
    Check {
        /// Also send a short test message to the digest's recipients, through the configured
        /// transport (no digest is sent or counted).
        #[arg(long)]
        mail: bool,
    },
    /// Write a commented starter config and watchlist that pass `check`.
    Init {
        /// The folder to write them in (created if needed) [default: the current folder].
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Their language [default: French, or English under an English locale].
        #[arg(long, value_enum)]
        language: Option<StarterLanguage>,
    },
    /// Print the shell completion script (bash: `trendwatch completions bash > /etc/bash_completion.d/trendwatch`).
    Completions {
        #[arg(value_enum)]
        shell: init::Shell,
    },
    /// Print the manual page (`trendwatch man > /usr/local/share/man/man1/trendwatch.1`).
    Man,
    /// Run one collection pass now and print a table of results.
    Collect {
        /// Collect only this entity (repeatable), e.g. `tiktok:#skincare`.
        #[arg(long = "only", value_name = "ENTITY")]
        only: Vec<String>,
    },
    /// List trends over every entity in the store.
    Detect {
        /// See only samples up to this time (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// Print the JSON array of the contract.
        #[arg(long)]
        json: bool,
    },
    /// Replay detection over a past period and print each alert onset.
    Backtest {
        /// First moment replayed (RFC 3339 or unix seconds).
        #[arg(long, value_name = "T")]
        from: String,
        /// Last moment replayed (RFC 3339 or unix seconds).
        #[arg(long, value_name = "T")]
        to: String,
        /// Time between two replayed moments, e.g. `3h` (the default collection schedule).
        #[arg(long, default_value = "3h", value_name = "DURATION")]
        every: String,
        /// Print a JSON array of onsets.
        #[arg(long)]
        json: bool,
        /// Print how many alerts each kind would have sent: per tag (or creator) and week,
        /// and per week for the whole watchlist, to see what a `[detect]` setting sends.
        #[arg(long)]
        summary: bool,
    },
    /// Render the digest, preview it or send it.
    Digest {
        /// Write a self-contained HTML file with the charts inline.
        #[arg(long, value_name = "FILE.html")]
        preview: Option<PathBuf>,
        /// Queue the digest in the outbox and send it.
        #[arg(long)]
        send: bool,
        /// Render as of this time (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
    },
    /// Load samples from a CSV file (entity,timestamp,metric,value); a bad row stores nothing.
    Import {
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
    },
    /// Write samples out, in the CSV columns of import or as JSON.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Only this entity (repeatable).
        #[arg(long = "entity", value_name = "ENTITY")]
        entity: Vec<String>,
        /// From this time (RFC 3339 or unix seconds).
        #[arg(long, value_name = "T")]
        since: Option<String>,
        /// Up to this time (RFC 3339 or unix seconds).
        #[arg(long, value_name = "T")]
        until: Option<String>,
    },
    /// Entities with their last success and failure, store size, outbox, next runs.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Pending and recently sent digests.
    Outbox {
        /// Send what is pending now.
        #[arg(long)]
        flush: bool,
        /// Print a digest as it went out (its text): `last`, or its id as `outbox` lists it.
        #[arg(long, value_name = "ID", conflicts_with = "flush")]
        show: Option<String>,
    },
    /// One entity's recent series with a sparkline and its rates.
    Show {
        #[arg(value_name = "ENTITY")]
        entity: String,
    },
    /// A campaign's report: KPIs per video, creator and campaign (all campaigns without NAME).
    ///
    /// Engagements = likes + comments + shares + saves; engagement rate = engagements / views;
    /// cost per 1,000 views (CPM) = cost / views × 1,000; cost per engagement (CPE) = cost /
    /// engagements; ROAS = revenue / cost (with `revenue` entered). A video without its own
    /// `cost` gets an equal share of the budget left after the priced ones.
    Campaign {
        #[arg(value_name = "NAME")]
        name: Option<String>,
        #[arg(long, value_enum, default_value_t = campaign::ReportFormat::Text)]
        format: campaign::ReportFormat,
        /// Counts as of this time (RFC 3339 or unix seconds).
        #[arg(long, value_name = "T")]
        at: Option<String>,
    },
}

/// Why a command failed, which decides the exit code.
#[derive(Debug)]
pub enum CommandError {
    /// Bad config, bad input file, bad argument: exit 1.
    User(anyhow::Error),
    /// The work itself failed (network, store, mail server): exit 2.
    Runtime(anyhow::Error),
}

impl CommandError {
    pub fn user(err: impl Into<anyhow::Error>) -> Self {
        Self::User(err.into())
    }

    pub fn runtime(err: impl Into<anyhow::Error>) -> Self {
        Self::Runtime(err.into())
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::User(_) => ExitCode::from(1),
            Self::Runtime(_) => ExitCode::from(2),
        }
    }

    pub fn error(&self) -> &anyhow::Error {
        match self {
            Self::User(e) | Self::Runtime(e) => e,
        }
    }
}

pub type CommandResult = Result<(), CommandError>;

/// The config path the user asked for, or the documented defaults.
pub fn config_path(cli: &Cli) -> PathBuf {
    cli.config
        .clone()
        .or_else(|| std::env::var_os("TRENDWATCH_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_CONFIG_PATH))
}

/// Loads the config, mapping any problem to a user error (exit 1), for a command that does
/// not touch the store.
pub fn load_config_only(
    cli: &Cli,
) -> Result<(crate::config::Config, crate::config::Watchlist), CommandError> {
    let path = config_path(cli);
    say::from_config_file(&path);
    let loaded = crate::config::load(&path).map_err(CommandError::user)?;
    say::from_config(&loaded.0);
    Ok(loaded)
}

/// Loads the config for a command on the store: run as root on the service's store, the
/// command goes on as the store's user ([`owner`]).
pub fn load_config(
    cli: &Cli,
) -> Result<(crate::config::Config, crate::config::Watchlist), CommandError> {
    let (mut config, watchlist) = load_config_only(cli)?;
    owner::become_store_owner(&mut config.state_dir)?;
    Ok((config, watchlist))
}

/// For commands that only read: a broken watchlist is a warning, and they run on the last
/// watchlist the service validated, so a bad edit never hides what the store holds.
pub fn load_config_to_read(
    cli: &Cli,
) -> Result<(crate::config::Config, crate::config::Watchlist), CommandError> {
    let path = config_path(cli);
    say::from_config_file(&path);
    let (config, watchlist, broken) =
        crate::config::load_for_reading(&path).map_err(CommandError::user)?;
    if let Some(e) = broken {
        let kept = config.state_dir.join(crate::config::LAST_GOOD_WATCHLIST);
        let using = if kept.is_file() {
            "using the last watchlist the service validated"
        } else {
            "using no watchlist: only what the store holds"
        };
        eprintln!("trendwatch: warning: {e}; {using} (`trendwatch check` shows what to fix)");
    }
    say::from_config(&config);
    let mut config = config;
    owner::become_store_owner(&mut config.state_dir)?;
    Ok((config, watchlist))
}

/// The time of `--at` (RFC 3339 or unix seconds), or now.
pub(crate) fn parse_at(at: Option<&str>) -> Result<crate::model::UnixSeconds, CommandError> {
    match at {
        Some(raw) => crate::store::interchange::parse_time(raw).ok_or_else(|| {
            CommandError::user(anyhow::anyhow!(
                "--at `{raw}` is neither RFC 3339 (2026-11-23T08:00:00Z) nor unix seconds"
            ))
        }),
        None => Ok(crate::clock::now()),
    }
}

/// Runs the command the user asked for.
pub fn run(mut cli: Cli) -> CommandResult {
    // A command on the service's store may change folder ([`owner`]): the paths it was given
    // keep meaning what the user meant.
    cli.config = Some(owner::absolute(&config_path(&cli)));
    match &mut cli.command {
        Command::Import { file } => *file = owner::absolute(file),
        Command::Init { dir: Some(dir), .. } => *dir = owner::absolute(dir),
        Command::Digest {
            preview: Some(file),
            ..
        } => *file = owner::absolute(file),
        _ => {}
    }
    match &cli.command {
        Command::Run { once, worker } => run::run(&cli, *once, *worker),
        Command::Check { mail } => check::check(&cli, *mail),
        Command::Init { dir, language } => init::init(
            dir.as_deref(),
            language.map(|l| match l {
                StarterLanguage::Fr => say::Lang::Fr,
                StarterLanguage::En => say::Lang::En,
            }),
        ),
        Command::Completions { shell } => init::completions(*shell),
        Command::Man => init::man(),
        Command::Collect { only } => collect::collect(&cli, only),
        Command::Detect { at, json } => detect::detect(&cli, at.as_deref(), *json),
        Command::Backtest {
            from,
            to,
            every,
            json,
            summary,
        } => detect::backtest(&cli, from, to, every, *json, *summary),
        Command::Digest { preview, send, at } => {
            digest::digest(&cli, preview.as_deref(), *send, at.as_deref())
        }
        Command::Import { file } => data::import(&cli, file),
        Command::Export {
            format,
            entity,
            since,
            until,
        } => data::export(&cli, *format, entity, since.as_deref(), until.as_deref()),
        Command::Status { json } => data::status(&cli, *json),
        Command::Outbox { flush, show } => digest::outbox(&cli, *flush, show.as_deref()),
        Command::Show { entity } => data::show(&cli, entity),
        Command::Campaign { name, format, at } => {
            campaign::campaign(&cli, name.as_deref(), *format, at.as_deref())
        }
    }
}
