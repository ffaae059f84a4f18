//! `trendwatch detect` as the real binary over a tempdir store: the JSON of the contract, the
//! readable table, and `--at` replaying a past moment that did not see the take-off yet.

use crate::common::{Setup, TestConfig};

use crate::synth::{default_detect_config, generate, SeriesKind, SynthConfig};
use trendwatch::detect::{detect, load_input, load_input_between, TrendKind};
use trendwatch::model::Metric;
use trendwatch::model::Sample;
use trendwatch::store::Store;

fn rfc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A store holding three planted emergences and one series of each decoy kind.
fn stored_env() -> Setup {
    let env = Setup::new(TestConfig::new());
    let synth = SynthConfig {
        emergences: 3,
        per_decoy: 1,
        ..SynthConfig::default()
    };
    let series = generate(3, &synth);
    let samples: Vec<Sample> = series
        .iter()
        .flat_map(|s| {
            s.points.iter().map(|&(at, value)| Sample {
                entity: s.entity.clone(),
                at,
                metric: Metric::VIEWS,
                value,
            })
        })
        .collect();
    let end = synth.end();
    let cfg = default_detect_config();
    {
        let store = Store::open(&env.state()).unwrap();
        store.insert_samples(&samples).unwrap();
        // load_input sees what the pure detector sees.
        let mut watchlist = trendwatch::config::Watchlist::default();
        watchlist.tiktok.hashtags = vec!["skincarenaturel".into()];
        let input = load_input(&store, &watchlist, &cfg, end).unwrap();
        let trends = detect(&input, &cfg, end);
        let planted: Vec<_> = series
            .iter()
            .filter(|s| s.kind == SeriesKind::Emergence)
            .map(|s| s.entity.clone())
            .collect();
        let mut found: Vec<_> = trends
            .iter()
            .filter(|t| t.kind == TrendKind::Emerging)
            .map(|t| t.entity.clone())
            .collect();
        found.sort();
        assert_eq!(found, planted);
        // The only other trends possible are the fad that rose and faded (cooling) and
        // bursts of a few hours in the last day (spikes).
        for t in trends.iter().filter(|t| t.kind != TrendKind::Emerging) {
            let name = t.entity.as_str();
            match t.kind {
                TrendKind::Cooling => assert!(name.starts_with("tiktok:#fadedfad"), "{t:?}"),
                TrendKind::Spike => assert!(
                    name.starts_with("tiktok:#fadedfad")
                        || name.starts_with("tiktok:#onehourspike"),
                    "{t:?}"
                ),
                _ => panic!("unexpected {t:?}"),
            }
        }
        // A backtest sees at each step exactly what load_input at that step gives.
        let from = end - 2 * 86_400;
        let all = load_input_between(&store, &watchlist, &cfg, from, end).unwrap();
        let mut at = from;
        while at <= end {
            let alone = load_input(&store, &watchlist, &cfg, at).unwrap();
            assert_eq!(
                detect(&all.as_of(&cfg, at), &cfg, at),
                detect(&alone, &cfg, at),
                "at {at}"
            );
            at += 3 * 3600;
        }
        // Three days earlier nothing had taken off yet, even with later samples stored.
        let input = load_input(&store, &watchlist, &cfg, end - 3 * 86_400).unwrap();
        assert!(detect(&input, &cfg, end - 3 * 86_400).is_empty());
    }
    env
}

#[test]
fn load_input_reads_the_store_as_of_a_time() {
    stored_env();
}

