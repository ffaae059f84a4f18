#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The detection targets on synthetic counters, on three seeds: F1 ≥ 0.9, median lag from
//! "rate doubled" to the first alert ≤ 10 hours, no alert on any decoy kind, and better than
//! the naive 24-hour/14-day rule on both F1 and lag.

use trendwatch::detect::synth::{default_detect_config, evaluate, SynthConfig};

#[test]
fn detector_meets_targets_and_beats_the_naive_rule_on_three_seeds() {
    let synth = SynthConfig::default();
    let cfg = default_detect_config();
    for seed in [11, 42, 2026] {
        let e = evaluate(seed, &synth, &cfg);
        let ours = &e.trendwatch;
        assert_eq!(
            ours.true_positives + ours.false_negatives,
            synth.emergences,
            "seed {seed}"
        );
        assert!(ours.f1() >= 0.9, "seed {seed}: F1 {:.3}", ours.f1());
        let lag = ours.median_lag_h().expect("some emergence alerted");
        assert!(lag <= 10.0, "seed {seed}: median lag {lag:.1} h");
        for (kind, n) in &ours.decoy_alerts {
            assert_eq!(*n, 0, "seed {seed}: {} alerted {n} times", kind.as_str());
        }
        assert_eq!(ours.decoys_alerting_in_replay, 0, "seed {seed}");
        let naive_lag = e.naive.median_lag_h().unwrap_or(f64::INFINITY);
        assert!(
            ours.f1() > e.naive.f1(),
            "seed {seed}: F1 not better than the rule"
        );
        assert!(lag < naive_lag, "seed {seed}: lag not better than the rule");
    }
}
