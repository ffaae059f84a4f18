//! The digest delivered to a real SMTP exchange on loopback: MIME structure, inline charts,
//! subjects in both languages, escaping of scraped text, no header injection, and an outage
//! that delays the digest without losing or duplicating it (also across a store reopen).

use crate::common::{quoted, TestConfig};
use crate::support;

use std::path::Path;
use support::smtp::SmtpSink;

use tokio::net::TcpListener;
use trendwatch::config::{self, Config};
use trendwatch::detect::{Trend, TrendDetails, TrendKind};
use trendwatch::digest;
use trendwatch::mail;
use trendwatch::model::Metric;
use trendwatch::model::{EntityId, Sample, TIKTOK};
use trendwatch::store::{OutboxState, Store};

fn write_config(dir: &Path, port: u16, lang: &str) -> (Config, trendwatch::config::Watchlist) {
    write_config_to(dir, port, lang, &["equipe@example.org"])
}

/// Digests in `lang` to `to` by SMTP on loopback `port`; the config and watchlist as loaded.
fn smtp_config(port: u16, lang: &str, to: &[&str]) -> TestConfig {
    let to: Vec<String> = to.iter().map(|t| quoted(t)).collect();
    TestConfig::new()
        .smtp(port)
        .set("digest", "language", &quoted(lang))
        .set("digest", "to", &format!("[{}]", to.join(", ")))
        .watchlist("[tiktok]\nhashtags = [\"skincare\"]\n")
}

fn write_config_to(
    dir: &Path,
    port: u16,
    lang: &str,
    to: &[&str],
) -> (Config, trendwatch::config::Watchlist) {
    config::load(&smtp_config(port, lang, to).write_in(dir)).unwrap()
}

const AT: i64 = 1_795_420_800; // 2026-11-23T08:00:00Z

fn trend(entity: EntityId, evidence: &str, score: f64) -> Trend {
    Trend {
        entity,
        kind: TrendKind::Emerging,
        metric: Metric::VIEWS,
        score,
        rate_now: 1_200_000.0,
        rate_baseline: 90_000.0,
        growth: 13.3,
        since: Some(AT - 3 * 86_400),
        first_seen: Some(AT - 20 * 86_400),
        evidence: evidence.into(),
        details: TrendDetails::default(),
        confidence: None,
    }
}

fn seed(store: &Store, e: &EntityId) {
    let samples: Vec<Sample> = (0..72)
        .map(|i| Sample {
            entity: e.clone(),
            at: AT - (72 - i) * 3600,
            metric: Metric::VIEWS,
            value: (i * i * 1000) as f64,
        })
        .collect();
    store.insert_samples(&samples).unwrap();
}

/// A minimal MIME reader: (content-type, headers, decoded body, children).
#[derive(Debug)]
struct Part {
    ctype: String,
    headers: String,
    body: Vec<u8>,
    children: Vec<Part>,
}

fn parse(raw: &[u8]) -> Part {
    let s = String::from_utf8_lossy(raw).to_string();
    let (head, body) = s.split_once("\r\n\r\n").unwrap();
    let headers = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let header = |name: &str| {
        headers
            .lines()
            .find(|l| {
                l.to_ascii_lowercase()
                    .starts_with(&format!("{}:", name.to_ascii_lowercase()))
            })
            .map(|l| l[name.len() + 1..].trim().to_owned())
            .unwrap_or_default()
    };
    let ctype_full = header("Content-Type");
    let ctype = ctype_full
        .split(';')
        .next()
        .unwrap()
        .trim()
        .to_ascii_lowercase();
    let mut children = Vec::new();
    let mut decoded = Vec::new();
    if ctype.starts_with("multipart/") {
        let b = ctype_full
            .split("boundary=")
            .nth(1)
            .unwrap()
            .trim_matches('"');
        let b = b.split(';').next().unwrap().trim_matches('"');
        let delim = format!("--{b}");
        for chunk in body.split(&delim).skip(1) {
            if chunk.starts_with("--") {
                break;
            }
            children.push(parse(chunk.trim_start_matches("\r\n").as_bytes()));
        }
    } else {
        let cte = header("Content-Transfer-Encoding").to_ascii_lowercase();
        decoded = match cte.as_str() {
            "base64" => {
                use base64::Engine;
                let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(clean)
                    .unwrap()
            }
            "quoted-printable" => qp(body),
            _ => body.as_bytes().to_vec(),
        };
    }
    Part {
        ctype,
        headers,
        body: decoded,
        children,
    }
}

