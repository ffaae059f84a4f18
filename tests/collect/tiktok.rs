//! The TikTok source against a loopback server serving pages shaped like TikTok's: every
//! generation of profile page, tag pages with and without data, the embed fallback, the bot
//! wall (whose proof of work the server checks), the login wall and the status codes.

use crate::collect_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use collect_support::guarded::GuardedTiktok;
use collect_support::{chromium_or_skip, config, html, json, metric, tiktok};
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};
use tokio_util::sync::CancellationToken;
use trendwatch::collect::tiktok as parse;
use trendwatch::collect::{Collector, Target};
use trendwatch::config::{BrowserLaunch, BrowserMode, CollectConfig};
use trendwatch::model::{EntityOutcome, FailureKind, Fetcher};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const HANDLE: &str = "lea.soinsnaturels";
const TAG: &str = "skincarenaturel";
const SEC_UID: &str = "MS4wLjABAAAAq8TwLeaSoinsNaturelsInventedSecUidForTests_trendwatch0";

async fn collect(server: &MockServer, targets: &[Target]) -> Vec<EntityOutcome> {
    let collector = Collector::new(&config(&server.uri())).unwrap();
    collector.collect(targets, &CancellationToken::new()).await
}

async fn collect_creator(server: &MockServer) -> EntityOutcome {
    let mut out = collect(server, &[Target::TiktokCreator(HANDLE.into())]).await;
    assert_eq!(out.len(), 1);
    out.remove(0)
}

async fn serve_profile(server: &MockServer, page: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/@{HANDLE}")))
        .respond_with(html(tiktok(page)))
        .mount(server)
        .await;
}

async fn serve_item_list(server: &MockServer, expected_calls: u64) {
    Mock::given(method("GET"))
        .and(path("/api/creator/item_list/"))
        .and(query_param("secUid", SEC_UID))
        .and(query_param("aid", "1988"))
        .respond_with(json(tiktok("item_list.json")))
        .expect(expected_calls)
        .mount(server)
        .await;
}

fn failure_kind(o: &EntityOutcome) -> Option<FailureKind> {
    o.failure.as_ref().map(|f| f.kind)
}

#[tokio::test]
async fn current_profile_gives_exact_counts_and_recent_videos_from_item_list() {
    let server = MockServer::start().await;
    serve_profile(&server, "profile_universal.html").await;
    serve_item_list(&server, 1).await;
    let out = collect_creator(&server).await;
    assert_eq!(out.entity.as_str(), "tiktok:@lea.soinsnaturels");
    assert!(out.failure.is_none(), "{:?}", out.failure);
    // statsV2 (exact) wins over stats (rounded to 48200 / 1100000).
    assert_eq!(metric(&out, "followers"), Some(48_217.0));
    assert_eq!(metric(&out, "following"), Some(312.0));
    assert_eq!(metric(&out, "likes"), Some(1_093_544.0));
    assert_eq!(metric(&out, "videos"), Some(214.0));
    let videos = &out.observation.as_ref().unwrap().videos;
    assert_eq!(videos.len(), 3);
    let first = &videos[0];
    assert_eq!(first.plays, 184_203);
    assert_eq!(first.likes, 23_017);
    assert_eq!(first.comments, 412);
    assert_eq!(first.shares, 1_290);
    assert_eq!(first.saves, 3_316);
    assert_eq!(first.created_at, 1_763_800_000 - 5 * 3600);
    assert_eq!(first.author.as_deref(), Some(HANDLE));
    // challenges hold two of the tags, textExtra all three: the union, normalised.
    assert_eq!(first.hashtags, ["baumemaison", "skincarenaturel", "diy"]);
    assert_eq!(videos[1].hashtags, ["huilesessentielles", "bienêtre"]);
}

#[tokio::test]
async fn sigi_profile_reads_user_module_and_its_own_videos() {
    let server = MockServer::start().await;
    serve_profile(&server, "profile_sigi.html").await;
    // The page lists its videos itself: no item_list request.
    serve_item_list(&server, 0).await;
    let out = collect_creator(&server).await;
    assert!(out.failure.is_none(), "{:?}", out.failure);
    assert_eq!(metric(&out, "followers"), Some(48_217.0));
    assert_eq!(metric(&out, "likes"), Some(1_093_544.0));
    let videos = &out.observation.as_ref().unwrap().videos;
    let ids: Vec<&str> = videos.iter().map(|v| v.id.as_str()).collect();
    // In the order of ItemList["user-post"].list, not of ItemModule.
    assert_eq!(ids.len(), 2);
    assert!(videos[0].created_at > videos[1].created_at, "{ids:?}");
}

