//! The TikTok Shop watch: product pages in TikTok's format on a loopback server (plain HTTP,
//! and behind a JavaScript gate through real Chromium), a region refusal, a removed product,
//! and a price drop and a sales take-off followed through simulated weeks into the digest.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use trendwatch::collect::{Collector, Target};
use trendwatch::config::BrowserMode;
use trendwatch::model::{FailureKind, Fetcher};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::collect_support::chromium_or_skip;
use crate::collect_support::{html, tiktok as fixture};
use crate::common::{quoted, Setup, TestConfig};

const PRODUCT: &str = "1731000000000000042";

fn product(id: &str) -> Target {
    Target::ShopProduct {
        slug: "baume-karite-bio".into(),
        id: id.into(),
    }
}

/// The fixture page with other figures.
fn product_page(sold: u64, price: f64) -> String {
    fixture("shop_product.html")
        .replace("\"sold_count\":12840", &format!("\"sold_count\":{sold}"))
        .replace(
            "\"price_val\":\"7.99\"",
            &format!("\"price_val\":\"{price}\""),
        )
}

#[tokio::test]
async fn a_product_page_gives_sales_price_rating_and_reviews_and_refusals_are_typed() {
    let server = MockServer::start().await;
    for (id, page) in [
        (PRODUCT, "shop_product.html"),
        ("1731000000000000043", "shop_region.html"),
        ("1731000000000000044", "shop_removed.html"),
    ] {
        Mock::given(path(format!("/shop/pdp/baume-karite-bio/{id}")))
            .respond_with(html(fixture(page).replace(PRODUCT, id)))
            .mount(&server)
            .await;
    }
    let collector = Collector::new(&crate::common::collect_config(&server.uri())).unwrap();
    let out = collector
        .collect(
            &[
                product(PRODUCT),
                product("1731000000000000043"),
                product("1731000000000000044"),
            ],
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(out[0].entity.as_str(), format!("tiktokshop:{PRODUCT}"));
    let obs = out[0].observation.as_ref().expect("the product's figures");
    let get = |name: &str| {
        obs.metrics
            .iter()
            .find(|(m, _)| m.as_str() == name)
            .map(|(_, v)| *v)
    };
    assert_eq!(get("sold"), Some(12_840.0));
    assert_eq!(get("price"), Some(7.99), "the lowest SKU price");
    assert_eq!(get("rating"), Some(4.7));
    assert_eq!(get("reviews"), Some(382.0));
    let label = obs.label.as_ref().unwrap();
    assert_eq!(label.title, "Baume au karité bio 50 ml");
    assert_eq!(label.seller, "Herboristerie Exemple");
    assert_eq!(label.currency, "EUR");
    // Reviewers' names and texts are never kept.
    let kept = format!("{obs:?}");
    assert!(
        !kept.contains("(nom)") && !kept.contains("(texte"),
        "{kept}"
    );
    assert_eq!(
        out[1].failure.as_ref().map(|f| f.kind),
        Some(FailureKind::Region)
    );
    assert_eq!(
        out[2].failure.as_ref().map(|f| f.kind),
        Some(FailureKind::NotFound),
        "{:?}",
        out[2]
    );
}

/// The product page to a client whose script set the gate's cookie; to others, a page whose
/// script sets it and reloads.
struct JsGate;

impl Respond for JsGate {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let passed = request
            .headers
            .get("cookie")
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.contains("tw_gate=ok"));
        if passed {
            html(fixture("shop_product.html"))
        } else {
            html(
                "<!DOCTYPE html><html><body><div id=\"root\">Chargement…</div>\
                  <script>document.cookie = \"tw_gate=ok; path=/\"; location.reload();</script>\
                  </body></html>",
            )
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_page_behind_a_javascript_gate_is_read_in_the_browser() {
    if !chromium_or_skip("a_product_page_behind_a_javascript_gate_is_read_in_the_browser") {
        return;
    }
    let server = MockServer::start().await;
    Mock::given(path(format!("/shop/pdp/baume-karite-bio/{PRODUCT}")))
        .respond_with(JsGate)
        .mount(&server)
        .await;
    let mut cfg = crate::common::collect_config(&server.uri());
    cfg.browser.mode = BrowserMode::Fallback;
    cfg.timeout = Duration::from_secs(15);
    let out = Collector::new(&cfg)
        .unwrap()
        .collect(&[product(PRODUCT)], &CancellationToken::new())
        .await;
    // Plain HTTP got the gate; the browser ran it and read the product.
    assert_eq!(out[0].failure, None, "{:?}", out[0]);
    assert_eq!(out[0].fetched_by, Fetcher::Browser);
    let obs = out[0].observation.as_ref().unwrap();
    assert!(obs
        .metrics
        .iter()
        .any(|(m, v)| m.as_str() == "sold" && *v == 12_840.0));
    assert_eq!(
        obs.label.as_ref().map(|l| l.title.as_str()),
        Some("Baume au karité bio 50 ml")
    );
}

/// Serves the product with the figures of the simulated day the test sets.
struct Weeks {
    day: Arc<AtomicU64>,
}

/// Units sold by day `d`: 20 a day for three weeks, then 140 a day.
fn sold_by(d: u64) -> u64 {
    if d <= 21 {
        5_000 + 20 * d
    } else {
        5_000 + 20 * 21 + 140 * (d - 21)
    }
}

impl Respond for Weeks {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let quarter = self.day.load(Ordering::SeqCst);
        let d = quarter / 4;
        if request.url.path().ends_with(PRODUCT) {
            // Units sold move every reading; the price drops on day 22.
            let sold = sold_by(d) + (quarter % 4) * (sold_by(d + 1) - sold_by(d)) / 4;
            let price = if d >= 22 { 7.99 } else { 9.49 };
            html(product_page(sold, price))
        } else if request.url.path().ends_with("1731000000000000045") {
            // A product that stopped selling: the same count every day.
            html(
                product_page(800, 12.5)
                    .replace(PRODUCT, "1731000000000000045")
                    .replace("Baume au karité bio 50 ml", "Savon d'Alep"),
            )
        } else {
            ResponseTemplate::new(404)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sales_take_off_and_a_price_drop_reach_the_digest_and_a_quiet_product_does_not() {
    let day = Arc::new(AtomicU64::new(0));
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Weeks { day: day.clone() })
        .mount(&server)
        .await;
    let setup = Setup::new(
        TestConfig::new()
            .tiktok(&server.uri())
            .set("digest", "language", &quoted("fr"))
            .watchlist(&format!(
                "[shop]\nregion = \"FR\"\nproducts = [\n  {{ url = \"https://www.tiktok.com/shop/pdp/baume-karite-bio/{PRODUCT}\", my_price = 8.90 }},\n  \"https://www.tiktok.com/shop/pdp/baume-karite-bio/1731000000000000045\",\n]\n"
            )),
    );
    // Four readings a day for 25 days, from Monday 2 November 2026.
    let t0: i64 = 1_793_577_600;
    for quarter in 0..25 * 4 {
        day.store(quarter, Ordering::SeqCst);
        let at = t0 + quarter as i64 * 6 * 3600;
        let out = setup
            .cmd(&["collect"])
            .env("TRENDWATCH_SIMULATED_CLOCK", format!("{at},1"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let at = "2026-11-27T00:00:00Z";
    let trends: serde_json::Value =
        serde_json::from_str(&setup.ok(&["detect", "--json", "--at", at])).unwrap();
    let kinds: Vec<(String, String)> = trends
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["entity"].as_str().unwrap().to_owned(),
                t["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let ours = format!("tiktokshop:{PRODUCT}");
    assert!(
        kinds.contains(&(ours.clone(), "product_rising".into())),
        "{kinds:?}"
    );
    assert!(kinds.contains(&(ours, "price_drop".into())), "{kinds:?}");
    assert!(
        !kinds
            .iter()
            .any(|(e, _)| e.ends_with("1731000000000000045")),
        "a product that stopped selling alerts: {kinds:?}"
    );
    let digest = setup.ok(&["digest", "--at", at]);
    assert!(
        digest.contains("Boutique TikTok : ventes qui décollent"),
        "{digest}"
    );
    assert!(digest.contains("Baume au karité bio 50 ml"), "{digest}");
    assert!(digest.contains("Vendu 140 fois par jour"), "{digest}");
    assert!(digest.contains("contre 8,90\u{a0}€ chez vous"), "{digest}");
    assert!(
        digest.contains("Prix en baisse : 7,99\u{a0}€ au lieu de 9,49\u{a0}€"),
        "{digest}"
    );
    assert!(
        digest.contains("Vendeur : Herboristerie Exemple."),
        "{digest}"
    );
    assert!(!digest.contains("Savon d'Alep"), "{digest}");
    // `show` and `export` work on products.
    let shown = setup.ok(&["show", &format!("tiktokshop:{PRODUCT}")]);
    assert!(shown.contains("sold"), "{shown}");
    let csv = setup.ok(&["export", "--entity", &format!("tiktokshop:{PRODUCT}")]);
    assert!(csv.lines().any(|l| l.contains(",price,7.99")), "{csv}");
}
