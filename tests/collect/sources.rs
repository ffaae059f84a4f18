//! Custom `[[source]]`s against a loopback server: a JSON API and a shop page whose counts are
//! written the French way, URL placeholders, and failures that stay on their entity.

use crate::collect_support;

use collect_support::{config, html, json, metric, source};
use regex::Regex;
use tokio_util::sync::CancellationToken;
use trendwatch::collect::{targets, Collector, Target};
use trendwatch::config::{HtmlMetric, Source, SourceKind, UrlTemplate, Watchlist};
use trendwatch::model::{FailureKind, Metric};
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn json_source(server: &MockServer, url_tail: &str, metrics: &[(&str, &str)]) -> Source {
    Source {
        name: "chaine".into(),
        url: UrlTemplate::parse(&format!("{}{url_tail}", server.uri())).unwrap(),
        ids: vec!["UCtrendwatchFixture01".into()],
        kind: SourceKind::Json {
            metrics: metrics
                .iter()
                .map(|(m, p)| (Metric::new(m).unwrap(), p.to_string()))
                .collect(),
        },
    }
}

fn html_metric(selector: &str, regex: Option<&str>) -> HtmlMetric {
    HtmlMetric {
        selector: scraper::Selector::parse(selector).unwrap(),
        selector_text: selector.to_string(),
        regex: regex.map(|r| Regex::new(r).unwrap()),
    }
}

async fn collect_all(
    server: &MockServer,
    targets: &[Target],
) -> Vec<trendwatch::model::EntityOutcome> {
    Collector::new(&config(&server.uri()))
        .unwrap()
        .collect(targets, &CancellationToken::new())
        .await
}

#[tokio::test]
async fn json_source_reads_french_counts_by_pointer() {
    let server = MockServer::start().await;
    Mock::given(path("/v3/channels"))
        .and(query_param("id", "UCtrendwatchFixture01"))
        .respond_with(json(source("channel_fr.json")))
        .expect(1)
        .mount(&server)
        .await;
    let src = json_source(
        &server,
        "/v3/channels?part=statistics&id={id}",
        &[
            ("followers", "/items/0/statistics/subscriberCount"),
            ("views", "/items/0/statistics/viewCount"),
            ("videos", "/items/0/statistics/videoCount"),
            ("likes", "/items/0/statistics/likes"),
        ],
    );
    let out = collect_all(
        &server,
        &[Target::Custom(src, "UCtrendwatchFixture01".into())],
    )
    .await;
    let o = &out[0];
    assert_eq!(o.entity.as_str(), "chaine:UCtrendwatchFixture01");
    assert!(o.failure.is_none(), "{:?}", o.failure);
    assert_eq!(metric(o, "followers"), Some(116_900.0)); // "116,9 k"
    assert_eq!(metric(o, "views"), Some(1_234_567.0)); // narrow no-break spaces
    assert_eq!(metric(o, "videos"), Some(214.0)); // a JSON number
    assert_eq!(metric(o, "likes"), Some(3_400_000.0)); // "3,4 M"
}

#[tokio::test]
async fn html_source_reads_french_counts_by_selector_and_regex() {
    let server = MockServer::start().await;
    Mock::given(path("/produits/baume-karite"))
        .respond_with(html(source("shop_fr.html")))
        .mount(&server)
        .await;
    let src = Source {
        name: "boutique".into(),
        url: UrlTemplate::parse(&format!("{}/produits/{{id}}", server.uri())).unwrap(),
        ids: vec!["baume-karite".into()],
        kind: SourceKind::Html {
            metrics: vec![
                (
                    Metric::new("reviews").unwrap(),
                    html_metric(".reviews-count", Some(r"([\d\s]+\d)")),
                ),
                (
                    Metric::new("sold").unwrap(),
                    html_metric("p.sold", Some(r"([\d\s]+\d)")),
                ),
                (
                    Metric::new("fans").unwrap(),
                    html_metric(".fans", Some(r"[\d,.]+\s?k")),
                ),
                (
                    Metric::new("rating").unwrap(),
                    html_metric(".stars", Some(r"^([\d,]+)/")),
                ),
            ],
        },
    };
    let out = collect_all(&server, &[Target::Custom(src, "baume-karite".into())]).await;
    let o = &out[0];
    assert!(o.failure.is_none(), "{:?}", o.failure);
    assert_eq!(o.entity.as_str(), "boutique:baume-karite");
    assert_eq!(metric(o, "reviews"), Some(1234.0)); // "1 234" (no-break space)
    assert_eq!(metric(o, "sold"), Some(80_000.0)); // "80 000" (narrow no-break space)
    assert_eq!(metric(o, "fans"), Some(116_900.0)); // "116,9 k"
    assert_eq!(metric(o, "rating"), Some(4.8)); // "4,8"
}

