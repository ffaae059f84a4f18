//! The commands on the installed service, as an administrator uses them: the daemon runs as
//! its own user on a store closed to everyone else (systemd's `DynamicUser=yes` layout:
//! `/var/lib/trendwatch` → `private/trendwatch`, `private` 0700), and the commands are run
//! by root beside it, several at once.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::collect_support;
use crate::common::{command, quoted, Setup, TestConfig, BIN};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

/// The service's user: any uid that is not root and owns nothing else here.
const SERVICE_UID: u32 = 61_234;

/// Tag pages for `tags`, each answered after `delay`.
async fn tiktok(tags: &[&str], delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    for tag in tags {
        Mock::given(path(format!("/tag/{tag}")))
            .respond_with(collect_support::html(collect_support::tag_page(tag)).set_delay(delay))
            .mount(&server)
            .await;
    }
    server
}

fn config(base: &str) -> TestConfig {
    TestConfig::new()
        .tiktok(base)
        .set("collect", "schedule", &quoted("0 0 */3 * * *"))
        .set("collect", "per_host_interval", &quoted("0s"))
        .set("digest", "language", &quoted("en"))
        .watchlist("[tiktok]\nhashtags = [\"skincarenaturel\", \"bienetre\"]\n")
}

/// 16 days of `views` for `#skincarenaturel`, every 3 hours up to now: 1,000 an hour, then
/// 40,000 an hour for the last two days (a take-off `detect` reports).
fn history_csv() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let start = now - 16 * 86_400;
    let mut views = 5_000_000i64;
    let mut csv = String::from("entity,timestamp,metric,value\n");
    let mut t = start;
    while t <= now - 600 {
        csv.push_str(&format!("tiktok:#skincarenaturel,{t},views,{views}\n"));
        let per_hour = if now - t < 2 * 86_400 { 40_000 } else { 1_000 };
        views += 3 * per_hour;
        t += 3 * 3600;
    }
    csv
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file under `dir` whose owner is not `uid`.
fn owned_by_others(dir: &Path, uid: u32) -> Vec<PathBuf> {
    let mut others = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            if meta.uid() != uid {
                others.push(e.path());
            }
            if meta.is_dir() {
                todo.push(e.path());
            }
        }
    }
    others
}

/// A copy of the service's layout under a temporary folder: `etc/trendwatch` with both
/// files (readable by the service), `var/lib/private` (0700, root's) holding the state
/// directory owned by the service's user, and `var/lib/trendwatch` pointing at it.
struct Installed {
    root: tempfile::TempDir,
    config: PathBuf,
}

impl Installed {
    fn new(cfg: &TestConfig) -> Installed {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::set_permissions(r, std::fs::Permissions::from_mode(0o755)).unwrap();
        let etc = r.join("etc/trendwatch");
        std::fs::create_dir_all(&etc).unwrap();
        let private = r.join("var/lib/private");
        std::fs::create_dir_all(private.join("trendwatch")).unwrap();
        std::fs::create_dir_all(r.join("hold")).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        let state = private.join("trendwatch");
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::chown(&state, Some(SERVICE_UID), Some(SERVICE_UID)).unwrap();
        std::os::unix::fs::symlink("private/trendwatch", r.join("var/lib/trendwatch")).unwrap();
        std::fs::write(etc.join("watchlist.toml"), cfg.watchlist_text()).unwrap();
        let config = etc.join("trendwatch.toml");
        std::fs::write(&config, cfg.text(&r.join("var/lib/trendwatch"))).unwrap();
        for dir in [r.join("etc"), etc.clone()] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Installed { root, config }
    }

    fn state(&self) -> PathBuf {
        self.root.path().join("var/lib/private/trendwatch")
    }

