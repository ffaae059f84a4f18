//! `trendwatch run` as systemd runs it: the real binary with `NOTIFY_SOCKET` pointing at a
//! datagram socket this test binds, signals sent with `kill`, the store checked afterwards.

use std::io::Read;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::common::{quoted, Setup, TestConfig};

/// A port nothing listens on: every collection fails fast, per entity.
const DEAD_URL: &str = "http://127.0.0.1:9";

/// The daemon of these tests: collections every 3 h that fail fast, a weekly digest.
fn config() -> TestConfig {
    TestConfig::new()
        .tiktok(DEAD_URL)
        .set("collect", "schedule", &quoted("0 0 */3 * * *"))
        .set("collect", "timeout", &quoted("2s"))
        .set("digest", "schedule", &quoted("0 0 8 * * Mon"))
        .set("digest", "language", &quoted("en"))
        .watchlist("[tiktok]\nhashtags = [\"skincarenaturel\", \"bienetre\"]\n")
}

struct Daemon {
    child: Child,
    socket: UnixDatagram,
    log: PathBuf,
    seen: Vec<String>,
    started: Instant,
}

impl Daemon {
    fn start(setup: &Setup, extra_env: &[(&str, &str)]) -> Daemon {
        let dir = setup.path();
        let sock_path = dir.join(format!("notify-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&sock_path);
        let socket = UnixDatagram::bind(&sock_path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let log = dir.join("daemon.log");
        let mut cmd = setup.daemon();
        cmd.env("NOTIFY_SOCKET", &sock_path)
            .env("WATCHDOG_USEC", "400000")
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        Daemon {
            child: cmd.spawn().unwrap(),
            socket,
            log,
            seen: Vec::new(),
            started: Instant::now(),
        }
    }

    /// Waits (up to 10 s) until a message satisfying `pred` arrives; returns its index.
    fn wait_for(&mut self, pred: impl Fn(&str) -> bool) -> usize {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 4096];
        let from = self.seen.len();
        if let Some(i) = self.seen.iter().position(|m| pred(m)) {
            if i >= from {
                return i;
            }
        }
        while Instant::now() < deadline {
            if let Ok(n) = self.socket.recv(&mut buf) {
                let msg = String::from_utf8_lossy(&buf[..n]).to_string();
                self.seen.push(msg.clone());
                if pred(&msg) {
                    return self.seen.len() - 1;
                }
            }
        }
        panic!(
            "no matching notification; got {:?}; log:\n{}",
            self.seen,
            self.log_text()
        );
    }

    /// Reads every notification waiting on the socket, as systemd would: a daemon whose
    /// notify socket is never read blocks once the socket's buffer is full.
    fn drain(&mut self) {
        let mut buf = [0u8; 4096];
        self.socket.set_nonblocking(true).unwrap();
        while let Ok(n) = self.socket.recv(&mut buf) {
            self.seen
                .push(String::from_utf8_lossy(&buf[..n]).to_string());
        }
        self.socket.set_nonblocking(false).unwrap();
    }

    fn log_text(&self) -> String {
        let mut s = String::new();
        std::fs::File::open(&self.log)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill().unwrap();
        panic!(
            "the daemon did not exit within 10 s; log:\n{}",
            self.log_text()
        );
    }
}

fn has(msg: &str, line: &str) -> bool {
    msg.lines().any(|l| l == line)
}

fn count_watchdog(d: &mut Daemon, n: usize) {
    for _ in 0..n {
        d.wait_for(|m| has(m, "WATCHDOG=1"));
    }
}

#[test]
fn ready_watchdog_reload_and_stop_as_systemd_expects() {
    let setup = Setup::new(config());
    let mut d = Daemon::start(&setup, &[]);

    d.wait_for(|m| has(m, "READY=1"));
    count_watchdog(&mut d, 2);

    d.signal("HUP");
    let reloading = d.wait_for(|m| has(m, "RELOADING=1"));
    assert!(
        d.seen[reloading].contains("MONOTONIC_USEC="),
        "{:?}",
        d.seen[reloading]
    );
    d.wait_for(|m| has(m, "READY=1"));

    d.signal("TERM");
    d.wait_for(|m| has(m, "STOPPING=1"));
    assert_eq!(d.wait_exit(), Some(0), "{}", d.log_text());
    assert!(d.seen.iter().any(|m| m.contains("STATUS=next collection")));
}

#[test]
fn a_broken_watchlist_edit_keeps_the_daemon_on_the_last_good_one() {
    let setup = Setup::new(config());
    let mut d = Daemon::start(&setup, &[]);
    d.wait_for(|m| has(m, "READY=1"));

    let watchlist = setup.path().join("watchlist.toml");
    std::fs::write(&watchlist, "[tiktok]\nhashtags = [\"a\", \"b\"\n").unwrap();
    // The file watcher reloads on its own; wait for the failed reload in the log.
    let deadline = Instant::now() + Duration::from_secs(10);
    let expected = format!("{}:2:", watchlist.display());
    while !d.log_text().contains(&expected) {
        assert!(
            Instant::now() < deadline,
            "no error logged:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(d.log_text().contains("keeping the last good config"));

    // Still alive: the watchdog keeps being pinged and SIGHUP still reloads (and fails again).
    count_watchdog(&mut d, 2);
    d.signal("TERM");
    d.wait_for(|m| has(m, "STOPPING=1"));
    assert_eq!(d.wait_exit(), Some(0), "{}", d.log_text());
    assert!(!d.log_text().contains("reloaded:"), "{}", d.log_text());
}

#[test]
fn collections_after_a_broken_edit_run_on_the_last_good_watchlist() {
    let setup = Setup::new(config());
    // A collection every second, so passes follow each edit quickly.
    setup.rewrite(&config().set("collect", "schedule", &quoted("* * * * * *")));
    let mut d = Daemon::start(&setup, &[]);
    d.wait_for(|m| has(m, "READY=1"));
    let passes = |d: &Daemon, n: usize| {
        d.log_text()
            .matches(&format!("collected {n} entities"))
            .count()
    };
    let wait_until = |d: &mut Daemon, what: &str, ok: &dyn Fn(&Daemon) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !ok(d) {
            d.drain();
            assert!(Instant::now() < deadline, "{what}; log:\n{}", d.log_text());
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_until(&mut d, "no pass over the two watched tags", &|d| {
        passes(d, 2) >= 1
    });

    // A broken edit: the daemon keeps the last good watchlist, and so do its passes.
    let watchlist = setup.path().join("watchlist.toml");
    std::fs::write(&watchlist, "[tiktok]\nhashtags = [\"a\", \"b\", \"c\"\n").unwrap();
    wait_until(&mut d, "the broken edit was not reported", &|d| {
        d.log_text().contains("keeping the last good config")
    });
    let after_edit = passes(&d, 2);
    wait_until(&mut d, "no pass after the broken edit", &|d| {
        passes(d, 2) >= after_edit + 2
    });
    assert_eq!(passes(&d, 3), 0, "{}", d.log_text());

    // Fixed: the next passes cover the three tags.
    std::fs::write(&watchlist, "[tiktok]\nhashtags = [\"a\", \"b\", \"c\"]\n").unwrap();
    wait_until(&mut d, "no pass over the fixed watchlist", &|d| {
        passes(d, 3) >= 1
    });

    d.signal("TERM");
    assert_eq!(d.wait_exit(), Some(0), "{}", d.log_text());
}

#[test]
fn a_good_watchlist_edit_is_applied_and_the_change_logged() {
    let setup = Setup::new(config());
    let mut d = Daemon::start(&setup, &[]);
    d.wait_for(|m| has(m, "READY=1"));
    // Editors replace the file: write a new one and rename it over.
    let tmp = setup.path().join(".watchlist.toml.swp");
    std::fs::write(
        &tmp,
        "[tiktok]\nhashtags = [\"skincarenaturel\", \"ayurveda\"]\n",
    )
    .unwrap();
    std::fs::rename(&tmp, setup.path().join("watchlist.toml")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !d.log_text().contains("reloaded:") {
        assert!(Instant::now() < deadline, "no reload:\n{}", d.log_text());
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = d.log_text();
    assert!(log.contains("1 added [tiktok:#ayurveda]"), "{log}");
    assert!(log.contains("1 removed [tiktok:#bienetre]"), "{log}");
    d.signal("TERM");
    assert_eq!(d.wait_exit(), Some(0));
}

#[test]
fn a_second_daemon_on_the_same_state_dir_fails_fast_with_a_clear_message() {
    let setup = Setup::new(config());
    let mut d = Daemon::start(&setup, &[]);
    d.wait_for(|m| has(m, "READY=1"));

    // A second service, and a one-off cycle that would collect and mail beside the service's
    // own: both refused, before anything is fetched or queued.
    for args in [&["run"][..], &["run", "--once"][..]] {
        let out = setup.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("already running"), "{args:?}: {stderr}");
    }
    assert_eq!(eml_count(setup.path()), 0);

    d.signal("TERM");
    assert_eq!(d.wait_exit(), Some(0));
}

#[test]
fn status_answers_while_the_daemon_runs() {
    let setup = Setup::new(config());
    let mut d = Daemon::start(&setup, &[]);
    d.wait_for(|m| has(m, "READY=1"));
    // The start-up pass fails both tags on the dead port; its worker writes the snapshot as it
    // ends. Between passes the daemon holds no store, so `status` reads it directly.
    let snapshot = setup.path().join("state").join("status.json");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !snapshot.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }

    let out = setup.run(&["status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\nlog:\n{}",
        String::from_utf8_lossy(&out.stderr),
        d.log_text()
    );
    for tag in ["tiktok:#bienetre", "tiktok:#skincarenaturel"] {
        let line = stdout.lines().find(|l| l.starts_with(tag)).unwrap();
        assert!(line.contains("network at"), "{line}");
    }

    // And systemd hears the count once the pass is over.
    d.wait_for(|m| m.starts_with("STATUS=") && m.contains("; 2 failing entities"));

    d.signal("TERM");
    assert_eq!(d.wait_exit(), Some(0));
}

#[test]
fn a_stop_while_a_worker_waits_for_the_store_needs_no_kill() {
    let setup = Setup::new(config());
    // Someone else holds the store: the start-up worker waits for it.
    let held = trendwatch::store::Store::open(&setup.path().join("state")).unwrap();
    let mut d = Daemon::start(&setup, &[]);
    d.wait_for(|m| has(m, "READY=1"));
    std::thread::sleep(Duration::from_millis(500));

    d.signal("TERM");
    d.wait_for(|m| has(m, "STOPPING=1"));
    assert_eq!(d.wait_exit(), Some(0), "{}", d.log_text());
    let log = d.log_text();
    assert!(!log.contains("was killed"), "{log}");
    assert!(!log.contains("collected"), "{log}");
    drop(held);
}

fn eml_count(dir: &Path) -> usize {
    fn walk(p: &Path, n: &mut usize) {
        if let Ok(rd) = std::fs::read_dir(p) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, n);
                } else if p.extension().is_some_and(|x| x == "eml") {
                    *n += 1;
                }
            }
        }
    }
    let mut n = 0;
    walk(&dir.join("state"), &mut n);
    n
}

#[test]
fn run_once_does_a_full_cycle_and_catch_up_sends_one_digest_not_a_burst() {
    let setup = Setup::new(config());

    // One cycle on Monday 2 November: collection (every entity fails: nothing listens),
    // detection, one digest. The digest is still made and its file named; the exit status
    // says that nothing could be collected, with the cause in one line.
    let out = setup
        .cmd(&["run", "--once"])
        .env("TRENDWATCH_SIMULATED_CLOCK", "2026-11-02T09:00:00Z,1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("sources failed (network:") && stderr.contains("nothing new was collected"),
        "{stderr}"
    );
    assert_eq!(eml_count(setup.path()), 1);
    let eml = stdout
        .split("delivered to the file ")
        .nth(1)
        .map(str::trim)
        .unwrap_or_else(|| panic!("no digest path in {stdout}"));
    assert!(
        eml.ends_with(".eml") && Path::new(eml).is_file(),
        "{stdout}"
    );
    assert!(
        !stderr.contains('\x1b'),
        "ANSI codes in a log that is not a terminal: {stderr}"
    );

    // Three weekly digests were missed by 23 November: one catch-up digest.
    let mut d = Daemon::start(
        &setup,
        &[("TRENDWATCH_SIMULATED_CLOCK", "2026-11-23T09:00:00Z,1")],
    );
    d.wait_for(|m| has(m, "READY=1"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while eml_count(setup.path()) < 2 {
        assert!(Instant::now() < deadline, "no catch-up:\n{}", d.log_text());
        std::thread::sleep(Duration::from_millis(100));
    }
    // Give a burst the chance to show up before counting.
    count_watchdog(&mut d, 3);
    d.signal("TERM");
    assert_eq!(d.wait_exit(), Some(0));
    assert_eq!(eml_count(setup.path()), 2, "{}", d.log_text());
    assert_eq!(d.log_text().matches("digest with").count(), 1);
}

#[test]
fn a_digest_tick_while_the_store_is_busy_is_sent_once_right_after() {
    // Digests at 08:00 Paris (07:00 UTC) on Mondays; the daemon starts 20 simulated seconds
    // before one, on a clock going 5 times as fast (a worker's waits follow it).
    let setup = Setup::new(config());
    let mut d = Daemon::start(
        &setup,
        &[("TRENDWATCH_SIMULATED_CLOCK", "2026-11-23T06:59:40Z,5")],
    );
    d.wait_for(|m| has(m, "READY=1"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !d.log_text().contains("collected") {
        assert!(
            Instant::now() < deadline,
            "no start-up pass:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A long pass holds the store across the tick, longer than a collection worker would wait
    // for it (30 simulated seconds): until 07:01 simulated.
    let state = setup.state();
    let held = loop {
        match trendwatch::store::Store::open(&state) {
            Ok(s) => break s,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    assert!(
        d.started.elapsed() < Duration::from_secs(4),
        "the store was taken only after the digest tick (07:00 simulated)"
    );
    // (Reading the notify socket meanwhile, as systemd does.)
    let until = d.started + Duration::from_secs(16);
    while Instant::now() < until {
        d.drain();
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(eml_count(setup.path()), 0, "{}", d.log_text());
    drop(held);
    // The digest of the tick comes as soon as the store is free, and only once.
    let deadline = Instant::now() + Duration::from_secs(20);
    while eml_count(setup.path()) == 0 {
        assert!(Instant::now() < deadline, "digest lost:\n{}", d.log_text());
        d.drain();
        std::thread::sleep(Duration::from_millis(100));
    }
    count_watchdog(&mut d, 3);
    d.signal("TERM");
    assert_eq!(d.wait_exit(), Some(0));
    assert_eq!(eml_count(setup.path()), 1, "{}", d.log_text());
}

#[test]
fn a_mail_server_that_never_answers_holds_back_no_collection() {
    // Accepts every connection and never greets: each send waits out `[mail] timeout`.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    // Collections every 2 s, a digest every 10 s whose send waits 12 s.
    let setup = Setup::new(
        config()
            .smtp(port)
            .set("mail", "timeout", &quoted("12s"))
            .set("collect", "schedule", &quoted("*/2 * * * * *"))
            .set("digest", "schedule", &quoted("*/10 * * * * *")),
    );
    let mut d = Daemon::start(&setup, &[]);
    d.wait_for(|m| has(m, "READY=1"));
    // A digest tick comes within 10 s and its send waits 12 s on the server; meanwhile the
    // collections go on at every tick.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !d.log_text().contains("digest not sent") {
        assert!(
            Instant::now() < deadline,
            "no digest tick reached the mail server:\n{}",
            d.log_text()
        );
        d.drain();
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = d.log_text();
    d.signal("TERM");
    assert_eq!(d.wait_exit(), Some(0));
    assert!(
        !log.contains("Collect tick skipped"),
        "a collection waited for the mail server:\n{log}"
    );
    // 12 s of waiting on the server span six collection ticks.
    assert!(
        log.matches("collected").count() >= 5,
        "collections stopped while a digest waited on the mail server:\n{log}"
    );
}