/// A page of 300,000 unclosed elements (1.5 MB, under `max_body`) took the HTML parser more
/// than five minutes: it is refused unparsed as `unknown_shape`, and the ordinary page
/// beside it in the same pass is read.
#[tokio::test]
async fn a_page_built_to_stall_the_parser_fails_alone_and_fast() {
    let server = MockServer::start().await;
    Mock::given(path("/produits/piege"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html; charset=utf-8")
                .set_body_string("<div>".repeat(300_000)),
        )
        .mount(&server)
        .await;
    Mock::given(path("/produits/baume-karite"))
        .respond_with(html(source("shop_fr.html")))
        .mount(&server)
        .await;
    let src = Source {
        name: "boutique".into(),
        url: UrlTemplate::parse(&format!("{}/produits/{{id}}", server.uri())).unwrap(),
        ids: vec!["piege".into(), "baume-karite".into()],
        kind: SourceKind::Html {
            metrics: vec![(
                Metric::new("reviews").unwrap(),
                html_metric(".reviews-count", Some(r"([\d\s]+\d)")),
            )],
        },
    };
    let out = collect_all(
        &server,
        &[
            Target::Custom(src.clone(), "piege".into()),
            Target::Custom(src, "baume-karite".into()),
        ],
    )
    .await;
    let trap = out
        .iter()
        .find(|o| o.entity.as_str() == "boutique:piege")
        .unwrap();
    let f = trap.failure.as_ref().expect("the trap page fails");
    assert_eq!(f.kind, FailureKind::UnknownShape);
    assert!(f.detail.contains("refused unparsed"), "{}", f.detail);
    let shop = out
        .iter()
        .find(|o| o.entity.as_str() == "boutique:baume-karite")
        .unwrap();
    assert_eq!(metric(shop, "reviews"), Some(1234.0));
}

#[tokio::test]
async fn missing_pieces_are_unknown_shape_naming_them_and_found_ones_kept() {
    let server = MockServer::start().await;
    Mock::given(path("/v3/channels"))
        .respond_with(json(source("channel_fr.json")))
        .mount(&server)
        .await;
    Mock::given(path("/not-json"))
        .respond_with(html("<html>maintenance</html>"))
        .mount(&server)
        .await;
    let partial = json_source(
        &server,
        "/v3/channels?id={id}",
        &[
            ("followers", "/items/0/statistics/subscriberCount"),
            ("comments", "/items/0/statistics/commentCount"),
        ],
    );
    let not_json = json_source(&server, "/not-json", &[("followers", "/a")]);
    let out = collect_all(
        &server,
        &[
            Target::Custom(partial, "a".into()),
            Target::Custom(not_json, "b".into()),
        ],
    )
    .await;
    assert_eq!(metric(&out[0], "followers"), Some(116_900.0));
    let f = out[0].failure.as_ref().unwrap();
    assert_eq!(f.kind, FailureKind::UnknownShape);
    assert!(
        f.detail.contains("/items/0/statistics/commentCount"),
        "{}",
        f.detail
    );
    let f = out[1].failure.as_ref().unwrap();
    assert_eq!(f.kind, FailureKind::UnknownShape);
    assert!(out[1].observation.is_none());
}

#[tokio::test]
async fn env_placeholders_fill_keys_and_a_missing_one_fails_only_its_entity() {
    let server = MockServer::start().await;
    std::env::set_var("TRENDWATCH_TEST_SOURCE_KEY", "k3y-s3cret");
    Mock::given(path("/v3/channels"))
        .and(query_param("key", "k3y-s3cret"))
        .respond_with(json(source("channel_fr.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v3/broken"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let with_key = json_source(
        &server,
        "/v3/channels?id={id}&key={env:TRENDWATCH_TEST_SOURCE_KEY}",
        &[("followers", "/items/0/statistics/subscriberCount")],
    );
    let missing = json_source(
        &server,
        "/v3/channels?id={id}&key={env:TRENDWATCH_TEST_UNSET_VARIABLE}",
        &[("followers", "/items/0/statistics/subscriberCount")],
    );
    let broken = json_source(
        &server,
        "/v3/broken?key={env:TRENDWATCH_TEST_SOURCE_KEY}",
        &[("followers", "/x")],
    );
    let mut cfg = config(&server.uri());
    cfg.retries = 0;
    let out = Collector::new(&cfg)
        .unwrap()
        .collect(
            &[
                Target::Custom(missing, "a".into()),
                Target::Custom(with_key, "b".into()),
                Target::Custom(broken, "c".into()),
            ],
            &CancellationToken::new(),
        )
        .await;
    let f = out[0].failure.as_ref().unwrap();
    assert!(
        f.detail.contains("TRENDWATCH_TEST_UNSET_VARIABLE"),
        "{}",
        f.detail
    );
    assert_eq!(metric(&out[1], "followers"), Some(116_900.0));
    let f = out[2].failure.as_ref().unwrap();
    assert_eq!(f.kind, FailureKind::HttpStatus);
    // The expanded URL (with its key) never reaches a message.
    for o in &out {
        if let Some(f) = &o.failure {
            assert!(!f.detail.contains("k3y-s3cret"), "{}", f.detail);
        }
    }
}

#[test]
fn targets_list_every_source_id() {
    let src = Source {
        name: "boutique".into(),
        url: UrlTemplate::parse("https://example.org/{id}").unwrap(),
        ids: vec!["baume-karite".into(), "savon-lavande".into()],
        kind: SourceKind::Html { metrics: vec![] },
    };
    let watchlist = Watchlist {
        sources: vec![src],
        ..Watchlist::default()
    };
    let got: Vec<String> = targets(&watchlist, &[])
        .iter()
        .map(|t| t.entity().to_string())
        .collect();
    assert_eq!(got, ["boutique:baume-karite", "boutique:savon-lavande"]);
}
