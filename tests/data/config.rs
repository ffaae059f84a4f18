//! Config and watchlist validation as a user meets it: every mistake is reported at its
//! exact `file:line:col`, and the example configuration passes `check`.

use std::path::{Path, PathBuf};
use std::process::Command;

use trendwatch::config::{
    self, BrowserLaunch, BrowserMode, ConfigError, PasswordSource, Tls, Transport,
};

const WATCHLIST: &str = "[tiktok]\nhashtags = [\"skincarenaturel\"]\n";

/// Writes `trendwatch.toml` (and a valid watchlist unless given) into a fresh directory.
fn write(config: &str, watchlist: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trendwatch.toml");
    std::fs::write(&path, config).unwrap();
    std::fs::write(
        dir.path().join("watchlist.toml"),
        watchlist.unwrap_or(WATCHLIST),
    )
    .unwrap();
    (dir, path)
}

/// Loads and returns the located error, asserting it names `file`, `line` and `col`.
fn error_at(config: &str, watchlist: Option<&str>, file: &str, line: usize, col: usize) -> String {
    let (_dir, path) = write(config, watchlist);
    let err = config::load(&path).expect_err("the file should be refused");
    match &err {
        ConfigError::At {
            path: p,
            line: l,
            col: c,
            message,
        } => {
            assert!(p.ends_with(file), "error in {p:?}, expected {file}: {err}");
            assert_eq!((*l, *c), (line, col), "wrong location: {err}");
            let shown = err.to_string();
            assert!(
                shown.starts_with(&format!("{}:{line}:{col}: ", p.display())),
                "{shown}"
            );
            message.clone()
        }
        other => panic!("expected a located error, got {other}"),
    }
}

#[test]
fn a_minimal_config_gets_sensible_defaults() {
    let (dir, path) = write("state_dir = \"state\"\n", None);
    let (cfg, watchlist) = config::load(&path).unwrap();
    assert_eq!(cfg.state_dir, dir.path().join("state"));
    assert_eq!(cfg.collect.concurrency, 4);
    assert_eq!(cfg.collect.retries, 3);
    assert_eq!(cfg.collect.max_body, 8 * 1024 * 1024);
    assert_eq!(cfg.detect.baseline.as_secs(), 14 * 86_400);
    assert_eq!(cfg.digest.max_items, 12);
    assert!(matches!(cfg.mail.transport, Transport::File));
    assert_eq!(watchlist.tiktok.hashtags, vec!["skincarenaturel"]);
}

#[test]
fn unknown_key_is_located_with_a_suggestion() {
    let m = error_at(
        "state_dir = \"s\"\n[collect]\nconcurency = 4\n",
        None,
        "trendwatch.toml",
        3,
        1,
    );
    assert!(m.contains("unknown key `concurency`"), "{m}");
    assert!(m.contains("did you mean `concurrency`?"), "{m}");
}

#[test]
fn toml_syntax_error_is_located() {
    let m = error_at(
        "state_dir = \"s\"\n[collect\n",
        None,
        "trendwatch.toml",
        2,
        9,
    );
    // The toml parser's own words: it names what is missing where it is missing.
    assert!(m.contains("unclosed table, expected `]`"), "{m}");
}

#[test]
fn bad_duration_points_at_the_value() {
    let m = error_at(
        "state_dir = \"s\"\n[collect]\ntimeout = \"20 parsecs\"\n",
        None,
        "trendwatch.toml",
        3,
        11,
    );
    assert!(m.contains("invalid duration `20 parsecs`"), "{m}");
}

#[test]
fn bad_size_points_at_the_value() {
    let m = error_at(
        "state_dir = \"s\"\n[collect]\nmax_body = \"8 megas\"\n",
        None,
        "trendwatch.toml",
        3,
        12,
    );
    assert!(m.contains("invalid size `8 megas`"), "{m}");
}

#[test]
fn browser_mode_and_where_the_browser_comes_from_are_checked() {
    let m = error_at(
        "state_dir = \"s\"\n[collect]\nbrowser = \"sometimes\"\n",
        None,
        "trendwatch.toml",
        3,
        11,
    );
    assert!(m.contains("unknown browser mode `sometimes`"), "{m}");
    let m = error_at(
        "state_dir = \"s\"\n[collect]\nbrowser = \"always\"\nbrowser_command = \"chromium\"\nbrowser_url = \"ws://127.0.0.1:9222/devtools/browser/x\"\n",
        None,
        "trendwatch.toml",
        4,
        19,
    );
    assert!(m.contains("either `browser_command`"), "{m}");
    let m = error_at(
        "state_dir = \"s\"\n[collect]\nbrowser_url = \"http://127.0.0.1:9222\"\n",
        None,
        "trendwatch.toml",
        3,
        15,
    );
    assert!(m.contains("ws, wss"), "{m}");
    let (dir, path) = write(
        "state_dir = \"s\"\n[collect]\nbrowser = \"always\"\nbrowser_url = \"ws://127.0.0.1:9222/devtools/browser/x\"\n",
        None,
    );
    let (cfg, _) = config::load(&path).unwrap();
    drop(dir);
    assert_eq!(cfg.collect.browser.mode, BrowserMode::Always);
    assert!(
        matches!(cfg.collect.browser.launch, BrowserLaunch::Connect(ref u) if u.port() == Some(9222))
    );
    // Left out: off, and Debian's chromium when turned on.
    let (_dir, path) = write("state_dir = \"s\"\n", None);
    let (cfg, _) = config::load(&path).unwrap();
    assert_eq!(cfg.collect.browser.mode, BrowserMode::Off);
}

