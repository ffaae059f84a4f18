//! The Chromium process trendwatch starts: flags, a throwaway profile, its own process group,
//! death with its parent, and a stop that never leaves a renderer behind.

use super::*;

/// A Chromium started by trendwatch: its own process group, its own throwaway profile.
///
/// The process is started and reaped by a keeper thread that lives exactly as long as the
/// browser: `PR_SET_PDEATHSIG` fires when the *thread* that started a child ends, so the
/// starting thread must not be a pool thread that may retire while the browser runs.
pub(super) struct Chromium {
    pub(super) pid: u32,
    /// Asks the keeper to stop the browser after the given grace period.
    stop: std::sync::mpsc::Sender<Duration>,
    stopped: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl Chromium {
    /// Starts `program` headless with remote debugging on a free port and returns the
    /// DevTools websocket address it prints. Blocks up to [`LAUNCH_TIMEOUT`].
    pub(super) fn start(
        program: &str,
        extra: &[String],
        proxy: Option<&Url>,
    ) -> Result<(String, Chromium), String> {
        let executable = find_program(program).ok_or_else(|| {
            format!(
                "browser `{program}` not found: install Chromium (Debian: apt install chromium) \
                 or set browser_url to a running browser"
            )
        })?;
        let profile = std::env::temp_dir().join(format!(
            "trendwatch-browser-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&profile).map_err(|e| {
            format!(
                "cannot create the browser profile {}: {e}",
                profile.display()
            )
        })?;
        let mut cmd = Command::new(&executable);
        cmd.arg("--headless=new")
            .arg("--remote-debugging-port=0")
            .arg(format!("--user-data-dir={}", profile.display()))
            .args([
                // The service's own sandbox (systemd) confines the browser; Chromium's
                // setuid/namespace sandbox cannot start inside it.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-sync",
                "--disable-component-update",
                "--disable-features=Translate,MediaRouter,OptimizationHints",
                "--mute-audio",
                "--renderer-process-limit=2",
                // A page's script may not take the machine's memory: V8 stops it (the tab
                // crashes, that entity fails) past 512 MB of heap.
                "--js-flags=--max-old-space-size=512",
                "--hide-scrollbars",
                // Images are not read: not loading them spares bandwidth and memory.
                "--blink-settings=imagesEnabled=false",
            ]);
        if let Some(proxy) = proxy {
            cmd.arg(format!("--proxy-server={}", chromium_proxy(proxy)));
        }
        cmd.args(extra)
            .arg("about:blank")
            .env("HOME", &profile)
            .env("XDG_CONFIG_HOME", &profile)
            .env("XDG_CACHE_HOME", &profile)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0);
        die_with_parent(&mut cmd);

        let (started_tx, started_rx) = std::sync::mpsc::channel::<Result<u32, String>>();
        let (ws_tx, ws_rx) = std::sync::mpsc::channel::<Result<String, String>>();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<Duration>();
        let (stopped_tx, stopped_rx) = std::sync::mpsc::channel::<()>();
        let shown = executable.display().to_string();
        let spawned = std::thread::Builder::new()
            .name("trendwatch-browser".into())
            .spawn(move || {
                let mut child = match cmd.spawn() {
                    Ok(child) => child,
                    Err(e) => {
                        let _ = std::fs::remove_dir_all(&profile);
                        let _ = started_tx
                            .send(Err(format!("cannot start the browser `{shown}`: {e}")));
                        return;
                    }
                };
                let _ = started_tx.send(Ok(child.id()));
                if let Some(stderr) = child.stderr.take() {
                    std::thread::spawn(move || read_stderr(stderr, ws_tx));
                }
                // Until asked (or until the handle is dropped): then a grace period, a kill.
                let grace = stop_rx.recv().unwrap_or(Duration::ZERO);
                let until = Instant::now() + grace;
                while Instant::now() < until && !matches!(child.try_wait(), Ok(Some(_))) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                kill_group(child.id());
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&profile);
                let _ = stopped_tx.send(());
            });
        if let Err(e) = spawned {
            return Err(format!("cannot start the browser's keeper thread: {e}"));
        }
        let pid = started_rx
            .recv()
            .map_err(|_| "the browser's keeper thread ended".to_string())??;
        let process = Chromium {
            pid,
            stop: stop_tx,
            stopped: std::sync::Mutex::new(stopped_rx),
        };
        match ws_rx.recv_timeout(LAUNCH_TIMEOUT) {
            Ok(Ok(ws)) => Ok((ws, process)),
            Ok(Err(tail)) => {
                process.stop(Duration::ZERO);
                Err(format!("the browser exited at start: {tail}"))
            }
            Err(_) => {
                process.stop(Duration::ZERO);
                Err(format!(
                    "the browser gave no DevTools address within {LAUNCH_TIMEOUT:?}"
                ))
            }
        }
    }

    /// Lets the browser exit for up to `grace`, then kills its whole process group; returns
    /// once it is gone.
    pub(super) fn stop(self, grace: Duration) {
        let _ = self.stop.send(grace);
        if let Ok(stopped) = self.stopped.lock() {
            let _ = stopped.recv_timeout(grace + Duration::from_secs(5));
        }
    }
}

/// Reads Chromium's stderr to its end (a full pipe would block the browser) and passes on
/// the DevTools address, or the last lines if it exits before printing one.
fn read_stderr(
    stderr: std::process::ChildStderr,
    ws: std::sync::mpsc::Sender<Result<String, String>>,
) {
    let mut tail: Vec<String> = Vec::new();
    let mut sent = false;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        if sent {
            continue;
        }
        if let Some(address) = line.split("DevTools listening on ").nth(1) {
            let _ = ws.send(Ok(address.trim().to_owned()));
            sent = true;
            continue;
        }
        tail.push(line);
        if tail.len() > 5 {
            tail.remove(0);
        }
    }
    if !sent {
        let _ = ws.send(Err(crate::model::clean_text(&tail.join(" / "), 400)));
    }
}

/// Kills every process of the browser's group (renderers, zygote, GPU helper).
#[allow(unsafe_code)]
pub(super) fn kill_group(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals the process group the child leads.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// The browser is killed by the kernel when the process that started it dies, however it
/// dies: a SIGKILL of the worker leaves no Chromium behind.
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches only the child being set up.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// `[collect] proxy` as Chromium's `--proxy-server` takes it: `scheme://host:port`, with no
/// credentials (Chromium asks for those over the protocol) and `socks5h` as `socks5` (Chromium
/// always lets a SOCKS5 proxy resolve names).
pub(super) fn chromium_proxy(proxy: &Url) -> String {
    let scheme = match proxy.scheme() {
        "socks5h" => "socks5",
        other => other,
    };
    let host = proxy.host_str().unwrap_or("127.0.0.1");
    match proxy.port_or_known_default() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    }
}

/// `program` as a path, or looked up in `PATH` like a shell would.
pub(crate) fn find_program(program: &str) -> Option<PathBuf> {
    let is_executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt as _;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_executable(&p).then_some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| is_executable(p))
    })
}
