//! Parse throughput of a realistic ~300 KB TikTok profile page (translation bundle, head
//! scripts and all), the work `collect` does per creator once the page is fetched.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use trendwatch::collect::{numbers, tiktok};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/tiktok/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(c: &mut Criterion) {
    let page = fixture("profile_large.html");
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(page.len() as u64));
    group.bench_function("profile_300k", |b| {
        b.iter(|| {
            let p = tiktok::parse_creator_page(black_box(&page), "lea.soinsnaturels");
            assert!(matches!(p, Ok(ref c) if c.followers == Some(48_217)));
            p
        })
    });
    group.bench_function("find_script_only", |b| {
        b.iter(|| tiktok::find_script(black_box(&page), "__UNIVERSAL_DATA_FOR_REHYDRATION__"))
    });
    group.finish();

    let items = fixture("item_list.json");
    let mut group = c.benchmark_group("item_list");
    group.throughput(Throughput::Bytes(items.len() as u64));
    group.bench_function("item_list", |b| {
        b.iter(|| tiktok::parse_item_list(black_box(&items)))
    });
    group.finish();

    let counts = [
        "1.2M",
        "116,9k",
        "80\u{202f}000",
        "1,234,567",
        "3,4 M",
        "1 234,5",
    ];
    c.bench_function("human_counts", |b| {
        b.iter(|| {
            counts
                .iter()
                .filter_map(|s| numbers::parse_count(black_box(s)))
                .sum::<f64>()
        })
    });
}

criterion_group!(benches, parse);
criterion_main!(benches);
