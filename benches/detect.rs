//! `detect` over 10,000 hashtags × 30 days of hourly samples (the speed target:
//! under 1 s on 2 cores). `cargo bench --bench detect`.

// The generator is test data, shared with the tests rather than shipped in the library.
#[path = "../tests/support/synth/mod.rs"]
#[allow(dead_code)]
mod synth;

use criterion::{criterion_group, criterion_main, Criterion};
use synth::{default_detect_config, generate, input_of, SynthConfig};
use trendwatch::detect::detect;

fn bench(c: &mut Criterion) {
    let synth = SynthConfig {
        every: 3600,
        jitter: 5 * 60,
        emergences: 3_000,
        per_decoy: 1_000,
        ..SynthConfig::default()
    };
    let series = generate(1, &synth);
    assert_eq!(series.len(), 10_000);
    let input = input_of(&series, synth.end());
    let cfg = default_detect_config();
    let trends = detect(&input, &cfg, synth.end());
    let mut by_kind = std::collections::BTreeMap::new();
    for t in &trends {
        let s = series.iter().find(|s| s.entity == t.entity).map(|s| s.kind);
        *by_kind.entry((t.kind, s)).or_insert(0) += 1;
    }
    eprintln!(
        "10,000 entities x 30 days hourly: {} trends {by_kind:?}",
        trends.len()
    );
    let mut g = c.benchmark_group("detect");
    g.sample_size(10);
    g.bench_function("10k_entities_30d_hourly", |b| {
        b.iter(|| detect(&input, &cfg, synth.end()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
