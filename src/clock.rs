//! The one source of "now" for the whole pipeline.
//!
//! Every stage asks this module for the time instead of the system clock, so that a simulated
//! week can pass in minutes in end-to-end tests and benchmarks. Normally it is the system
//! clock. The environment variable `TRENDWATCH_SIMULATED_CLOCK=START,SCALE` (START as RFC 3339
//! or unix seconds, SCALE simulated seconds per real second) starts the process's clock at
//! START and runs it SCALE times faster; it exists for tests and is documented in the README's
//! testing section. It is read once, at first use.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::model::UnixSeconds;

/// Name of the environment variable that switches on the simulated clock.
pub(crate) const SIMULATED_CLOCK_ENV: &str = "TRENDWATCH_SIMULATED_CLOCK";

#[derive(Debug, Clone, Copy)]
struct Simulated {
    start: f64,
    scale: f64,
    real_start: Instant,
}

static SIMULATED: OnceLock<Option<Simulated>> = OnceLock::new();

/// Parses `START,SCALE`.
fn parse_simulated(value: &str) -> Option<(f64, f64)> {
    let (start, scale) = value.split_once(',')?;
    let start = start.trim();
    // Unix seconds, possibly fractional (a daemon hands its clock on to its workers), or RFC 3339.
    let start = match start.parse::<f64>() {
        Ok(secs) if secs.is_finite() => secs,
        _ => chrono::DateTime::parse_from_rfc3339(start)
            .ok()?
            .timestamp() as f64,
    };
    let scale = scale.trim().parse::<f64>().ok()?;
    (scale.is_finite() && scale > 0.0).then_some((start, scale))
}

fn simulated() -> Option<Simulated> {
    *SIMULATED.get_or_init(|| {
        let value = std::env::var(SIMULATED_CLOCK_ENV).ok()?;
        match parse_simulated(&value) {
            Some((start, scale)) => Some(Simulated {
                start,
                scale,
                real_start: Instant::now(),
            }),
            None => {
                tracing::warn!("ignoring {SIMULATED_CLOCK_ENV}={value:?}: expected START,SCALE");
                None
            }
        }
    })
}

/// The current time in fractional unix seconds.
pub(crate) fn now_f64() -> f64 {
    match simulated() {
        Some(sim) => sim.start + sim.real_start.elapsed().as_secs_f64() * sim.scale,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0),
    }
}

/// The current time in unix seconds.
pub(crate) fn now() -> UnixSeconds {
    now_f64().floor() as UnixSeconds
}

/// The current time as a chrono UTC date-time.
pub(crate) fn now_utc() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(now(), 0).unwrap_or_default()
}

/// How many simulated seconds pass per real second (1 unless simulated).
pub(crate) fn scale() -> f64 {
    simulated().map(|s| s.scale).unwrap_or(1.0)
}

/// The real duration to wait for `simulated` to pass on this clock.
pub(crate) fn real_duration(simulated: Duration) -> Duration {
    Duration::from_secs_f64(simulated.as_secs_f64() / scale())
}

/// Sleeps until the clock reads `at` (returns at once if it already has).
pub(crate) async fn sleep_until(at: UnixSeconds) {
    let remaining = at as f64 - now_f64();
    if remaining > 0.0 {
        tokio::time::sleep(real_duration(Duration::from_secs_f64(remaining))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_clock_setting_parses_both_time_forms() {
        assert_eq!(parse_simulated("1700000000,3600"), Some((1.7e9, 3600.0)));
        assert_eq!(
            parse_simulated("2026-11-16T00:00:00Z, 600"),
            Some((1_794_787_200.0, 600.0))
        );
        assert_eq!(parse_simulated("2026-11-16T00:00:00Z"), None);
        assert_eq!(parse_simulated("x,2"), None);
        assert_eq!(parse_simulated("0,-1"), None);
    }

    #[test]
    fn real_clock_is_close_to_system_time() {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        assert!((now() - system).abs() <= 1);
    }
}