#[tokio::test]
async fn next_data_profile_reads_page_props() {
    let server = MockServer::start().await;
    serve_profile(&server, "profile_next.html").await;
    serve_item_list(&server, 1).await;
    let out = collect_creator(&server).await;
    assert!(out.failure.is_none(), "{:?}", out.failure);
    // Only rounded stats existed then.
    assert_eq!(metric(&out, "followers"), Some(48_200.0));
    assert_eq!(metric(&out, "videos"), Some(214.0));
    assert_eq!(out.observation.as_ref().unwrap().videos.len(), 3);
}

#[tokio::test]
async fn item_list_failure_keeps_the_counts() {
    let server = MockServer::start().await;
    serve_profile(&server, "profile_universal.html").await;
    Mock::given(path("/api/creator/item_list/"))
        .respond_with(ResponseTemplate::new(200).set_body_string(""))
        .mount(&server)
        .await;
    let out = collect_creator(&server).await;
    assert!(out.failure.is_none());
    assert_eq!(metric(&out, "followers"), Some(48_217.0));
    assert!(out.observation.unwrap().videos.is_empty());
}

#[tokio::test]
async fn overflowed_stats_are_ignored_for_exact_stats_v2() {
    let server = MockServer::start().await;
    serve_profile(&server, "profile_overflow.html").await;
    serve_item_list(&server, 1).await;
    let out = collect_creator(&server).await;
    assert_eq!(metric(&out, "likes"), Some(11_907_467_940.0));
    assert_eq!(metric(&out, "followers"), Some(2_147_483_649.0));
}

#[tokio::test]
async fn status_codes_decide_not_found_and_private() {
    let server = MockServer::start().await;
    serve_profile(&server, "profile_not_found.html").await;
    let out = collect_creator(&server).await;
    assert_eq!(failure_kind(&out), Some(FailureKind::NotFound));
    assert!(out.observation.is_none());

    let server = MockServer::start().await;
    serve_profile(&server, "profile_private.html").await;
    serve_item_list(&server, 1).await;
    let out = collect_creator(&server).await;
    // A private account still shows its counts: keep them, and say it is private.
    assert_eq!(failure_kind(&out), Some(FailureKind::Private));
    assert_eq!(metric(&out, "followers"), Some(48_217.0));
}

#[tokio::test]
async fn page_without_stats_is_unknown_shape_naming_the_path() {
    let server = MockServer::start().await;
    serve_profile(&server, "profile_no_stats.html").await;
    let out = collect_creator(&server).await;
    let failure = out.failure.unwrap();
    assert_eq!(failure.kind, FailureKind::UnknownShape);
    assert!(
        failure.detail.contains("webapp.user-detail/userInfo/stats"),
        "{}",
        failure.detail
    );
    assert!(out.observation.is_none());
}

#[tokio::test]
async fn tag_page_with_data_gives_views_and_no_zero_video_count() {
    let server = MockServer::start().await;
    Mock::given(path(format!("/tag/{TAG}")))
        .respond_with(html(tiktok("tag_universal.html")))
        .mount(&server)
        .await;
    Mock::given(path(format!("/embed/tag/{TAG}")))
        .respond_with(html(tiktok("embed_tag.html")))
        .expect(0)
        .mount(&server)
        .await;
    let out = collect(&server, &[Target::TiktokHashtag(TAG.into())]).await;
    assert_eq!(out[0].entity.as_str(), "tiktok:#skincarenaturel");
    assert_eq!(metric(&out[0], "views"), Some(187_634_522.0));
    // videoCount 0 means unknown: no `videos` sample.
    assert_eq!(metric(&out[0], "videos"), None);
}

