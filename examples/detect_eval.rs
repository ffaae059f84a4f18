//! Prints the detection evaluation table: trendwatch's detector against the naive rule
//! (24-hour rate over the previous 14-day rate > 3) on synthetic hashtag counters with
//! planted emergences and decoys, for several seeds, exact, rounded and small counters.
//!
//! `cargo run --release --example detect_eval [SEED…]` (default seeds 1 2 3 4 5);
//! `-- --display [SEED…]`: counters as TikTok displays them (coarse, and tiny tags), alert
//! onsets per tag-week when `backtest` replays every 3 hours; `-- --display-csv SEED`: one
//! seed of those counters as CSV for `trendwatch import`. `MIN_SCORE=…` and `MIN_VIEWS=…` in
//! the environment evaluate another `[detect]` setting.

// The generator is test data, shared with the tests rather than shipped in the library.
#[path = "../tests/support/synth/mod.rs"]
#[allow(dead_code)]
mod synth;

use synth::{default_detect_config, evaluate, MethodScore, SynthConfig};

fn lag(m: &MethodScore) -> String {
    m.median_lag_h()
        .map(|l| format!("{l:.1}"))
        .unwrap_or_else(|| "-".into())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seeds: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if args.iter().any(|a| a == "--display-csv") {
        return display_csv(seeds.first().copied().unwrap_or(1));
    }
    if args.iter().any(|a| a == "--display") {
        return display_counters(&seeds);
    }
    let seeds = if seeds.is_empty() {
        vec![1, 2, 3, 4, 5]
    } else {
        seeds
    };
    let mut cfg = default_detect_config();
    if let Some(views) = std::env::var("MIN_VIEWS").ok().and_then(|v| v.parse().ok()) {
        cfg.min_views = views;
    }
    println!(
        "| variant | seed | method | TP | FP | FN | precision | recall | F1 | median lag (h) | decoy alerts at end (plain/spike/fad/weekly/slow/recount/gap) | decoys alerting in 7-day replay |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let variants = [
        ("exact", SynthConfig::default()),
        ("rounded", SynthConfig::rounded()),
        ("small counts", SynthConfig::small_counts()),
    ];
    for (variant, synth) in &variants {
        for &seed in &seeds {
            let e = evaluate(seed, synth, &cfg);
            for (name, m) in [("trendwatch", &e.trendwatch), ("naive rule", &e.naive)] {
                let decoys: Vec<String> = m.decoy_alerts.iter().map(|d| d.1.to_string()).collect();
                println!(
                    "| {} | {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {} | {} | {} |",
                    variant,
                    seed,
                    name,
                    m.true_positives,
                    m.false_positives,
                    m.false_negatives,
                    m.precision(),
                    m.recall(),
                    m.f1(),
                    lag(m),
                    decoys.join("/"),
                    m.decoys_alerting_in_replay
                );
            }
        }
    }
}

/// Counters as TikTok displays them (coarse, and tiny tags of 5–100 views an hour): alert
/// onsets per tag-week when `backtest` replays every 3 hours, and the take-offs caught.
fn display_counters(seeds: &[u64]) {
    use synth::display::{evaluate, generate, DisplayConfig};
    let seeds = if seeds.is_empty() {
        vec![1, 2, 3]
    } else {
        seeds.to_vec()
    };
    let mut cfg = default_detect_config();
    if let Some(score) = std::env::var("MIN_SCORE").ok().and_then(|v| v.parse().ok()) {
        cfg.min_score = score;
    }
    if let Some(views) = std::env::var("MIN_VIEWS").ok().and_then(|v| v.parse().ok()) {
        cfg.min_views = views;
    }
    println!("| variant | seed | quiet tag-weeks | emerging / spike / cooling per quiet tag-week | same, all tag-weeks | take-offs (visible) | recall (visible) | precision | F1 | median lag (h) |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (variant, synth) in [
        ("coarse", DisplayConfig::default()),
        ("tiny", DisplayConfig::tiny()),
    ] {
        for &seed in &seeds {
            let series = generate(seed, &synth);
            let s = evaluate(&series, &synth, &cfg, 3 * 3600);
            println!(
                "| {variant} | {seed} | {:.0} | {:.4} / {:.4} / {:.4} | {:.4} / {:.4} / {:.4} | {} ({}) | {:.3} ({:.3}) | {:.3} | {:.3} | {} |",
                s.quiet_tag_weeks,
                s.per_quiet_tag_week(0),
                s.per_quiet_tag_week(1),
                s.per_quiet_tag_week(2),
                s.per_tag_week(0),
                s.per_tag_week(1),
                s.per_tag_week(2),
                s.take_offs,
                s.visible,
                s.recall(),
                s.visible_recall(),
                s.precision(),
                s.f1(),
                s.median_lag_h().map_or("-".into(), |l| format!("{l:.0}")),
            );
        }
    }
}

/// One seed of coarse display counters (40 tags) as CSV for `trendwatch import`, to try
/// `backtest --summary` on counters like TikTok's.
fn display_csv(seed: u64) {
    use synth::display::{generate, DisplayConfig};
    let synth = DisplayConfig {
        tags: 40,
        ..DisplayConfig::default()
    };
    println!("entity,timestamp,metric,value");
    for s in generate(seed, &synth) {
        for (t, v) in &s.points {
            println!("{},{t},views,{v}", s.entity);
        }
    }
}
