//! trendwatch's detector on NAB's realTweets (real Twitter mention volumes with labelled
//! anomaly windows), scored like NAB's standard profile, next to the naive rule.
//!
//! `cargo run --release --example detect_nab [NAB_DIR]` (default `../shared/data/nab`).
//! Each 5-minute count series becomes a cumulative counter sampled every hour (and every
//! 3 hours, like the default schedule); `detect` is replayed at every sample with the
//! default `[detect]` settings except `min_rate = 0` (mention counts are small); an alert
//! that starts (neither `emerging` nor `spike` at the previous replay) is one detection.
//!
//! Scoring (NAB standard profile, our implementation): the first detection inside a window
//! earns `2·sigmoid(-5·p) - 1` where `p` runs from -1 at the window start to 0 at its end; a
//! window without detection costs 1; a detection outside windows costs 0.11 times
//! `-(2·sigmoid(-5·p) - 1)` with `p` its distance after the previous window in window
//! lengths (a full 0.11 before the first window); detections in the first 15 % of a file
//! (NAB's probation: min(15 %, 750 rows)) are ignored. Normalised so that no detection scores 0 and a detection
//! at the start of every window scores 100.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// The generator is test data, shared with the tests rather than shipped in the library.
#[path = "../tests/support/synth/mod.rs"]
#[allow(dead_code)]
mod synth;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use synth::{default_detect_config, naive_rule};
use trendwatch::detect::{detect, DetectInput, EntitySeries, TrendKind};
use trendwatch::model::Metric;
use trendwatch::model::{EntityId, UnixSeconds};

fn parse_time(s: &str) -> UnixSeconds {
    let s = s.split('.').next().unwrap_or(s);
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .map(|t| t.and_utc().timestamp())
        .unwrap_or_else(|e| panic!("bad time {s}: {e}"))
}

fn read_series(path: &Path) -> Vec<(UnixSeconds, f64)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let (t, v) = l.split_once(',')?;
            Some((parse_time(t), v.trim().parse().ok()?))
        })
        .collect()
}

/// A second naive rule, closer to a burst detector: the last 3 hours' rate is more than 3
/// times the rate of the 7 days before.
fn burst_rule(points: &[(UnixSeconds, f64)], at: UnixSeconds) -> bool {
    let value = |t: UnixSeconds| -> Option<f64> {
        let i = points.partition_point(|p| p.0 <= t);
        i.checked_sub(1).map(|i| points[i].1)
    };
    let (Some(now), Some(before), Some(old)) = (
        value(at),
        value(at - 3 * 3600),
        value(at - 3 * 3600 - 7 * 86_400),
    ) else {
        return false;
    };
    let recent = (now - before) / 3.0;
    let usual = (before - old) / (7.0 * 24.0);
    recent > 3.0 * usual.max(0.0)
}

fn scaled_sigmoid(p: f64) -> f64 {
    if p > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * p).exp()) - 1.0
    }
}

/// NAB-style raw score of detections against windows, and the perfect raw score.
fn nab_score(
    detections: &[UnixSeconds],
    windows: &[(UnixSeconds, UnixSeconds)],
    probation_end: UnixSeconds,
) -> (f64, f64, usize, usize) {
    let mut raw = 0.0;
    let mut hit = vec![false; windows.len()];
    let mut fps = 0;
    for &d in detections.iter().filter(|d| **d >= probation_end) {
        if let Some((w, &(s, e))) = windows
            .iter()
            .enumerate()
            .find(|(_, w)| d >= w.0 && d <= w.1)
        {
            if !hit[w] {
                hit[w] = true;
                let len = (e - s).max(1) as f64;
                let p = -((e - d) as f64) / len;
                raw += scaled_sigmoid(p);
            }
        } else {
            fps += 1;
            let prev = windows.iter().filter(|w| w.1 < d).max_by_key(|w| w.1);
            raw += match prev {
                Some(&(s, e)) => 0.11 * scaled_sigmoid((d - e) as f64 / (e - s).max(1) as f64),
                None => -0.11,
            };
        }
    }
    let misses = hit.iter().filter(|h| !**h).count();
    raw -= misses as f64;
    (
        raw,
        windows.len() as f64 * scaled_sigmoid(-1.0),
        windows.len() - misses,
        fps,
    )
}