/// `/tag/a` redirected on the same host to another tag's page: that tag's figure is never
/// stored as the one asked for.
#[tokio::test]
async fn a_redirect_to_another_tags_page_stores_nothing() {
    let server = MockServer::start().await;
    Mock::given(path("/tag/bienetrenaturel"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", format!("/tag/{TAG}")))
        .mount(&server)
        .await;
    Mock::given(path(format!("/tag/{TAG}")))
        .respond_with(html(tiktok("tag_universal.html")))
        .mount(&server)
        .await;
    let out = collect(&server, &[Target::TiktokHashtag("bienetrenaturel".into())]).await;
    assert_eq!(out[0].entity.as_str(), "tiktok:#bienetrenaturel");
    assert!(out[0].observation.is_none(), "{:?}", out[0]);
    let f = out[0].failure.as_ref().expect("a typed failure");
    assert_eq!(f.kind, FailureKind::UnknownShape);
    assert!(
        f.detail.contains("#skincarenaturel, not #bienetrenaturel"),
        "{}",
        f.detail
    );
}

#[tokio::test]
async fn empty_tag_shell_falls_back_to_the_embed_page() {
    let server = MockServer::start().await;
    Mock::given(path(format!("/tag/{TAG}")))
        .respond_with(html(tiktok("tag_empty_shell.html")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(format!("/embed/tag/{TAG}")))
        .respond_with(html(tiktok("embed_tag.html")))
        .expect(1)
        .mount(&server)
        .await;
    let out = collect(&server, &[Target::TiktokHashtag(TAG.into())]).await;
    assert!(out[0].failure.is_none(), "{:?}", out[0].failure);
    assert_eq!(metric(&out[0], "views"), Some(187_634_522.0));
    let videos = &out[0].observation.as_ref().unwrap().videos;
    assert_eq!(videos.len(), 2);
    assert!(videos[0].hashtags.contains(&"skincarenaturel".to_string()));
}

#[tokio::test]
async fn empty_tag_shell_without_embed_is_unknown_shape() {
    let server = MockServer::start().await;
    Mock::given(path(format!("/tag/{TAG}")))
        .respond_with(html(tiktok("tag_empty_shell.html")))
        .mount(&server)
        .await;
    let out = collect(&server, &[Target::TiktokHashtag(TAG.into())]).await;
    assert_eq!(failure_kind(&out[0]), Some(FailureKind::UnknownShape));
}

#[tokio::test]
async fn missing_tag_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(path("/tag/zzzz"))
        .respond_with(html(tiktok("tag_not_found.html")))
        .mount(&server)
        .await;
    let out = collect(&server, &[Target::TiktokHashtag("zzzz".into())]).await;
    assert_eq!(failure_kind(&out[0]), Some(FailureKind::NotFound));
}

#[tokio::test]
async fn login_redirect_is_blocked() {
    let server = MockServer::start().await;
    Mock::given(path(format!("/@{HANDLE}")))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("/login?redirect_url=%2F%40{HANDLE}")),
        )
        .mount(&server)
        .await;
    Mock::given(path("/login"))
        .respond_with(html("<html><body>Log in to TikTok</body></html>"))
        .expect(1)
        .mount(&server)
        .await;
    let out = collect_creator(&server).await;
    let failure = out.failure.unwrap();
    assert_eq!(failure.kind, FailureKind::Blocked);
    assert!(failure.detail.contains("login"), "{}", failure.detail);
}

/// Serves the bot wall until the request carries a cookie that solves the wall's proof of
/// work, then the profile page; counts the requests it saw.
struct WallResponder {
    prefix: Vec<u8>,
    target: Vec<u8>,
    wall: String,
    profile: Option<String>,
    hits: Arc<AtomicUsize>,
}

impl WallResponder {
    fn new(profile: Option<String>, hits: Arc<AtomicUsize>) -> Self {
        let wall = tiktok("bot_wall.html");
        let engine = base64::engine::general_purpose::STANDARD_NO_PAD;
        let cs_start = wall.find("id=\"cs\" class=\"").unwrap() + "id=\"cs\" class=\"".len();
        let cs = &wall[cs_start..cs_start + wall[cs_start..].find('"').unwrap()];
        let challenge: serde_json::Value =
            serde_json::from_slice(&engine.decode(cs.trim_end_matches('=')).unwrap()).unwrap();
        let std = base64::engine::general_purpose::STANDARD;
        Self {
            prefix: std.decode(challenge["v"]["a"].as_str().unwrap()).unwrap(),
            target: std.decode(challenge["v"]["c"].as_str().unwrap()).unwrap(),
            wall,
            profile,
            hits,
        }
    }

    fn solved(&self, req: &Request) -> bool {
        let std = base64::engine::general_purpose::STANDARD;
        let Some(cookies) = req.headers.get("cookie").and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some(answer) = cookies
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(name, _)| *name == "_wafchallengeid")
            .map(|(_, v)| v.to_string())
        else {
            return false;
        };
        let Ok(decoded) = std.decode(answer) else {
            return false;
        };
        let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&decoded) else {
            return false;
        };
        let Some(n) = payload["d"].as_str().and_then(|d| std.decode(d).ok()) else {
            return false;
        };
        let mut h = Sha256::new();
        h.update(&self.prefix);
        h.update(&n);
        h.finalize().as_slice() == self.target.as_slice()
    }
}

impl Respond for WallResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.hits.fetch_add(1, Ordering::SeqCst);
        match &self.profile {
            Some(page) if self.solved(req) => html(page.clone()),
            _ => html(self.wall.clone()),
        }
    }
}

