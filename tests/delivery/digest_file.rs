//! What a digest reader sees, in both languages, from a store with every kind of item: the
//! story of each item (volumes, dates, videos with links, riding tags, creators, what it
//! means), partner figures, charts with their scale and dates, health grouped with advice,
//! the warm-up message and a subject that sums it all up; the 12-item size limit; and the
//! default `file` transport, which lands a digest once as an `.eml` under `state_dir/outbox`.

use crate::common::{quoted, TestConfig};
use crate::digest_fixture;

use trendwatch::config;
use trendwatch::detect;
use trendwatch::digest;
use trendwatch::mail;
use trendwatch::model::Metric;
use trendwatch::model::{EntityId, Failure, FailureKind, Fetcher, TIKTOK};
use trendwatch::store::{EntityInfo, OutboxState, Store};

const AT: i64 = 1_795_420_800;

#[tokio::test]
async fn file_transport_writes_one_eml_and_health_lists_failures() {
    let dir = tempfile::tempdir().unwrap();
    let path = TestConfig::new()
        .unset("", "timezone")
        .set("digest", "language", &quoted("fr"))
        .set("digest", "to", "[\"a@example.org\"]")
        .watchlist("[tiktok]\nhashtags = [\"a\"]\n")
        .write_in(dir.path());
    let (cfg, _) = config::load(&path).unwrap();
    let store = Store::open(&cfg.state_dir).unwrap();
    let failing = EntityInfo {
        id: EntityId::creator(TIKTOK, "disparue"),
        first_seen: AT - 86_400,
        last_sample_at: None,
        last_success: Some(AT - 80_000),
        last_failure: Some(Failure {
            at: AT - 3600,
            kind: FailureKind::NotFound,
            detail: "HTTP 404 <b>gone</b>".into(),
        }),
        metrics: vec![],
        fetched_by: Fetcher::Http,
    };
    // Only the browser could read this one: the health section says so, as a fact.
    let recovered = EntityInfo {
        id: EntityId::hashtag(TIKTOK, "revenue"),
        last_success: Some(AT - 60),
        fetched_by: Fetcher::Browser,
        ..failing.clone()
    };
    let d =
        trendwatch::pipeline::build_digest(Vec::new(), vec![failing, recovered], &store, &cfg, AT)
            .unwrap();
    assert_eq!(d.health.len(), 1);
    assert_eq!(d.read_by_browser, 1);
    let r = digest::render(&d, cfg.digest.language).unwrap();
    assert!(
        r.text.contains("1 source lue par le navigateur intégré"),
        "{}",
        r.text
    );
    assert!(r.html.contains("1 source lue par le navigateur intégré"));
    // Nothing was ever measured: the reader is told why the digest is empty, not "nothing new".
    assert!(
        r.text
            .contains("Aucune donnée n'a encore pu être collectée"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("Rien de nouveau"), "{}", r.text);
    assert!(
        r.subject
            .starts_with("trendwatch · 1 source en échec, aucune donnée collectée — semaine du"),
        "{}",
        r.subject
    );
    assert!(r.text.contains("État de la collecte") && r.text.contains("@disparue"));
    assert!(
        r.text
            .contains("Page introuvable pour 1 source depuis 22 heures"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("#revenue"));
    // The raw detail is for `status` and the logs, never the reader.
    assert!(
        !r.html.contains("gone") && !r.text.contains("HTTP 404"),
        "{}",
        r.html
    );

    let item = mail::queue(&store, &cfg, &r, AT).unwrap();
    let report = mail::flush(&store, &cfg, AT).await.unwrap();
    assert_eq!(report.sent, vec![item.id.clone()]);
    mail::flush_all(&store, &cfg, AT + 10).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(cfg.state_dir.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    assert_eq!(std::fs::read(&files[0]).unwrap(), item.raw);
    assert!(matches!(
        store.outbox_get(&item.id).unwrap().unwrap().state,
        OutboxState::Sent { .. }
    ));
}

/// The HTML as a browser shows it: entities decoded.
fn shown(html: &str) -> String {
    html.replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn demo(lang: &str) -> (tempfile::TempDir, config::Config, Store, digest::Digest) {
    let dir = tempfile::tempdir().unwrap();
    let path = digest_fixture::write_demo(dir.path(), lang);
    let (cfg, watchlist) = config::load(&path).unwrap();
    let store = Store::open(&cfg.state_dir).unwrap();
    let at = digest_fixture::DEMO_AT;
    let input = detect::load_input(&store, &watchlist, &cfg.detect, at).unwrap();
    let trends = detect::detect(&input, &cfg.detect, at);
    let health = store.entities().unwrap();
    let d = trendwatch::pipeline::build_digest(trends, health, &store, &cfg, at).unwrap();
    (dir, cfg, store, d)
}

#[test]
fn every_item_tells_its_story_in_french() {
    let (_dir, cfg, _store, d) = demo("fr");
    let kinds: Vec<&str> = d.sections.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "emerging",
            "spike",
            "discovered",
            "rising_creator",
            "breakout_video",
            "cooling"
        ]
    );
    assert!(d.warmup.is_none());
    let r = digest::render(&d, cfg.digest.language).unwrap();
    let html = shown(&r.html);
    for part in [&html, &r.text] {
        for seen in [
            // Headline with % and date, volumes this week against usual and the week before.
            "+800\u{a0}% de vues par heure depuis le 27 nov.",
            "6\u{a0}M de vues cette semaine, contre 1,6\u{a0}M habituellement (+343\u{a0}% sur la semaine d'avant)",
            // The videos behind it, with links, and who posts it.
            "@aroma.camille · 316\u{a0}k lectures",
            "https://www.tiktok.com/@aroma.camille/video/74000000000000008",
            "#skincarenaturel #oleolat",
            "et 4 autre(s)",
            "Portée par 9 créateurs différents : une tendance organique, pas une campagne.",
            // Spike, cooling against its peak, the breakout video.
            "Pic de +700\u{a0}% de vues par heure, le 30 nov. à 0\u{a0}h",
            "En baisse : les vues par heure sont à 19\u{a0}% de leur pic du 25 nov.",
            "au pic du 25 nov. à 12\u{a0}h",
            "420\u{a0}k lectures, 36,8× les vidéos habituelles du créateur",
            // The partner card.
            "7,2\u{a0}% d'engagement, au-dessus des 2–5\u{a0}% habituels des comptes de 10\u{a0}k à 100\u{a0}k abonnés",
            "environ 1,8 vidéo(s) par semaine",
            "Un partenaire possible",
            // Health grouped by cause with advice, never the raw error.
            "Connexion impossible pour 2 sources depuis 3 jours : le serveur a-t-il accès à Internet ?",
            "Page introuvable pour 1 source, jamais collectée",
        ] {
            assert!(part.contains(seen), "missing {seen:?} in\n{part}");
        }
        assert!(
            !part.contains("dns error") && !part.contains("network"),
            "{part}"
        );
        assert!(!part.contains("2026-11-"), "raw timestamps: {part}");
    }
    // Charts: a date axis, a round y scale in French digits, the legend and real alt text.
    assert!(
        html.contains(">16 nov.<") && html.contains(">30 nov.<"),
        "{html}"
    );
    assert!(
        html.contains(">100\u{a0}k<") && html.contains(">50\u{a0}k<"),
        "{html}"
    );
    assert!(html.contains("bande grise : niveau habituel (9\u{202f}335/h)"));
    assert!(html.contains("pointillé : début de la hausse (27 nov.)"));
    assert!(html.contains(
        "alt=\"Vues par heure de #huilesessentielles du 16 nov. au 30 nov., dernière valeur"
    ));
    assert!(!html.contains("alt=\"\""));
    assert!(r.html.contains("Voir sur TikTok"));
    // No chart for the breakout video (its creator's followers say nothing about it) nor for
    // the discovered tag, whose own page is not collected yet: four charts for six items.
    assert_eq!(r.images.len(), 4);
    assert_eq!(r.html.matches("src=\"cid:chart-").count(), 4);
    assert_eq!(
        r.subject,
        "trendwatch · 1 hashtag émergent, 1 pic viral, 1 hashtag découvert, 1 créateur en hausse, \
         1 vidéo qui décolle, 1 tendance en baisse, 3 sources en échec — semaine du 30 novembre 2026"
    );
}

#[test]
fn every_item_tells_its_story_in_english() {
    let (_dir, cfg, _store, d) = demo("en");
    let r = digest::render(&d, cfg.digest.language).unwrap();
    let html = shown(&r.html);
    for part in [&html, &r.text] {
        for seen in [
            "+800% views per hour since 27 Nov",
            "6M views this week, against 1.6M usually (+343% on the week before)",
            "@aroma.camille · 316k plays",
            "Carried by 9 different creators: an organic trend, not a campaign.",
            "A spike of +700% views per hour, on 30 Nov at 00:00",
            "Slowing down: views per hour are at 19% of their 25 Nov peak",
            "7.2% engagement, above the 2–5% usual for accounts of 10k to 100k followers",
            "Could not connect for 2 sources for 3 days: does the server have Internet access?",
        ] {
            assert!(part.contains(seen), "missing {seen:?} in\n{part}");
        }
        assert!(!part.contains("2026-11-"), "raw timestamps: {part}");
    }
    assert!(r.html.contains("View on TikTok") && r.html.contains(">16 Nov<"));
    assert!(
        r.subject
            .starts_with("trendwatch · 1 emerging hashtag, 1 viral spike,"),
        "{}",
        r.subject
    );
    assert!(
        r.subject
            .ends_with("3 failing sources — week of 30 November 2026"),
        "{}",
        r.subject
    );
}

#[test]
fn a_short_history_says_when_trends_can_appear() {
    let (_dir, cfg, store, _) = demo("fr");
    // Four days into the month of history: ten more days before a full baseline.
    let at = digest_fixture::DEMO_AT - 26 * 86_400;
    let health = store.entities().unwrap();
    let d =
        trendwatch::pipeline::build_digest(Vec::new(), health.to_vec(), &store, &cfg, at).unwrap();
    let w = d.warmup.unwrap();
    assert_eq!(w.baseline_days, 14);
    let r = digest::render(&d, cfg.digest.language).unwrap();
    assert!(
        r.text
            .contains("trendwatch collecte depuis le 31 octobre 2026 : il lui faut 14 jours"),
        "{}",
        r.text
    );
    assert!(r.text.contains("D'ici le 14 novembre 2026"), "{}", r.text);
    assert!(!r.text.contains("Rien de nouveau"));
    assert!(
        r.subject.contains("mise en route, jour 5 sur 14"),
        "{}",
        r.subject
    );
}

#[test]
fn a_twelve_item_digest_stays_under_gmails_clipping_limit() {
    let d = digest_fixture::digest12();
    assert_eq!(d.item_count(), 12);
    for lang in [config::Language::Fr, config::Language::En] {
        let r = digest::render(&d, lang).unwrap();
        assert_eq!(r.images.len(), 12);
        assert!(
            !r.html.contains("data:image"),
            "mail HTML carries images by cid"
        );
        assert!(r.html.len() < 102 * 1024, "{} bytes", r.html.len());
        // Forty failing sources in two lines of advice, not forty lines.
        assert_eq!(
            r.text.matches("pour 20 sources").count() + r.text.matches("for 20 sources").count(),
            2,
            "{}",
            r.text
        );
    }
}

/// Each counter alert says how sure trendwatch is, with the evidence in display steps and
/// views, in the reader's language; clear items come before those to be confirmed.
#[test]
fn each_alert_says_how_sure_in_words() {
    let mut d = digest_fixture::digest12();
    for (lang, seen) in [
        (
            config::Language::Fr,
            [
                "Net : 27 paliers d'affichage (2,7\u{a0}M de vues) de plus que d'habitude en 3 jours, 13,3× l'habitude",
                "Net : 27 paliers d'affichage (2,7\u{a0}M de vues) de moins qu'au rythme du pic en 3 jours",
            ],
        ),
        (
            config::Language::En,
            [
                "Clear: 27 display steps (2.7M views) more than usual over 3 days, 13.3× usual",
                "Clear: 27 display steps (2.7M views) fewer than at the peak's pace over 3 days",
            ],
        ),
    ] {
        let r = digest::render(&d, lang).unwrap();
        for part in [shown(&r.html), r.text.clone()] {
            for s in seen {
                assert!(part.contains(s), "missing {s:?} in\n{part}");
            }
        }
    }
    // A tentative alert of an exact counter says so, in views.
    let item = &mut d.sections[0].items[0];
    item.confidence = Some(detect::Confidence {
        level: detect::ConfidenceLevel::Tentative,
        excess: 1_240.0,
        step: 1.0,
        hours: 20.0,
    });
    let r = digest::render(&d, config::Language::Fr).unwrap();
    assert!(
        r.text
            .contains("À confirmer : 1\u{202f}240 vues de plus que d'habitude en 20 heures"),
        "{}",
        r.text
    );
}

#[test]
fn hostile_text_scraped_from_videos_is_shown_inert() {
    let (_dir, cfg, store, _) = demo("fr");
    let at = digest_fixture::DEMO_AT;
    let tag = EntityId::hashtag(TIKTOK, "huilesessentielles");
    let hostile = trendwatch::model::VideoRecord {
        id: "7400000000000099999".into(),
        author: Some("x\"><script>alert(1)</script>".into()),
        created_at: at - 3600,
        plays: 9_000_000,
        likes: 1,
        comments: 1,
        shares: 1,
        saves: 0,
        hashtags: vec![
            "huilesessentielles".into(),
            "<b>gras</b>\r\nBcc: x@example.org".into(),
        ],
        description: "<img src=x onerror=alert(1)>\r\nBcc: victim@example.org".into(),
    };
    store
        .record_pass(&[trendwatch::model::EntityOutcome {
            fetched_by: Default::default(),
            entity: tag.clone(),
            observation: Some(trendwatch::model::Observation {
                at,
                metrics: Vec::new(),
                videos: vec![hostile],
                label: None,
            }),
            failure: None,
        }])
        .unwrap();
    let trend = detect::Trend {
        entity: tag,
        kind: detect::TrendKind::Emerging,
        metric: Metric::VIEWS,
        score: 9.0,
        rate_now: 80_000.0,
        rate_baseline: 9_000.0,
        growth: 8.9,
        since: Some(at - 3 * 86_400),
        first_seen: Some(at - 30 * 86_400),
        evidence: String::new(),
        details: Default::default(),
        confidence: None,
    };
    let d = trendwatch::pipeline::build_digest(vec![trend], Vec::new(), &store, &cfg, at).unwrap();
    let r = digest::render(&d, cfg.digest.language).unwrap();
    // The most viewed video is the hostile one: shown, escaped, without a link.
    assert!(r.text.contains("9\u{a0}M lectures"), "{}", r.text);
    for bad in ["<script>", "<img src=x", "<b>", "onerror=alert(1)>"] {
        assert!(!r.html.contains(bad), "{bad} in {}", r.html);
    }
    assert!(r.html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(
        !r.html.contains("video/7400000000000099999"),
        "no link from a hostile author"
    );
    for part in [&r.text, &r.subject] {
        assert!(
            !part.contains("\r\nBcc") && !part.contains("\nBcc"),
            "{part}"
        );
    }
}

/// The digest stage is handed its facts: built from [`digest::Inputs`] alone, no store open,
/// it charts the series it was given, holds back what was sent within the cooldown, and names
/// the refused recipient.
#[test]
fn a_digest_is_built_from_its_facts_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = TestConfig::new()
        .set("digest", "language", &quoted("en"))
        .watchlist("[tiktok]\nhashtags = [\"a\"]\n")
        .write_in(dir.path());
    let (cfg, _) = config::load(&path).unwrap();
    let tag = |name: &str| EntityId::hashtag(TIKTOK, name);
    let trend = |name: &str, score: f64| detect::Trend {
        entity: tag(name),
        kind: detect::TrendKind::Emerging,
        metric: Metric::VIEWS,
        score,
        rate_now: 80_000.0,
        rate_baseline: 9_000.0,
        growth: 8.9,
        since: Some(AT - 2 * 86_400),
        first_seen: Some(AT - 30 * 86_400),
        evidence: String::new(),
        details: Default::default(),
        confidence: None,
    };
    let series: Vec<(i64, f64)> = (0..14 * 8)
        .map(|i| (AT - 14 * 86_400 + i * 10_800, 1e6 + (i * i) as f64 * 1000.0))
        .collect();
    let inputs = digest::Inputs {
        trends: vec![trend("huileessentielle", 9.0), trend("dejadit", 6.0)],
        series: [((tag("huileessentielle"), Metric::VIEWS), series)].into(),
        sent: [(
            trend("dejadit", 6.0).key(),
            trendwatch::model::AlertRecord {
                at: AT - 86_400,
                score: 5.0,
            },
        )]
        .into(),
        refused: vec![("b@example.org".into(), "550 no such user".into())],
        ..Default::default()
    };
    assert!(!cfg.state_dir.exists(), "nothing touched the state folder");
    let d = digest::build(&inputs, &cfg, AT).unwrap();
    let items: Vec<_> = d.sections.iter().flat_map(|s| &s.items).collect();
    assert_eq!(
        items.len(),
        1,
        "the tag sent yesterday waits for its cooldown"
    );
    assert_eq!(items[0].name, "#huileessentielle");
    assert!(items[0].rates.len() > 50, "{}", items[0].rates.len());
    assert_eq!(d.refused[0].0, "b@example.org");
    assert!(!cfg.state_dir.exists());
}