fn main() {
    let dir: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data/nab"));
    let windows_json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("realTweets_windows.json")).expect("windows file"),
    )
    .expect("windows json");
    let files: BTreeMap<String, Vec<(UnixSeconds, UnixSeconds)>> = windows_json
        .as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| {
            let w = v
                .as_array()
                .expect("array")
                .iter()
                .map(|p| {
                    (
                        parse_time(p[0].as_str().expect("start")),
                        parse_time(p[1].as_str().expect("end")),
                    )
                })
                .collect();
            (k.clone(), w)
        })
        .collect();
    println!("| sampling | method | min_score | windows detected | detections outside windows | NAB standard score |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let shipped = default_detect_config().min_score;
    for (step, min_score) in [
        (3600, shipped),
        (3600, shipped - 1.0),
        (3 * 3600, shipped),
        (3 * 3600, shipped - 1.0),
    ] {
        let mut cfg = default_detect_config();
        cfg.min_rate = 0.0;
        cfg.min_views = 0.0;
        cfg.min_score = min_score;
        let mut totals = [(0.0, 0.0, 0, 0, 0); 3];
        for (file, windows) in &files {
            let rows = read_series(&dir.join(file));
            let Some(first) = rows.first().map(|r| r.0) else {
                continue;
            };
            // NAB's probation: the first min(15 %, 750) rows are not scored.
            let probation_end = rows[(rows.len() * 15 / 100).min(750)].0;
            // Cumulative counter sampled every `step`.
            let mut counter = Vec::new();
            let mut sum = 0.0;
            let mut next = first;
            for &(t, v) in &rows {
                sum += v;
                if t >= next {
                    counter.push((t, sum));
                    next = t + step;
                }
            }
            let entity = EntityId::hashtag("tiktok", "nab");
            let input = DetectInput {
                entities: vec![EntitySeries {
                    entity: entity.clone(),
                    first_seen: Some(first),
                    metrics: vec![(Metric::VIEWS, counter.clone())],
                }],
                ..DetectInput::default()
            };
            for (m, total) in totals.iter_mut().enumerate() {
                let mut detections = Vec::new();
                let mut was = false;
                for &(at, _) in &counter {
                    let now = match m {
                        0 => detect(&input, &cfg, at)
                            .iter()
                            .any(|t| matches!(t.kind, TrendKind::Emerging | TrendKind::Spike)),
                        1 => naive_rule(&counter, at, cfg.min_rate),
                        _ => burst_rule(&counter, at),
                    };
                    if now && !was {
                        detections.push(at);
                    }
                    was = now;
                }
                if std::env::var_os("NAB_DEBUG").is_some() {
                    eprintln!(
                        "{file} {m}: {:?}",
                        detections
                            .iter()
                            .map(|d| chrono::DateTime::from_timestamp(*d, 0).unwrap().to_string())
                            .collect::<Vec<_>>()
                    );
                }
                let (raw, perfect, hits, fps) = nab_score(&detections, windows, probation_end);
                total.0 += raw;
                total.1 += perfect;
                total.2 += hits;
                total.3 += fps;
                total.4 += windows.len();
            }
        }
        for (m, (raw, perfect, hits, fps, n)) in totals.iter().enumerate() {
            let null = -(*n as f64);
            let score = 100.0 * (raw - null) / (perfect - null);
            println!(
                "| every {} h | {} | {} | {hits}/{n} | {fps} | {score:.1} |",
                step / 3600,
                [
                    "trendwatch",
                    "naive rule 24 h / 14 d",
                    "naive rule 3 h / 7 d"
                ][m],
                if m == 0 {
                    format!("{min_score}")
                } else {
                    "-".into()
                }
            );
        }
    }
}