fn qp(s: &str) -> Vec<u8> {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn subject_of(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let head = s.split("\r\n\r\n").next().unwrap().replace("\r\n ", " ");
    let line = head.lines().find(|l| l.starts_with("Subject:")).unwrap()[8..]
        .trim()
        .to_owned();
    // RFC 2047 encoded words, as lettre writes them.
    line.split(' ')
        .map(|w| {
            if let Some(inner) = w
                .strip_prefix("=?utf-8?b?")
                .and_then(|w| w.strip_suffix("?="))
            {
                use base64::Engine;
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(inner)
                        .unwrap(),
                )
                .unwrap()
            } else {
                w.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_arrives_with_charts_escaped_text_and_a_safe_subject() {
    let sink = SmtpSink::start(0).await;
    let port = sink.port();

    for lang in ["fr", "en"] {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, _) = write_config(dir.path(), port, lang);
        let store = Store::open(&cfg.state_dir).unwrap();
        let evil = EntityId::hashtag(TIKTOK, "evil\r\nBcc: victim@example.org");
        let good = EntityId::hashtag(TIKTOK, "mushroomcoffee");
        let script = EntityId::hashtag(TIKTOK, "<script>alert(1)</script>");
        seed(&store, &script);
        seed(&store, &evil);
        seed(&store, &good);
        let trends = vec![
            trend(evil, "views/hour 9x the baseline", 9.0),
            trend(good, "views/hour 13.3x the 14-day baseline", 8.0),
            trend(script, "description <script>alert(1)</script>", 7.0),
        ];
        let d = trendwatch::pipeline::build_digest(trends, Vec::new(), &store, &cfg, AT).unwrap();
        let r = digest::render(&d, cfg.digest.language).unwrap();
        mail::queue_digest(&store, &cfg, &d, &r, AT, &[]).unwrap();
        let report = mail::flush(&store, &cfg, AT).await.unwrap();
        assert_eq!(report.sent.len(), 1, "{report:?}");
    }

    let msgs: Vec<Vec<u8>> = sink
        .messages()
        .into_iter()
        .map(|m| m.data.into_bytes())
        .collect();
    assert_eq!(msgs.len(), 2);
    for (raw, lang) in msgs.iter().zip(["fr", "en"]) {
        let text = String::from_utf8_lossy(raw);
        let head = text.split("\r\n\r\n").next().unwrap();
        assert!(
            !head
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{head}"
        );
        let subject = subject_of(raw);
        assert!(!subject.contains('\r') && !subject.contains('\n'));
        // Encoded words drop the spaces between them: compare without whitespace.
        let squeezed: String = subject.chars().filter(|c| !c.is_whitespace()).collect();
        let want = match lang {
            "fr" => "trendwatch·3hashtagsémergents—semainedu23novembre2026",
            _ => "trendwatch·3emerginghashtags—weekof23November2026",
        };
        assert!(squeezed.starts_with(want), "{subject}");

        let root = parse(raw);
        assert_eq!(root.ctype, "multipart/alternative", "{}", root.headers);
        assert_eq!(root.children.len(), 2);
        assert_eq!(root.children[0].ctype, "text/plain");
        let related = &root.children[1];
        assert_eq!(related.ctype, "multipart/related");
        assert_eq!(related.children[0].ctype, "text/html");
        let html = String::from_utf8(related.children[0].body.clone()).unwrap();
        let pngs: Vec<&Part> = related.children[1..].iter().collect();
        assert_eq!(pngs.len(), 3);
        for p in pngs {
            assert_eq!(p.ctype, "image/png");
            assert_eq!(&p.body[..4], b"\x89PNG");
            let cid = p
                .headers
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("content-id:"))
                .unwrap()[11..]
                .trim()
                .trim_matches(['<', '>'])
                .to_owned();
            assert!(html.contains(&format!("src=\"cid:{cid}\"")), "{cid}");
        }
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        // Auto-escaping writes `/` as `&#x2f;`, which browsers decode in attributes.
        assert!(html
            .replace("&#x2f;", "/")
            .contains("href=\"https://www.tiktok.com/tag/mushroomcoffee\""));
        let plain = String::from_utf8(root.children[0].body.clone()).unwrap();
        match lang {
            "fr" => assert!(
                plain.contains("Hashtags émergents")
                    && plain.contains("1,2\u{a0}M")
                    && plain.contains("13,3× le niveau habituel"),
                "{plain}"
            ),
            _ => assert!(
                plain.contains("Emerging hashtags") && plain.contains("1.2M"),
                "{plain}"
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_delays_the_digest_once_and_never_duplicates_it() {
    // Reserve a port, then close it: the server is down.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = write_config(dir.path(), port, "en");
    {
        let store = Store::open(&cfg.state_dir).unwrap();
        let d =
            trendwatch::pipeline::build_digest(Vec::new(), Vec::new(), &store, &cfg, AT).unwrap();
        let r = digest::render(&d, cfg.digest.language).unwrap();
        assert!(
            r.text.contains("Nothing could be collected yet"),
            "{}",
            r.text
        );
        let item = mail::queue(&store, &cfg, &r, AT).unwrap();
        let report = mail::flush(&store, &cfg, AT).await.unwrap();
        assert!(report.sent.is_empty());
        assert_eq!(report.failed.len(), 1);
        match store.outbox_get(&item.id).unwrap().unwrap().state {
            OutboxState::Pending {
                attempts,
                next_attempt_at,
                last_error,
            } => {
                assert_eq!(attempts, 1);
                assert_eq!(next_attempt_at, AT + 60);
                assert!(last_error.is_some());
            }
            s => panic!("{s:?}"),
        }
        // Not due yet: no attempt.
        let report = mail::flush(&store, &cfg, AT + 30).await.unwrap();
        assert!(report.failed.is_empty() && report.pending == 1);
    }
    // "Restart": a new Store instance over the same state, and the server is up.
    let sink = SmtpSink::start(port).await;
    let store = Store::open(&cfg.state_dir).unwrap();
    let report = mail::flush(&store, &cfg, AT + 61).await.unwrap();
    assert_eq!(report.sent.len(), 1);
    let report = mail::flush_all(&store, &cfg, AT + 7200).await.unwrap();
    assert!(report.sent.is_empty());
    assert_eq!(sink.messages().len(), 1);
    assert!(matches!(
        store.outbox_list().unwrap()[0].state,
        OutboxState::Sent { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_accepts_and_never_answers_is_a_retryable_failure() {
    // Accepts every connection and holds it open without a greeting.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), port, "en");
    let path = dir.path().join("trendwatch.toml");
    let text = std::fs::read_to_string(&path).unwrap() + "timeout = \"2s\"\n";
    std::fs::write(&path, text).unwrap();
    let (cfg, _) = config::load(&path).unwrap();
    let store = Store::open(&cfg.state_dir).unwrap();
    let d = trendwatch::pipeline::build_digest(Vec::new(), Vec::new(), &store, &cfg, AT).unwrap();
    let r = digest::render(&d, cfg.digest.language).unwrap();
    let item = mail::queue(&store, &cfg, &r, AT).unwrap();
    // The flush ends by itself (the outer bound only guards the test), fails, and keeps the
    // digest pending with the cause.
    let report = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        mail::flush(&store, &cfg, AT),
    )
    .await
    .expect("the flush has a deadline")
    .unwrap();
    assert!(report.sent.is_empty());
    assert_eq!(report.failed.len(), 1, "{report:?}");
    match store.outbox_get(&item.id).unwrap().unwrap().state {
        OutboxState::Pending {
            attempts,
            last_error,
            ..
        } => {
            assert_eq!(attempts, 1);
            let e = last_error.unwrap();
            assert!(
                e.contains("within 2s") || e.contains("timed out") || e.contains("timeout"),
                "{e}"
            );
        }
        s => panic!("{s:?}"),
    }
}

#[test]
fn an_smtp_timeout_out_of_bounds_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = smtp_config(25, "en", &["equipe@example.org"])
        .set("mail", "timeout", &quoted("3h"))
        .write_in(dir.path());
    let e = config::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("trendwatch.toml:") && e.contains("between 1s and 10m"),
        "{e}"
    );
}

#[tokio::test]
async fn cooldown_holds_back_a_trend_already_sent_unless_it_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = write_config(dir.path(), 1, "en");
    let store = Store::open(&cfg.state_dir).unwrap();
    let e = EntityId::hashtag(TIKTOK, "mushroomcoffee");
    let d = trendwatch::pipeline::build_digest(
        vec![trend(e.clone(), "x", 5.0)],
        Vec::new(),
        &store,
        &cfg,
        AT,
    )
    .unwrap();
    assert_eq!(d.item_count(), 1);
    store.alerts_record(&d.alerts).unwrap();
    let later = AT + 86_400;
    let d = trendwatch::pipeline::build_digest(
        vec![trend(e.clone(), "x", 9.0)],
        Vec::new(),
        &store,
        &cfg,
        later,
    )
    .unwrap();
    assert_eq!(d.item_count(), 0, "within cooldown, not doubled");
    let d = trendwatch::pipeline::build_digest(
        vec![trend(e.clone(), "x", 10.0)],
        Vec::new(),
        &store,
        &cfg,
        later,
    )
    .unwrap();
    assert_eq!(d.item_count(), 1, "escalated");
    let d = trendwatch::pipeline::build_digest(
        vec![trend(e, "x", 5.0)],
        Vec::new(),
        &store,
        &cfg,
        AT + 8 * 86_400,
    )
    .unwrap();
    assert_eq!(d.item_count(), 1, "cooldown over");
}

#[test]
fn a_queued_digest_its_alerts_and_the_last_digest_time_are_one_durable_step() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = write_config(dir.path(), 25, "en");
    let id = {
        let store = Store::open(&cfg.state_dir).unwrap();
        let e = EntityId::hashtag(TIKTOK, "skincare");
        seed(&store, &e);
        let trends = [trend(e, "views/hour 13.3x", 8.0)];
        let d = trendwatch::pipeline::build_digest(trends.to_vec(), Vec::new(), &store, &cfg, AT)
            .unwrap();
        assert_eq!(d.alerts.len(), 1);
        let r = digest::render(&d, cfg.digest.language).unwrap();
        let last = [("daemon.last_digest_at", AT.to_string().into_bytes())];
        mail::queue_digest(&store, &cfg, &d, &r, AT, &last)
            .unwrap()
            .id
    };
    // What a new process finds: all three, never one without the others.
    let store = Store::open(&cfg.state_dir).unwrap();
    assert!(store.outbox_get(&id).unwrap().is_some());
    assert!(store
        .alert_last("emerging|tiktok:#skincare")
        .unwrap()
        .is_some());
    assert_eq!(
        store.meta_get("daemon.last_digest_at").unwrap(),
        Some(AT.to_string().into_bytes())
    );
}

fn message_id_of(data: &str) -> String {
    data.lines()
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
        .map(|l| l[11..].trim().to_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_recipient_does_not_hold_back_the_others_and_is_reported() {
    let sink = SmtpSink::start(0).await;
    sink.refuse("typo@exemple.org");
    let dir = tempfile::tempdir().unwrap();
    let (cfg, watchlist) = write_config_to(
        dir.path(),
        sink.port(),
        "fr",
        &[
            "equipe@example.org",
            "typo@exemple.org",
            "direction@example.org",
        ],
    );
    let store = Store::open(&cfg.state_dir).unwrap();
    let d = trendwatch::pipeline::build_digest(Vec::new(), Vec::new(), &store, &cfg, AT).unwrap();
    let r = digest::render(&d, cfg.digest.language).unwrap();
    let item = mail::queue(&store, &cfg, &r, AT).unwrap();

    let report = mail::flush(&store, &cfg, AT).await.unwrap();
    assert_eq!(report.sent, std::slice::from_ref(&item.id), "{report:?}");
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].0, "typo@exemple.org");
    assert!(report.rejected[0].1.contains("550"), "{report:?}");
    let got = sink.messages();
    let mut to: Vec<String> = got.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["<direction@example.org>", "<equipe@example.org>"]);
    let stored = store.outbox_get(&item.id).unwrap().unwrap();
    assert!(matches!(stored.state, OutboxState::Sent { .. }));
    assert_eq!(
        stored.delivered_to,
        ["equipe@example.org", "direction@example.org"]
    );

    // Refused for good: not retried, however long one waits.
    let report = mail::flush_all(&store, &cfg, AT + 7200).await.unwrap();
    assert!(report.sent.is_empty() && report.failed.is_empty());
    assert_eq!(sink.messages().len(), 2);

    // Said where the user looks: `status` and the next digest's health section.
    let status = trendwatch::status::StatusReport::build(&store, &cfg, &watchlist, AT).unwrap();
    assert_eq!(status.outbox.refused.len(), 1);
    assert!(status
        .render_text(cfg.timezone)
        .contains("refused for good: typo@exemple.org"));
    let next =
        trendwatch::pipeline::build_digest(Vec::new(), Vec::new(), &store, &cfg, AT + 7 * 86_400)
            .unwrap();
    let text = digest::render(&next, cfg.digest.language).unwrap().text;
    assert!(
        text.contains("Adresse refusée par le serveur de messagerie : typo@exemple.org"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_after_data_resends_only_to_that_recipient_with_the_same_id() {
    let sink = SmtpSink::start(0).await;
    sink.drop_after_data_once("direction@example.org");
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = write_config_to(
        dir.path(),
        sink.port(),
        "en",
        &["equipe@example.org", "direction@example.org"],
    );
    let store = Store::open(&cfg.state_dir).unwrap();
    let d = trendwatch::pipeline::build_digest(Vec::new(), Vec::new(), &store, &cfg, AT).unwrap();
    let r = digest::render(&d, cfg.digest.language).unwrap();
    let item = mail::queue(&store, &cfg, &r, AT).unwrap();

    // The first recipient's 250 is recorded; the drop before the second's 250 is a retry.
    let report = mail::flush(&store, &cfg, AT).await.unwrap();
    assert_eq!(report.failed.len(), 1, "{report:?}");
    let stored = store.outbox_get(&item.id).unwrap().unwrap();
    assert_eq!(stored.delivered_to, ["equipe@example.org"]);
    assert!(matches!(stored.state, OutboxState::Pending { .. }));

    let report = mail::flush(&store, &cfg, AT + 61).await.unwrap();
    assert_eq!(report.sent, std::slice::from_ref(&item.id), "{report:?}");
    let got = sink.messages();
    let to: Vec<&str> = got.iter().map(|m| m.to[0].as_str()).collect();
    // The server may have kept the dropped copy (SMTP cannot tell): the one who may get it
    // twice is that recipient alone, and both copies carry the same Message-ID.
    assert_eq!(
        to,
        [
            "<equipe@example.org>",
            "<direction@example.org>",
            "<direction@example.org>"
        ]
    );
    let ids: Vec<String> = got.iter().map(|m| message_id_of(&m.data)).collect();
    assert!(
        ids.iter().all(|id| id == &format!("<{}>", item.id)),
        "{ids:?}"
    );
}