#[test]
fn cron_without_seconds_is_refused_like_the_scheduler_would() {
    let m = error_at(
        "state_dir = \"s\"\n[digest]\nschedule = \"0 8 * * Mon\"\n",
        None,
        "trendwatch.toml",
        3,
        12,
    );
    assert!(m.contains("invalid cron expression"), "{m}");
}

#[test]
fn a_schedule_that_never_fires_is_refused_where_it_is_written() {
    for never in ["0 0 0 30 2 *", "0 0 0 31 4 *"] {
        let m = error_at(
            &format!("state_dir = \"s\"\n[digest]\nschedule = \"{never}\"\n"),
            None,
            "trendwatch.toml",
            3,
            12,
        );
        assert!(m.contains("never fires"), "{m}");
        assert!(m.contains(never), "{m}");
    }
}

#[test]
fn unknown_time_zone_is_refused() {
    let m = error_at(
        "state_dir = \"s\"\ntimezone = \"Europe/Pariss\"\n",
        None,
        "trendwatch.toml",
        2,
        12,
    );
    assert!(m.contains("unknown time zone `Europe/Pariss`"), "{m}");
}

#[test]
fn bad_email_address_is_refused() {
    let m = error_at(
        "state_dir = \"s\"\n[digest]\nto = [\"equipe@example.org\", \"pas une adresse\"]\n",
        None,
        "trendwatch.toml",
        3,
        29,
    );
    assert!(m.contains("invalid email address `pas une adresse`"), "{m}");
}

#[test]
fn clear_text_smtp_is_refused_unless_on_loopback() {
    let m = error_at(
        "state_dir = \"s\"\n[mail]\ntransport = \"smtp\"\nhost = \"smtp.example.org\"\ntls = \"none\"\n",
        None,
        "trendwatch.toml",
        5,
        7,
    );
    assert!(m.contains("clear text"), "{m}");
    let (_dir, path) = write(
        "state_dir = \"s\"\n[mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = 2525\ntls = \"none\"\n",
        None,
    );
    let (cfg, _) = config::load(&path).unwrap();
    match cfg.mail.transport {
        Transport::Smtp(smtp) => {
            assert_eq!(smtp.tls, Tls::None);
            assert_eq!(smtp.port, 2525);
        }
        other => panic!("expected smtp, got {other:?}"),
    }
}

#[test]
fn a_password_in_the_file_is_refused_with_the_alternatives() {
    let m = error_at(
        "state_dir = \"s\"\n[mail]\ntransport = \"smtp\"\nhost = \"smtp.example.org\"\nusername = \"tw\"\npassword = \"hunter2\"\n",
        None,
        "trendwatch.toml",
        6,
        1,
    );
    assert!(m.contains("password_credential"), "{m}");
    assert!(
        m.contains("password_file") && m.contains("password_env"),
        "{m}"
    );
    assert!(!m.contains("hunter2"), "the secret must not be echoed: {m}");
}

#[test]
fn password_sources_are_typed() {
    let (_dir, path) = write(
        "state_dir = \"s\"\n[mail]\ntransport = \"smtp\"\nhost = \"smtp.example.org\"\nusername = \"tw\"\npassword_credential = \"smtp_password\"\n",
        None,
    );
    let (cfg, _) = config::load(&path).unwrap();
    let Transport::Smtp(smtp) = cfg.mail.transport else {
        panic!("smtp expected")
    };
    assert_eq!(
        smtp.password,
        Some(PasswordSource::Credential("smtp_password".into()))
    );
    assert_eq!(smtp.port, 587);
}

#[test]
fn duplicate_hashtag_after_normalisation_names_both_places() {
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[tiktok]\nhashtags = [\n  \"bienêtre\",\n  \"#BienÊtre\",\n]\n"),
        "watchlist.toml",
        4,
        3,
    );
    assert!(m.contains("duplicate hashtag `#BienÊtre`"), "{m}");
    assert!(m.contains("line 3, column 3"), "{m}");
}

