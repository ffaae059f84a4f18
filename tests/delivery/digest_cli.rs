//! `trendwatch digest` and `trendwatch outbox` as users run them: text to stdout, a
//! self-contained preview, and `--send` during an SMTP outage (exit 2, pending), then
//! `outbox --flush` in a new process once the server is back: delivered exactly once.

use crate::common::{command, quoted, TestConfig};
use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;
use support::smtp::SmtpSink;

use tokio::net::TcpListener;

const END: i64 = 1_795_420_800; // 2026-11-23T08:00:00Z

fn setup(dir: &Path, port: u16, lang: &str) -> PathBuf {
    let cfg = TestConfig::new()
        .smtp(port)
        .set("digest", "language", &quoted(lang))
        .watchlist("[tiktok]\nhashtags = [\"mushroomcoffee\"]\n")
        .write_in(dir);
    // 20 days every 3 h: 3,000 views/h, then 40,000/h over the last two days.
    let mut csv = String::from("entity,timestamp,metric,value\n");
    let mut v = 1_000_000.0;
    for i in 0..160i64 {
        let t = END - (159 - i) * 3 * 3600;
        let rate = if t > END - 2 * 86_400 {
            40_000.0
        } else {
            3_000.0
        };
        v += rate * 3.0 + ((i * 7919) % 500) as f64;
        csv.push_str(&format!("tiktok:#mushroomcoffee,{t},views,{v}\n"));
    }
    std::fs::write(dir.join("h.csv"), csv).unwrap();
    let out = tw(&cfg, &["import", dir.join("h.csv").to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    cfg
}

fn tw(cfg: &Path, args: &[&str]) -> Output {
    command(cfg, args).output().unwrap()
}

#[test]
fn digest_prints_text_and_writes_a_self_contained_preview() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = setup(dir.path(), 1, "fr");
    let at = END.to_string();
    let out = tw(&cfg, &["digest", "--at", &at]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Hashtags émergents"), "{text}");
    assert!(text.contains("#mushroomcoffee"));
    assert!(text.contains("semaine du 23 novembre 2026"));

    let preview = dir.path().join("p.html");
    let out = tw(
        &cfg,
        &[
            "digest",
            "--at",
            &at,
            "--preview",
            preview.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&preview).unwrap();
    assert!(
        html.contains("src=\"data:image&#x2f;png;base64,")
            || html.contains("src=\"data:image/png;base64,")
    );
    assert!(!html.contains("cid:"));
    // A preview sends nothing and queues nothing.
    let out = tw(&cfg, &["outbox"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("En attente : 0"));
}

#[test]
fn a_spike_has_its_own_section_in_both_languages() {
    for (lang, title, other) in [
        ("fr", "Pics viraux", "Hashtags émergents"),
        ("en", "Viral spikes", "Emerging hashtags"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let cfg = setup(dir.path(), 1, lang);
        // 5,000 views/h for 20 days, and 8× that for the 3 hours ending 6 hours ago.
        let mut csv = String::from("entity,timestamp,metric,value\n");
        let mut v = 2_000_000.0;
        for i in 0..160i64 {
            let t = END - (159 - i) * 3 * 3600;
            let rate = if t == END - 6 * 3600 {
                40_000.0
            } else {
                5_000.0
            };
            v += rate * 3.0 + ((i * 7919) % 500) as f64;
            csv.push_str(&format!("tiktok:#skincarenaturel,{t},views,{v}\n"));
        }
        std::fs::write(dir.path().join("s.csv"), csv).unwrap();
        let out = tw(
            &cfg,
            &["import", dir.path().join("s.csv").to_str().unwrap()],
        );
        assert!(out.status.success());
        let out = tw(&cfg, &["digest", "--at", &END.to_string()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let spikes = text.find(title).expect(title);
        let tag = text.find("#skincarenaturel").expect("the spiking tag");
        assert!(tag > spikes, "{text}");
        // The sustained take-off stays in its own section, before the spikes.
        assert!(text.find(other).expect(other) < spikes, "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_during_an_outage_stays_pending_then_flush_delivers_once() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = setup(dir.path(), port, "en");
    let at = END.to_string();

    let out = tw(&cfg, &["digest", "--send", "--at", &at]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pending"), "{err}");
    let out = tw(&cfg, &["outbox"]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("Pending: 1"), "{listing}");
    assert!(listing.contains("1 emerging hashtag"), "{listing}");

    // The server comes back; a new process flushes.
    let sink = SmtpSink::start(port).await;
    let out = tw(&cfg, &["outbox", "--flush"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tw(&cfg, &["outbox", "--flush"]);
    assert!(out.status.success());
    assert_eq!(sink.messages().len(), 1);
    let out = tw(&cfg, &["outbox"]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("Pending: 0") && listing.contains("Recently sent: 1"),
        "{listing}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_mail_sends_a_test_message_and_leaves_the_next_digest_untouched() {
    let sink = SmtpSink::start(0).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = setup(dir.path(), sink.port(), "fr");

    let out = tw(&cfg, &["check", "--mail"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("message d'essai accepté pour"), "{said}");
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert!(
        got[0].data.contains("message d'essai") || got[0].data.contains("message_d'essai"),
        "{}",
        got[0].data
    );
    // Nothing in the outbox, no digest counted.
    let listing = String::from_utf8_lossy(&tw(&cfg, &["outbox"]).stdout).into_owned();
    assert!(
        listing.contains("En attente : 0") && listing.contains("Envoyés récemment : 0"),
        "{listing}"
    );

    // The digest after it still tells the take-off (no cooldown was spent on the test)…
    let out = tw(&cfg, &["digest", "--send", "--at", &END.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let digest = &sink.messages()[1].data;
    assert!(digest.contains("mushroomcoffee"), "{digest}");
    // …and the one a day later, with the tag still rising but already told, says so instead
    // of "nothing moves".
    let out = tw(&cfg, &["digest", "--at", &(END + 3 * 3600).to_string()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("déjà signalé"), "{text}");
    assert!(text.contains("#mushroomcoffee"), "{text}");
    assert!(
        !text.contains("ne s'écarte de son niveau habituel"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_mail_names_each_recipient_it_failed_and_the_fix() {
    let sink = SmtpSink::start(0).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = setup(dir.path(), sink.port(), "en");
    sink.refuse("equipe@example.org");
    let out = tw(&cfg, &["check", "--mail"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("test message NOT delivered to equipe@example.org"),
        "{err}"
    );

    // Nobody listens: the fix is in the config's words.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = setup(dir.path(), port, "en");
    let out = tw(&cfg, &["check", "--mail"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("check `host` and `port`"), "{err}");
}