#[tokio::test]
async fn bot_wall_is_solved_once_and_the_page_asked_again() {
    let server = MockServer::start().await;
    let hits = Arc::new(AtomicUsize::new(0));
    Mock::given(path(format!("/@{HANDLE}")))
        .respond_with(WallResponder::new(
            Some(tiktok("profile_universal.html")),
            Arc::clone(&hits),
        ))
        .mount(&server)
        .await;
    serve_item_list(&server, 1).await;
    let out = collect_creator(&server).await;
    assert!(out.failure.is_none(), "{:?}", out.failure);
    assert_eq!(metric(&out, "followers"), Some(48_217.0));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn bot_wall_that_stays_is_blocked_after_one_retry() {
    let server = MockServer::start().await;
    let hits = Arc::new(AtomicUsize::new(0));
    Mock::given(path(format!("/@{HANDLE}")))
        .respond_with(WallResponder::new(None, Arc::clone(&hits)))
        .mount(&server)
        .await;
    let out = collect_creator(&server).await;
    assert_eq!(failure_kind(&out), Some(FailureKind::Blocked));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn one_outcome_per_target_in_order_and_failures_stay_contained() {
    let server = MockServer::start().await;
    serve_profile(&server, "profile_universal.html").await;
    serve_item_list(&server, 1).await;
    Mock::given(path("/@ghost"))
        .respond_with(html(tiktok("profile_not_found.html")))
        .mount(&server)
        .await;
    Mock::given(path(format!("/tag/{TAG}")))
        .respond_with(html(tiktok("tag_universal.html")))
        .mount(&server)
        .await;
    Mock::given(path("/@garbage"))
        .respond_with(html(
            "\u{0}\u{1}<script id=\"__UNIVERSAL_DATA_FOR_REHYDRATION__\">{{{",
        ))
        .mount(&server)
        .await;
    let targets = [
        Target::TiktokCreator("ghost".into()),
        Target::TiktokHashtag(TAG.into()),
        Target::TiktokCreator("garbage".into()),
        Target::TiktokCreator(HANDLE.into()),
    ];
    let out = collect(&server, &targets).await;
    let ids: Vec<&str> = out.iter().map(|o| o.entity.as_str()).collect();
    assert_eq!(
        ids,
        [
            "tiktok:@ghost",
            "tiktok:#skincarenaturel",
            "tiktok:@garbage",
            "tiktok:@lea.soinsnaturels"
        ]
    );
    assert_eq!(failure_kind(&out[0]), Some(FailureKind::NotFound));
    assert!(out[1].failure.is_none());
    assert_eq!(failure_kind(&out[2]), Some(FailureKind::UnknownShape));
    assert_eq!(metric(&out[3], "followers"), Some(48_217.0));
}

#[tokio::test]
async fn cancelled_pass_starts_nothing_new_and_lets_in_flight_finish() {
    let server = MockServer::start().await;
    Mock::given(path(format!("/@{HANDLE}")))
        .respond_with(html(tiktok("profile_universal.html")).set_delay(Duration::from_millis(400)))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.concurrency = 1;
    let collector = Collector::new(&cfg).unwrap();
    let cancel = CancellationToken::new();
    let targets = vec![Target::TiktokCreator(HANDLE.into()); 3];
    let canceller = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            cancel.cancel();
        })
    };
    let out = collector.collect(&targets, &cancel).await;
    canceller.await.unwrap();
    // The request in flight finished and counts; nothing else was sent.
    assert_eq!(out.len(), 1);
    assert_eq!(metric(&out[0], "followers"), Some(48_217.0));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    let already = CancellationToken::new();
    already.cancel();
    assert!(collector.collect(&targets, &already).await.is_empty());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn browser_like_headers_are_sent() {
    let server = MockServer::start().await;
    Mock::given(path(format!("/@{HANDLE}")))
        .and(wiremock::matchers::header_regex(
            "user-agent",
            "^Mozilla/5.0 ",
        ))
        .and(wiremock::matchers::header_regex("accept", "^text/html,"))
        .and(wiremock::matchers::header_exists("accept-language"))
        .respond_with(html(tiktok("profile_universal.html")))
        .expect(1)
        .mount(&server)
        .await;
    serve_item_list(&server, 1).await;
    let out = collect_creator(&server).await;
    assert!(out.failure.is_none(), "{:?}", out.failure);
}

#[test]
fn the_large_profile_page_parses_without_a_dom() {
    let page = tiktok("profile_large.html");
    assert!(page.len() > 250_000);
    let creator = parse::parse_creator_page(&page, HANDLE).unwrap();
    assert_eq!(creator.followers, Some(48_217));
    assert_eq!(creator.sec_uid.as_deref(), Some(SEC_UID));
}

fn all_fixture_pages() -> Vec<String> {
    [
        "profile_universal.html",
        "profile_sigi.html",
        "profile_next.html",
        "tag_universal.html",
        "tag_empty_shell.html",
        "embed_tag.html",
        "bot_wall.html",
        "item_list.json",
    ]
    .iter()
    .map(|n| tiktok(n))
    .collect()
}

