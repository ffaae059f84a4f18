//! How a long job reaches the store.
//!
//! sled lets one process at a time open the store, so a job that holds it while it waits on
//! the network (a collection pass fetching pages, a flush waiting on an SMTP server) would
//! make every other trendwatch process — the daemon's next job, an administrator's `detect` —
//! fail or wait for minutes. Such jobs go through a [`StoreAccess`]: [`Reopening`] opens the
//! store for each short step and lets go of it right after; a command that holds the store
//! anyway passes the [`Store`] itself.

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Store, StoreError};

/// The store, for one short step at a time.
pub trait StoreAccess: Sync {
    /// Runs `f` on the store; with [`Reopening`], the store is durable and let go once `f`
    /// returns.
    fn with<R, E, F>(&self, f: F) -> impl Future<Output = Result<R, E>> + Send
    where
        F: FnOnce(&Store) -> Result<R, E> + Send,
        E: From<StoreError> + Send,
        R: Send;

    /// The state directory: home of the store, the outbox files and the locks.
    fn state_dir(&self) -> &Path;

    /// Whether the store may stay open until the next step: yes between steps that follow
    /// each other quickly (a collection pass whose pages arrive at once), no before a wait on
    /// the network. No by default.
    fn linger(&self, _keep_open: bool) {}
}

impl StoreAccess for Store {
    async fn with<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&Store) -> Result<R, E> + Send,
        E: From<StoreError> + Send,
        R: Send,
    {
        f(self)
    }

    fn state_dir(&self) -> &Path {
        Store::state_dir(self)
    }
}

/// The store opened for each step and closed right after, waiting up to `wait` each time for
/// another process to let go of it (never past `cancel`); kept open between steps only while
/// [`StoreAccess::linger`] says so.
pub struct Reopening<'a> {
    state_dir: &'a Path,
    wait: Duration,
    cancel: &'a CancellationToken,
    keep_open: AtomicBool,
    held: Mutex<Option<Store>>,
    opens: AtomicUsize,
}

impl<'a> Reopening<'a> {
    pub fn new(state_dir: &'a Path, wait: Duration, cancel: &'a CancellationToken) -> Self {
        Reopening {
            state_dir,
            wait,
            cancel,
            keep_open: AtomicBool::new(false),
            held: Mutex::new(None),
            opens: AtomicUsize::new(0),
        }
    }

    /// How many times the store was opened through this access: reopening costs a load of
    /// the whole catalog, so a pass's cost follows this count.
    pub fn opens(&self) -> usize {
        self.opens.load(Ordering::Relaxed)
    }

    fn take_held(&self) -> Option<Store> {
        self.held.lock().ok().and_then(|mut held| held.take())
    }
}

impl StoreAccess for Reopening<'_> {
    async fn with<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&Store) -> Result<R, E> + Send,
        E: From<StoreError> + Send,
        R: Send,
    {
        let store = match self.take_held() {
            Some(store) => store,
            None => {
                let store = Store::open_waiting(self.state_dir, self.wait, self.cancel).await?;
                self.opens.fetch_add(1, Ordering::Relaxed);
                store
            }
        };
        let r = f(&store)?;
        store.flush()?;
        if self.keep_open.load(Ordering::Relaxed) {
            if let Ok(mut held) = self.held.lock() {
                *held = Some(store);
            }
        }
        Ok(r)
    }

    fn state_dir(&self) -> &Path {
        self.state_dir
    }

    fn linger(&self, keep_open: bool) {
        self.keep_open.store(keep_open, Ordering::Relaxed);
        if !keep_open {
            drop(self.take_held());
        }
    }
}
