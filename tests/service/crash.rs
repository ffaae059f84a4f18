//! A daemon killed with SIGKILL in the middle of a collection: the store still opens after
//! a restart, with every sample of the passes that completed before.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::collect_support;
use crate::common::{quoted, Setup, TestConfig};

use collect_support::guarded::GuardedTiktok;
use collect_support::{chromium_or_skip, group_members, running};
use tokio::io::AsyncBufReadExt as _;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn page(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/html; charset=utf-8")
        .set_body_string(body)
}

/// Collections every 3 h of three tags from `base`, with time for slow pages.
fn config(base: &str) -> TestConfig {
    TestConfig::new()
        .top("timezone", &quoted("UTC"))
        .tiktok(base)
        .set("collect", "schedule", &quoted("0 0 */3 * * *"))
        .set("collect", "timeout", &quoted("60s"))
        .set("digest", "schedule", &quoted("0 0 8 * * Mon"))
        .watchlist("[tiktok]\nhashtags = [\"one\", \"two\", \"three\"]\n")
}

/// `trendwatch run` on `setup`, for tokio.
fn daemon(setup: &Setup) -> tokio::process::Command {
    tokio::process::Command::from(setup.daemon())
}

async fn export(setup: &Setup) -> Vec<String> {
    // A worker whose daemon was killed notices its closed stdin and lets go of the store
    // within its grace period (5 s); until then `export` is told the store is in use.
    let deadline = Instant::now() + Duration::from_secs(10);
    let out = loop {
        let out = setup
            .tokio_cmd(&["export", "--format", "csv"])
            .output()
            .await
            .unwrap();
        let busy = String::from_utf8_lossy(&out.stderr).contains("another trendwatch is using");
        if !busy || Instant::now() > deadline {
            break out;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rows: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_a_collection_keeps_every_completed_pass() {
    let server = MockServer::start().await;
    let setup = Setup::new(config(&server.uri()));

    // A completed pass: every tag answers at once.
    for tag in ["one", "two", "three"] {
        Mock::given(path(format!("/tag/{tag}")))
            .respond_with(page(collect_support::tag_page(tag)))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    let out = setup.tokio_cmd(&["run", "--once"]).output().await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = export(&setup).await;
    assert!(before.len() >= 3, "{before:?}");

    // The daemon starts a day later, catches up on the missed collection, and hangs on
    // slow pages until it is killed.
    Mock::given(path("/tag/one"))
        .respond_with(page(collect_support::tag_page("one")))
        .with_priority(2)
        .mount(&server)
        .await;
    for tag in ["two", "three"] {
        Mock::given(path(format!("/tag/{tag}")))
            .respond_with(page(collect_support::tag_page(tag)).set_delay(Duration::from_secs(60)))
            .with_priority(2)
            .mount(&server)
            .await;
    }
    let requests_before = server.received_requests().await.unwrap().len();
    let later = (chrono_now() + 86_400).to_string();
    let mut child = daemon(&setup)
        .env("TRENDWATCH_SIMULATED_CLOCK", format!("{later},1"))
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.received_requests().await.unwrap().len() < requests_before + 3 {
        assert!(
            Instant::now() < deadline,
            "the catch-up collection never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // As systemd kills a service: the daemon and its worker, the whole process group, while
    // the worker is in the middle of the pass.
    let group = format!("-{}", child.id().unwrap());
    assert!(std::process::Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .unwrap()
        .success());
    child.wait().await.unwrap();

    // The store opens (once the orphaned worker has wound down), and every sample of the
    // completed pass is there, unchanged.
    let after = export(&setup).await;
    for row in &before {
        assert!(after.contains(row), "lost {row}; after: {after:?}");
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A daemon on a fresh store (so it collects at start) whose every page hangs, once its
/// collection has sent its first request.
async fn daemon_on_hanging_pages() -> (MockServer, Setup, tokio::process::Child) {
    let server = MockServer::start().await;
    let setup = Setup::new(config(&server.uri()));
    Mock::given(wiremock::matchers::any())
        .respond_with(
            page(collect_support::tag_page("skincarenaturel")).set_delay(Duration::from_secs(120)),
        )
        .mount(&server)
        .await;
    let child = daemon(&setup).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.received_requests().await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the collection never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (server, setup, child)
}

/// SIGTERM, then the exit status within systemd's 15-s stop timeout (a panic past it).
async fn stop_as_systemd_does(child: &mut tokio::process::Child) -> Option<i32> {
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("still running 15 s after SIGTERM")
        .unwrap()
        .code()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_hanging_collection_still_exits_cleanly() {
    let (_server, setup, mut child) = daemon_on_hanging_pages().await;
    // systemd's stop timeout is 15 s; the daemon gives requests in flight a grace period
    // and must be gone before that.
    assert_eq!(stop_as_systemd_does(&mut child).await, Some(0));
    // And the store is left usable.
    export(&setup).await;
}

/// The processes the daemon started (its workers), from every thread's `children` list.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(
            list.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_whose_daemon_was_killed_stops_by_itself() {
    let (_server, setup, mut child) = daemon_on_hanging_pages().await;
    let daemon = child.id().unwrap();
    let workers = children_of(daemon);
    assert_eq!(workers.len(), 1, "{workers:?}");
    // Only the daemon dies; its worker is left hanging on a slow page.
    assert!(std::process::Command::new("kill")
        .args(["-KILL", &daemon.to_string()])
        .status()
        .unwrap()
        .success());
    child.wait().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while running(workers[0]) {
        assert!(
            Instant::now() < deadline,
            "the orphaned worker {} is still running",
            workers[0]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And the store it held is free again.
    export(&setup).await;
}

/// A daemon whose collection reads every page in the browser, on pages that never finish
/// loading; returns it with the process id of the browser its worker started.
async fn daemon_in_the_browser() -> (GuardedTiktok, Setup, tokio::process::Child, u32) {
    let sim = GuardedTiktok::start(&[("one", 1_000_000)], &[]).await;
    for tag in ["one", "two", "three"] {
        sim.slow(&format!("/tag/{tag}"), Duration::from_secs(120));
    }
    let setup = Setup::new(config(&sim.uri()).set("collect", "browser", &quoted("always")));
    let mut child = daemon(&setup).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let started = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("browser started") {
                return line;
            }
        }
        panic!("the daemon exited before starting a browser");
    })
    .await
    .expect("no browser started within 30 s");
    // Keep reading, so the daemon never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let pid: u32 = started
        .split("pid=")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {started:?}"));
    assert!(
        !group_members(pid).is_empty(),
        "the browser {pid} is not running"
    );
    (sim, setup, child, pid)
}

async fn assert_group_gone(group: u32, within: Duration, what: &str) {
    let left = tokio::task::spawn_blocking(move || collect_support::left_after(group, within))
        .await
        .unwrap();
    assert!(
        left.is_empty(),
        "{what}: browser processes {left:?} still running"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_with_sigkill_leaves_no_browser_behind() {
    if !chromium_or_skip("a_worker_killed_with_sigkill_leaves_no_browser_behind") {
        return;
    }
    let (_sim, _setup, mut child, browser) = daemon_in_the_browser().await;
    let workers = children_of(child.id().unwrap());
    assert_eq!(workers.len(), 1, "{workers:?}");
    assert!(std::process::Command::new("kill")
        .args(["-KILL", &workers[0].to_string()])
        .status()
        .unwrap()
        .success());
    assert_group_gone(
        browser,
        Duration::from_secs(10),
        "after SIGKILL of the worker",
    )
    .await;
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_stopped_with_sigterm_stops_its_browser() {
    if !chromium_or_skip("a_daemon_stopped_with_sigterm_stops_its_browser") {
        return;
    }
    let (_sim, _setup, mut child, browser) = daemon_in_the_browser().await;
    assert_eq!(stop_as_systemd_does(&mut child).await, Some(0));
    assert_group_gone(browser, Duration::from_secs(2), "after the daemon stopped").await;
}

/// The daemon with real Chromium reading a page that loops forever, a page that allocates
/// without end and a custom source of 300,000 unclosed elements, beside normal tags: every
/// collection tick stores the normal ones, the hostile ones fail alone, and the digests go
/// out on their schedule.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_pages_under_the_daemon_stop_neither_collections_nor_digests() {
    if !chromium_or_skip("hostile_pages_under_the_daemon_stop_neither_collections_nor_digests") {
        return;
    }
    let sim = GuardedTiktok::start_open(&[("calme", 1_000_000), ("serein", 2_000_000)], &[]).await;
    sim.serve_raw(
        "/tag/boucleinfinie",
        "<html><body><p>chargement</p><script>while (true) {}</script></body></html>",
    );
    sim.serve_raw(
        "/tag/memoiresansfin",
        "<html><body><script>const keep = []; \
         for (;;) { keep.push(new Array(1e6).fill(Math.random())); }</script></body></html>",
    );
    let shop = MockServer::start().await;
    Mock::given(path("/produits/baume"))
        .respond_with(page("<div>".repeat(300_000)))
        .mount(&shop)
        .await;
    let setup = Setup::new(
        config(&sim.uri())
            .set("collect", "browser", &quoted("always"))
            .set("collect", "timeout", &quoted("3s"))
            .set("collect", "schedule", &quoted("*/15 * * * * *"))
            .set("digest", "schedule", &quoted("*/20 * * * * *"))
            .watchlist(&format!(
                "[tiktok]\nhashtags = [\"boucleinfinie\", \"calme\", \"memoiresansfin\", \"serein\"]\n\n\
                 [[source]]\nname = \"boutique\"\nkind = \"html\"\n\
                 url = \"{}/produits/{{id}}\"\nids = [\"baume\"]\n\
                 metrics = {{ reviews = {{ selector = \".avis\" }} }}\n",
                shop.uri()
            )),
    );
    let log_path = setup.path().join("daemon.log");
    let mut child = daemon(&setup)
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    // The start-up pass, then two ticks 15 s apart, and a digest.
    let deadline = Instant::now() + Duration::from_secs(120);
    while log().matches("collected ").count() < 3 || eml_files(&setup) == 0 {
        assert!(
            Instant::now() < deadline,
            "collections or digests stopped:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = stop_as_systemd_does(&mut child).await;
    let text = log();
    // (The start-up pass may still run at the first tick.)
    let after_first = text.split_once("collected ").map_or("", |(_, rest)| rest);
    assert!(!after_first.contains("tick skipped"), "{text}");
    assert!(!text.contains("WS Invalid message"), "{text}");
    for line in text.lines().filter(|l| l.contains("collected ")) {
        // 5 entities, the 3 hostile ones failing: the other two stored every time.
        assert!(line.contains("collected 5 entities (3 failed)"), "{line}");
    }
    let rows = export(&setup).await;
    for tag in ["calme", "serein"] {
        let n = rows
            .iter()
            .filter(|r| r.starts_with(&format!("tiktok:#{tag},")))
            .count();
        assert!(n >= 3, "#{tag}: {n} samples after 3 passes\n{text}");
    }
    assert!(
        !rows.iter().any(|r| r.contains("boucleinfinie")
            || r.contains("memoiresansfin")
            || r.contains("baume")),
        "a hostile page gave a number: {rows:?}"
    );
}

/// `.eml` files the digest left in the outbox folder.
fn eml_files(setup: &Setup) -> usize {
    std::fs::read_dir(setup.state().join("outbox"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .count()
        })
        .unwrap_or(0)
}
