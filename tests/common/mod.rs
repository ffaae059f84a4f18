//! One setup for every test that runs the real binary: a temporary directory holding a
//! `trendwatch.toml` (a config that loads, with what the test changes), its watchlist and
//! its state directory, and the commands and daemons started on it.
//!
//! Each test program includes it with `#[path = "../common/mod.rs"] mod common;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use trendwatch::config::{CollectConfig, Schedule};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_trendwatch");

/// A TOML string literal.
pub fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A `trendwatch.toml` and its watchlist, built key by key over defaults that load: Paris
/// time, digests to one address, delivery as files, no wait between requests and no retries.
#[derive(Debug, Clone)]
pub struct TestConfig {
    /// `("", key, value)` is a top-level key; values are TOML literals.
    keys: Vec<(String, String, String)>,
    watchlist: String,
}

impl Default for TestConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl TestConfig {
    pub fn new() -> Self {
        let mut c = TestConfig {
            keys: Vec::new(),
            watchlist: "[tiktok]\nhashtags = [\"skincarenaturel\"]\n".into(),
        };
        c = c
            .top("timezone", &quoted("Europe/Paris"))
            .set("collect", "per_host_interval", &quoted("0s"))
            .set("collect", "retries", "0")
            .set("digest", "to", "[\"equipe@example.org\"]")
            .set(
                "digest",
                "from",
                &quoted("trendwatch <trendwatch@example.org>"),
            )
            .set("mail", "transport", &quoted("file"));
        c
    }

    /// Sets `key = value` in `[section]` (replacing a default); `value` is a TOML literal.
    pub fn set(mut self, section: &str, key: &str, value: &str) -> Self {
        match self
            .keys
            .iter_mut()
            .find(|(s, k, _)| s == section && k == key)
        {
            Some(entry) => entry.2 = value.to_string(),
            None => self
                .keys
                .push((section.to_string(), key.to_string(), value.to_string())),
        }
        self
    }

    /// Removes `key` from `[section]`, for a default the test does not want.
    pub fn unset(mut self, section: &str, key: &str) -> Self {
        self.keys.retain(|(s, k, _)| !(s == section && k == key));
        self
    }

    /// A top-level key (`timezone`, …).
    pub fn top(self, key: &str, value: &str) -> Self {
        self.set("", key, value)
    }

    /// Collects TikTok from `base` (a loopback server) instead of tiktok.com.
    pub fn tiktok(self, base: &str) -> Self {
        self.set("collect", "tiktok_base_url", &quoted(base))
    }

    /// Sends the user agent of a desktop Firefox, as a user who copied their browser's would.
    pub fn firefox(self) -> Self {
        self.set("collect", "user_agent", &quoted(FIREFOX))
    }

    /// Delivers by SMTP to a plain-text server on loopback.
    pub fn smtp(self, port: u16) -> Self {
        self.set("mail", "transport", &quoted("smtp"))
            .set("mail", "host", &quoted("127.0.0.1"))
            .set("mail", "port", &port.to_string())
            .set("mail", "tls", &quoted("none"))
    }

    /// The watchlist's whole text.
    pub fn watchlist(mut self, text: &str) -> Self {
        self.watchlist = text.to_string();
        self
    }

    /// The watchlist's text as written.
    pub fn watchlist_text(&self) -> &str {
        &self.watchlist
    }

    /// The text of `trendwatch.toml` with its state under `state_dir`.
    pub fn text(&self, state_dir: &Path) -> String {
        let mut out = format!(
            "watchlist = \"watchlist.toml\"\nstate_dir = {}\n",
            quoted(&state_dir.display().to_string())
        );
        for (_, key, value) in self.keys.iter().filter(|(s, _, _)| s.is_empty()) {
            out.push_str(&format!("{key} = {value}\n"));
        }
        let mut sections: Vec<&str> = Vec::new();
        for (s, _, _) in &self.keys {
            if !s.is_empty() && !sections.contains(&s.as_str()) {
                sections.push(s);
            }
        }
        for section in sections {
            out.push_str(&format!("\n[{section}]\n"));
            for (_, key, value) in self.keys.iter().filter(|(s, _, _)| s == section) {
                out.push_str(&format!("{key} = {value}\n"));
            }
        }
        out
    }

    /// Writes both files into `dir` (state under `dir/state`); returns the config's path.
    pub fn write_in(&self, dir: &Path) -> PathBuf {
        std::fs::write(dir.join("watchlist.toml"), &self.watchlist).unwrap();
        let config = dir.join("trendwatch.toml");
        std::fs::write(&config, self.text(&dir.join("state"))).unwrap();
        config
    }
}

/// A desktop Firefox's user agent.
pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// The collection settings of a test that collects in process from a loopback server at
/// `base`: no wait between requests, short timeouts.
pub fn collect_config(base: &str) -> CollectConfig {
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

/// A temporary directory with a config written into it, and the binary run on that config.
pub struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Setup {
    pub fn new(config: TestConfig) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = config.write_in(dir.path());
        Setup { dir, config }
    }

    /// The temporary directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config(&self) -> &Path {
        &self.config
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Rewrites the config (a user's edit); the state stays.
    pub fn rewrite(&self, config: &TestConfig) {
        config.write_in(self.dir.path());
    }

    /// `trendwatch -c CONFIG ARGS…`, untouched by the environment the tests run in.
    pub fn cmd(&self, args: &[&str]) -> Command {
        command(&self.config, args)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs `args`, asserts success and returns standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `cmd` on a clock going 600 times as fast from now: a command that waits its turn for the
    /// store (two minutes) gives up within a fraction of a second.
    pub fn impatient(&self, args: &[&str]) -> Output {
        let now = chrono::Utc::now().to_rfc3339();
        self.cmd(args)
            .env("TRENDWATCH_SIMULATED_CLOCK", format!("{now},600"))
            .output()
            .unwrap()
    }

    /// `cmd`, for a test on tokio.
    pub fn tokio_cmd(&self, args: &[&str]) -> tokio::process::Command {
        tokio::process::Command::from(self.cmd(args))
    }

    /// `trendwatch run` as a service with no service manager: nothing on stdin or stdout, logs
    /// at info to stderr (the caller points it somewhere).
    pub fn daemon(&self) -> Command {
        daemon(&self.config)
    }
}

/// `trendwatch -c CONFIG ARGS…` with none of the variables a test machine or a service
/// manager may have set.
pub fn command(config: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("-c").arg(config).args(args);
    for var in [
        "TRENDWATCH_CONFIG",
        "TRENDWATCH_SIMULATED_CLOCK",
        "NOTIFY_SOCKET",
        "WATCHDOG_USEC",
        "WATCHDOG_PID",
        "JOURNAL_STREAM",
    ] {
        c.env_remove(var);
    }
    c
}

/// `trendwatch -c CONFIG run`, detached from the terminal, logging at info.
pub fn daemon(config: &Path) -> Command {
    let mut c = command(config, &["run"]);
    c.env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    c
}
