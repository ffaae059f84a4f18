//! The language of what trendwatch tells a person outside the digest: the command line's
//! output and the errors it prints, config and store errors included.
//!
//! The command line sets it once, from the locale and then the config's `[digest] language`
//! (trendwatch's users read their digest in French or English; its commands speak the same).
//! Nothing else sets it, so the daemon's log lines stay in English for the journal.

use std::sync::atomic::{AtomicBool, Ordering};

static FRENCH: AtomicBool = AtomicBool::new(false);

/// From now on, messages are in French.
pub fn set_french() {
    FRENCH.store(true, Ordering::Relaxed);
}

/// Whether messages are in French.
pub fn french() -> bool {
    FRENCH.load(Ordering::Relaxed)
}

/// A unix time as the person's clock shows it, in `tz`: `23/11/2026 à 07:00` or
/// `2026-11-23 07:00`.
pub fn local_time(t: crate::model::UnixSeconds, tz: chrono_tz::Tz) -> String {
    let Some(utc) = chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0) else {
        return t.to_string();
    };
    let local = utc.with_timezone(&tz);
    if french() {
        local.format("%d/%m/%Y à %H:%M").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// An RFC 3339 time (as reports keep them) shown by [`local_time`]; one that does not parse
/// is shown as it is.
pub fn local_rfc3339(t: &str, tz: chrono_tz::Tz) -> String {
    match chrono::DateTime::parse_from_rfc3339(t) {
        Ok(t) => local_time(t.timestamp(), tz),
        Err(_) => t.to_owned(),
    }
}

/// The French or the English of a message, whichever the person reads: `tr!(fr, en)`, each
/// an expression (a `format!` is only built for the language used).
macro_rules! tr {
    ($fr:expr, $en:expr $(,)?) => {
        if $crate::language::french() {
            $fr
        } else {
            $en
        }
    };
}
pub(crate) use tr;
