//! When the next collection and digest are due, from the cron schedules in the config's
//! time zone, and whether a run was missed while the daemon was down.
//!
//! Occurrences are computed with the config's own [`croner::Cron`] (parsed with the settings
//! tokio-cron-scheduler uses: seconds required, day-of-month AND day-of-week) in the
//! configured zone; [`super::ticker`] plans each one as a scheduler job.
//!
//! Everything here is a pure function of a [`Schedule`], a zone and a time read from
//! [`crate::clock`], so a simulated clock drives the daemon the same as the wall clock. It
//! must never sleep or read the system time itself.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::config::Schedule;
use crate::model::UnixSeconds;

fn to_local(tz: Tz, at: UnixSeconds) -> Option<DateTime<Tz>> {
    Utc.timestamp_opt(at, 0)
        .single()
        .map(|t| t.with_timezone(&tz))
}

/// The first run strictly after `after`, in unix seconds.
pub(crate) fn next_after(s: &Schedule, tz: Tz, after: UnixSeconds) -> Option<UnixSeconds> {
    let local = to_local(tz, after)?;
    s.cron
        .find_next_occurrence(&local, false)
        .ok()
        .map(|t| t.timestamp())
}

/// The latest run at or before `at`.
pub(crate) fn prev_at_or_before(s: &Schedule, tz: Tz, at: UnixSeconds) -> Option<UnixSeconds> {
    let local = to_local(tz, at)?;
    s.cron
        .find_previous_occurrence(&local, true)
        .ok()
        .map(|t| t.timestamp())
}

/// Whether a tick passed between `last` (the last run, if any) and `now`: one catch-up run
/// covers any number of missed ticks.
pub(crate) fn missed(s: &Schedule, tz: Tz, last: Option<UnixSeconds>, now: UnixSeconds) -> bool {
    match (last, prev_at_or_before(s, tz, now)) {
        (Some(last), Some(prev)) => prev > last,
        _ => false,
    }
}

/// A time for a status line, in the config's zone.
pub(crate) fn display(tz: Tz, at: Option<UnixSeconds>) -> String {
    match at.and_then(|t| to_local(tz, t)) {
        Some(t) => t.format("%Y-%m-%d %H:%M %Z").to_string(),
        None => "never".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_3h() -> Schedule {
        Schedule::parse("0 0 */3 * * *").unwrap()
    }

    #[test]
    fn next_run_follows_the_zone() {
        let s = every_3h();
        // 2026-11-23 07:30 UTC is 08:30 in Paris: the next run is 09:00 Paris = 08:00 UTC.
        let at = Utc
            .with_ymd_and_hms(2026, 11, 23, 7, 30, 0)
            .unwrap()
            .timestamp();
        let next = next_after(&s, chrono_tz::Europe::Paris, at).unwrap();
        assert_eq!(
            next,
            Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0)
                .unwrap()
                .timestamp()
        );
    }

    #[test]
    fn many_missed_ticks_are_one_catch_up() {
        let s = every_3h();
        let now = Utc
            .with_ymd_and_hms(2026, 11, 23, 7, 30, 0)
            .unwrap()
            .timestamp();
        assert!(missed(&s, Tz::UTC, Some(now - 3 * 86_400), now));
        assert!(!missed(&s, Tz::UTC, Some(now - 3600), now));
        assert!(!missed(&s, Tz::UTC, None, now));
    }
}
