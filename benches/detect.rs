//! The pure stages over large inputs: `detect` over 10,000 hashtags × 30 days of hourly
//! samples (target: under 1 s on 2 cores), and campaign KPIs for 50 campaigns × 20 videos ×
//! 60 days of readings every 3 hours (target: under 1 s). `cargo bench --bench detect`.

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

/// 50 campaigns of 20 videos, each with 60 days of readings every 3 hours of its five
/// counters and its creator's followers (2.9 M points in all).
fn campaigns_bench(c: &mut Criterion) {
    use trendwatch::campaign::{kpis, CampaignInput};
    use trendwatch::config::{Campaign, CampaignVideo, Objective};
    use trendwatch::model::Metric;
    let Some(start) = chrono::NaiveDate::from_ymd_opt(2026, 9, 1) else {
        return;
    };
    let t0: i64 = 1_788_220_800; // 2026-09-01
    let at = t0 + 60 * 86_400;
    let mut work = Vec::new();
    for c in 0..50u64 {
        let videos: Vec<CampaignVideo> = (0..20u64)
            .map(|v| CampaignVideo {
                handle: format!("createur{c}_{v}"),
                video_id: (((t0 as u64) << 32) + c * 100 + v).to_string(),
                cost: (v % 3 != 0).then_some(150.0),
            })
            .collect();
        let mut input = CampaignInput::default();
        for v in &videos {
            let series = input.series.entry(v.entity()).or_default();
            for (k, m) in Metric::VIDEO_COUNTERS
                .into_iter()
                .chain([Metric::FOLLOWERS])
                .enumerate()
            {
                let points = (0..480i64)
                    .map(|i| (t0 + i * 10_800, (i * 100) as f64 / (k + 1) as f64))
                    .collect();
                series.insert(m, points);
            }
        }
        let campaign = Campaign {
            name: format!("campagne {c}"),
            start,
            end: None,
            objective: Objective::Engagement,
            currency: "EUR".into(),
            budget: Some(5000.0),
            revenue: Some(6000.0),
            hashtags: vec![],
            videos,
            creators: vec![],
        };
        work.push((campaign, input));
    }
    let mut g = c.benchmark_group("campaign");
    g.sample_size(10);
    g.bench_function("50_campaigns_20_videos_60d", |b| {
        b.iter(|| {
            work.iter()
                .map(|(c, input)| kpis(c, input, at).views)
                .sum::<f64>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench, campaigns_bench);
criterion_main!(benches);