#[test]
fn hashtags_and_handles_are_normalised() {
    let (_dir, path) = write(
        "state_dir = \"s\"\n",
        Some("[tiktok]\nhashtags = [\"#SkinCareNaturel\", \"BienÊtre\"]\ncreators = [\"@Lea.SoinsNaturels\"]\n"),
    );
    let (_, watchlist) = config::load(&path).unwrap();
    assert_eq!(
        watchlist.tiktok.hashtags,
        vec!["skincarenaturel", "bienêtre"]
    );
    assert_eq!(watchlist.tiktok.creators, vec!["lea.soinsnaturels"]);
    let ids: Vec<String> = watchlist.entities().iter().map(|e| e.to_string()).collect();
    assert_eq!(
        ids,
        vec![
            "tiktok:#skincarenaturel",
            "tiktok:#bienêtre",
            "tiktok:@lea.soinsnaturels"
        ]
    );
}

#[test]
fn bad_css_selector_is_refused() {
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[[source]]\nname = \"shop\"\nkind = \"html\"\nurl = \"https://boutique.example.org/{id}\"\nids = [\"baume\"]\nmetrics = { reviews = { selector = \"div[[\" } }\n"),
        "watchlist.toml",
        6,
        23,
    );
    assert!(m.contains("invalid CSS selector `div[[`"), "{m}");
}

#[test]
fn a_metric_name_unsafe_in_a_csv_or_a_digest_is_refused_where_it_is_written() {
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[[source]]\nname = \"shop\"\nkind = \"json\"\nurl = \"https://boutique.example.org/{id}\"\nids = [\"baume\"]\nmetrics = { \"avis clients\" = \"/n\" }\n"),
        "watchlist.toml",
        6,
        11,
    );
    assert!(m.contains("`avis clients` is not a metric name"), "{m}");
}

#[test]
fn bad_regex_is_refused() {
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[[source]]\nname = \"shop\"\nkind = \"html\"\nurl = \"https://boutique.example.org/{id}\"\nids = [\"baume\"]\nmetrics = { reviews = { selector = \".n\", regex = \"([0-9\" } }\n"),
        "watchlist.toml",
        6,
        23,
    );
    assert!(m.contains("invalid regex"), "{m}");
}

#[test]
fn a_source_key_missing_from_the_environment_is_a_config_error_at_its_url() {
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[[source]]\nname = \"yt\"\nkind = \"json\"\nurl = \"https://api.example.org/c?id={id}&key={env:TRENDWATCH_TEST_NEVER_SET}\"\nids = [\"UC1\"]\nmetrics = { followers = \"/n\" }\n"),
        "watchlist.toml",
        4,
        7,
    );
    assert!(
        m.contains("`TRENDWATCH_TEST_NEVER_SET`") && m.contains("is not set"),
        "{m}"
    );
}

#[test]
fn bad_json_pointer_is_refused() {
    std::env::set_var("YT_KEY", "test-key");
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[[source]]\nname = \"yt\"\nkind = \"json\"\nurl = \"https://api.example.org/c?id={id}&key={env:YT_KEY}\"\nids = [\"UC1\"]\nmetrics = { followers = \"items/0/subscriberCount\" }\n"),
        "watchlist.toml",
        6,
        25,
    );
    assert!(m.contains("is not a JSON pointer"), "{m}");
}

#[test]
fn unknown_url_placeholder_is_refused() {
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[[source]]\nname = \"yt\"\nkind = \"json\"\nurl = \"https://api.example.org/c?id={ident}\"\nids = [\"UC1\"]\nmetrics = { followers = \"/n\" }\n"),
        "watchlist.toml",
        4,
        7,
    );
    assert!(m.contains("unknown placeholder `{ident}`"), "{m}");
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[[source]]\nname = \"yt\"\nkind = \"json\"\nurl = \"https://api.example.org/c\"\nids = [\"UC1\"]\nmetrics = { followers = \"/n\" }\n"),
        "watchlist.toml",
        4,
        7,
    );
    assert!(m.contains("needs an `{id}` placeholder"), "{m}");
}

#[test]
fn a_missing_watchlist_is_reported_at_the_key_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trendwatch.toml");
    std::fs::write(&path, "state_dir = \"s\"\nwatchlist = \"absent.toml\"\n").unwrap();
    let err = config::load(&path).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}:2:13: ", path.display())),
        "{shown}"
    );
    assert!(
        shown.contains("cannot read the watchlist") && shown.contains("absent.toml"),
        "{shown}"
    );
    // Reloading only the watchlist names the file itself.
    let err = config::load_watchlist(&dir.path().join("absent.toml")).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }), "{err}");
    assert!(err.to_string().contains("absent.toml"), "{err}");
}