#[test]
fn detect_command_prints_json_and_a_table_and_replays_the_past() {
    let env = stored_env();
    let end = SynthConfig::default().end();

    let out = env.run(&["detect", "--json", "--at", &rfc(end)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = json.as_array().unwrap();
    let emerging = arr.iter().filter(|o| o["kind"] == "emerging").count();
    assert_eq!(emerging, 3, "{json}");
    let scores: Vec<f64> = arr.iter().map(|o| o["score"].as_f64().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );
    for o in arr.iter().filter(|o| o["kind"] == "emerging") {
        assert!(o["entity"]
            .as_str()
            .unwrap()
            .starts_with("tiktok:#emergence"));
        assert!(o["since"].as_str().unwrap().ends_with('Z'));
        assert!(o["evidence"].as_str().unwrap().contains("14-day baseline"));
    }

    // Three days earlier nothing had taken off yet.
    let out = env.run(&["detect", "--json", "--at", &rfc(end - 3 * 86_400)]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 0, "{json}");

    // The table names each trend, ranked.
    let out = env.run(&["detect", "--at", &rfc(end)]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("  1  "), "{text}");
    assert!(text.contains("tiktok:#emergence"), "{text}");

    // A bad time is a user error.
    let out = env.run(&["detect", "--at", "yesterday"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn backtest_prints_each_onset_as_detect_at_saw_it() {
    let env = stored_env();
    let end = SynthConfig::default().end();
    let from = end - 3 * 86_400;
    let backtest = |from: i64, to: i64, extra: &[&str]| {
        let (from, to) = (rfc(from), rfc(to));
        let mut args = vec!["backtest", "--from", &from, "--to", &to];
        args.extend_from_slice(extra);
        env.run(&args)
    };
    let out = backtest(from, end, &["--every", "3h", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let onsets = json.as_array().unwrap();
    // Each planted take-off has one emerging onset (a fad is emerging too while it lasts),
    // and onsets come in time order.
    let mut emerging: Vec<&str> = onsets
        .iter()
        .filter(|o| o["kind"] == "emerging")
        .map(|o| o["entity"].as_str().unwrap())
        .filter(|e| e.starts_with("tiktok:#emergence"))
        .collect();
    emerging.sort();
    emerging.dedup();
    assert_eq!(emerging.len(), 3, "{json}");
    let times: Vec<&str> = onsets.iter().map(|o| o["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // At each onset, `detect --at` reports it, and one step before it did not.
    for o in onsets.iter().filter(|o| o["kind"] == "emerging") {
        let at = trendwatch::store::interchange::parse_time(o["at"].as_str().unwrap()).unwrap();
        let reported = |t: i64| {
            let out = env.run(&["detect", "--json", "--at", &rfc(t)]);
            assert!(out.status.success());
            let now: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            now.as_array()
                .unwrap()
                .iter()
                .find(|x| x["entity"] == o["entity"] && x["kind"] == o["kind"])
                .cloned()
        };
        let same = reported(at).expect("detect --at reports the onset");
        assert_eq!(same["score"], o["score"]);
        assert_eq!(same["evidence"], o["evidence"]);
        if at > from {
            assert!(reported(at - 3 * 3600).is_none(), "{o}");
        }
    }

    // The table is readable, and bad arguments are user errors.
    let out = backtest(from, end, &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("emerging") && text.contains("tiktok:#emergence"),
        "{text}"
    );
    // The summary counts the same onsets per kind, per tag-week and per week.
    let out = backtest(from, end, &["--summary", "--json"]);
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let emerging_onsets = onsets.iter().filter(|o| o["kind"] == "emerging").count();
    assert_eq!(summary["kinds"]["emerging"]["onsets"], emerging_onsets);
    let tags = summary["hashtags"].as_f64().unwrap();
    let weeks = summary["weeks"].as_f64().unwrap();
    assert!(tags > 0.0 && (weeks - 3.0 / 7.0).abs() < 1e-9, "{summary}");
    let per = summary["kinds"]["emerging"]["per_entity_week"]
        .as_f64()
        .unwrap();
    assert!(
        (per - emerging_onsets as f64 / (tags * weeks)).abs() < 1e-9,
        "{summary}"
    );
    let out = backtest(from, end, &["--summary"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("PER ENTITY-WEEK") && text.contains("one false alarm per tag"),
        "{text}"
    );
    let out = backtest(end, from, &[]);
    assert_eq!(out.status.code(), Some(1));
    let out = backtest(from, end, &["--every", "soon"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--every"));
}
