//! Rendering a 12-item digest with charts (target: under 200 ms), the size of its HTML
//! (under Gmail's 102 KB clipping limit) and of the resulting message (under 300 KB). `cargo bench --bench digest`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use trendwatch::config::Language;
use trendwatch::digest;

#[path = "../tests/support/digest_fixture.rs"]
mod digest_fixture;

use digest_fixture::{digest12, DEMO_AT as AT};

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
