//! The week of the simulated platform through the library stages, without the daemon: a
//! collection pass every 3 simulated hours (the platform's clock stopped at each tick), every
//! pass stored, and detection run as of 08:00 each day. Every planted trend is detected, the
//! steady tags never are, the injected faults are recorded on their entities, and every sample
//! served on a successful response is in the store. `e2e_week.rs` then runs the same week
//! through the real daemon; this test tells a scenario problem from a daemon problem.

use crate::support;

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use support::sim::{week_scenario, SimPlatform};
use tokio_util::sync::CancellationToken;
use trendwatch::collect::{Collector, Target};
use trendwatch::config::{CollectConfig, DetectConfig, Discovery, TiktokWatch, Watchlist};
use trendwatch::detect::{self, TrendKind};
use trendwatch::store::Store;

const START: i64 = 1_794_787_200; // Monday 2026-11-16 00:00 UTC
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_of_passes_detects_every_planted_trend_and_stores_every_sample() {
    let mut scenario = week_scenario();
    scenario.faults.slow_delay = Duration::from_millis(1200);
    let sim = SimPlatform::start(scenario.clone(), START, 1.0).await;
    let cfg = CollectConfig {
        timeout: Duration::from_millis(400),
        retries: 1,
        max_body: 2 * 1024 * 1024,
        ..crate::common::collect_config(&sim.uri())
    };
    let watchlist = Watchlist {
        path: PathBuf::from("watchlist.toml"),
        tiktok: TiktokWatch {
            hashtags: scenario.tags.iter().map(|(t, _)| t.clone()).collect(),
            creators: scenario.creators.iter().map(|c| c.handle.clone()).collect(),
        },
        discovery: Discovery {
            enabled: true,
            keywords: vec!["naturel".into(), "bio".into(), "skincare".into()],
            max_tracked: 20,
        },
        sources: Vec::new(),
        campaigns: Vec::new(),
        shop: Default::default(),
    };
    let detect_cfg = DetectConfig {
        baseline: Duration::from_secs(3 * DAY as u64),
        recent: Duration::from_secs(DAY as u64),
        min_rate: 1000.0,
        min_views: trendwatch::config::DEFAULT_MIN_VIEWS,
        min_score: 3.0,
    };
    let targets: Vec<Target> = watchlist
        .tiktok
        .hashtags
        .iter()
        .map(|t| Target::TiktokHashtag(t.clone()))
        .chain(
            watchlist
                .tiktok
                .creators
                .iter()
                .map(|c| Target::TiktokCreator(c.clone())),
        )
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let collector = Collector::new(&cfg).unwrap();

    let mut reported: Vec<(i64, TrendKind, String, Option<String>)> = Vec::new();
    let mut failures = 0;
    let end = START + 7 * DAY + 9 * HOUR;
    let mut tick = START;
    while tick <= end {
        sim.freeze(Some(tick as f64));
        let mut outcomes = collector.collect(&targets, &CancellationToken::new()).await;
        // The collector stamps outcomes with the process clock: restamp with the tick.
        for o in &mut outcomes {
            if let Some(obs) = &mut o.observation {
                obs.at = tick;
            }
            if let Some(f) = &mut o.failure {
                f.at = tick;
                failures += 1;
            }
        }
        store.record_pass(&outcomes).unwrap();
        let next = tick + 3 * HOUR;
        // Detection as the daily digest at 08:00 would run it.
        let digest_at = tick - tick.rem_euclid(DAY) + 8 * HOUR;
        if tick < digest_at && next > digest_at {
            let input = detect::load_input(&store, &watchlist, &detect_cfg, digest_at).unwrap();
            for t in detect::detect(&input, &detect_cfg, digest_at) {
                reported.push((
                    (digest_at - START) / DAY,
                    t.kind,
                    t.entity.to_string(),
                    t.details.video_id().map(str::to_string),
                ));
            }
        }
        tick = next;
    }
    sim.freeze(None);

    println!("trends reported at 08:00 each day:\n{}", {
        let lines: BTreeSet<String> = reported
            .iter()
            .map(|(d, k, e, _)| format!("  day {d}: {k:?} {e}"))
            .collect();
        lines.into_iter().collect::<Vec<_>>().join("\n")
    });
    let found = |kind: TrendKind, entity: &str| {
        reported
            .iter()
            .any(|(_, k, e, _)| *k == kind && e == entity)
    };
    let summary: BTreeSet<String> = reported
        .iter()
        .map(|(d, k, e, _)| format!("day {d} {k:?} {e}"))
        .collect();
    assert!(
        found(TrendKind::Emerging, "tiktok:#mushroomcoffee"),
        "{summary:#?}"
    );
    assert!(
        found(TrendKind::Emerging, "tiktok:#guashaglace"),
        "{summary:#?}"
    );
    assert!(
        found(TrendKind::Discovered, "tiktok:#seamossnaturel"),
        "{summary:#?}"
    );
    assert!(
        found(TrendKind::RisingCreator, "tiktok:@sim.rising"),
        "{summary:#?}"
    );
    let breakout = sim.breakout_video_ids();
    assert!(
        reported
            .iter()
            .any(|(_, k, _, v)| *k == TrendKind::BreakoutVideo
                && v.as_ref().is_some_and(|v| breakout.contains(v))),
        "breakout {breakout:?} not reported: {summary:#?}"
    );
    for quiet in [
        "tiktok:#routinevisage",
        "tiktok:#huilesessentielles",
        "tiktok:#bienetre",
        "tiktok:@sim.steady",
    ] {
        // The steady creator is only ever named as the author of its breakout video.
        assert!(
            !reported
                .iter()
                .any(|(_, k, e, _)| e == quiet && *k != TrendKind::BreakoutVideo),
            "{quiet} was reported: {summary:#?}"
        );
    }
    // Planted trends are not reported before they start.
    assert!(
        !reported.iter().any(|(d, _, _, _)| *d < 3),
        "nothing is planted before day 3: {summary:#?}"
    );

    // Faults were injected and recorded on their entities.
    let faults = sim.faults();
    assert!(faults.bot_wall > 0 && faults.too_many > 0 && faults.slow > 0 && faults.truncated > 0);
    assert!(failures > 0);
    let infos = store.entities().unwrap();
    for flaky in sim.faulted_entities() {
        let info = infos.iter().find(|i| i.id.to_string() == flaky).unwrap();
        assert!(
            info.last_failure.is_some(),
            "{flaky} has no failure recorded"
        );
    }

    // Every sample served on a 200 is stored.
    let mut stored = HashSet::new();
    store
        .for_each_sample(None, START - DAY, end + DAY, |s| {
            stored.insert((s.entity.to_string(), s.metric.to_string(), s.value as u64));
        })
        .unwrap();
    let served = sim.served();
    assert!(served.len() > 500);
    let missing: Vec<_> = served
        .iter()
        .filter(|s| !stored.contains(&(s.entity.clone(), s.metric.clone(), s.value as u64)))
        .collect();
    assert!(missing.is_empty(), "served but not stored: {missing:?}");
    println!(
        "{} samples served and all stored; {failures} failures recorded; faults served: {faults:?}",
        served.len()
    );
}