#[test]
fn a_misspelt_selector_key_is_located_with_a_suggestion() {
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[[source]]\nname = \"shop\"\nkind = \"html\"\nurl = \"https://boutique.example.org/{id}\"\nids = [\"baume\"]\nmetrics = { reviews = { selecter = \".n\" } }\n"),
        "watchlist.toml",
        6,
        25,
    );
    assert!(
        m.contains("unknown key `selecter`; did you mean `selector`?"),
        "{m}"
    );
}

#[test]
fn a_regex_with_two_capture_groups_is_refused() {
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[[source]]\nname = \"shop\"\nkind = \"html\"\nurl = \"https://boutique.example.org/{id}\"\nids = [\"baume\"]\nmetrics = { reviews = { selector = \".n\", regex = \"([0-9]+) ([a-z]+)\" } }\n"),
        "watchlist.toml",
        6,
        23,
    );
    assert!(m.contains("more than one capture group"), "{m}");
}

#[test]
fn duplicate_source_names_point_at_the_second() {
    let source = "[[source]]\nname = \"shop\"\nkind = \"json\"\nurl = \"https://api.example.org/{id}\"\nids = [\"a\"]\nmetrics = { n = \"/n\" }\n";
    let m = error_at(
        "state_dir = \"s\"\n",
        Some(&format!("{source}{source}")),
        "watchlist.toml",
        8,
        8,
    );
    assert!(m.contains("duplicate source name `shop`"), "{m}");
    assert!(m.contains("line 2, column 8"), "{m}");
}

#[test]
fn a_source_cannot_take_the_builtin_name() {
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[[source]]\nname = \"tiktok\"\nkind = \"json\"\nurl = \"https://api.example.org/{id}\"\nids = [\"a\"]\nmetrics = { n = \"/n\" }\n"),
        "watchlist.toml",
        2,
        8,
    );
    assert!(m.contains("built-in source"), "{m}");
}

fn trendwatch(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trendwatch"))
        .args(args)
        .current_dir(cwd)
        .env_remove("TRENDWATCH_CONFIG")
        // The keys the example sources name, as a service's environment would hold them.
        .env("VIDEOS_KEY", "test-key")
        .output()
        .unwrap()
}

#[test]
fn the_example_configuration_passes_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = trendwatch(&["-c", "config/trendwatch.toml", "check"], root);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Its digest is in French: so is `check`, with times on the French clock.
    assert!(stdout.contains("8 hashtags, 3 créateurs"), "{stdout}");
    assert!(
        stdout.contains("collecte   0 0 */3 * * * (Europe/Paris) : "),
        "{stdout}"
    );
    assert!(
        stdout.contains("navigateur désactivé (HTTP simple seulement)"),
        "{stdout}"
    );
    assert!(stdout.contains(" à 08:00"), "{stdout}");
    // Three next runs of each schedule.
    let digest_line = stdout.lines().find(|l| l.starts_with("résumé")).unwrap();
    assert_eq!(digest_line.matches(", ").count(), 2, "{digest_line}");
}

