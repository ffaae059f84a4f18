//! Commands run by root on the installed service's store act as the store's owner.
//!
//! The service runs as its own user (`DynamicUser=yes`), so its store belongs to that user
//! and sits under `/var/lib/private`, closed to everyone else. A command run with `sudo`
//! enters the state directory while it is still root, then gives up root for the store
//! owner's user and group: what it writes (sled's files, the outbox) stays the service's, and
//! nothing it does needs root afterwards. Where the owner cannot reach the folder by its path
//! (the closed parent), the command keeps working from inside it, through
//! `/proc/self/cwd`.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::CommandError;

/// The state directory's own path, when the command works through `/proc/self/cwd`.
static SHOWN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The link a command works through when the state directory's path is closed to it.
const CWD_LINK: &str = "/proc/self/cwd";

/// `text` with the state directory said by its own path (what the user configured), not by
/// the link the command reached it through.
pub fn shown(text: &str) -> String {
    match SHOWN.get() {
        Some(original) => text.replace(CWD_LINK, &original.display().to_string()),
        None => text.to_owned(),
    }
}

/// Whether a command on `state_dir` would run as another user than the store's, and which.
#[allow(unsafe_code)]
fn store_owner(state_dir: &Path) -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let meta = std::fs::metadata(state_dir).ok()?;
    (meta.uid() != 0).then_some((meta.uid(), meta.gid()))
}

/// Run as root on a state directory that belongs to another user: becomes that user, and
/// points `state_dir` at the current folder when the path itself is closed to it. Anything
/// else is left as is.
#[allow(unsafe_code)]
pub(crate) fn become_store_owner(state_dir: &mut PathBuf) -> Result<(), CommandError> {
    let Some((uid, gid)) = store_owner(state_dir) else {
        return Ok(());
    };
    let fail = |what: &str| {
        CommandError::runtime(anyhow!(
            "cannot act as the store's user {uid} on {}: {what} failed ({})",
            state_dir.display(),
            std::io::Error::last_os_error()
        ))
    };
    let home = std::env::current_dir().ok();
    std::env::set_current_dir(&*state_dir).map_err(|_| fail("entering the folder"))?;
    // SAFETY: plain system calls on integers; each result is checked. Groups first: once the
    // user id changes, the process may no longer change them.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0 {
            return Err(fail("dropping the supplementary groups"));
        }
        if libc::setgid(gid) != 0 {
            return Err(fail("changing group"));
        }
        if libc::setuid(uid) != 0 {
            return Err(fail("changing user"));
        }
    }
    let reachable = std::fs::metadata(&*state_dir).is_ok();
    match home {
        Some(home) if reachable && std::env::set_current_dir(&home).is_ok() => {}
        // sled makes a relative path absolute, so "." would be looked up through the closed
        // parent again; the process's own link to its current folder is not.
        _ => {
            let _ = SHOWN.set(state_dir.clone());
            *state_dir = PathBuf::from(CWD_LINK);
        }
    }
    tracing::debug!(uid, gid, "acting as the store's user");
    Ok(())
}

/// A path the command line gave, made absolute before the command may change folder.
pub(super) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_of_ones_own_or_none_is_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut state_dir = dir.path().to_path_buf();
        // Run as anyone: a folder this process created is its own, so nothing changes.
        become_store_owner(&mut state_dir).expect("nothing to do");
        assert_eq!(state_dir, dir.path());
        let mut missing = dir.path().join("not-yet");
        become_store_owner(&mut missing).expect("nothing to do");
        assert_eq!(missing, dir.path().join("not-yet"));
    }
}
