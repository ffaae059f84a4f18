//! The systemd notification protocol: READY, RELOADING, STOPPING, STATUS and watchdog pings.
//!
//! Every function is a no-op when `NOTIFY_SOCKET` is unset, so the daemon runs the same by
//! hand. A failed send is logged at debug level and never stops the daemon: systemd being
//! unreachable must not take the service down.

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState]) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!("sd_notify failed: {e}");
    }
}

/// The service is up: schedules run and signals are handled.
pub(crate) fn ready() {
    send(&[NotifyState::Ready]);
}

/// A reload starts; systemd ≥ 253 wants the monotonic time of the request with it.
pub(crate) fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(mono) => send(&[NotifyState::Reloading, mono]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// Shutdown has begun.
pub(crate) fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// A one-line status shown by `systemctl status`.
pub(crate) fn status(text: &str) {
    send(&[NotifyState::Status(text)]);
}

/// Tells the watchdog the service is alive.
pub(crate) fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// The watchdog timeout systemd asked for: `WATCHDOG_USEC`, for this process when
/// `WATCHDOG_PID` names one (as `sd_watchdog_enabled(3)`: an unset `WATCHDOG_PID` means us).
pub(crate) fn watchdog_timeout() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.trim().parse::<u32>().ok()? != std::process::id() {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}
