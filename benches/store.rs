//! Store benchmarks: a collection pass, an import chunk and a series read, on a tempdir store.
//! The three product targets (1 M-sample import, bytes per sample, 30-day read of 10,000
//! entities) are measured by `cargo run --release --example store_bench`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::time::Duration;
use trendwatch::model::Metric;
use trendwatch::model::{EntityId, EntityOutcome, Observation, Sample};
use trendwatch::store::Store;

const START: i64 = 1_790_000_000;

fn history(entities: usize, hours: i64) -> Vec<Sample> {
    let mut out = Vec::new();
    for e in 0..entities {
        let id = EntityId::hashtag("tiktok", &format!("tag{e}"));
        for h in 0..hours {
            out.push(Sample {
                entity: id.clone(),
                at: START + h * 3600,
                metric: Metric::VIEWS,
                value: (1_000_000 + h * 1234 + e as i64) as f64,
            });
        }
    }
    out
}

fn pass(entities: usize, at: i64) -> Vec<EntityOutcome> {
    (0..entities)
        .map(|e| EntityOutcome {
            fetched_by: Default::default(),
            entity: EntityId::hashtag("tiktok", &format!("tag{e}")),
            observation: Some(Observation {
                at,
                metrics: vec![(Metric::VIEWS, 2e6 + e as f64), (Metric::VIDEOS, 300.0)],
                videos: Vec::new(),
                label: None,
            }),
            failure: None,
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("store");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.insert_samples(&history(100, 24 * 30)).unwrap();
    let mut at = START + 24 * 30 * 3600;
    g.bench_function("record_pass of 100 entities into 30 days of history", |b| {
        b.iter(|| {
            at += 3 * 3600;
            store.record_pass(&pass(100, at)).unwrap();
        })
    });
    let id = EntityId::hashtag("tiktok", "tag7");
    g.bench_function("series: 30 days of one hourly metric", |b| {
        b.iter(|| {
            store
                .series(&id, "views", START, START + 30 * 86_400)
                .unwrap()
        })
    });

    let chunk = history(100, 1000);
    g.bench_function("insert_samples: 100,000 samples into a fresh store", |b| {
        b.iter_batched(
            || {
                let d = tempfile::tempdir().unwrap();
                let s = Store::open(d.path()).unwrap();
                (d, s)
            },
            |(_d, s)| s.insert_samples(&chunk).unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(store_benches, benches);
criterion_main!(store_benches);
