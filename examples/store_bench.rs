//! Measures the store against its targets: import throughput, disk bytes per sample, and the
//! time to read 30 days of hourly samples for 10,000 entities.
//!
//! Run in release: `cargo run --release --example store_bench`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use trendwatch::model::Metric;
use trendwatch::model::{EntityId, EntityOutcome, Observation, Sample};
use trendwatch::store::interchange::{self, CsvOut, SampleOut};
use trendwatch::store::Store;

const START: i64 = 1_790_000_000 - 1_790_000_000 % 86_400;

/// A small deterministic generator: no dependency, same data every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Hourly counters: `entities` hashtags × `metrics` × `hours`, grouped per series.
fn counters(entities: usize, metrics: &[&str], hours: i64) -> Vec<Sample> {
    let mut rng = Lcg(42);
    let mut out = Vec::with_capacity(entities * metrics.len() * hours as usize);
    for e in 0..entities {
        let id = EntityId::hashtag("tiktok", &format!("tag{e:05}"));
        for (mi, m) in metrics.iter().enumerate() {
            let mut v = (rng.next() % 100_000_000) as f64 / if mi == 0 { 1.0 } else { 1000.0 };
            for h in 0..hours {
                // A collector is not exactly on the hour.
                let jitter = (rng.next() % 30) as i64;
                v += (rng.next() % if mi == 0 { 5_000 } else { 4 }) as f64;
                out.push(Sample {
                    entity: id.clone(),
                    at: START + h * 3600 + jitter,
                    metric: Metric::new(m).expect("a metric name"),
                    value: v,
                });
            }
        }
    }
    out
}

fn list(dir: &std::path::Path) {
    use std::os::unix::fs::MetadataExt;
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        if m.is_dir() {
            list(&e.path());
        } else {
            println!(
                "  {:?}: len {} allocated {}",
                e.path(),
                m.len(),
                m.blocks() * 512
            );
        }
    }
}

fn main() {
    println!("## trendwatch store_bench");

    // 1. Import of 1,000,000 samples: 1,000 hashtags × views, videos × 500 hours.
    let samples = counters(1_000, &["views", "videos"], 500);
    assert_eq!(samples.len(), 1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t = Instant::now();
    store.insert_samples(&samples).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "insert_samples: 1000000 samples in {secs:.3} s = {:.0} samples/s",
        1e6 / secs
    );
    let size = store.size_on_disk().unwrap();
    println!(
        "disk after import: {size} bytes = {:.2} bytes/sample",
        size as f64 / 1e6
    );
    drop(store);
    if std::env::var_os("STORE_BENCH_FILES").is_some() {
        list(&dir.path().join("store"));
    }
    let store = Store::open(dir.path()).unwrap();
    let size = store.size_on_disk().unwrap();
    println!(
        "disk after reopen: {size} bytes = {:.2} bytes/sample",
        size as f64 / 1e6
    );
    drop(store);

    // The same import through the CSV path of `trendwatch import` (parse + validate + store).
    let mut csv = Vec::new();
    {
        let mut w = CsvOut::new(&mut csv).unwrap();
        for s in &samples {
            w.write(s).unwrap();
        }
        w.finish().unwrap();
    }
    drop(samples);
    let dir2 = tempfile::tempdir().unwrap();
    let store = Store::open(dir2.path()).unwrap();
    let t = Instant::now();
    let parsed = interchange::parse_csv(std::path::Path::new("bench.csv"), &csv).unwrap();
    let parse_secs = t.elapsed().as_secs_f64();
    store.insert_samples(&parsed).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "CSV import ({} MB file): parse {parse_secs:.3} s, total {secs:.3} s = {:.0} samples/s",
        csv.len() / 1_000_000,
        1e6 / secs
    );
    drop(store);
    drop(parsed);

    // 2. Reading 30 days of hourly samples for 10,000 entities (7.2 M samples).
    let dir3 = tempfile::tempdir().unwrap();
    let store = Store::open(dir3.path()).unwrap();
    for chunk in 0..10 {
        let mut part = counters(1_000, &["views"], 30 * 24);
        for s in &mut part {
            // Distinct entities per chunk.
            s.entity = EntityId::hashtag("tiktok", &format!("c{chunk}{}", s.entity.name()));
        }
        store.insert_samples(&part).unwrap();
    }
    let size = store.size_on_disk().unwrap();
    println!(
        "10,000 entities × 720 hourly samples: {size} bytes on disk = {:.2} bytes/sample",
        size as f64 / 7.2e6
    );
    drop(store);
    let store = Store::open(dir3.path()).unwrap();
    let to = START + 30 * 86_400 - 1;
    for round in 0..2 {
        let t = Instant::now();
        let mut n = 0u64;
        let mut sum = 0.0;
        store
            .for_each_sample(None, START, to, |s| {
                n += 1;
                sum += s.value;
            })
            .unwrap();
        println!(
            "for_each_sample, 30 days × 10,000 entities ({} cache): {n} samples in {:.3} s (checksum {sum:.0})",
            if round == 0 { "cold" } else { "warm" },
            t.elapsed().as_secs_f64()
        );
    }
    let entities = store.entities().unwrap();
    time_series_calls(&store, &entities, to);
    drop(store);

    // 3. Steady state: 30 days of collection passes every 3 hours, 1,000 hashtags × 2 metrics,
    //    each pass rewriting the week block of every series it touches.
    let dir4 = tempfile::tempdir().unwrap();
    let store = Store::open(dir4.path()).unwrap();
    let t = Instant::now();
    let passes = 30 * 8;
    for p in 0..passes {
        let at = START + p * 3 * 3600;
        let outcomes: Vec<EntityOutcome> = (0..1_000)
            .map(|e| EntityOutcome {
                fetched_by: Default::default(),
                entity: EntityId::hashtag("tiktok", &format!("tag{e:05}")),
                observation: Some(Observation {
                    at,
                    metrics: vec![
                        (Metric::VIEWS, (1_000_000 + p * 3_000 + e) as f64),
                        (Metric::VIDEOS, (500 + p / 4) as f64),
                    ],
                    videos: Vec::new(),
                    label: None,
                }),
                failure: None,
            })
            .collect();
        store.record_pass(&outcomes).unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let n = (passes * 2_000) as f64;
    let size = store.size_on_disk().unwrap();
    println!(
        "steady state: {passes} passes of 1,000 entities in {secs:.2} s ({:.1} ms/pass); {size} bytes = {:.1} bytes/sample",
        secs * 1000.0 / passes as f64,
        size as f64 / n
    );
}

fn time_series_calls(store: &Store, entities: &[trendwatch::store::EntityInfo], to: i64) {
    let t = Instant::now();
    let mut n = 0;
    for e in entities {
        n += store.series(&e.id, "views", START, to).unwrap().len();
    }
    println!(
        "series() per entity, 10,000 calls: {n} samples in {:.3} s",
        t.elapsed().as_secs_f64()
    );
}