fn parse_everything(text: &str) {
    let _ = parse::parse_creator_page(text, HANDLE);
    let _ = parse::parse_tag_page(text);
    let _ = parse::parse_embed_tag_page(text, TAG);
    let _ = parse::parse_item_list(text);
    let _ = parse::parse_challenge_detail(text);
    let _ = parse::parse_user_detail(text, HANDLE);
    if let Some(wall) = parse::WafChallenge::find(text) {
        let _ = wall.challenge.len();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_the_page_parsers(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        parse_everything(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn damaged_real_pages_never_panic(
        which in 0usize..8,
        cut in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        junk in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let pages = all_fixture_pages();
        let page = pages[which].as_bytes();
        let mut damaged = page[..cut.index(page.len() + 1)].to_vec();
        let at = at.index(damaged.len() + 1);
        damaged.splice(at..at, junk);
        parse_everything(&String::from_utf8_lossy(&damaged));
    }
}

// ---------------------------------------------------------------------------------------------
// The browser fetcher against a TikTok that gives plain HTTP only shells

const GUARDED_TAGS: &[(&str, u64)] = &[
    ("skincarenaturel", 48_200_000),
    ("huilesessentielles", 9_310_000),
    ("cosmetiquemaison", 1_270_000),
    ("routinevisage", 612_000),
];
const GUARDED_CREATORS: &[(&str, u64)] = &[("lea.soinsnaturels", 18_400), ("atelier.savon", 2_310)];

fn guarded_targets() -> Vec<Target> {
    GUARDED_TAGS
        .iter()
        .map(|(t, _)| Target::TiktokHashtag((*t).into()))
        .chain(
            GUARDED_CREATORS
                .iter()
                .map(|(h, _)| Target::TiktokCreator((*h).into())),
        )
        .collect()
}

fn browser_config(base: &str, mode: BrowserMode, interval: Duration) -> CollectConfig {
    let mut cfg = config(base);
    cfg.browser.mode = mode;
    cfg.per_host_interval = interval;
    cfg.timeout = Duration::from_secs(15);
    cfg
}

fn expected_value(o: &EntityOutcome) -> f64 {
    let name = o.entity.as_str();
    GUARDED_TAGS
        .iter()
        .chain(GUARDED_CREATORS)
        .find(|(n, _)| name.ends_with(&format!("#{n}")) || name.ends_with(&format!("@{n}")))
        .map(|(_, v)| *v as f64)
        .unwrap_or_else(|| panic!("unexpected entity {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_gets_only_shells_from_the_guarded_simulator() {
    let sim = GuardedTiktok::start(GUARDED_TAGS, GUARDED_CREATORS).await;
    let cfg = browser_config(&sim.uri(), BrowserMode::Off, Duration::ZERO);
    let out = Collector::new(&cfg)
        .unwrap()
        .collect(&guarded_targets(), &CancellationToken::new())
        .await;
    assert_eq!(out.len(), 6);
    for o in &out {
        assert!(o.observation.is_none(), "{o:?}");
        assert_eq!(failure_kind(o), Some(FailureKind::UnknownShape), "{o:?}");
        assert_eq!(o.fetched_by, Fetcher::Http);
    }
    assert!(sim.seen().iter().all(|s| !s.from_browser));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_reads_in_a_real_browser_every_entity_plain_http_could_not() {
    if !chromium_or_skip("fallback_reads_in_a_real_browser_every_entity_plain_http_could_not") {
        return;
    }
    let sim = GuardedTiktok::start(GUARDED_TAGS, GUARDED_CREATORS).await;
    let interval = Duration::from_millis(400);
    let cfg = browser_config(&sim.uri(), BrowserMode::Fallback, interval);
    let collector = Collector::new(&cfg).unwrap();
    let out = collector
        .collect(&guarded_targets(), &CancellationToken::new())
        .await;
    assert_eq!(out.len(), 6);
    for o in &out {
        assert_eq!(o.failure, None, "{o:?}");
        assert_eq!(o.fetched_by, Fetcher::Browser, "{}", o.entity);
        let metric_name = if o.entity.as_str().contains('#') {
            "views"
        } else {
            "followers"
        };
        assert_eq!(
            metric(o, metric_name),
            Some(expected_value(o)),
            "{}",
            o.entity
        );
    }
    assert!(collector.browser_pages() >= 6);
    // The browser is stopped with the pass.
    assert_eq!(collector.browser_pid().await, None);

    let seen = sim.seen();
    // The tag data came from the page's own signed API call, made inside the browser.
    let api_calls: Vec<_> = seen
        .iter()
        .filter(|s| s.path == "/api/challenge/detail/")
        .collect();
    assert!(api_calls.len() >= GUARDED_TAGS.len(), "{api_calls:?}");
    assert!(api_calls.iter().all(|s| s.from_browser && s.with_cookie));
    // The browser introduces itself as the Chrome it is, not as a headless one.
    for s in seen.iter().filter(|s| s.from_browser) {
        assert!(
            s.user_agent.contains(" Chrome/") && !s.user_agent.contains("Headless"),
            "{}",
            s.user_agent
        );
    }
    // Politeness: every request trendwatch itself started (plain requests, and each tab's
    // first navigation; not the challenge's reload nor the page's own fetches) waited for
    // the host's interval.
    // A tab's first navigation is one the browser was told to make; the challenge's reload
    // is the page's own.
    let mut starts: Vec<_> = seen
        .iter()
        .filter(|s| !s.from_browser || s.typed)
        .map(|s| s.at)
        .collect();
    assert!(
        starts.len() >= 6,
        "every entity was navigated to: {}",
        starts.len()
    );
    starts.sort();
    // Times are when the server got each request: a loaded machine may hand one over late
    // and the next on time, so two may look close; the pace over the pass may not, and no
    // three ever share one interval.
    let span = starts[starts.len() - 1].duration_since(starts[0]);
    let least = interval * (starts.len() as u32 - 1);
    assert!(
        span + Duration::from_millis(100) >= least,
        "{} requests within {span:?}, against a {interval:?} interval",
        starts.len()
    );
    for three in starts.windows(3) {
        let gap = three[2].duration_since(three[0]);
        assert!(
            gap >= interval,
            "three requests {gap:?} apart against a {interval:?} interval"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_keeps_needing_the_browser_goes_straight_to_it() {
    if !chromium_or_skip("a_host_that_keeps_needing_the_browser_goes_straight_to_it") {
        return;
    }
    let sim = GuardedTiktok::start(GUARDED_TAGS, GUARDED_CREATORS).await;
    let mut cfg = browser_config(&sim.uri(), BrowserMode::Fallback, Duration::ZERO);
    cfg.concurrency = 1;
    let out = Collector::new(&cfg)
        .unwrap()
        .collect(&guarded_targets(), &CancellationToken::new())
        .await;
    assert!(out
        .iter()
        .all(|o| o.failure.is_none() && o.fetched_by == Fetcher::Browser));
    let plain_pages = sim.plain_page_requests();
    // The first three entities cost a plain request each; the other three went to the browser.
    assert_eq!(
        plain_pages,
        [
            "/tag/skincarenaturel",
            "/tag/huilesessentielles",
            "/tag/cosmetiquemaison"
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_crashes_mid_pass_fails_the_rest_as_unavailable() {
    if !chromium_or_skip("a_browser_that_crashes_mid_pass_fails_the_rest_as_unavailable") {
        return;
    }
    let sim = GuardedTiktok::start(GUARDED_TAGS, GUARDED_CREATORS).await;
    for (tag, _) in GUARDED_TAGS {
        sim.slow(&format!("/tag/{tag}"), Duration::from_secs(3));
    }
    let mut cfg = browser_config(&sim.uri(), BrowserMode::Always, Duration::ZERO);
    cfg.concurrency = 1;
    let collector = Collector::new(&cfg).unwrap();
    let killer = {
        let collector = collector.clone();
        tokio::spawn(async move {
            loop {
                let loading = collector.browser_pages() > 0;
                if let Some(pid) = collector.browser_pid().await.filter(|_| loading) {
                    // Mid-page (tag pages take 3 s here), as the kernel's OOM killer would:
                    // the whole browser at once.
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    std::process::Command::new("kill")
                        .args(["-KILL", "--", &format!("-{pid}")])
                        .status()
                        .unwrap();
                    return pid;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let out = collector
        .collect(&guarded_targets(), &CancellationToken::new())
        .await;
    let browser = killer.await.unwrap();
    assert_eq!(out.len(), 6, "every entity still has an outcome");
    let left = collect_support::left_after(browser, Duration::from_secs(5));
    assert!(left.is_empty(), "browser processes {left:?} still running");
    // The page being loaded when the browser died, and every one after it, say so.
    for o in &out {
        assert_eq!(
            failure_kind(o),
            Some(FailureKind::BrowserUnavailable),
            "{o:?}"
        );
        assert_eq!(o.fetched_by, Fetcher::Browser);
    }
    assert!(
        out.iter().any(|o| o
            .failure
            .as_ref()
            .unwrap()
            .detail
            .contains("crashed or killed")),
        "{out:#?}"
    );
    // No new browser was started for the pages after the crash.
    assert_eq!(collector.browser_pages(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_whose_scripts_never_finish_loading_is_read_once_its_data_is_there() {
    if !chromium_or_skip("a_page_whose_scripts_never_finish_loading_is_read_once_its_data_is_there")
    {
        return;
    }
    let sim = GuardedTiktok::start(GUARDED_TAGS, GUARDED_CREATORS).await;
    // The page's own bundle takes longer than the page's whole deadline.
    sim.slow("/static/app.js", Duration::from_secs(60));
    let mut cfg = browser_config(&sim.uri(), BrowserMode::Always, Duration::ZERO);
    cfg.timeout = Duration::from_secs(5);
    let targets: Vec<Target> = GUARDED_CREATORS
        .iter()
        .map(|(h, _)| Target::TiktokCreator((*h).into()))
        .collect();
    let out = Collector::new(&cfg)
        .unwrap()
        .collect(&targets, &CancellationToken::new())
        .await;
    for o in &out {
        assert_eq!(o.failure, None, "{o:?}");
        assert_eq!(metric(o, "followers"), Some(expected_value(o)));
    }
}

/// Pages that attack the browser: a script that never ends, one that allocates without end,
/// one that sends the tab to another site. Each fails its own entity, typed, within about
/// the page deadline; the ordinary tags of the same pass are read with their own figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_pages_in_the_browser_fail_alone_and_in_time() {
    if !chromium_or_skip("hostile_pages_in_the_browser_fail_alone_and_in_time") {
        return;
    }
    let sim = GuardedTiktok::start_open(GUARDED_TAGS, GUARDED_CREATORS).await;
    sim.serve_raw(
        "/tag/boucleinfinie",
        "<html><body><p>chargement</p><script>while (true) {}</script></body></html>",
    );
    sim.serve_raw(
        "/tag/memoiresansfin",
        "<html><body><script>const keep = []; \
         for (;;) { keep.push(new Array(1e6).fill(Math.random())); }</script></body></html>",
    );
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_string("4233130788 vues"))
        .mount(&elsewhere)
        .await;
    sim.serve_raw(
        "/tag/ailleurs",
        &format!(
            "<html><body><script>location.href = '{}/tag/x';</script></body></html>",
            elsewhere.uri().replace("127.0.0.1", "localhost")
        ),
    );
    let mut cfg = browser_config(&sim.uri(), BrowserMode::Always, Duration::ZERO);
    // Room for the ordinary pages on a loaded 2-core machine, whose renderer a hostile page
    // of the same site may share until its script is stopped.
    cfg.timeout = Duration::from_secs(15);
    let hostile = ["boucleinfinie", "memoiresansfin", "ailleurs"];
    let targets: Vec<Target> = hostile
        .iter()
        .map(|t| Target::TiktokHashtag((*t).into()))
        .chain(
            GUARDED_TAGS
                .iter()
                .take(2)
                .map(|(t, _)| Target::TiktokHashtag((*t).into())),
        )
        .collect();
    let started = std::time::Instant::now();
    let out = Collector::new(&cfg)
        .unwrap()
        .collect(&targets, &CancellationToken::new())
        .await;
    let took = started.elapsed();
    for o in &out {
        let name = o.entity.name();
        if hostile.contains(&name) {
            assert!(o.observation.is_none(), "{name}: {o:?}");
            assert!(o.failure.is_some(), "{name}: {o:?}");
        } else {
            assert_eq!(o.failure, None, "{o:?}");
            assert_eq!(metric(o, "views"), Some(expected_value(o)));
        }
    }
    let went = out.iter().find(|o| o.entity.name() == "ailleurs").unwrap();
    let why = &went.failure.as_ref().unwrap().detail;
    assert!(why.contains("another site") || why.contains("not"), "{why}");
    // Five pages over at most two tabs, each bounded by its 15 s deadline and a grace.
    assert!(took < Duration::from_secs(120), "the pass took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_browser_at_browser_url_is_used_and_left_running() {
    if !chromium_or_skip("a_running_browser_at_browser_url_is_used_and_left_running") {
        return;
    }
    // A Chromium someone else runs (a browserless container, another machine).
    let profile = tempfile::tempdir().unwrap();
    let mut chromium = std::process::Command::new("chromium")
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = chromium.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(ws) = line.split("DevTools listening on ").nth(1) {
                let _ = tx.send(ws.trim().to_owned());
            }
        }
    });
    let ws = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("no DevTools address");

    let sim = GuardedTiktok::start(GUARDED_TAGS, GUARDED_CREATORS).await;
    let mut cfg = browser_config(&sim.uri(), BrowserMode::Always, Duration::ZERO);
    cfg.browser.launch = BrowserLaunch::Connect(url::Url::parse(&ws).unwrap());
    let collector = Collector::new(&cfg).unwrap();
    let out = collector
        .collect(&guarded_targets(), &CancellationToken::new())
        .await;
    for o in &out {
        assert_eq!(o.failure, None, "{o:?}");
        assert_eq!(o.fetched_by, Fetcher::Browser);
    }
    // Not ours to stop: it still runs after the pass.
    assert!(
        matches!(chromium.try_wait(), Ok(None)),
        "the running browser was stopped"
    );
    let _ = chromium.kill();
    let _ = chromium.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_browser_is_a_typed_failure_that_says_what_to_install() {
    let sim = GuardedTiktok::start(GUARDED_TAGS, GUARDED_CREATORS).await;
    let mut cfg = browser_config(&sim.uri(), BrowserMode::Fallback, Duration::ZERO);
    cfg.browser.launch = BrowserLaunch::Command {
        program: "/nonexistent/chromium".into(),
        args: Vec::new(),
    };
    let out = Collector::new(&cfg)
        .unwrap()
        .collect(&guarded_targets(), &CancellationToken::new())
        .await;
    assert_eq!(out.len(), 6);
    for o in &out {
        assert_eq!(
            failure_kind(o),
            Some(FailureKind::BrowserUnavailable),
            "{o:?}"
        );
        let detail = &o.failure.as_ref().unwrap().detail;
        assert!(detail.contains("apt install chromium"), "{detail}");
        assert!(detail.contains("plain HTTP: unknown_shape"), "{detail}");
    }
}

/// Figures for BENCHMARKS.md ("Browser fetcher"): 100 creators and 20 hashtags through plain
/// HTTP and through the browser on the same simulated pages, then `fallback` on pages that
/// give plain HTTP only shells. Run with
/// `cargo test --release --test collect -- --ignored --nocapture browser_pass_figures`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints figures, run on demand"]
async fn browser_pass_figures() {
    if !chromium_or_skip("browser_pass_figures") {
        return;
    }
    let tags: Vec<(String, u64)> = (0..20)
        .map(|i| (format!("tag{i:02}"), 1_000_000 + i))
        .collect();
    let creators: Vec<(String, u64)> = (0..100)
        .map(|i| (format!("creator{i:03}"), 10_000 + i))
        .collect();
    let tag_refs: Vec<(&str, u64)> = tags.iter().map(|(t, v)| (t.as_str(), *v)).collect();
    let creator_refs: Vec<(&str, u64)> = creators.iter().map(|(c, v)| (c.as_str(), *v)).collect();
    let targets: Vec<Target> = tags
        .iter()
        .map(|(t, _)| Target::TiktokHashtag(t.clone()))
        .chain(
            creators
                .iter()
                .map(|(c, _)| Target::TiktokCreator(c.clone())),
        )
        .collect();
    let me = std::process::id();
    for (label, open, mode) in [
        ("plain HTTP, pages with data", true, BrowserMode::Off),
        (
            "browser = always, pages with data",
            true,
            BrowserMode::Always,
        ),
        (
            "browser = fallback, shells for plain HTTP",
            false,
            BrowserMode::Fallback,
        ),
    ] {
        let sim = if open {
            GuardedTiktok::start_open(&tag_refs, &creator_refs).await
        } else {
            GuardedTiktok::start(&tag_refs, &creator_refs).await
        };
        let cfg = browser_config(&sim.uri(), mode, Duration::ZERO);
        let collector = Collector::new(&cfg).unwrap();
        let sampler = {
            let collector = collector.clone();
            tokio::spawn(async move {
                let (mut peak_kib, mut pid_seen, mut processes) = (0u64, None, 0usize);
                loop {
                    if let Some(pid) = collector.browser_pid().await {
                        pid_seen = Some(pid);
                        let members = collect_support::group_members(pid);
                        processes = processes.max(members.len());
                        let rss: u64 = members.iter().map(|p| collect_support::pss_kib(*p)).sum();
                        peak_kib = peak_kib.max(rss);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if pid_seen.is_some() && collector.browser_pid().await.is_none() {
                        return (peak_kib, pid_seen, processes);
                    }
                }
            })
        };
        let started = std::time::Instant::now();
        let out = collector.collect(&targets, &CancellationToken::new()).await;
        let took = started.elapsed();
        let ok = out.iter().filter(|o| o.failure.is_none()).count();
        let (browser_kib, browser_pid, processes) = if mode == BrowserMode::Off {
            sampler.abort();
            (0, None, 0)
        } else {
            sampler.await.unwrap()
        };
        let left = browser_pid.map_or(0, |p| {
            collect_support::left_after(p, Duration::from_secs(5)).len()
        });
        println!(
            "{label}: {ok}/{} ok in {:.1} s; trendwatch peak RSS so far {:.1} MiB; browser peak {:.1} MiB (PSS) over {processes} processes, {left} left after the pass; {} pages in the browser",
            out.len(),
            took.as_secs_f64(),
            collect_support::status_kib(me, "VmHWM") as f64 / 1024.0,
            browser_kib as f64 / 1024.0,
            collector.browser_pages(),
        );
        assert_eq!(ok, targets.len(), "{label}");
        assert_eq!(left, 0, "{label}");
    }
}
