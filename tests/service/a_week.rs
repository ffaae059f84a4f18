//! A simulated week of `trendwatch run` against the simulated TikTok and a loopback SMTP
//! server, in a few real minutes (`TRENDWATCH_SIMULATED_CLOCK=START,SCALE`).
//!
//! Along the week the SMTP server is down for a simulated day and the daemon is SIGKILLed
//! twice in the middle of a collection, then restarted. At the end: every planted trend
//! reached a digest, quiet tags never did, faults show in the health section, every sample
//! served on a successful response is in the store, and one digest arrived per day, none
//! lost or repeated.
//!
//! `E2E_SCALE` overrides the time scale (simulated seconds per real second, default 4000).

use crate::support;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::common::{quoted, Setup, TestConfig};

use base64::Engine;
use support::sim::{week_scenario, SimPlatform};
use support::smtp::{Received, SmtpSink};

const HOUR: f64 = 3600.0;
const DAY: f64 = 86_400.0;
/// Monday 2026-11-16 00:00 UTC.
const START: i64 = 1_794_787_200;

fn scale() -> f64 {
    std::env::var("E2E_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4000.0)
}

/// The week's daemon: the scenario's tags and creators from `base`, discovery on, a
/// detection window short enough for a week, a daily digest by SMTP to `smtp_port`.
fn config(base: &str, smtp_port: u16, scenario: &support::sim::Scenario) -> TestConfig {
    let list = |names: Vec<String>| -> String {
        let quoted: Vec<String> = names.iter().map(|n| quoted(n)).collect();
        format!("[{}]", quoted.join(", "))
    };
    let tags = list(scenario.tags.iter().map(|(t, _)| t.clone()).collect());
    let creators = list(scenario.creators.iter().map(|c| c.handle.clone()).collect());
    TestConfig::new()
        .top("timezone", &quoted("UTC"))
        .tiktok(base)
        .set("collect", "schedule", &quoted("0 0 */3 * * *"))
        .set("collect", "concurrency", "4")
        .set("collect", "timeout", &quoted("1s"))
        .set("collect", "retries", "1")
        .set("collect", "max_body", &quoted("2MiB"))
        .firefox()
        .set("detect", "baseline", &quoted("3d"))
        .set("detect", "recent", &quoted("24h"))
        .set("detect", "min_rate", "1000.0")
        .set("detect", "min_score", "3.0")
        .set("digest", "schedule", &quoted("0 0 8 * * *"))
        .set("digest", "language", &quoted("en"))
        .set("digest", "max_items", "12")
        .set("digest", "cooldown", &quoted("7d"))
        .smtp(smtp_port)
        .watchlist(&format!(
            "[tiktok]\nhashtags = {tags}\ncreators = {creators}\n\n[discovery]\nenabled = true\n\
             keywords = [\"naturel\", \"bio\", \"skincare\", \"wellness\"]\n"
        ))
}

struct Daemon {
    child: Child,
}

fn spawn_daemon(setup: &Setup, log: &Path, sim_now: f64, scale: f64) -> Daemon {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let child = setup
        .daemon()
        .env(
            "TRENDWATCH_SIMULATED_CLOCK",
            format!("{},{scale}", sim_now.floor() as i64),
        )
        .stderr(log)
        // Its own process group, so a kill reaches its workers as systemd's reaches the
        // service's control group.
        .process_group(0)
        .spawn()
        .unwrap();
    Daemon { child }
}

impl Daemon {
    fn assert_running(&mut self, log: &Path) {
        if let Some(status) = self.child.try_wait().unwrap() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let tail: String = text
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            panic!("the daemon exited early with {status}:\n{tail}");
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the simulated clock reads `t`.
async fn until_sim(sim: &SimPlatform, t: f64, scale: f64) {
    let left = t - sim.now();
    if left > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(left / scale)).await;
    }
}

/// Holds every response, waits for the first request of the collection that starts at `tick`,
/// and SIGKILLs the daemon and its worker while that pass is waiting on its answers. Returns
/// the slot killed.
async fn kill_mid_collection(
    sim: &SimPlatform,
    daemon: &mut Daemon,
    log: &Path,
    tick: f64,
    scale: f64,
) -> i64 {
    until_sim(sim, tick - 0.5 * HOUR, scale).await;
    sim.hold(Some(Duration::from_millis(400)));
    let before = sim.request_count().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while sim.request_count().await == before {
        assert!(
            Instant::now() < deadline,
            "no collection started around the tick at simulated {tick}; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let slot = sim.slot_of(sim.now());
    let group = format!("-{}", daemon.child.id());
    assert!(Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .unwrap()
        .success());
    daemon.child.wait().unwrap();
    sim.hold(None);
    slot
}

/// The message with its base64 and quoted-printable parts decoded, for searching.
fn readable(msg: &Received) -> String {
    let mut out = msg.data.clone();
    let lines: Vec<&str> = msg.data.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let header = lines[i].to_ascii_lowercase();
        if header.starts_with("content-transfer-encoding:") {
            let b64 = header.contains("base64");
            let qp = header.contains("quoted-printable");
            while i < lines.len() && !lines[i].trim().is_empty() {
                i += 1;
            }
            let mut body = Vec::new();
            while i < lines.len() && !lines[i].starts_with("--") {
                body.push(lines[i]);
                i += 1;
            }
            if b64 {
                let joined: String = body.iter().map(|l| l.trim()).collect();
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(joined) {
                    out.push('\n');
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
            } else if qp {
                out.push('\n');
                out.push_str(&decode_qp(&body));
            }
        } else {
            i += 1;
        }
    }
    out
}

fn decode_qp(lines: &[&str]) -> String {
    let mut bytes = Vec::new();
    for l in lines {
        let (l, soft) = match l.strip_suffix('=') {
            Some(s) => (s, true),
            None => (*l, false),
        };
        let b = l.as_bytes();
        let mut j = 0;
        while j < b.len() {
            if b[j] == b'=' && j + 2 < b.len() {
                if let Ok(v) = u8::from_str_radix(&l[j + 1..j + 3], 16) {
                    bytes.push(v);
                    j += 3;
                    continue;
                }
            }
            bytes.push(b[j]);
            j += 1;
        }
        if !soft {
            bytes.push(b'\n');
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn header<'a>(msg: &'a Received, name: &str) -> Option<&'a str> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    msg.data
        .lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim())
}

/// `trendwatch export` as (entity, metric, value) triples.
fn exported(setup: &Setup) -> HashSet<(String, String, u64)> {
    let out = setup.run(&["export", "--format", "csv"]);
    assert!(
        out.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("entity,timestamp,metric,value"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                f[2].to_string(),
                f[3].parse::<f64>().unwrap() as u64,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_week_reaches_the_inbox_with_every_trend_once() {
    let real_start = Instant::now();
    let scale = scale();
    let scenario = week_scenario();
    let sim = SimPlatform::start(scenario.clone(), START, scale).await;
    let mut smtp = SmtpSink::start(0).await;
    let setup = Setup::new(config(&sim.uri(), smtp.port(), &scenario));
    let log = setup.path().join("daemon.log");
    let t0 = START as f64;

    let mut daemon = spawn_daemon(&setup, &log, sim.now(), scale);
    let mut killed_slots = Vec::new();

    // Day 1, 12:00: killed in the middle of a collection, restarted at once.
    killed_slots.push(kill_mid_collection(&sim, &mut daemon, &log, t0 + 1.5 * DAY, scale).await);
    drop(daemon);
    daemon = spawn_daemon(&setup, &log, sim.now(), scale);

    // The mail server is down from day 2, 20:00 to day 3, 20:00 (the day-3 digest is due
    // at 08:00 in the middle of it).
    until_sim(&sim, t0 + 2.0 * DAY + 20.0 * HOUR, scale).await;
    daemon.assert_running(&log);
    let before_outage = smtp.messages().len();
    smtp.stop();
    until_sim(&sim, t0 + 3.0 * DAY + 20.0 * HOUR, scale).await;
    let during_outage = smtp.messages().len();
    smtp.resume().await;

    // Day 4, 12:00: killed again mid-collection, restarted.
    killed_slots.push(kill_mid_collection(&sim, &mut daemon, &log, t0 + 4.5 * DAY, scale).await);
    drop(daemon);
    daemon = spawn_daemon(&setup, &log, sim.now(), scale);

    // Until day 7, 11:00: the day-7 digest at 08:00 is the eighth.
    until_sim(&sim, t0 + 7.0 * DAY + 11.0 * HOUR, scale).await;
    daemon.assert_running(&log);
    let pid = daemon.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = daemon.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit within 15 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "daemon exit status after SIGTERM: {status}"
    );

    // Digests: one per simulated day, none lost to the outage or the kills, none repeated.
    let messages = smtp.messages();
    assert_eq!(
        during_outage, before_outage,
        "no mail can arrive while the server is down"
    );
    let ids: Vec<&str> = messages
        .iter()
        .map(|m| header(m, "Message-ID").expect("every digest has a Message-ID"))
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "a digest was delivered twice: {ids:?}"
    );
    let arrivals: Vec<f64> = messages
        .iter()
        .map(|m| (sim.sim_time_at(m.arrived) - t0) / DAY)
        .collect();
    let subjects: Vec<&str> = messages
        .iter()
        .map(|m| header(m, "Subject").unwrap_or(""))
        .collect();
    assert_eq!(
        messages.len(),
        8,
        "one digest per day from day 0 to day 7 at 08:00; arrived at days {arrivals:?}: {subjects:?}"
    );
    assert_eq!(
        before_outage, 3,
        "the digests of days 0, 1 and 2, no more, before the outage; arrived at days {arrivals:?}"
    );
    // The day-3 digest, due during the outage, arrived after it and before day 4's.
    assert!(
        arrivals[3] >= 3.0 + 20.0 / 24.0 && arrivals[3] <= 4.0 + 8.5 / 24.0,
        "arrivals (days): {arrivals:?}"
    );

    let texts: Vec<String> = messages.iter().map(readable).collect();
    let all = texts.join("\n").to_lowercase();
    // Every planted trend reached a digest.
    for planted in [
        "mushroomcoffee",
        "guashaglace",
        "seamossnaturel",
        "sim.rising",
    ] {
        assert!(all.contains(planted), "{planted} never reached a digest");
    }
    let breakout = sim.breakout_video_ids();
    assert!(!breakout.is_empty());
    assert!(
        breakout.iter().any(|id| all.contains(id.as_str())),
        "the breakout video {breakout:?} never reached a digest"
    );
    // The quiet tags never did (they get no faults, so not even the health section names them).
    for quiet in ["routinevisage", "huilesessentielles", "bienetre"] {
        assert!(
            !all.contains(quiet),
            "the steady tag {quiet} reached a digest"
        );
    }
    // Injected faults show in the health section.
    let faults = sim.faults();
    assert!(
        faults.bot_wall > 0 && faults.too_many > 0 && faults.slow > 0 && faults.truncated > 0,
        "every kind of fault was injected: {faults:?}"
    );
    for flaky in sim.faulted_entities() {
        let name = flaky
            .trim_start_matches("tiktok:")
            .trim_start_matches(['#', '@']);
        assert!(
            all.contains(name),
            "{flaky} failed during the week but no digest's health section names it"
        );
    }

    // Every sample served on a successful response is in the store, except those of the two
    // passes killed before they could report.
    let stored = exported(&setup);
    let killed: HashSet<i64> = killed_slots.iter().copied().collect();
    let served = sim.served();
    let mut missing = BTreeMap::new();
    let mut checked = 0;
    for s in &served {
        if killed.contains(&s.slot) {
            continue;
        }
        checked += 1;
        let key = (s.entity.clone(), s.metric.clone(), s.value as u64);
        if !stored.contains(&key) {
            *missing
                .entry((s.entity.clone(), s.metric.clone()))
                .or_insert(0) += 1;
        }
    }
    assert!(checked > 300, "only {checked} samples served in a week");
    assert!(
        missing.is_empty(),
        "served but not stored (entity, metric → count): {missing:?}"
    );
    println!(
        "simulated week at scale {scale} in {:.0} s real: {} digests arrived at days {:?}; \
         faults served {faults:?}; {checked} served samples checked in a store of {} \
         (passes killed in slots {killed_slots:?})",
        real_start.elapsed().as_secs_f64(),
        messages.len(),
        arrivals
            .iter()
            .map(|d| format!("{d:.2}"))
            .collect::<Vec<_>>(),
        stored.len()
    );
}
