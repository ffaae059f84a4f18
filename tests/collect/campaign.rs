//! A campaign followed from its public side: sponsored videos read from their pages on a
//! loopback server in TikTok's format, a month of collections on the simulated clock, and
//! the `campaign` report in every format, the HTML one looked at in headless Chromium.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use trendwatch::collect::{Collector, Target};
use trendwatch::model::FailureKind;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::collect_support::chromium_or_skip;
use crate::collect_support::{html, tiktok as fixture};
use crate::common::{quoted, Setup, TestConfig};

/// The fixture video of @lea.soinsnaturels, published 2026-11-04T00:00:00Z.
const LEA_VIDEO: &str = "7704099305192816647";
const PUBLISHED: i64 = 1_793_750_400;
/// A second sponsored video, of a creator with 2.1 M followers, published a day later.
const ATELIER_VIDEO: &str = "7704470390361292809";

/// The fixture page with other counts (exact `statsV2`, and `stats` to match).
fn video_page(handle: &str, id: &str, followers: u64, counts: [u64; 5]) -> String {
    let [plays, likes, comments, shares, saves] = counts;
    fixture("video_universal.html")
        .replace(LEA_VIDEO, id)
        .replace("lea.soinsnaturels", handle)
        .replace(
            r#""statsV2":{"diggCount":"9100","shareCount":"520","commentCount":"410","playCount":"250000","collectCount":"880""#,
            &format!(r#""statsV2":{{"diggCount":"{likes}","shareCount":"{shares}","commentCount":"{comments}","playCount":"{plays}","collectCount":"{saves}""#),
        )
        .replace(r#""followerCount":"48217""#, &format!(r#""followerCount":"{followers}""#))
}

#[tokio::test]
async fn a_sponsored_video_is_read_from_its_page_and_a_removed_one_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(path(format!("/@lea.soinsnaturels/video/{LEA_VIDEO}")))
        .respond_with(html(fixture("video_universal.html")))
        .mount(&server)
        .await;
    Mock::given(path("/@lea.soinsnaturels/video/7704099305192816000"))
        .respond_with(html(fixture("video_removed.html")))
        .mount(&server)
        .await;
    // A page that answers with another video is not stored as this one.
    Mock::given(path("/@lea.soinsnaturels/video/7704099305192816999"))
        .respond_with(html(fixture("video_universal.html")))
        .mount(&server)
        .await;
    let collector = Collector::new(&crate::common::collect_config(&server.uri())).unwrap();
    let target = |id: &str| Target::TiktokVideo {
        handle: "lea.soinsnaturels".into(),
        id: id.into(),
    };
    let out = collector
        .collect(
            &[
                target(LEA_VIDEO),
                target("7704099305192816000"),
                target("7704099305192816999"),
            ],
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(
        out[0].entity.as_str(),
        format!("tiktok:@lea.soinsnaturels/{LEA_VIDEO}")
    );
    let obs = out[0].observation.as_ref().expect("the video's counts");
    let get = |name: &str| {
        obs.metrics
            .iter()
            .find(|(m, _)| m.as_str() == name)
            .map(|(_, v)| *v)
    };
    assert_eq!(get("plays"), Some(250_000.0));
    assert_eq!(get("likes"), Some(9_100.0));
    assert_eq!(get("comments"), Some(410.0));
    assert_eq!(get("shares"), Some(520.0));
    assert_eq!(get("saves"), Some(880.0));
    assert_eq!(
        get("followers"),
        Some(48_217.0),
        "the creator's, for the tier"
    );
    assert_eq!(
        out[1].failure.as_ref().map(|f| f.kind),
        Some(FailureKind::NotFound)
    );
    assert!(out[2].observation.is_none(), "{:?}", out[2]);
}

/// Serves both videos with counts that grow with the simulated day the test sets.
struct Month {
    day: Arc<AtomicU64>,
    video_requests: Arc<AtomicU64>,
}

/// Lea's plays on day `d` after publication: 20,000 a day for ten days, then 2,000 a day.
fn lea_plays(d: u64) -> u64 {
    if d <= 10 {
        20_000 * d
    } else {
        200_000 + 2_000 * (d - 10)
    }
}

impl Respond for Month {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let d = self.day.load(Ordering::SeqCst);
        let p = request.url.path();
        if p.contains("/video/") {
            self.video_requests.fetch_add(1, Ordering::SeqCst);
        }
        if p.ends_with(LEA_VIDEO) {
            let plays = lea_plays(d);
            // 4.85 % engagement: 1/25 likes, 1/500 comments, 1/400 shares, 1/250 saves.
            html(video_page(
                "lea.soinsnaturels",
                LEA_VIDEO,
                48_217,
                [plays, plays / 25, plays / 500, plays / 400, plays / 250],
            ))
        } else if p.ends_with(ATELIER_VIDEO) {
            let plays = 4_000 * d;
            html(video_page(
                "atelier.lavande",
                ATELIER_VIDEO,
                2_100_000,
                [plays, plays / 200, 0, 0, 0],
            ))
        } else if p == "/tag/baumekarite" {
            html(
                fixture("tag_universal.html")
                    .replace("\"title\":\"skincarenaturel\"", "\"title\":\"baumekarite\""),
            )
        } else {
            ResponseTemplate::new(404)
        }
    }
}

const WATCHLIST: &str = r#"
[[campaign]]
name = "Baume karité — novembre"
start = "2026-11-04"
end = "2026-11-30"
objective = "notoriety"
currency = "EUR"
budget = 1800.0
revenue = 2400.0
hashtags = ["baumekarite"]
videos = [
  { url = "https://www.tiktok.com/@lea.soinsnaturels/video/7704099305192816647", cost = 600.0 },
  "https://www.tiktok.com/@atelier.lavande/video/7704470390361292809",
]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_followed_for_a_month_gives_its_report_in_every_format() {
    let day = Arc::new(AtomicU64::new(0));
    let video_requests = Arc::new(AtomicU64::new(0));
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Month {
            day: day.clone(),
            video_requests: video_requests.clone(),
        })
        .mount(&server)
        .await;
    let setup = Setup::new(
        TestConfig::new()
            .tiktok(&server.uri())
            .set("digest", "language", &quoted("fr"))
            .watchlist(WATCHLIST),
    );
    // A collection an hour before each day's mark after publication.
    let collect_on = |d: u64| {
        day.store(d, Ordering::SeqCst);
        let at = PUBLISHED + d as i64 * 86_400 - 3600;
        let out = setup
            .cmd(&["collect"])
            .env("TRENDWATCH_SIMULATED_CLOCK", format!("{at},1"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "day {d}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for d in [1, 2, 3, 7, 14, 30] {
        collect_on(d);
    }
    // After the end, once a day: a second pass the same day leaves the videos alone.
    let before = video_requests.load(Ordering::SeqCst);
    let at = PUBLISHED + 30 * 86_400;
    let out = setup
        .cmd(&["collect"])
        .env("TRENDWATCH_SIMULATED_CLOCK", format!("{at},1"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(video_requests.load(Ordering::SeqCst), before);

    let name = "Baume karité — novembre";
    let report_at = "2026-12-04T00:00:00Z";
    let json: serde_json::Value =
        serde_json::from_str(&setup.ok(&["campaign", name, "--format", "json", "--at", report_at]))
            .unwrap();
    let (lea, atelier) = (lea_plays(30) as f64, 4_000.0 * 30.0);
    assert_eq!(json["campaign"], name);
    assert_eq!(json["objective"], "notoriety");
    assert_eq!(json["views"].as_f64(), Some(lea + atelier));
    assert_eq!(
        json["cpm"].as_f64(),
        Some(1800.0 / (lea + atelier) * 1000.0)
    );
    assert_eq!(json["roas"].as_f64(), Some(2400.0 / 1800.0));
    let v = &json["videos"][0];
    assert_eq!(
        v["entity"],
        format!("tiktok:@lea.soinsnaturels/{LEA_VIDEO}")
    );
    assert_eq!(v["tier"], "micro");
    assert_eq!(v["cost"].as_f64(), Some(600.0));
    assert_eq!(v["views"].as_f64(), Some(lea));
    let rate = v["engagement_rate"].as_f64().unwrap();
    assert!((rate - 0.0485).abs() < 1e-12, "{rate}");
    assert_eq!(v["views_24h"].as_f64(), Some(lea_plays(1) as f64));
    assert_eq!(v["views_7d"].as_f64(), Some(lea_plays(7) as f64));
    assert_eq!(v["views_30d"].as_f64(), Some(lea));
    assert_eq!(json["videos"][1]["cost"].as_f64(), Some(1200.0));
    assert_eq!(json["videos"][1]["tier"], "mega");
    assert_eq!(json["creators"][0]["creator"], "lea.soinsnaturels");
    assert_eq!(json["creators"][0]["verdict"], "renew");

    // What the report said on 10 November is what the store held then.
    let earlier: serde_json::Value = serde_json::from_str(&setup.ok(&[
        "campaign",
        name,
        "--format",
        "json",
        "--at",
        "2026-11-10T00:00:00Z",
    ]))
    .unwrap();
    assert_eq!(
        earlier["videos"][0]["views"].as_f64(),
        Some(lea_plays(3) as f64)
    );

    let text = setup.ok(&["campaign", name, "--at", report_at]);
    assert!(
        text.contains(
            "@lea.soinsnaturels: à reconduire : 4,9\u{a0}% d'engagement pour un micro-créateur"
        ),
        "{text}"
    );
    assert!(text.contains("objectif notoriété"), "{text}");
    let csv = setup.ok(&["campaign", "--format", "csv", "--at", report_at]);
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(
        csv.starts_with("campaign,entity,creator,tier,cost,views"),
        "{csv}"
    );

    let page = setup.ok(&["campaign", name, "--format", "html", "--at", report_at]);
    assert!(page.contains("data:image/png;base64,"));
    assert!(!page.contains("src=\"http"), "a self-contained page");
    let file = setup.path().join("report.html");
    std::fs::write(&file, &page).unwrap();
    if chromium_or_skip(
        "a_campaign_followed_for_a_month_gives_its_report_in_every_format (browser part)",
    ) {
        for width in [390, 1280] {
            let (seen, text_len) = layout_width(&file, width);
            assert!(
                seen <= width,
                "{width} px window: the page is {seen} px wide"
            );
            assert!(
                text_len > 400,
                "{width} px window: {text_len} characters shown"
            );
        }
    }

    // The digest tells the campaign while it runs and in the week after its end: the
    // objective's KPIs, the week's gain, the best creator.
    let digest = setup.ok(&["digest", "--at", "2026-11-18T08:00:00Z"]);
    let section = digest
        .split("== Campagnes ==")
        .nth(1)
        .unwrap_or_else(|| panic!("no campaign section:\n{digest}"));
    assert!(section.contains("* Baume karité — novembre"), "{section}");
    // Readings of day 14 (208,000 + 56,000 plays) against day 7 (140,000 + 28,000).
    assert!(
        section.contains("Objectif notoriété : vues 264\u{a0}k"),
        "{section}"
    );
    assert!(
        section.contains("En 7 jours : +96\u{a0}k vues"),
        "{section}"
    );
    assert!(
        section.contains("@lea.soinsnaturels — à reconduire"),
        "{section}"
    );
    let later = setup.ok(&["digest", "--at", "2026-12-10T08:00:00Z"]);
    assert!(!later.contains("== Campagnes =="), "{later}");

    // A name that is not a campaign says which ones there are.
    let out = setup.run(&["campaign", "Baume"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"Baume karité — novembre\""));
}

/// Lays `file` out in a frame `width` px wide in headless Chromium; returns how wide the
/// page got and how much text it shows.
fn layout_width(file: &std::path::Path, width: u32) -> (u32, usize) {
    let dir = file.parent().unwrap();
    let probe = dir.join(format!("probe-{width}.html"));
    std::fs::write(
        &probe,
        format!(
            r#"<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="{}" width="{width}" height="2400" style="border:0"></iframe>
<script>
document.getElementById('f').addEventListener('load', function () {{
  var w = this.contentWindow, d = w.document;
  document.body.setAttribute('data-probe', 'sw=' + d.documentElement.scrollWidth + ';text=' + d.body.innerText.length);
}});
</script></body></html>"#,
            file.file_name().unwrap().to_string_lossy()
        ),
    )
    .unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--allow-file-access-from-files",
            "--virtual-time-budget=3000",
            "--window-size=1400,2400",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("file://{}", probe.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let probe = dom
        .split("data-probe=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no layout from the browser: {dom}"));
    let field = |name: &str| -> usize {
        probe
            .split(';')
            .find_map(|kv| kv.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    (field("sw=") as u32, field("text="))
}