#[test]
fn check_on_a_broken_file_exits_1_with_the_location() {
    let (dir, path) = write("state_dir = \"s\"\n[detect]\nmin_scor = 3.0\n", None);
    let out = trendwatch(&["-c", path.to_str().unwrap(), "check"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // In the config's language (French, the default).
    assert!(
        stderr.contains("trendwatch.toml:3:1: clé inconnue `min_scor`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("vouliez-vous dire `min_score` ?"),
        "{stderr}"
    );
}

#[test]
fn every_key_is_read_into_the_typed_config() {
    std::env::set_var("VIDEOS_KEY", "test-key");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/full.toml");
    let (cfg, watchlist) = config::load(&path).unwrap();
    assert_eq!(cfg.state_dir, PathBuf::from("/srv/trendwatch"));
    assert_eq!(cfg.timezone, chrono_tz::America::Montreal);
    assert_eq!(cfg.collect.schedule.expr, "0 30 */6 * * *");
    assert_eq!(cfg.collect.concurrency, 2);
    assert_eq!(cfg.collect.per_host_interval.as_secs(), 5);
    assert_eq!(cfg.collect.timeout.as_secs(), 45);
    assert_eq!(cfg.collect.connect_timeout.as_secs(), 3);
    assert_eq!(cfg.collect.retries, 0);
    assert_eq!(cfg.collect.max_body, 500_000);
    assert_eq!(cfg.collect.user_agent, "trendwatch-test/1.0");
    assert_eq!(
        cfg.collect.proxy.as_ref().map(|u| u.as_str()),
        Some("socks5://127.0.0.1:1080")
    );
    assert_eq!(
        cfg.collect.tiktok_base_url.as_str(),
        "http://127.0.0.1:8080/"
    );
    assert_eq!(cfg.collect.browser.mode, BrowserMode::Fallback);
    assert_eq!(
        cfg.collect.browser.launch,
        BrowserLaunch::Command {
            program: "/usr/lib/chromium/chromium".into(),
            args: vec!["--js-flags=--jitless".into()],
        }
    );
    assert_eq!(cfg.detect.baseline.as_secs(), 28 * 86_400);
    assert_eq!(cfg.detect.recent.as_secs(), 6 * 3600);
    assert_eq!(cfg.detect.min_rate, 50.5);
    assert_eq!(cfg.detect.min_score, 2.5);
    assert_eq!(cfg.digest.language, config::Language::En);
    assert_eq!(cfg.digest.max_items, 5);
    assert_eq!(cfg.digest.cooldown.as_secs(), 3 * 86_400);
    let to: Vec<String> = cfg.digest.to.iter().map(|m| m.email.to_string()).collect();
    assert_eq!(
        to,
        vec![
            "veille@boutique.example.org",
            "direction@boutique.example.org"
        ]
    );
    assert_eq!(cfg.digest.to[0].name.as_deref(), Some("Équipe Veille"));
    assert_eq!(
        cfg.digest.from.email.to_string(),
        "noreply@boutique.example.org"
    );
    let Transport::Smtp(smtp) = &cfg.mail.transport else {
        panic!("smtp expected")
    };
    assert_eq!(smtp.host, "smtp.boutique.example.org");
    assert_eq!(smtp.tls, Tls::Tls);
    assert_eq!(smtp.port, 465, "implicit TLS defaults to 465");
    assert_eq!(smtp.username.as_deref(), Some("veille"));
    assert_eq!(
        smtp.password,
        Some(PasswordSource::File(
            path.parent().unwrap().join("secrets/smtp_password")
        ))
    );

    assert_eq!(
        watchlist.tiktok.hashtags,
        vec!["aloevera", "savonartisanal"]
    );
    assert_eq!(watchlist.tiktok.creators, vec!["herboriste.imaginaire"]);
    assert!(!watchlist.discovery.enabled);
    assert_eq!(watchlist.discovery.keywords, vec!["naturel", "bio"]);
    assert_eq!(watchlist.discovery.max_tracked, 5);
    assert_eq!(watchlist.sources.len(), 2);
    let ids: Vec<String> = watchlist.entities().iter().map(|e| e.to_string()).collect();
    assert_eq!(
        ids,
        vec![
            "tiktok:#aloevera",
            "tiktok:#savonartisanal",
            "tiktok:@herboriste.imaginaire",
            "videos-api:chan-1",
            "videos-api:chan-2",
            "boutique:baume-karite"
        ]
    );
    match &watchlist.sources[1].kind {
        config::SourceKind::Html { metrics } => {
            let names: Vec<&str> = metrics.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, vec!["reviews", "stock"]);
            assert!(metrics[0].1.regex.is_some() && metrics[1].1.regex.is_none());
        }
        other => panic!("html expected, got {other:?}"),
    }
}

#[test]
fn check_counts_sources_and_their_ids() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = trendwatch(&["-c", "tests/fixtures/config/full.toml", "check"], root);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("2 hashtags, 1 creator, 2 sources (3 ids; 1 json, 1 html), discovery off"),
        "{stdout}"
    );
    assert!(
        stdout.contains("digest     0 0 18 * * Fri (America/Montreal): "),
        "{stdout}"
    );
    assert!(
        stdout.contains("smtp smtp.boutique.example.org:465"),
        "{stdout}"
    );
}

#[test]
fn the_commented_examples_of_the_watchlist_are_valid() {
    // A user uncommenting the documented [[source]] and [[campaign]] examples must get a
    // working watchlist (with the key they name in the environment).
    std::env::set_var("YOUTUBE_KEY", "test-key");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("config/watchlist.toml")).unwrap();
    let keys = [
        "[[source]]",
        "name =",
        "kind =",
        "url =",
        "ids =",
        "metrics =",
        "[[campaign]]",
        "start =",
        "end =",
        "objective =",
        "currency =",
        "budget =",
        "revenue =",
        "hashtags =",
        "videos =",
        "  {",
        "  \"https:",
        "]",
        "[shop]",
        "region =",
        "products =",
    ];
    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if keys.iter().any(|k| rest.starts_with(k)) => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(uncommented.matches("[[source]]").count() >= 2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("watchlist.toml");
    std::fs::write(&path, uncommented).unwrap();
    let watchlist = config::load_watchlist(&path).unwrap();
    let kinds: Vec<bool> = watchlist
        .sources
        .iter()
        .map(|s| matches!(s.kind, config::SourceKind::Json { .. }))
        .collect();
    assert_eq!(kinds, vec![true, false], "one json and one html example");
    assert_eq!(watchlist.campaigns.len(), 1);
    assert_eq!(watchlist.campaigns[0].videos.len(), 2);
    assert_eq!(watchlist.shop.products.len(), 2);
    assert_eq!(watchlist.shop.products[1].my_price, Some(8.90));
}

