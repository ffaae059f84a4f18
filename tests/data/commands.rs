//! `trendwatch import`, `export`, `status` and `show` run as the real binary against a tempdir
//! state directory: what a user sees, the exit codes, atomicity, crashes, a second process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{command, Setup, TestConfig};

use trendwatch::model::Metric;
use trendwatch::model::{EntityId, EntityOutcome, Failure, FailureKind, Observation};
use trendwatch::store::Store;

/// Two watched tags and a creator.
fn watched() -> TestConfig {
    TestConfig::new().watchlist(
        "[tiktok]\nhashtags = [\"skincarenaturel\", \"huilesessentielles\"]\n\
         creators = [\"lea.aroma\"]\n",
    )
}

/// [`watched`] with no data yet.
fn setup() -> Setup {
    Setup::new(watched())
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/store")
        .join(name)
}

#[test]
fn import_then_export_round_trips_byte_for_byte() {
    let env = setup();
    let samples = fixture("samples.csv");
    let out = env.ok(&["import", samples.to_str().unwrap()]);
    // The config's digest is in French, so is the command line.
    assert_eq!(out.trim(), "importé : 11 relevés pour 4 éléments");
    let first = env.ok(&["export"]);
    assert!(
        first.starts_with("entity,timestamp,metric,value\n"),
        "{first}"
    );
    // Normalised ids, RFC 3339 UTC, shortest exact values.
    assert!(
        first.contains("tiktok:#bienetre,2026-11-16T06:00:00Z,views,913000000\n"),
        "{first}"
    );
    assert!(
        first.contains("tiktok:#bienetre,2026-11-16T09:00:00Z,views,913004500.5\n"),
        "{first}"
    );
    assert!(
        first.contains("tiktok:#skincarenaturel,2026-11-22T06:00:00Z,views,48301000\n"),
        "{first}"
    );
    assert_eq!(first.lines().count(), 12);

    let exported = env.path().join("export.csv");
    std::fs::write(&exported, &first).unwrap();
    let other = setup();
    other.ok(&["import", exported.to_str().unwrap()]);
    assert_eq!(other.ok(&["export"]), first);

    // Filters.
    let only = env.ok(&[
        "export",
        "--entity",
        "tiktok:@Lea.Aroma",
        "--since",
        "2026-11-16T07:00:00Z",
    ]);
    assert_eq!(
        only,
        "entity,timestamp,metric,value\ntiktok:@lea.aroma,2026-11-16T12:00:00Z,followers,15298\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["export", "--format", "json", "--until", "1794816000"]))
            .unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 5, "{json}");
    assert_eq!(rows[0]["entity"], "boutique:baume-karite");
    assert_eq!(rows[0]["value"], 87.0);
}

