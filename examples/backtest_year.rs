//! Times `backtest` over one year of 3-hourly samples of 300 hashtags, replayed every 3 hours
//! (the speed target: under 30 s), and prints what it found.
//!
//! `cargo run --release --example backtest_year`

// The generator is test data, shared with the tests rather than shipped in the library.
#[path = "../tests/support/synth/mod.rs"]
#[allow(dead_code)]
mod synth;

use std::time::Instant;

use synth::{default_detect_config, generate, input_of, SynthConfig};
use trendwatch::detect::{backtest, TrendKind};

fn main() {
    let synth = SynthConfig {
        days: 365,
        emergences: 20,
        per_decoy: 40,
        ..SynthConfig::default()
    };
    let series = generate(1, &synth);
    let input = input_of(&series, synth.end());
    let cfg = default_detect_config();
    let from = synth.start + 15 * 86_400;
    let started = Instant::now();
    let onsets = backtest(&input, &cfg, from, synth.end(), 3 * 3600);
    let elapsed = started.elapsed();
    let steps = (synth.end() - from) / (3 * 3600) + 1;
    let mut kinds = std::collections::BTreeMap::<TrendKind, usize>::new();
    for o in &onsets {
        *kinds.entry(o.trend.kind).or_default() += 1;
    }
    println!(
        "{} tags x {} days, {steps} replayed moments: {:.2} s, {} onsets {kinds:?}",
        series.len(),
        synth.days,
        elapsed.as_secs_f64(),
        onsets.len()
    );
}
