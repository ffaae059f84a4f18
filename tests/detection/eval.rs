//! The detection targets on synthetic counters, on three seeds of each variant, against the
//! naive 24-hour/14-day rule:
//! - exact and small-count counters: F1 ≥ 0.95 on every seed, median lag from "rate
//!   doubled" to the first alert ≤ 7 h on every seed and ≤ 6 h on average, no decoy
//!   `emerging` at the end time;
//! - rounded counters (three significant figures, most samples unchanged): F1 ≥ 0.93 and at
//!   most two decoys `emerging` at the end on every seed, where the timing of views is only
//!   known to within a display step;
//! - always better than the rule on F1 and lag.

use trendwatch::detect::synth::{default_detect_config, evaluate, Evaluation, SynthConfig};

const SEEDS: [u64; 3] = [11, 42, 2026];

fn check(variant: &str, synth: &SynthConfig, min_f1: f64, max_decoys: usize) -> Vec<f64> {
    let cfg = default_detect_config();
    let mut lags = Vec::new();
    for seed in SEEDS {
        let e: Evaluation = evaluate(seed, synth, &cfg);
        let ours = &e.trendwatch;
        assert_eq!(
            ours.true_positives + ours.false_negatives,
            synth.emergences,
            "{variant} seed {seed}"
        );
        assert!(
            ours.f1() >= min_f1,
            "{variant} seed {seed}: F1 {:.3}",
            ours.f1()
        );
        let lag = ours.median_lag_h().expect("some emergence alerted");
        lags.push(lag);
        let decoys: usize = ours.decoy_alerts.iter().map(|d| d.1).sum();
        assert!(
            decoys <= max_decoys,
            "{variant} seed {seed}: decoys alerting {:?}",
            ours.decoy_alerts
        );
        let naive_lag = e.naive.median_lag_h().unwrap_or(f64::INFINITY);
        assert!(
            ours.f1() > e.naive.f1(),
            "{variant} seed {seed}: F1 not better than the rule"
        );
        assert!(
            lag < naive_lag,
            "{variant} seed {seed}: lag not better than the rule"
        );
    }
    lags
}

fn assert_fast(variant: &str, lags: &[f64]) {
    assert!(
        lags.iter().all(|l| *l <= 7.0),
        "{variant}: median lags {lags:?}"
    );
    let mean = lags.iter().sum::<f64>() / lags.len() as f64;
    assert!(mean <= 6.0, "{variant}: median lags {lags:?}");
}

#[test]
fn exact_counters_meet_the_targets() {
    let lags = check("exact", &SynthConfig::default(), 0.95, 0);
    assert_fast("exact", &lags);
}

#[test]
fn small_counts_meet_the_targets() {
    let lags = check("small counts", &SynthConfig::small_counts(), 0.95, 0);
    assert_fast("small counts", &lags);
}

#[test]
fn rounded_counters_stay_accurate() {
    let lags = check("rounded", &SynthConfig::rounded(), 0.93, 2);
    assert!(lags.iter().all(|l| *l <= 12.0), "rounded: {lags:?}");
}
