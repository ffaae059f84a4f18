//! The polite client against loopback servers and its pure rules (retries, backoff,
//! `Retry-After`, charsets, messages without URLs).

use super::*;

#[test]
fn only_transient_failures_are_retried() {
    let status = |s| FetchError::Status {
        status: s,
        retry_after: None,
    };
    assert!(retryable(&FetchError::Timeout(Duration::from_secs(1))));
    assert!(retryable(&FetchError::Network("reset".into())));
    assert!(retryable(&status(429)));
    assert!(retryable(&status(500)));
    assert!(retryable(&status(503)));
    assert!(!retryable(&status(404)));
    assert!(!retryable(&status(403)));
    assert!(!retryable(&FetchError::TooLarge { limit: 1, read: 2 }));
    assert!(!retryable(&FetchError::Cancelled));
}

/// A client that tries once and never waits for its turn.
fn one_try_client() -> Http {
    let cfg = CollectConfig {
        retries: 0,
        per_host_interval: Duration::ZERO,
        ..CollectConfig::with_defaults(
            crate::config::Schedule::parse("0 0 * * * *").unwrap(),
            Url::parse("http://127.0.0.1:9").unwrap(),
        )
    };
    Http::new(&cfg).unwrap()
}

#[tokio::test]
async fn a_refused_connection_is_unreachable_and_retried_once_at_most() {
    let http = one_try_client();
    // Nothing listens on the discard port.
    let url = Url::parse("http://127.0.0.1:9/").unwrap();
    let err = http
        .get(&url, Accept::Html, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Unreachable(_)), "{err:?}");
    assert_eq!(err.kind(), FailureKind::Network);
    assert_eq!(retry_limit(&err, 3), 1);
    assert_eq!(retry_limit(&FetchError::Network("reset".into()), 3), 3);
    assert_eq!(
        retry_limit(&FetchError::Timeout(Duration::from_secs(1)), 3),
        3
    );
    assert_eq!(retry_limit(&err, 0), 0);
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_unreachable_by_its_type() {
    let http = one_try_client();
    // `.invalid` never resolves (RFC 2606), with or without a network.
    let url = Url::parse("http://trendwatch-test.invalid/").unwrap();
    let err = http
        .get(&url, Accept::Html, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Unreachable(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("the name trendwatch-test.invalid does not resolve"),
        "{err}"
    );
}

#[test]
fn pages_are_decoded_in_the_charset_they_declare() {
    let page = |body: &[u8], charset: Option<&str>| Page {
        final_url: Url::parse("http://shop.example/").unwrap(),
        status: 200,
        body: body.to_vec(),
        charset: charset.map(str::to_owned),
    };
    // "Crème 12,90 €" in ISO-8859-15 / windows-1252 bytes.
    let latin = b"<p>Cr\xe8me</p>";
    assert_eq!(page(latin, Some("ISO-8859-1")).text(), "<p>Crème</p>");
    let meta = b"<html><head><meta charset=\"windows-1252\"></head><p>Cr\xe8me \x80</p>";
    assert!(page(meta, None).text().contains("Crème €"));
    let http_equiv =
        b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"><p>\xe9t\xe9</p>";
    assert!(page(http_equiv, None).text().contains("été"));
    // Undeclared: UTF-8, invalid bytes replaced, never a failure.
    assert_eq!(page("été".as_bytes(), None).text(), "été");
    assert_eq!(page(b"\xff", None).text(), "\u{fffd}");
    assert_eq!(
        charset_param("text/html; charset=\"UTF-8\"").as_deref(),
        Some("UTF-8")
    );
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    assert_eq!(parse_retry_after("7", 0.0), Some(Duration::from_secs(7)));
    // 2015-10-21T07:28:00Z is 1445412480.
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1_445_412_470.0),
        Some(Duration::from_secs(10))
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1_445_412_490.0),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon", 0.0), None);
}

#[test]
fn backoff_grows_is_capped_and_honours_retry_after() {
    for attempt in 0..20 {
        let b = backoff(attempt, None);
        let full = BACKOFF_BASE
            .saturating_mul(1 << attempt.min(16))
            .min(BACKOFF_CAP);
        assert!(b >= full / 2 && b <= full, "attempt {attempt}: {b:?}");
    }
    assert!(backoff(0, Some(Duration::from_secs(5))) >= Duration::from_secs(5));
}

#[tokio::test]
async fn each_host_has_its_own_spacing_and_its_own_requests_in_flight() {
    let cfg = CollectConfig {
        concurrency: 1,
        per_host_interval: Duration::from_secs(60),
        ..CollectConfig::with_defaults(
            crate::config::Schedule::parse("0 0 * * * *").unwrap(),
            Url::parse("http://127.0.0.1:9").unwrap(),
        )
    };
    let http = Http::new(&cfg).unwrap();
    let cancel = CancellationToken::new();
    let first = http.enter("www.tiktok.com", &cancel).await.unwrap();
    // The next request to that host waits for the one in flight and for its interval…
    let gate = http.gate("www.tiktok.com");
    assert_eq!(gate.in_flight.available_permits(), 0);
    assert!(gate.limiter.as_ref().unwrap().check().is_err());
    // …while another host goes at once, the first still in flight.
    let other = tokio::time::timeout(Duration::from_secs(10), http.enter("shop.example", &cancel))
        .await
        .expect("another host is not held up")
        .unwrap();
    drop((first, other));
    // A cancelled pass stops a request waiting for its host's interval.
    cancel.cancel();
    assert_eq!(
        http.enter("www.tiktok.com", &cancel).await.unwrap_err(),
        FetchError::Cancelled
    );
}

#[test]
fn urls_never_appear_in_messages() {
    assert_eq!(
        strip_url("error sending request for url (https://x/?key=SECRET)"),
        "error sending request"
    );
}
