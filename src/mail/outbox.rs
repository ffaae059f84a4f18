//! Retry policy of the outbox (when a failed send is tried again), and the lock that lets
//! one trendwatch process at a time send it.

use std::path::Path;
use std::time::Duration;

use crate::model::UnixSeconds;
use crate::store::StoreError;

/// How long a flush that has a new digest to send waits for another process's flush to
/// end; past it the outbox is left to the other one, and the next flush sends what remains.
pub const SEND_LOCK_WAIT: Duration = Duration::from_secs(120);

/// An exclusive lock on `STATE_DIR/outbox.lock` for the time of one flush; released with
/// the process, even on SIGKILL.
#[derive(Debug)]
pub struct SendLock {
    _file: std::fs::File,
}

impl SendLock {
    /// Takes the lock, waiting up to `wait`; `None` if another process keeps it.
    pub async fn take(state_dir: &Path, wait: Duration) -> Result<Option<SendLock>, StoreError> {
        let io = |source| StoreError::Io {
            state_dir: state_dir.to_path_buf(),
            source,
        };
        let file = crate::files::lock_file(&state_dir.join("outbox.lock")).map_err(io)?;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(SendLock { _file: file })),
                Err(std::fs::TryLockError::WouldBlock)
                    if tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
        }
    }
}

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