#[test]
fn a_proxy_with_an_unusable_scheme_is_refused() {
    let m = error_at(
        "state_dir = \"s\"\n[collect]\nproxy = \"ftp://127.0.0.1:21\"\n",
        None,
        "trendwatch.toml",
        3,
        9,
    );
    assert!(m.contains("socks5"), "{m}");
}

#[test]
fn a_body_limit_that_would_let_one_page_take_the_memory_is_refused() {
    let m = error_at(
        "state_dir = \"s\"\n[collect]\nmax_body = \"1TiB\"\n",
        None,
        "trendwatch.toml",
        3,
        12,
    );
    assert!(m.contains("at most 64MiB"), "{m}");
}

#[test]
fn a_watchlist_that_is_not_a_regular_file_is_refused_at_once() {
    // A device that never ends, and a FIFO that would block a reader forever.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    for target in [PathBuf::from("/dev/zero"), fifo] {
        let path = dir.path().join("trendwatch.toml");
        std::fs::write(
            &path,
            format!("state_dir = \"s\"\nwatchlist = \"{}\"\n", target.display()),
        )
        .unwrap();
        let err = config::load(&path).expect_err("refused").to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }
    // A file over 8 MiB is not read either.
    let big = dir.path().join("big.toml");
    std::fs::write(&big, "#".repeat(9 * 1024 * 1024)).unwrap();
    let path = dir.path().join("trendwatch.toml");
    std::fs::write(
        &path,
        format!("state_dir = \"s\"\nwatchlist = \"{}\"\n", big.display()),
    )
    .unwrap();
    let err = config::load(&path).expect_err("refused").to_string();
    assert!(err.contains("larger than 8192 KiB"), "{err}");
}

#[test]
fn watchlist_names_tiktok_would_refuse_are_located() {
    for (line, shown) in [
        ("creators = [\".\"]", "\".\" is not a valid creator name"),
        ("creators = [\"..\"]", "\"..\" is not a valid creator name"),
        (
            "hashtags = [\"skin\u{200b}care\"]",
            "is not a valid hashtag name",
        ),
        (
            "hashtags = [\"rtl\u{202e}gpj\"]",
            "is not a valid hashtag name",
        ),
    ] {
        let m = error_at(
            "state_dir = \"s\"\n",
            Some(&format!("[tiktok]\n{line}\n")),
            "watchlist.toml",
            2,
            line.find('"').unwrap() + 1,
        );
        assert!(m.contains(shown), "{m}");
        // The message itself shows no invisible character.
        assert!(!m.contains('\u{200b}') && !m.contains('\u{202e}'), "{m:?}");
    }
    let long = format!("[tiktok]\nhashtags = [\"{}\"]\n", "a".repeat(10_000));
    let m = error_at("state_dir = \"s\"\n", Some(&long), "watchlist.toml", 2, 13);
    assert!(m.len() < 300, "{} characters", m.len());
}

/// A `[[campaign]]` as users write it, with one line to spoil at a time.
fn campaign_with(line: &str) -> String {
    format!(
        "[[campaign]]\nname = \"Baume karité — novembre\"\nstart = \"2026-11-03\"\nend = \"2026-11-30\"\nobjective = \"notoriety\"\nbudget = 1800.0\nvideos = [\n  {{ url = \"https://www.tiktok.com/@lea.soinsnaturels/video/7441618558958979895\", cost = 600.0 }},\n  \"https://www.tiktok.com/@atelier.lavande/video/7441618558958979001\",\n]\n{line}\n"
    )
}

#[test]
fn a_campaign_is_read_with_its_videos_costs_and_dates() {
    let (_dir, path) = write(
        "state_dir = \"state\"\n",
        Some(&campaign_with("hashtags = [\"#BaumeKarite\"]")),
    );
    let (_, watchlist) = config::load(&path).unwrap();
    let c = &watchlist.campaigns[0];
    assert_eq!(c.name, "Baume karité — novembre");
    assert_eq!(c.start.to_string(), "2026-11-03");
    assert_eq!(c.objective, config::Objective::Notoriety);
    assert_eq!(c.currency, "EUR");
    assert_eq!(c.hashtags, ["baumekarite"]);
    assert_eq!(c.videos[0].handle, "lea.soinsnaturels");
    assert_eq!(c.videos[0].cost, Some(600.0));
    assert_eq!(c.videos[1].cost, None);
    assert_eq!(
        watchlist.entities().last().unwrap().as_str(),
        "tiktok:@atelier.lavande/7441618558958979001"
    );
}

