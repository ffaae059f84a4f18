//! Rendering a 12-item digest with charts (target: under 200 ms) and the size of the
//! resulting message (target: under 300 KB). `cargo bench --bench digest`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use trendwatch::config::Language;
use trendwatch::detect::TrendKind;
use trendwatch::digest::{self, Digest, Item, Section};

const AT: i64 = 1_795_420_800;

fn digest12() -> Digest {
    let kinds = [
        TrendKind::Emerging,
        TrendKind::RisingCreator,
        TrendKind::BreakoutVideo,
    ];
    let sections = kinds
        .iter()
        .enumerate()
        .map(|(k, kind)| Section {
            kind: *kind,
            items: (0..4)
                .map(|i| Item {
                    name: format!("#tendance{k}{i}"),
                    url: Some(format!("https://www.tiktok.com/tag/tendance{k}{i}")),
                    score: 8.0,
                    growth: 13.3,
                    rate_now: 41_200.0,
                    rate_baseline: 3_100.0,
                    metric: "views".into(),
                    since: Some(AT - 3 * 86_400),
                    evidence: "views/hour 13.3x the 14-day baseline for 9 samples".into(),
                    samples: Some(9),
                    tier: None,
                    engagement: None,
                    benchmark: None,
                    // 14 days of hourly rates with noise and a late take-off.
                    rates: (0..336)
                        .map(|h| {
                            let base = 3_000.0 + ((h * 7919 + i * 31) % 900) as f64;
                            let boost = if h > 260 {
                                (h - 260) as f64 * 500.0
                            } else {
                                0.0
                            };
                            (AT - (336 - h) * 3600, base + boost)
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    Digest {
        at: AT,
        timezone: chrono_tz::Europe::Paris,
        sections,
        health: Vec::new(),
        alerts: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let d = digest12();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("watchlist.toml"),
        "[tiktok]\nhashtags = [\"a\"]\n",
    )
    .expect("watchlist");
    let path = dir.path().join("trendwatch.toml");
    std::fs::write(
        &path,
        format!(
            "watchlist = \"watchlist.toml\"\nstate_dir = \"{}\"\n\n[digest]\nto = [\"a@example.org\"]\nfrom = \"trendwatch <t@example.org>\"\n",
            dir.path().join("state").display()
        ),
    )
    .expect("config");
    let (cfg, _) = trendwatch::config::load(&path).expect("load");
    let r = digest::render(&d, Language::Fr).expect("render");
    let raw = trendwatch::mail::build_message(&cfg, &r, "bench@example.org", AT).expect("message");
    eprintln!(
        "12 items: {} charts, PNG total {} bytes, HTML {} bytes, message {} bytes",
        r.images.len(),
        r.images.iter().map(|i| i.png.len()).sum::<usize>(),
        r.html.len(),
        raw.len()
    );
    c.bench_function("digest/render_12_items_with_charts", |b| {
        b.iter(|| digest::render(&d, Language::Fr).expect("render"))
    });
    c.bench_function("digest/render_and_build_message", |b| {
        b.iter(|| {
            let r = digest::render(&d, Language::Fr).expect("render");
            trendwatch::mail::build_message(&cfg, &r, "bench@example.org", AT).expect("message")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
