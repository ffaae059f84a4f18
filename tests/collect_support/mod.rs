//! Shared helpers of the collection tests: a collect config pointed at a loopback server and
//! the fixture pages.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use trendwatch::config::{CollectConfig, Schedule};

pub fn config(base: &str) -> CollectConfig {
    CollectConfig {
        per_host_interval: Duration::ZERO,
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        ..CollectConfig::with_defaults(
            Schedule::parse("0 0 */3 * * *").unwrap(),
            url::Url::parse(base).unwrap(),
        )
    }
}

pub fn fixture_path(dir: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name)
}

pub fn tiktok(name: &str) -> String {
    std::fs::read_to_string(fixture_path("tiktok", name)).unwrap()
}

pub fn source(name: &str) -> String {
    std::fs::read_to_string(fixture_path("sources", name)).unwrap()
}

pub fn html(body: impl Into<String>) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200)
        .insert_header("content-type", "text/html; charset=utf-8")
        .set_body_string(body.into())
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
