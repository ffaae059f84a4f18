//! Shared helpers of the collection tests: a collect config pointed at a loopback server and
//! the fixture pages.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

/// The collection settings against a loopback server (one home: `tests/common`).
#[allow(unused_imports)]
pub use crate::common::collect_config as config;

pub fn fixture_path(dir: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name)
}

pub fn tiktok(name: &str) -> String {
    std::fs::read_to_string(fixture_path("tiktok", name)).unwrap()
}

/// The captured tag page, as the page of `tag` (trendwatch stores nothing from a page that
/// shows another tag).
pub fn tag_page(tag: &str) -> String {
    tiktok("tag_universal.html").replace(
        "\"title\":\"skincarenaturel\"",
        &format!("\"title\":\"{tag}\""),
    )
}

pub fn source(name: &str) -> String {
    std::fs::read_to_string(fixture_path("sources", name)).unwrap()
}

/// An HTML page as a server sends it (`set_body_string` would make it `text/plain`, which a
/// browser shows as text without running its scripts).
pub fn html(body: impl Into<String>) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_raw(body.into(), "text/html; charset=utf-8")
}

pub fn json(body: impl Into<String>) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200)
        .insert_header("content-type", "application/json")
        .set_body_string(body.into())
}

pub fn metric(outcome: &trendwatch::model::EntityOutcome, name: &str) -> Option<f64> {
    outcome
        .observation
        .as_ref()?
        .metrics
        .iter()
        .find(|(m, _)| m == name)
        .map(|(_, v)| *v)
}

pub mod guarded;

/// Whether Debian's `chromium` is installed. Tests that need a real browser call this first
/// and, without one, say loudly that they did not run (CI installs it, so they run there).
pub fn chromium_or_skip(test: &str) -> bool {
    let found = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| dir.join("chromium").is_file())
    });
    if !found {
        eprintln!("SKIPPED {test}: chromium is not installed (apt install chromium)");
    }
    found
}

/// Alive and not a zombie waiting to be reaped.
pub fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat.rsplit(") ").next().unwrap_or("").chars().next();
            state != Some('Z') && state != Some('X')
        })
        .unwrap_or(false)
}

/// Processes of process group `group` still running: a browser started by trendwatch leads
/// its own group, renderers and helpers included.
pub fn group_members(group: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After "(comm) ": state, ppid, pgrp, …
        let fields: Vec<&str> = stat.rsplit(") ").next().unwrap_or("").split(' ').collect();
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(group) && running(pid) {
            out.push(pid);
        }
    }
    out
}

/// The proportional set size of a process in KiB: shared pages counted once over all the
/// processes that share them, so a browser's processes can be summed. 0 when it is gone.
pub fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A `/proc/PID/status` figure in KiB (`VmRSS`, `VmHWM`), 0 when the process is gone.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Waits up to `within` for every process of `group` to be gone (a SIGKILL is delivered at
/// once, but a process takes a moment to die); returns those still running then.
pub fn left_after(group: u32, within: std::time::Duration) -> Vec<u32> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = group_members(group);
        if left.is_empty() || std::time::Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