#[test]
fn campaign_mistakes_are_refused_where_they_are_written() {
    let state = "state_dir = \"state\"\n";
    // A profile address where a video's is expected.
    let bad_url = campaign_with("").replace(
        "\"https://www.tiktok.com/@atelier.lavande/video/7441618558958979001\"",
        "\"https://www.tiktok.com/@atelier.lavande\"",
    );
    let m = error_at(state, Some(&bad_url), "watchlist.toml", 9, 3);
    assert!(m.contains("is not a TikTok video address"), "{m}");
    let negative = campaign_with("").replace("cost = 600.0", "cost = -5.0");
    let m = error_at(state, Some(&negative), "watchlist.toml", 8, 3);
    assert!(m.contains("cannot be -5"), "{m}");
    let backwards = campaign_with("").replace("2026-11-30", "2026-10-01");
    let m = error_at(state, Some(&backwards), "watchlist.toml", 4, 7);
    assert!(
        m.contains("ends (2026-10-01) before it starts (2026-11-03)"),
        "{m}"
    );
    let unknown = campaign_with("").replace("\"notoriety\"", "\"notoriaty\"");
    let m = error_at(state, Some(&unknown), "watchlist.toml", 5, 13);
    assert!(m.contains("did you mean `notoriety`?"), "{m}");
    // The French word is understood.
    let (_dir, path) = write(
        state,
        Some(&campaign_with("").replace("\"notoriety\"", "\"notoriété\"")),
    );
    assert_eq!(
        config::load(&path).unwrap().1.campaigns[0].objective,
        config::Objective::Notoriety
    );
    let typo = campaign_with("revenu = 2400.0");
    let m = error_at(state, Some(&typo), "watchlist.toml", 11, 1);
    assert!(m.contains("did you mean `revenue`?"), "{m}");
}

#[test]
fn shop_mistakes_are_refused_where_they_are_written() {
    let state = "state_dir = \"state\"\n";
    let shop =
        |products: &str| format!("[shop]\nregion = \"FR\"\nproducts = [\n  {products},\n]\n");
    let m = error_at(
        state,
        Some(&shop("\"https://www.tiktok.com/@lea.soinsnaturels\"")),
        "watchlist.toml",
        4,
        3,
    );
    assert!(m.contains("is not a TikTok Shop product address"), "{m}");
    let m = error_at(
        state,
        Some(&shop(
            "{ url = \"https://www.tiktok.com/shop/pdp/baume/1729447605324124806\", my_price = -1.0 }",
        )),
        "watchlist.toml",
        4,
        3,
    );
    assert!(m.contains("`my_price` cannot be -1"), "{m}");
    let m = error_at(
        state,
        Some("[shop]\nregion = \"France\"\n"),
        "watchlist.toml",
        2,
        10,
    );
    assert!(m.contains("two-letter country code"), "{m}");
    let typo = "[shop]\nproduits = []\n";
    let m = error_at(state, Some(typo), "watchlist.toml", 2, 1);
    assert!(m.contains("did you mean `products`?"), "{m}");
}

#[test]
fn mistakes_a_shopkeeper_makes_get_the_fix_in_the_message() {
    // `~` is not expanded in a file: refused, never a folder named `~`.
    let m = error_at(
        "state_dir = \"~/trendwatch-state\"\n",
        None,
        "trendwatch.toml",
        1,
        13,
    );
    assert!(m.contains("write the full path"), "{m}");
    // A handle among the hashtags, a tag among the creators.
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[tiktok]\nhashtags = [\"@aloevera\"]\n"),
        "watchlist.toml",
        2,
        13,
    );
    assert!(m.contains("is a creator: move it to `creators"), "{m}");
    // A table or a zone written in another case.
    let m = error_at(
        "state_dir = \"s\"\n",
        Some("[TikTok]\nhashtags = []\n"),
        "watchlist.toml",
        1,
        2,
    );
    assert!(m.contains("did you mean `tiktok`?"), "{m}");
    let m = error_at(
        "state_dir = \"s\"\ntimezone = \"europe/paris\"\n",
        None,
        "trendwatch.toml",
        2,
        12,
    );
    assert!(m.contains("did you mean \"Europe/Paris\"?"), "{m}");
    // A day in French.
    let m = error_at(
        "state_dir = \"s\"\n[digest]\nschedule = \"0 0 8 * * lundi\"\n",
        None,
        "trendwatch.toml",
        3,
        12,
    );
    assert!(m.contains("`lundi`") && m.contains("`Mon`"), "{m}");
}

