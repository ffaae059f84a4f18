//! The polite client against loopback servers that misbehave: rate limits, server errors,
//! slow answers, huge and endless bodies, invalid UTF-8, cookies.

use crate::collect_support;

use std::time::Duration;

use collect_support::{config, html, metric, tiktok};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use trendwatch::collect::http::{Accept, FetchError, Http};
use trendwatch::collect::{Collector, Target};
use trendwatch::model::FailureKind;
use wiremock::matchers::{header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HANDLE: &str = "lea.soinsnaturels";

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

fn url(server: &MockServer, p: &str) -> url::Url {
    url::Url::parse(&format!("{}{p}", server.uri())).unwrap()
}

/// GET an HTML page of `server` with a pass that is never cancelled.
async fn get_html(
    http: &Http,
    server: &MockServer,
    p: &str,
) -> Result<trendwatch::collect::http::Page, FetchError> {
    http.get(&url(server, p), Accept::Html, &CancellationToken::new())
        .await
}

#[tokio::test]
async fn rate_limit_with_retry_after_then_success() {
    let server = MockServer::start().await;
    Mock::given(path("/p"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/p"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .with_priority(2)
        .mount(&server)
        .await;
    let http = Http::new(&config(&server.uri())).unwrap();
    let page = get_html(&http, &server, "/p").await.unwrap();
    assert_eq!(page.body, b"ok");
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_not_waited_for() {
    let server = MockServer::start().await;
    Mock::given(path("/p"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "86400"))
        .mount(&server)
        .await;
    let http = Http::new(&config(&server.uri())).unwrap();
    let err = get_html(&http, &server, "/p").await.unwrap_err();
    assert!(
        matches!(err, FetchError::Status { status: 429, .. }),
        "{err:?}"
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn server_errors_twice_then_success() {
    let server = MockServer::start().await;
    Mock::given(path("/p"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/p"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .with_priority(2)
        .mount(&server)
        .await;
    let http = Http::new(&config(&server.uri())).unwrap();
    let page = get_html(&http, &server, "/p").await.unwrap();
    assert_eq!(page.body, b"ok");
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn retries_are_bounded_and_permanent_errors_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/down"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.retries = 2;
    let http = Http::new(&cfg).unwrap();
    let cancel = CancellationToken::new();
    let err = http
        .get(&url(&server, "/down"), Accept::Html, &cancel)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), FailureKind::HttpStatus);
    assert_eq!(requests(&server).await, 3);
    let err = http
        .get(&url(&server, "/gone"), Accept::Html, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Status { status: 404, .. }));
    assert_eq!(requests(&server).await, 4);
}

#[tokio::test]
async fn a_response_slower_than_the_timeout_is_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(path(format!("/@{HANDLE}")))
        .respond_with(html(tiktok("profile_universal.html")).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.timeout = Duration::from_millis(300);
    cfg.retries = 1;
    let collector = Collector::new(&cfg).unwrap();
    let out = collector
        .collect(
            &[Target::TiktokCreator(HANDLE.into())],
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(out[0].failure.as_ref().unwrap().kind, FailureKind::Timeout);
    // Timeouts are retried (once here), then given up.
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_50_mb_body_is_refused_without_reading_it() {
    let server = MockServer::start().await;
    Mock::given(path(format!("/@{HANDLE}")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'a'; 50 * 1024 * 1024]))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.max_body = 1024 * 1024;
    let collector = Collector::new(&cfg).unwrap();
    let out = collector
        .collect(
            &[Target::TiktokCreator(HANDLE.into())],
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(out[0].failure.as_ref().unwrap().kind, FailureKind::TooLarge);
    assert!(
        collector.bytes_read() <= cfg.max_body,
        "{}",
        collector.bytes_read()
    );
    // Too large is permanent: not retried.
    assert_eq!(requests(&server).await, 1);
}

/// A server that answers every connection with an endless chunked body (no length given), and
/// counts nothing: the client must stop reading by itself.
async fn endless_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ntransfer-encoding: chunked\r\n\r\n";
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b'x'; 16 * 1024];
                let framed = [
                    format!("{:x}\r\n", chunk.len()).into_bytes(),
                    chunk,
                    b"\r\n".to_vec(),
                ]
                .concat();
                // Up to 50 MB, or until the client hangs up.
                for _ in 0..3200 {
                    if sock.write_all(&framed).await.is_err() {
                        return;
                    }
                }
                let _ = sock.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn an_endless_body_is_cut_at_max_body() {
    let addr = endless_server().await;
    let base = format!("http://{addr}");
    let mut cfg = config(&base);
    cfg.max_body = 512 * 1024;
    let http = Http::new(&cfg).unwrap();
    let err = http
        .get(
            &url::Url::parse(&format!("{base}/@{HANDLE}")).unwrap(),
            Accept::Html,
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    match err {
        FetchError::TooLarge { limit, read } => {
            assert_eq!(limit, 512 * 1024);
            assert!(read > limit && read <= limit + 64 * 1024, "read {read}");
        }
        other => panic!("{other:?}"),
    }
    // Memory stays bounded: what was read off the wire is max_body plus at most one chunk.
    assert!(
        http.bytes_read() <= cfg.max_body + 64 * 1024,
        "{}",
        http.bytes_read()
    );
}

#[tokio::test]
async fn invalid_utf8_does_not_stop_the_page_from_being_read() {
    let page = tiktok("profile_universal.html").into_bytes();
    // Invalid bytes in the head and inside the creator's bio, in the JSON string.
    let bio_at = page.windows(9).position(|w| w == b"signature").unwrap() + 12;
    let mut damaged = page[..200].to_vec();
    damaged.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    damaged.extend_from_slice(&page[200..bio_at]);
    damaged.extend_from_slice(&[0xe2, 0x28, 0xa1, 0x80]);
    damaged.extend_from_slice(&page[bio_at..]);
    assert!(std::str::from_utf8(&damaged).is_err());

    let server = MockServer::start().await;
    Mock::given(path(format!("/@{HANDLE}")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html; charset=utf-8")
                .set_body_bytes(damaged),
        )
        .mount(&server)
        .await;
    let collector = Collector::new(&config(&server.uri())).unwrap();
    let out = collector
        .collect(
            &[Target::TiktokCreator(HANDLE.into())],
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(metric(&out[0], "followers"), Some(48_217.0));
}

#[tokio::test]
async fn cookies_are_kept_per_host() {
    let server = MockServer::start().await;
    Mock::given(path("/first"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("set-cookie", "ttwid=abc123; Path=/")
                .set_body_string("one"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/second"))
        .and(header("cookie", "ttwid=abc123"))
        .respond_with(ResponseTemplate::new(200).set_body_string("two"))
        .expect(1)
        .mount(&server)
        .await;
    let http = Http::new(&config(&server.uri())).unwrap();
    let cancel = CancellationToken::new();
    http.get(&url(&server, "/first"), Accept::Html, &cancel)
        .await
        .unwrap();
    let page = http
        .get(&url(&server, "/second"), Accept::Html, &cancel)
        .await
        .unwrap();
    assert_eq!(page.body, b"two");
}

#[tokio::test]
async fn connection_refused_is_a_network_failure() {
    // Bind then drop to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = config(&format!("http://127.0.0.1:{port}"));
    cfg.retries = 0;
    let collector = Collector::new(&cfg).unwrap();
    let out = collector
        .collect(
            &[Target::TiktokHashtag("skincarenaturel".into())],
            &CancellationToken::new(),
        )
        .await;
    let failure = out[0].failure.as_ref().unwrap();
    assert_eq!(failure.kind, FailureKind::Network);
    assert!(!failure.detail.contains("127.0.0.1"), "{}", failure.detail);
}

#[tokio::test]
async fn one_request_per_host_per_interval() {
    let server = MockServer::start().await;
    Mock::given(path(format!("/@{HANDLE}")))
        .respond_with(html(tiktok("profile_not_found.html")))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    // Far longer than the test: a second request to the host can only be a bug.
    cfg.per_host_interval = Duration::from_secs(600);
    let collector = Collector::new(&cfg).unwrap();
    let cancel = CancellationToken::new();
    let canceller = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            cancel.cancel();
        })
    };
    let targets = vec![Target::TiktokCreator(HANDLE.into()); 3];
    let out = collector.collect(&targets, &cancel).await;
    canceller.await.unwrap();
    assert_eq!(requests(&server).await, 1);
    // The two waiting for their slot were cancelled before sending anything.
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].failure.as_ref().unwrap().kind, FailureKind::NotFound);
}

#[tokio::test]
async fn compressed_bodies_are_capped_after_decompression() {
    // 20 KB on the wire, 20 MB once gunzipped.
    let bomb = std::fs::read(collect_support::fixture_path(
        "sources",
        "gzip_bomb_20mb.html.gz",
    ))
    .unwrap();
    assert!(bomb.len() < 100 * 1024);
    let server = MockServer::start().await;
    Mock::given(path("/bomb"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .insert_header("content-type", "text/html")
                .set_body_bytes(bomb),
        )
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.max_body = 1024 * 1024;
    let http = Http::new(&cfg).unwrap();
    let err = http
        .get(
            &url(&server, "/bomb"),
            Accept::Html,
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { .. }), "{err:?}");
    assert!(
        http.bytes_read() <= cfg.max_body + 64 * 1024,
        "{}",
        http.bytes_read()
    );

    // The same body within a larger cap is decompressed whole.
    cfg.max_body = 32 * 1024 * 1024;
    let http = Http::new(&cfg).unwrap();
    let page = http
        .get(
            &url(&server, "/bomb"),
            Accept::Html,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(page.body.len(), 20 * 1024 * 1024 + 13);
}

#[tokio::test]
async fn requests_go_through_the_configured_proxy() {
    // The loopback server plays the proxy; the base URL's host does not even resolve.
    let proxy = MockServer::start().await;
    Mock::given(path(format!("/@{HANDLE}")))
        .respond_with(html(tiktok("profile_not_found.html")))
        .expect(1)
        .mount(&proxy)
        .await;
    let mut cfg = config("http://www.tiktok.invalid");
    cfg.proxy = Some(url::Url::parse(&proxy.uri()).unwrap());
    cfg.retries = 0;
    let collector = Collector::new(&cfg).unwrap();
    let out = collector
        .collect(
            &[Target::TiktokCreator(HANDLE.into())],
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(out[0].failure.as_ref().unwrap().kind, FailureKind::NotFound);
}

#[tokio::test]
async fn a_redirect_to_another_port_is_not_followed() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/secret"))
        .respond_with(ResponseTemplate::new(200).set_body_string("internal"))
        .mount(&elsewhere)
        .await;
    Mock::given(path("/p"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/secret", elsewhere.uri())),
        )
        .mount(&server)
        .await;
    let http = Http::new(&config(&server.uri())).unwrap();
    let err = get_html(&http, &server, "/p").await.unwrap_err();
    assert!(matches!(err, FetchError::Redirect(_)), "{err}");
    assert!(err.to_string().contains("another host"), "{err}");
    assert_eq!(requests(&elsewhere).await, 0);
    // Not retried: the answer would be the same.
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn a_redirect_loop_stops_at_once_and_a_same_host_chain_is_followed() {
    let server = MockServer::start().await;
    for (from, to) in [("/a", "/b"), ("/b", "/a")] {
        Mock::given(path(from))
            .respond_with(ResponseTemplate::new(301).insert_header("location", to))
            .mount(&server)
            .await;
    }
    let http = Http::new(&config(&server.uri())).unwrap();
    let err = get_html(&http, &server, "/a").await.unwrap_err();
    assert!(err.to_string().contains("loop"), "{err}");
    assert_eq!(requests(&server).await, 2);

    // A chain on the same host is followed, each hop a request of its own (each waits for
    // the host's slot like any request).
    Mock::given(path("/h1"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/h2"))
        .mount(&server)
        .await;
    Mock::given(path("/h2"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/h3"))
        .mount(&server)
        .await;
    Mock::given(path("/h3"))
        .respond_with(ResponseTemplate::new(200).set_body_string("end"))
        .mount(&server)
        .await;
    let page = http
        .get(
            &url(&server, "/h1"),
            Accept::Html,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(page.body, b"end");
    assert_eq!(page.final_url.path(), "/h3");
    let hops = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().starts_with("/h"))
        .count();
    assert_eq!(hops, 3);
}

/// A pass over 1,000 tags whose pages arrive at once: ten chunks of 100, written without
/// reopening the store for each (a reopening loads the whole catalog: a watchlist of 100,000
/// tags took 98 s that way, 5 s now), and the store free again once the pass is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quick_pass_opens_the_store_a_few_times_not_once_per_chunk() {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path_regex("^/tag/"))
        .respond_with(crate::collect_support::html(
            crate::collect_support::tag_page("skincarenaturel"),
        ))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let tags: Vec<String> = (0..1000).map(|i| format!("\"tag{i:04}\"")).collect();
    let path = crate::common::TestConfig::new()
        .tiktok(&server.uri())
        .set("collect", "per_host_interval", "\"0s\"")
        .set("collect", "concurrency", "16")
        .watchlist(&format!("[tiktok]\nhashtags = [{}]\n", tags.join(", ")))
        .write_in(dir.path());
    let (cfg, watchlist) = trendwatch::config::load(&path).unwrap();
    let collector = trendwatch::collect::Collector::new(&cfg.collect).unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let access = trendwatch::store::access::Reopening::new(
        &cfg.state_dir,
        std::time::Duration::from_secs(5),
        &cancel,
    );
    let report =
        trendwatch::pipeline::collect_pass(&access, &collector, &cfg, &watchlist, &cancel, None)
            .await
            .unwrap();
    assert_eq!(report.entities, 1000);
    // The targets, the sites' routes, then one open kept over the quick chunks and the
    // bookkeeping: never one per chunk.
    assert!(
        access.opens() <= 4,
        "{} opens for 10 chunks",
        access.opens()
    );
    // Let go once the pass is over.
    let store = trendwatch::store::Store::open(&cfg.state_dir).unwrap();
    assert_eq!(store.entities().unwrap().len(), 1000);
}