    /// `trendwatch run` as systemd starts it: in a mount namespace of its own where the
    /// state directory is reachable (systemd mounts it so for the service alone), as the
    /// service's user with no other group. `None` where this machine cannot make one.
    fn start_service(&self, log: &Path) -> Option<Child> {
        let r = self.root.path();
        let script = r#"set -e
mount --bind "$1/var/lib/private/trendwatch" "$1/hold"
mount -t tmpfs -o mode=0755 tmpfs "$1/var/lib/private"
mkdir "$1/var/lib/private/trendwatch"
mount --bind "$1/hold" "$1/var/lib/private/trendwatch"
exec setpriv --reuid="$2" --regid="$2" --clear-groups "$3" -c "$4" run"#;
        let probe = Command::new("unshare")
            .args(["-m", "true"])
            .stderr(Stdio::null())
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            return None;
        }
        let mut cmd = Command::new("unshare");
        cmd.args(["-m", "sh", "-c", script, "sh"])
            .arg(r)
            .arg(SERVICE_UID.to_string())
            .arg(BIN)
            .arg(&self.config)
            .env("RUST_LOG", "info")
            .env_remove("TRENDWATCH_CONFIG")
            .env_remove("TRENDWATCH_SIMULATED_CLOCK")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap());
        Some(cmd.spawn().unwrap())
    }

    /// `trendwatch ARGS` as the administrator runs it (root, from their own folder).
    fn admin(&self, args: &[&str]) -> Output {
        command(&self.config, args)
            .current_dir(self.root.path())
            .output()
            .unwrap()
    }
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_works_as_root_on_the_running_services_closed_store() {
    if !is_root() {
        println!("SKIPPED every_command_works_as_root_…: needs root to copy the service's layout");
        return;
    }
    let server = tiktok(&["skincarenaturel", "bienetre"], Duration::ZERO).await;
    let installed = Installed::new(&config(&server.uri()));
    let state = installed.state();

    // History brought in by root before the service ever ran: the store is created as the
    // service's user, not root.
    let csv = installed.root.path().join("history.csv");
    std::fs::write(&csv, history_csv()).unwrap();
    let out = installed.admin(&["import", "history.csv"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(owned_by_others(&state, SERVICE_UID), Vec::<PathBuf>::new());

    let log = installed.root.path().join("service.log");
    let Some(mut service) = installed.start_service(&log) else {
        println!("SKIPPED every_command_works_as_root_…: cannot make a mount namespace here");
        return;
    };
    // The service's start-up pass (its first collection) leaves the status snapshot.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !state.join("status.json").exists() {
        assert!(
            Instant::now() < deadline,
            "the service never collected:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        assert!(service.try_wait().unwrap().is_none(), "the service exited");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Each command, as root, while the service runs.
    let detect = installed.admin(&["detect", "--json"]);
    assert!(detect.status.success(), "{}", text(&detect));
    let trends: serde_json::Value = serde_json::from_slice(&detect.stdout).unwrap();
    assert!(
        trends
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["entity"] == "tiktok:#skincarenaturel" && t["kind"] == "emerging"),
        "{}",
        text(&detect)
    );
    let show = installed.admin(&["show", "tiktok:#skincarenaturel"]);
    assert!(
        show.status.success() && String::from_utf8_lossy(&show.stdout).contains("views"),
        "{}",
        text(&show)
    );
    let status = installed.admin(&["status"]);
    let said = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{}", text(&status));
    assert!(said.contains("tiktok:#bienetre"), "{}", text(&status));
    let export = installed.admin(&["export", "--entity", "tiktok:#bienetre"]);
    assert!(
        String::from_utf8_lossy(&export.stdout).contains("tiktok:#bienetre,"),
        "{}",
        text(&export)
    );
    let collect = installed.admin(&["collect", "--only", "tiktok:#bienetre"]);
    assert!(collect.status.success(), "{}", text(&collect));
    assert!(
        String::from_utf8_lossy(&collect.stdout).contains("1 entity: 1 ok, 0 failed"),
        "{}",
        text(&collect)
    );
    let preview = installed.admin(&["digest", "--preview", "preview.html"]);
    assert!(preview.status.success(), "{}", text(&preview));
    assert!(installed.root.path().join("preview.html").is_file());
    let send = installed.admin(&["digest", "--send"]);
    assert!(send.status.success(), "{}", text(&send));
    let last = installed.admin(&["outbox", "--show", "last"]);
    assert!(
        String::from_utf8_lossy(&last.stdout).contains("skincarenaturel"),
        "{}",
        text(&last)
    );

    // The service's user itself, outside the service, cannot pass the closed parent: told to
    // use sudo, not that there is no store.
    let as_service = Command::new("setpriv")
        .arg(format!("--reuid={SERVICE_UID}"))
        .arg(format!("--regid={SERVICE_UID}"))
        .arg("--clear-groups")
        .arg(BIN)
        .arg("-c")
        .arg(&installed.config)
        .arg("detect")
        .env_remove("TRENDWATCH_CONFIG")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&as_service.stderr);
    assert_eq!(as_service.status.code(), Some(2), "{}", text(&as_service));
    assert!(
        err.contains("sudo") && !err.contains("no store"),
        "{}",
        text(&as_service)
    );

    // Nothing the commands wrote is root's: the service still writes every file.
    assert_eq!(owned_by_others(&state, SERVICE_UID), Vec::<PathBuf>::new());
    assert!(service.try_wait().unwrap().is_none(), "the service exited");
    let _ = Command::new("kill")
        .args(["-TERM", &service.id().to_string()])
        .status();
    let exit = service.wait().unwrap();
    let service_log = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(exit.code(), Some(0), "{service_log}");
    assert!(!service_log.contains("ERROR"), "{service_log}");
}

/// `trendwatch ARGS` on `setup`, started now.
fn spawn(setup: &Setup, args: &[&str]) -> Child {
    setup
        .cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_started_beside_a_collection_take_turns_and_all_succeed() {
    // Pages that take a while: the collection is under way while the others start.
    let server = tiktok(
        &["skincarenaturel", "bienetre"],
        Duration::from_millis(1500),
    )
    .await;
    let setup = Setup::new(config(&server.uri()));
    std::fs::write(setup.path().join("history.csv"), history_csv()).unwrap();
    setup.ok(&[
        "import",
        &setup.path().join("history.csv").display().to_string(),
    ]);

    for round in 0..3 {
        let collect = spawn(&setup, &["collect"]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let others: Vec<Child> = ["detect", "status", "show tiktok:#skincarenaturel"]
            .iter()
            .map(|a| spawn(&setup, &a.split(' ').collect::<Vec<_>>()))
            .collect();
        for (child, what) in others.into_iter().zip(["detect", "status", "show"]) {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}, {what}: {}",
                text(&out)
            );
        }
        let out = collect.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "round {round}, collect: {}",
            text(&out)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("2 entities: 2 ok, 0 failed"),
            "round {round}: {}",
            text(&out)
        );
    }

    // Two collections at once: the second waits for the first (never two passes reading the
    // same site at twice the polite pace), and both store their pages.
    let first = spawn(&setup, &["collect"]);
    let second = spawn(&setup, &["collect"]);
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let samples = setup.ok(&["export", "--entity", "tiktok:#bienetre"]);
    assert_eq!(samples.lines().filter(|l| l.contains(",views,")).count(), 5);
}

#[test]
fn status_on_a_store_held_too_long_says_so_and_does_not_claim_the_service_runs() {
    let setup = Setup::new(config("http://127.0.0.1:9"));
    std::fs::write(setup.path().join("history.csv"), history_csv()).unwrap();
    setup.ok(&[
        "import",
        &setup.path().join("history.csv").display().to_string(),
    ]);
    // A status written earlier, as every job and `collect` leave one.
    setup.run(&["collect"]);
    assert!(setup.state().join("status.json").is_file());

    // Another process keeps the store (a long export, say) past the command's wait, shortened
    // here by a clock going 240 times as fast (two minutes become half a second).
    let held = trendwatch::store::Store::open(&setup.state()).unwrap();
    let now = chrono::Utc::now().to_rfc3339();
    let out = setup
        .cmd(&["status"])
        .env("TRENDWATCH_SIMULATED_CLOCK", format!("{now},240"))
        .output()
        .unwrap();
    drop(held);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        said.contains("another trendwatch command is using the store"),
        "{}",
        text(&out)
    );
    assert!(!said.contains("is running"), "{}", text(&out));
    assert!(said.contains("tiktok:#bienetre"), "{}", text(&out));
}