#[test]
fn a_mistyped_command_line_exits_1_and_help_exits_0() {
    let bin = env!("CARGO_BIN_EXE_trendwatch");
    let out = Command::new(bin).arg("colect").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("collect"));
    let out = Command::new(bin).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn check_fails_when_the_smtp_password_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = |source: &str| {
        format!(
            "state_dir = \"state\"\n[digest]\nto = [\"a@example.org\"]\nfrom = \"tw <tw@example.org>\"\n\
             [mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = 2525\ntls = \"none\"\n\
             username = \"tw\"\n{source}\n"
        )
    };
    let run = |config: String| {
        std::fs::write(dir.path().join("trendwatch.toml"), config).unwrap();
        std::fs::write(dir.path().join("watchlist.toml"), WATCHLIST).unwrap();
        Command::new(env!("CARGO_BIN_EXE_trendwatch"))
            .arg("-c")
            .arg(dir.path().join("trendwatch.toml"))
            .arg("check")
            .env_remove("TW_CHECK_NO_SUCH_PASSWORD")
            .env_remove("CREDENTIALS_DIRECTORY")
            .output()
            .unwrap()
    };
    for source in [
        "password_env = \"TW_CHECK_NO_SUCH_PASSWORD\"".to_owned(),
        format!(
            "password_file = \"{}\"",
            dir.path().join("absent").display()
        ),
    ] {
        let out = run(smtp(&source));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{source}: {stderr}");
        assert!(
            stderr.contains("impossible de lire le mot de passe SMTP"),
            "{stderr}"
        );
    }
    std::fs::write(dir.path().join("pw"), "secret\n").unwrap();
    let out = run(smtp(&format!(
        "password_file = \"{}\"",
        dir.path().join("pw").display()
    )));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A credential the service's unit does not load, and no credential store has: the
    // service could not send, and check says where it looked.
    let out = run(smtp("password_credential = \"tw_test_absent_credential\""));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("LoadCredential=tw_test_absent_credential"),
        "{stderr}"
    );
}

/// `trendwatch ARGS` with the locale `lang` (`LANG`), from `cwd`.
fn trendwatch_in(lang: &str, args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trendwatch"))
        .args(args)
        .current_dir(cwd)
        .env_remove("TRENDWATCH_CONFIG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang)
        .output()
        .unwrap()
}

#[test]
fn init_writes_a_starter_in_the_users_language_that_passes_check_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    for (lang, folder, said, comment) in [
        ("fr_FR.UTF-8", "fr", "Écrits :", "# La liste de veille"),
        ("en_GB.UTF-8", "en", "Wrote ", "# The watchlist"),
    ] {
        let out = trendwatch_in(lang, &["init", folder], dir.path());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.starts_with(said), "{stdout}");
        let config = dir.path().join(folder).join("trendwatch.toml");
        assert!(std::fs::read_to_string(&config).unwrap().contains(comment));
        let check = trendwatch_in(lang, &["-c", config.to_str().unwrap(), "check"], dir.path());
        assert!(
            check.status.success(),
            "{lang}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        // Its state stays beside it, not in the folder it was run from.
        assert!(String::from_utf8_lossy(&check.stdout)
            .contains(&dir.path().join(folder).join("state").display().to_string()));

        // A second init keeps the user's edits.
        std::fs::write(&config, "# mine\n").unwrap();
        let again = trendwatch_in(lang, &["init", folder], dir.path());
        assert_eq!(again.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&again.stderr).contains("trendwatch.toml"));
        assert_eq!(std::fs::read_to_string(&config).unwrap(), "# mine\n");
    }
    // The language can be asked for whatever the locale.
    let out = trendwatch_in(
        "C.UTF-8",
        &["init", "choisi", "--language", "fr"],
        dir.path(),
    );
    assert!(out.status.success());
    assert!(
        std::fs::read_to_string(dir.path().join("choisi/watchlist.toml"))
            .unwrap()
            .contains("ce que trendwatch surveille")
    );
}

#[test]
fn completions_load_in_bash_and_the_manual_lists_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let script = trendwatch_in("C", &["completions", "bash"], dir.path());
    assert!(script.status.success());
    let path = dir.path().join("trendwatch.bash");
    std::fs::write(&path, &script.stdout).unwrap();
    // A real bash loads it and completes `trendwatch col` to `collect`.
    let bash = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && COMP_WORDS=(trendwatch col) COMP_CWORD=1 && _trendwatch trendwatch col trendwatch && echo \"${{COMPREPLY[@]}}\"",
            path.display()
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&bash.stdout).contains("collect"),
        "{}{}",
        String::from_utf8_lossy(&bash.stdout),
        String::from_utf8_lossy(&bash.stderr)
    );
    for shell in ["zsh", "fish"] {
        let out = trendwatch_in("C", &["completions", shell], dir.path());
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("trendwatch")
        );
    }

    let man = trendwatch_in("C", &["man"], dir.path());
    let roff = String::from_utf8_lossy(&man.stdout);
    assert!(
        roff.starts_with(".ie") || roff.contains(".TH trendwatch"),
        "{roff}"
    );
    for command in [
        "RUN", "CHECK", "INIT", "COLLECT", "DETECT", "DIGEST", "OUTBOX", "CAMPAIGN",
    ] {
        assert!(roff.contains(&format!("COMMAND: {command}")), "{command}");
    }
    assert!(
        roff.contains("\\-\\-mail"),
        "check's options are on the page"
    );
}
