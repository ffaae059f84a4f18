//! Retry policy of the outbox: when a failed send is tried again.
//!
//! Pure arithmetic over attempts; it never touches the store or the network.

use crate::model::UnixSeconds;

/// First retry after one minute.
pub const FIRST_RETRY: i64 = 60;
/// Retries never wait longer than an hour.
pub const MAX_RETRY: i64 = 3600;

/// Delay after the `attempts`-th failure (1-based): 1 min, 2, 4, … capped at 1 h.
pub fn backoff(attempts: u32) -> i64 {
    let shift = attempts.saturating_sub(1).min(16);
    (FIRST_RETRY << shift).min(MAX_RETRY)
}

/// When to try again after the `attempts`-th failure at `at`.
pub fn next_attempt(at: UnixSeconds, attempts: u32) -> UnixSeconds {
    at.saturating_add(backoff(attempts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_minute_up_to_an_hour() {
        let got: Vec<i64> = (1..=8).map(backoff).collect();
        assert_eq!(got, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(u32::MAX), 3600);
    }
}
