//! `trendwatch collect` end to end: the real binary, a config in a temporary directory, TikTok
//! pages from a loopback server, the pass stored in the real store.

use crate::collect_support;

use std::process::Output;

use crate::common::{quoted, Setup, TestConfig};

use collect_support::guarded::GuardedTiktok;
use collect_support::{chromium_or_skip, html, json, tiktok};
use trendwatch::model::EntityId;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

/// A watched tag, a creator with videos and one that does not exist, served from `base`.
fn config(base: &str) -> TestConfig {
    TestConfig::new()
        .tiktok(base)
        .set("collect", "concurrency", "4")
        .set("collect", "timeout", &quoted("5s"))
        .set("collect", "retries", "1")
        .set("collect", "max_body", &quoted("8MiB"))
        .firefox()
        .set("digest", "language", &quoted("fr"))
        .watchlist(
            "[tiktok]\nhashtags = [\"skincarenaturel\"]\n\
             creators = [\"lea.soinsnaturels\", \"ghost\"]\n",
        )
}

async fn serve(server: &MockServer) {
    Mock::given(path("/@lea.soinsnaturels"))
        .respond_with(html(tiktok("profile_universal.html")))
        .mount(server)
        .await;
    Mock::given(path("/api/creator/item_list/"))
        .respond_with(json(tiktok("item_list.json")))
        .mount(server)
        .await;
    Mock::given(path("/@ghost"))
        .respond_with(html(tiktok("profile_not_found.html")))
        .mount(server)
        .await;
    Mock::given(path("/tag/skincarenaturel"))
        .respond_with(html(tiktok("tag_universal.html")))
        .mount(server)
        .await;
}

async fn run(setup: &Setup, args: &[&str]) -> Output {
    let mut all = vec!["collect"];
    all.extend_from_slice(args);
    setup.tokio_cmd(&all).output().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pass_is_stored_and_printed_even_with_failing_entities() {
    let server = MockServer::start().await;
    serve(&server).await;
    let setup = Setup::new(config(&server.uri()));
    let state = setup.state();

    let out = run(&setup, &[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |entity: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(entity))
            .unwrap_or_else(|| panic!("no line for {entity} in\n{stdout}"))
            .to_string()
    };
    let lea = line("tiktok:@lea.soinsnaturels");
    assert!(lea.contains(" ok "), "{lea}");
    assert!(lea.contains("followers 48,217 · 3 videos"), "{lea}");
    let tag = line("tiktok:#skincarenaturel");
    assert!(tag.contains("views 187,634,522"), "{tag}");
    assert!(line("tiktok:@ghost").contains("not_found"));
    // Not a terminal: progress as a plain line, without escape codes.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3/3 terminés, 1 en échec"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "{stderr}");

    let store = trendwatch::store::Store::open(&state).unwrap();
    let lea_id = EntityId::parse("tiktok:@lea.soinsnaturels").unwrap();
    let followers = store.series(&lea_id, "followers", 0, i64::MAX).unwrap();
    assert_eq!(followers.len(), 1);
    assert_eq!(followers[0].1, 48_217.0);
    let videos = store.videos_seen_since(0).unwrap();
    assert_eq!(videos.len(), 3);
    // A whole pass is recorded as the last collection: the daemon will not redo it at start.
    let last = store
        .meta_get(trendwatch::pipeline::LAST_COLLECT_AT)
        .unwrap();
    assert!(
        last.is_some(),
        "a manual pass must count as the last collection"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_collects_the_named_entity_and_refuses_unknown_ones() {
    let server = MockServer::start().await;
    serve(&server).await;
    let setup = Setup::new(config(&server.uri()));
    let state = setup.state();

    let out = run(&setup, &["--only", "tiktok:#SkinCareNaturel"]).await;
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("tiktok:#skincarenaturel"), "{stdout}");
    assert!(!stdout.contains("tiktok:@lea.soinsnaturels"), "{stdout}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // One entity is not a pass: the daemon still collects the others at its next start.
    {
        let store = trendwatch::store::Store::open(&state).unwrap();
        let last = store
            .meta_get(trendwatch::pipeline::LAST_COLLECT_AT)
            .unwrap();
        assert!(last.is_none());
    }

    let out = run(&setup, &["--only", "tiktok:#notwatched"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tiktok:#notwatched"));
    // Nothing was fetched for a refused command.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_that_cannot_be_opened_is_a_runtime_failure() {
    let server = MockServer::start().await;
    serve(&server).await;
    let setup = Setup::new(config(&server.uri()));
    // A file where the state directory should be.
    std::fs::write(setup.state(), b"not a directory").unwrap();
    let out = run(&setup, &[]).await;
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pass_where_every_entity_fails_exits_2_with_the_cause() {
    // Nothing listens on the discard port.
    let setup = Setup::new(config("http://127.0.0.1:9"));
    let state = setup.state();
    let out = run(&setup, &[]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("sources sont en échec (network :")
            && last.contains("rien de nouveau n'a été collecté"),
        "{stderr}"
    );
    // The failures themselves are stored: `status` and the digest's health section tell them.
    let store = trendwatch::store::Store::open(&state).unwrap();
    assert!(store
        .entities()
        .unwrap()
        .iter()
        .all(|e| e.last_failure.is_some()));
}

/// The acceptance case of the browser fetcher: a watchlist whose pages all come back as
/// empty shells over plain HTTP is collected whole with `browser = "fallback"`, `collect`
/// and `status` say the browser read them, and the next pass remembers that TikTok needs it.
#[tokio::test(flavor = "multi_thread")]
async fn fallback_collects_a_watchlist_of_shells_and_remembers_the_site_needs_the_browser() {
    if !chromium_or_skip(
        "fallback_collects_a_watchlist_of_shells_and_remembers_the_site_needs_the_browser",
    ) {
        return;
    }
    let sim = GuardedTiktok::start(
        &[
            ("skincarenaturel", 48_200_000),
            ("huilesessentielles", 9_310_000),
            ("bienetre", 5_000_000),
            ("routinevisage", 612_000),
        ],
        &[("lea.soinsnaturels", 18_400)],
    )
    .await;
    let setup = Setup::new(
        config(&sim.uri())
            .set("collect", "browser", &quoted("fallback"))
            .watchlist(
                "[tiktok]\nhashtags = [\"skincarenaturel\", \"huilesessentielles\", \"bienetre\", \
                 \"routinevisage\"]\ncreators = [\"lea.soinsnaturels\"]\n",
            ),
    );

    let out = run(&setup, &[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("5 éléments : 5 ok, 0 en échec, 5 lus dans le navigateur"),
        "{stdout}"
    );
    let tag = stdout
        .lines()
        .find(|l| l.starts_with("tiktok:#skincarenaturel"))
        .unwrap();
    assert!(
        tag.contains("views 48,200,000") && tag.contains(" browser "),
        "{tag}"
    );

    let status = setup
        .tokio_cmd(&["status", "--json"])
        .output()
        .await
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let via: Vec<&str> = report["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fetched_by"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(via, ["browser"; 5], "{report}");

    // The second pass goes straight to the browser: no plain request for a page.
    let before = sim.plain_page_requests().len();
    let out = run(&setup, &[]).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        sim.plain_page_requests().len(),
        before,
        "the second pass tried plain HTTP again"
    );
}