#[test]
fn a_bad_line_names_itself_and_stores_nothing() {
    let env = setup();
    env.ok(&["import", fixture("samples.csv").to_str().unwrap()]);
    let before = env.ok(&["export"]);
    let bad = fixture("bad_value.csv");
    let out = env.run(&["import", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:4: value `beaucoup` is not a finite number",
            bad.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        env.ok(&["export"]),
        before,
        "nothing of the bad file is stored"
    );
    assert!(!before.contains("aromatherapie"));

    let out = env.run(&["export", "--since", "last tuesday"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn status_reads_the_snapshot_while_a_worker_holds_the_store() {
    let env = setup();
    // What the last pass reported, as a worker leaves it.
    let first = env.run(&["status", "--json"]);
    assert_eq!(first.status.code(), Some(0));
    let mut report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    report["generated_at"] = "2026-11-23T06:00:00Z".into();
    std::fs::create_dir_all(env.state()).unwrap();
    std::fs::write(
        env.state().join("status.json"),
        serde_json::to_vec(&report).unwrap(),
    )
    .unwrap();

    let _held = Store::open(&env.state()).unwrap();
    let out = env.impatient(&["status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No daemon runs here: the heading does not claim one does, and says the time in the
    // configured zone (Paris).
    assert!(
        stdout.starts_with(
            "la base est occupée par une autre commande trendwatch ; état enregistré le 23/11/2026 à 07:00"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("prochaine collecte"), "{stdout}");

    // Without a snapshot, the answer says why there is none.
    std::fs::remove_file(env.state().join("status.json")).unwrap();
    let out = env.impatient(&["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("status.json"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_second_process_is_refused_with_a_clear_message() {
    let env = setup();
    let _held = Store::open(&env.state()).unwrap();
    let out = env.impatient(&["export"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "une autre commande trendwatch utilise {}",
            env.state().display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_import_killed_midway_keeps_whole_chunks_and_the_next_import_completes_it() {
    let env = setup();
    let big = env.path().join("big.csv");
    let mut text = String::from("entity,timestamp,metric,value\n");
    let rows = 120_000;
    for i in 0..rows {
        text.push_str(&format!(
            "tiktok:#tag{},{},views,{}\n",
            i % 300,
            1_790_000_000 + (i / 300) * 3600,
            i * 7
        ));
    }
    std::fs::write(&big, text).unwrap();
    // How long an uninterrupted import takes here, to kill the others at fractions of it:
    // while parsing, while writing, while flushing, whatever the machine's speed.
    let started = std::time::Instant::now();
    env.ok(&["import", big.to_str().unwrap()]);
    let full = started.elapsed();
    let mut outcomes = Vec::new();
    for (round, fraction) in [0.0, 0.3, 0.6, 0.75, 0.85, 0.9, 0.95, 1.0]
        .into_iter()
        .enumerate()
    {
        let state = env.path().join(format!("state{round}"));
        {
            let store = crate::store::reopen(&state);
            store
                .insert_samples(&[trendwatch::model::Sample {
                    entity: EntityId::hashtag("tiktok", "before"),
                    at: 1_700_000_000,
                    metric: Metric::VIEWS,
                    value: 1.0,
                }])
                .unwrap();
        }
        let config = env.path().join(format!("trendwatch{round}.toml"));
        std::fs::write(
            &config,
            std::fs::read_to_string(env.config()).unwrap().replace(
                &env.state().display().to_string(),
                &state.display().to_string(),
            ),
        )
        .unwrap();
        let mut child = command(&config, &["import", big.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(fraction));
        let _ = child.kill();
        let _ = child.wait();

        // (Our own handle of the round's start may hold the lock a moment after it was dropped.)
        let store = crate::store::reopen(&state);
        let mut n = 0;
        store
            .for_each_sample(None, i64::MIN, i64::MAX, |_| n += 1)
            .unwrap();
        // Nothing, whole chunks of 50,000 rows, or all: never a torn chunk.
        assert!(
            n == 1 || n == rows + 1 || (n - 1) % 50_000 == 0,
            "round {round}: {n} samples visible: a torn chunk"
        );
        outcomes.push(if n == 1 {
            "none"
        } else if n == rows + 1 {
            "all"
        } else {
            "chunks"
        });
        assert_eq!(
            store
                .series(&EntityId::hashtag("tiktok", "before"), "views", 0, i64::MAX)
                .unwrap(),
            vec![(1_700_000_000, 1.0)]
        );
        drop(store);
        if n != 1 && n != rows + 1 {
            // The next import says what happened and completes it.
            let out = command(&config, &["import", big.to_str().unwrap()])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{stderr}");
            assert!(stderr.contains("was stopped before its end"), "{stderr}");
            let store = crate::store::reopen(&state);
            let mut n = 0;
            store
                .for_each_sample(None, i64::MIN, i64::MAX, |_| n += 1)
                .unwrap();
            assert_eq!(n, rows + 1);
        }
    }
    eprintln!("killed imports (full run {full:?}): {outcomes:?}");
}

#[test]
fn status_shows_health_store_and_outbox() {
    let env = setup();
    {
        let store = Store::open(&env.state()).unwrap();
        store
            .record_pass(&[
                EntityOutcome {
                    fetched_by: Default::default(),
                    entity: EntityId::hashtag("tiktok", "skincarenaturel"),
                    observation: Some(Observation {
                        at: 1_795_154_400,
                        metrics: vec![(Metric::VIEWS, 48_000_000.0)],
                        videos: Vec::new(),
                        label: None,
                    }),
                    failure: None,
                },
                EntityOutcome {
                    fetched_by: Default::default(),
                    entity: EntityId::creator("tiktok", "lea.aroma"),
                    observation: None,
                    failure: Some(Failure {
                        at: 1_795_154_400,
                        kind: FailureKind::Blocked,
                        detail: "captcha page".into(),
                    }),
                },
            ])
            .unwrap();
    }
    let text = String::from_utf8(
        env.cmd(&["status"])
            .env("TRENDWATCH_SIMULATED_CLOCK", "2026-11-20T07:30:00Z,1")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("no line for {needle} in\n{text}"))
            .to_string()
    };
    // In French (the config's digest language), times on the Paris clock (06:00 UTC is 07:00
    // there in November).
    let tag = line("tiktok:#skincarenaturel ");
    assert_eq!(tag.matches("20/11/2026 à 07:00").count(), 2, "{tag}");
    let lea = line("tiktok:@lea.aroma ");
    assert!(
        lea.contains("jamais") && lea.contains("blocked") && lea.contains("captcha page"),
        "{lea}"
    );
    // Watched but never collected.
    assert!(line("tiktok:#huilesessentielles ").contains("jamais"));
    assert!(text.contains("résumés : 0 en attente, 0 envoyés"), "{text}");
    // Default schedules, in the configured zone.
    assert!(
        text.contains(
            "prochaine collecte (0 0 */3 * * *, Europe/Paris) : 20/11/2026 à 09:00, 20/11/2026 à 12:00, 20/11/2026 à 15:00\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("prochain résumé (0 0 8 * * Mon, Europe/Paris) : 23/11/2026 à 08:00, "),
        "{text}"
    );

    let json: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    let lea = json["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity"] == "tiktok:@lea.aroma")
        .unwrap();
    assert_eq!(lea["last_failure"]["kind"], "blocked");
    assert!(json["store"]["size_bytes"].as_u64().unwrap() > 0);
    assert_eq!(json["next_runs"]["collect"].as_array().unwrap().len(), 3);
}

#[test]
fn show_prints_last_values() {
    let env = setup();
    env.ok(&["import", fixture("samples.csv").to_str().unwrap()]);
    let text = String::from_utf8(
        env.cmd(&["show", "tiktok:#SkincareNaturel"])
            .env("TRENDWATCH_SIMULATED_CLOCK", "2026-11-22T12:00:00Z,1")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    // In French (the config's language), on the Paris clock (UTC+1 in November).
    assert!(text.starts_with("tiktok:#skincarenaturel\n"), "{text}");
    assert!(
        text.contains("views : 48301000 le 22/11/2026 à 07:00"),
        "{text}"
    );
    assert!(
        text.contains("videos : 10530 le 16/11/2026 à 13:00"),
        "{text}"
    );
    // 40,600 more views over the 138 hours since the 16th, 12:00 UTC.
    assert!(
        text.contains("  maintenant : 294/h depuis le 16/11/2026 à 13:00\n"),
        "{text}"
    );
    let spark = text
        .lines()
        .find(|l| l.starts_with("  views/h, 14 jours : "))
        .unwrap()
        .trim_start_matches("  views/h, 14 jours : ");
    assert_eq!(spark.chars().count(), 56, "{spark:?}");
    // Nothing before the first sample, the fastest hours of the 16th at full height.
    assert!(spark.starts_with("      "), "{spark:?}");
    assert!(spark.contains('█'), "{spark:?}");
    let out = env.run(&["show", "tiktok:#unknown"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_broken_watchlist_edit_does_not_stop_the_commands_that_only_read() {
    // Nothing answers there: the pass fails fast, after the watchlist was validated.
    let env = Setup::new(watched().tiktok("http://127.0.0.1:9"));
    let out = env.run(&["run", "--once"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.state().join("watchlist.last-good.toml").is_file());

    // The user breaks the watchlist.
    std::fs::write(
        env.path().join("watchlist.toml"),
        "[tiktok]\nhashtags = [\"skincarenaturel\"\n",
    )
    .unwrap();
    // `check` says what is wrong, and the service would keep its last good config...
    let out = env.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    // ...and so do the commands that only read, with a warning naming the error.
    let out = env.run(&["status"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("watchlist.toml:") && err.contains("last watchlist the service validated"),
        "{err}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("tiktok:@lea.aroma"),
        "the last good watchlist's entities: {stdout}"
    );
    for args in [vec!["export"], vec!["outbox"], vec!["detect"]] {
        let out = env.run(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A broken config file itself still stops them: it says where the store is.
    std::fs::write(env.config(), "state_dir = 12\n").unwrap();
    let out = env.run(&["status"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_command_run_by_root_on_the_services_store_works_as_its_user_and_leaves_nothing_of_roots() {
    use std::os::unix::fs::MetadataExt as _;
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("SKIPPED a_command_run_by_root…: needs root to give the store away");
        return;
    }
    let env = setup();
    let csv = env.path().join("one.csv");
    std::fs::write(
        &csv,
        "entity,timestamp,metric,value\ntiktok:#skincarenaturel,1795420800,views,1000\n",
    )
    .unwrap();
    env.ok(&["import", csv.to_str().unwrap()]);
    // The state directory is the service's (`nobody` here); root runs commands on it.
    let given = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(env.state())
        .status()
        .unwrap();
    assert!(given.success());
    let later = env.path().join("later.csv");
    std::fs::write(
        &later,
        "entity,timestamp,metric,value\ntiktok:#skincarenaturel,1795424400,views,1500\n",
    )
    .unwrap();
    env.ok(&["import", later.to_str().unwrap()]);
    let export = env.ok(&["export"]);
    assert_eq!(export.lines().count(), 3, "{export}");
    assert!(env.ok(&["status"]).contains("tiktok:#skincarenaturel"));
    // One cycle by root: the collection fails on the dead port, the digest is still written.
    let once = env.run(&["run", "--once"]);
    assert_eq!(
        once.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&once.stderr)
    );
    assert!(String::from_utf8_lossy(&once.stderr).contains("rien de nouveau n'a été collecté"));
    // The daemon itself is the service's: root is told to start the service instead.
    let daemon = env.run(&["run"]);
    assert_eq!(daemon.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&daemon.stderr).contains("systemctl start trendwatch"));
    // And nothing in the state directory became root's.
    let mut dirs = vec![env.state()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let meta = entry.metadata().unwrap();
            assert_eq!(
                meta.uid(),
                65534,
                "{} is root's now",
                entry.path().display()
            );
            if meta.is_dir() {
                dirs.push(entry.path());
            }
        }
    }
}

#[test]
fn commands_that_only_read_never_create_a_store() {
    let env = setup();
    assert!(!env.state().exists());
    for args in [
        vec!["detect"],
        vec!["detect", "--json"],
        vec![
            "backtest",
            "--from",
            "2026-11-01T00:00:00Z",
            "--to",
            "2026-11-02T00:00:00Z",
        ],
        vec!["export"],
        vec!["show", "tiktok:#skincarenaturel"],
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("pas de base dans") && err.contains("déjà collecté"),
            "{args:?}: {err}"
        );
        assert!(
            !env.state().join("store").exists(),
            "{args:?} created a store"
        );
    }
    // `status` still answers, as for a store with nothing collected.
    let out = env.run(&["status", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        !env.state().join("store").exists(),
        "status created a store"
    );
    // A command that writes creates it.
    let csv = env.path().join("one.csv");
    std::fs::write(
        &csv,
        "entity,timestamp,metric,value\ntiktok:#skincarenaturel,1795420800,views,1000\n",
    )
    .unwrap();
    env.ok(&["import", csv.to_str().unwrap()]);
    assert!(env.state().join("store").exists());
}

#[test]
fn hostile_entity_names_are_refused_at_the_door_with_an_escaped_message() {
    let env = setup();
    for name in [
        "tiktok:#rouge\u{1b}[31m",
        "tiktok:#bcc\r\nbcc: x",
        "tiktok:#rtl\u{202e}gpj",
        "tiktok:@..",
    ] {
        let csv = env.path().join("h.csv");
        std::fs::write(
            &csv,
            format!("entity,timestamp,metric,value\n{name},1795420800,views,1000\n"),
        )
        .unwrap();
        let out = env.run(&["import", csv.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        // A line break inside a name already breaks the CSV row; the rest are names.
        assert!(
            err.contains("TikTok would refuse") || (name.contains('\n') && err.contains("columns")),
            "{name:?}: {err}"
        );
        // Nothing hostile reaches the terminal: no ESC, no bidi override, no bare CR.
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{202e}') && !err.contains('\r'),
            "{err:?}"
        );
        let out = env.run(&["show", name]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("TikTok would refuse"), "{name:?}: {err}");
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{202e}') && !err.contains('\r'),
            "{err:?}"
        );
    }
    // Nothing was stored.
    assert!(!env.state().join("store").exists() || env.ok(&["export"]).lines().count() <= 1);
}

#[test]
fn export_into_a_reader_that_stops_early_ends_quietly() {
    // `trendwatch export | head`: the reader closes the pipe after a few lines.
    let env = setup();
    let mut csv = String::from("entity,timestamp,metric,value\n");
    for h in 0..20_000 {
        csv.push_str(&format!(
            "tiktok:#skincarenaturel,{},views,{}\n",
            1_767_225_600 + h * 3600,
            1000 + h
        ));
    }
    let file = env.path().join("long.csv");
    std::fs::write(&file, csv).unwrap();
    env.ok(&["import", file.to_str().unwrap()]);
    for format in ["csv", "json"] {
        let mut child = env
            .cmd(&["export", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 64];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{format}");
    }
}

#[test]
fn a_store_that_cannot_open_is_said_once_by_every_command() {
    // `state_dir` names a file: nothing can be opened or created under it.
    let env = setup();
    std::fs::write(env.state(), "not a folder").unwrap();
    for args in [
        &["digest"][..],
        &["detect"],
        &["export"],
        &["status"],
        &["show", "tiktok:#skincarenaturel"],
        &["collect"],
        &["import", fixture("samples.csv").to_str().unwrap()],
    ] {
        let out = env.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(
            stderr.matches("os error").count(),
            1,
            "{args:?}: the cause must be said once:\n{stderr}"
        );
        assert!(
            stderr.contains(&env.state().display().to_string()),
            "{args:?}: {stderr}"
        );
    }
}
