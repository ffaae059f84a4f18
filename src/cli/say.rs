//! What the command line says to a person, in their language.
//!
//! trendwatch's users read its digest in French or English (`[digest] language`); the command
//! line speaks the same language, or French when the system's locale is French. This module
//! decides the language (kept in [`crate::language`]) and holds the command line's own
//! sentences; the others pick their wording where they are written (`language::tr!`).

/// The language of what the command line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

/// Whether a locale setting (`fr_FR.UTF-8`, `fr`, `fr_BE@euro`) names French.
fn names_french(locale: &str) -> bool {
    let lang = locale.split(['_', '.', '@']).next().unwrap_or("");
    lang.eq_ignore_ascii_case("fr")
}

/// The locale of the environment: `LC_ALL`, then `LC_MESSAGES`, then `LANG`, the first one
/// set, as the C library reads them.
fn locale() -> String {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

/// A French locale makes the command line speak French.
pub fn from_environment() {
    if names_french(&locale()) {
        crate::language::set_french();
    }
}

/// The language of the files `init` writes when none is asked for: French (the digest's
/// default) unless the locale names another language (`en_GB.UTF-8` gets English); a
/// server's usual `C.UTF-8` or an unset locale says nothing of the person.
pub fn starter_language() -> Lang {
    let locale = locale();
    let family = locale.split(['_', '.', '@']).next().unwrap_or("");
    if family.is_empty() || family == "C" || family == "POSIX" || names_french(&locale) {
        Lang::Fr
    } else {
        Lang::En
    }
}

/// A config whose digest is in French makes the command line speak French too.
pub fn from_config(config: &crate::config::Config) {
    if config.digest.language == crate::config::Language::Fr {
        crate::language::set_french();
    }
}

/// Before a config is loaded (its errors are said in its language): French unless the file
/// says `language = "en"` under `[digest]` (French is the default). A file that cannot be
/// read or parsed says nothing.
pub fn from_config_file(path: &std::path::Path) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let Ok(value) = text.parse::<toml::Table>() else {
        // Unparsable: a line-level look for the language key.
        if !text.lines().any(|l| {
            let l = l.replace(' ', "");
            l.starts_with("language=\"en\"")
        }) {
            crate::language::set_french();
        }
        return;
    };
    let language = value
        .get("digest")
        .and_then(|d| d.get("language"))
        .and_then(|l| l.as_str());
    if language != Some("en") {
        crate::language::set_french();
    }
}

pub fn lang() -> Lang {
    if crate::language::french() {
        Lang::Fr
    } else {
        Lang::En
    }
}

/// Picks the wording of the current language.
pub fn pick<'a>(fr: &'a str, en: &'a str) -> &'a str {
    match lang() {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

pub(crate) fn waiting_for_store() -> &'static str {
    pick(
        "trendwatch : la base est occupée (une collecte y enregistre ses pages, ou une autre commande) : la commande attend son tour…",
        "trendwatch: the store is busy (a collection writing its pages, or another command): waiting for it…",
    )
}

/// The heading of a status read from the service's last snapshot.
pub(crate) fn status_from_snapshot(daemon_running: bool, as_of: &str, tz: chrono_tz::Tz) -> String {
    let as_of = crate::language::local_rfc3339(as_of, tz);
    match (lang(), daemon_running) {
        (Lang::Fr, true) => format!("trendwatch tourne sur cette base ; son état le {as_of} :"),
        (Lang::Fr, false) => format!(
            "la base est occupée par une autre commande trendwatch ; état enregistré le {as_of} :"
        ),
        (Lang::En, true) => {
            format!("trendwatch is running on this store; its status as of {as_of}:")
        }
        (Lang::En, false) => format!(
            "another trendwatch command is using the store; the status recorded as of {as_of}:"
        ),
    }
}

/// What comes before an error on the command line.
pub fn error_label() -> &'static str {
    pick("trendwatch : erreur : ", "trendwatch: error: ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_locales_are_recognised_in_their_usual_spellings() {
        for l in ["fr_FR.UTF-8", "fr", "fr_BE@euro", "FR_ca.utf8"] {
            assert!(names_french(l), "{l}");
        }
        for l in ["", "C", "C.UTF-8", "en_US.UTF-8", "POSIX", "fy_NL"] {
            assert!(!names_french(l), "{l}");
        }
    }
}
