//! `trendwatch init [DIR]`, `completions SHELL` and `man`: getting started and living with
//! the command line.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::CommandFactory as _;

use super::say::{self, Lang};
use super::{Cli, CommandError, CommandResult};

const CONFIG_EN: &str = include_str!("../../config/trendwatch.toml");
const WATCHLIST_EN: &str = include_str!("../../config/watchlist.toml");
const CONFIG_FR: &str = include_str!("../../config/fr/trendwatch.toml");
const WATCHLIST_FR: &str = include_str!("../../config/fr/watchlist.toml");

/// Where the installed service reads its config: a starter written there leaves the state
/// directory to the service (`StateDirectory=`).
const SERVICE_CONFIG_DIR: &str = "/etc/trendwatch";

/// The starter files' texts for `lang`, with the state directory fit for `dir`.
fn starter(lang: Lang, for_service: bool) -> (String, &'static str) {
    let (config, watchlist) = match lang {
        Lang::Fr => (CONFIG_FR.to_owned(), WATCHLIST_FR),
        // The repository's example keeps its state beside the `config/` folder and speaks
        // French in its digest; a starter keeps it beside itself, in English.
        Lang::En => (
            CONFIG_EN
                .replace("state_dir = \"../state\"", "state_dir = \"state\"")
                .replace("language = \"fr\"", "language = \"en\""),
            WATCHLIST_EN,
        ),
    };
    let config = if for_service {
        config.replace(
            "\nstate_dir = \"state\"",
            "\n# state_dir = \"/var/lib/trendwatch\"",
        )
    } else {
        config
    };
    (config, watchlist)
}

pub(super) fn init(dir: Option<&Path>, language: Option<Lang>) -> CommandResult {
    let lang = language.unwrap_or_else(say::starter_language);
    let dir = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    // Said as the person wrote it (the folder may not exist yet), or through a link.
    let for_service = std::path::absolute(&dir).is_ok_and(|d| d == Path::new(SERVICE_CONFIG_DIR))
        || std::fs::canonicalize(&dir).is_ok_and(|d| d == Path::new(SERVICE_CONFIG_DIR));
    let config_path = dir.join("trendwatch.toml");
    let watchlist_path = dir.join("watchlist.toml");
    for path in [&config_path, &watchlist_path] {
        if path.exists() {
            return Err(CommandError::user(anyhow!(
                "{}",
                match lang {
                    Lang::Fr => format!(
                        "{} existe déjà : `trendwatch init` ne remplace jamais un fichier ; déplacez-le ou choisissez un autre dossier",
                        path.display()
                    ),
                    Lang::En => format!(
                        "{} already exists: `trendwatch init` never replaces a file; move it away or pick another folder",
                        path.display()
                    ),
                }
            )));
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        CommandError::user(anyhow!(e).context(format!("cannot create {}", dir.display())))
    })?;
    let (config, watchlist) = starter(lang, for_service);
    for (path, text) in [
        (&config_path, config.as_str()),
        (&watchlist_path, watchlist),
    ] {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
            .map_err(|e| {
                CommandError::user(anyhow!(e).context(format!("cannot write {}", path.display())))
            })?;
    }
    let check = if for_service {
        "trendwatch check".to_owned()
    } else {
        format!("trendwatch -c {} check", config_path.display())
    };
    match lang {
        Lang::Fr => println!(
            "Écrits : {} et {}.\nEnsuite : mettez votre adresse sous [digest] to, vos hashtags dans la liste de veille, puis vérifiez avec `{check}`.",
            config_path.display(),
            watchlist_path.display()
        ),
        Lang::En => println!(
            "Wrote {} and {}.\nNext: put your address under [digest] to and your hashtags in the watchlist, then check with `{check}`.",
            config_path.display(),
            watchlist_path.display()
        ),
    }
    Ok(())
}

/// The shells `completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Prints the completion script of `shell` for every command and option.
pub(super) fn completions(shell: Shell) -> CommandResult {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, "trendwatch", &mut out);
    Ok(())
}

/// Prints the manual page (roff), made from the same definitions as `--help`: the command
/// line, then each command with its own options.
pub(super) fn man() -> CommandResult {
    let mut out = Vec::new();
    let render = |out: &mut Vec<u8>| -> std::io::Result<()> {
        clap_mangen::Man::new(Cli::command()).render(out)?;
        for sub in Cli::command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
        {
            let about = sub
                .get_about()
                .map(|a| a.to_string())
                .unwrap_or_default()
                .replace('\\', "\\\\");
            out.extend_from_slice(
                format!(
                    ".SH \"COMMAND: {}\"\n{about}\n",
                    sub.get_name().to_uppercase()
                )
                .as_bytes(),
            );
            if sub.get_arguments().any(|a| !a.is_hide_set()) {
                clap_mangen::Man::new(sub.clone()).render_options_section(out)?;
            }
        }
        Ok(())
    };
    render(&mut out).map_err(CommandError::runtime)?;
    std::io::Write::write_all(&mut std::io::stdout().lock(), &out).map_err(CommandError::runtime)
}
