//! The simulated platform speaks TikTok as trendwatch's collector reads it: its pages parse,
//! the numbers collected are the numbers it served, and the scenario's planted signals (a
//! rising follower count, a breakout video, a new hashtag riding along) are in what a pass
//! collects. The week-long end-to-end test (`e2e_week.rs`) relies on all of this.

use crate::support;

use std::collections::HashMap;

use support::sim::{week_scenario, SimPlatform};
use tokio_util::sync::CancellationToken;
use trendwatch::collect::{Collector, Target};
use trendwatch::config::CollectConfig;

const START: i64 = 1_794_787_200;
const DAY: i64 = 86_400;

fn collect_config(base: &str) -> CollectConfig {
    CollectConfig {
        retries: 0,
        max_body: 2 * 1024 * 1024,
        ..crate::common::collect_config(base)
    }
}

/// One pass over every entity of the scenario that never gets faults, with the clock frozen
/// (scale ~0) at `day` of the scenario.
async fn pass_at(day: i64) -> (SimPlatform, Vec<trendwatch::model::EntityOutcome>) {
    let mut scenario = week_scenario();
    scenario.faulty.clear();
    let targets: Vec<Target> = scenario
        .tags
        .iter()
        .map(|(t, _)| Target::TiktokHashtag(t.clone()))
        .chain(
            scenario
                .creators
                .iter()
                .map(|c| Target::TiktokCreator(c.handle.clone())),
        )
        .collect();
    let sim = SimPlatform::start_at(scenario, START, START + day * DAY, 1e-9).await;
    let collector = Collector::new(&collect_config(&sim.uri())).unwrap();
    let outcomes = collector.collect(&targets, &CancellationToken::new()).await;
    (sim, outcomes)
}

fn metric(o: &trendwatch::model::EntityOutcome, name: &str) -> f64 {
    o.observation
        .as_ref()
        .unwrap()
        .metrics
        .iter()
        .find(|(m, _)| m == name)
        .unwrap_or_else(|| panic!("{} has no {name}", o.entity))
        .1
}

#[tokio::test]
async fn every_simulated_page_collects_as_the_numbers_served() {
    let (sim, outcomes) = pass_at(6).await;
    assert_eq!(outcomes.len(), 9);
    let served: HashMap<(String, String), f64> = sim
        .served()
        .into_iter()
        .map(|s| ((s.entity, s.metric), s.value))
        .collect();
    assert_eq!(
        served.len(),
        6 + 3 * 4,
        "views of 6 tags, 4 counts of 3 creators"
    );
    for o in &outcomes {
        assert!(o.failure.is_none(), "{}: {:?}", o.entity, o.failure);
        let obs = o.observation.as_ref().unwrap();
        for (m, v) in &obs.metrics {
            let want = served.get(&(o.entity.to_string(), m.to_string()));
            assert_eq!(want, Some(v), "{} {m}", o.entity);
        }
    }
    let faults = sim.faults();
    assert_eq!(
        faults.bot_wall + faults.too_many + faults.slow + faults.truncated,
        0
    );
}

#[tokio::test]
async fn the_planted_signals_are_in_what_a_pass_collects() {
    let (early, early_outcomes) = pass_at(2).await;
    let (late, late_outcomes) = pass_at(6).await;
    let by = |os: &[trendwatch::model::EntityOutcome], e: &str| {
        os.iter()
            .find(|o| o.entity.to_string() == e)
            .unwrap()
            .clone()
    };
    // The rising creator gains followers far faster after day 4.5 than the steady one.
    let gain = |e: &str| {
        metric(&by(&late_outcomes, e), "followers") - metric(&by(&early_outcomes, e), "followers")
    };
    assert!(gain("tiktok:@sim.rising") > 3.0 * gain("tiktok:@sim.steady"));
    // An emerging tag's daily views multiply over the week; a steady tag's stay put.
    let (_, day1) = pass_at(1).await;
    let (_, day5) = pass_at(5).await;
    let views = |os: &[_], e: &str| metric(&by(os, e), "views");
    let daily_growth = |e: &str| {
        (views(&late_outcomes, e) - views(&day5, e)) / (views(&early_outcomes, e) - views(&day1, e))
    };
    assert!(daily_growth("tiktok:#mushroomcoffee") > 5.0);
    let steady = daily_growth("tiktok:#huilesessentielles");
    assert!((0.8..1.25).contains(&steady), "{steady}");

    // The discovered tag rides along on recent videos late in the week, not early.
    let tags_of = |os: &[trendwatch::model::EntityOutcome]| -> Vec<String> {
        os.iter()
            .filter_map(|o| o.observation.as_ref())
            .flat_map(|obs| obs.videos.iter().flat_map(|v| v.hashtags.clone()))
            .collect()
    };
    assert!(!tags_of(&early_outcomes).contains(&"seamossnaturel".to_string()));
    assert!(tags_of(&late_outcomes).contains(&"seamossnaturel".to_string()));

    // The breakout video is listed, with plays far above its author's usual.
    let ids = late.breakout_video_ids();
    let steady = by(&late_outcomes, "tiktok:@sim.steady");
    let videos = &steady.observation.as_ref().unwrap().videos;
    assert!(videos.len() >= 5);
    let breakout = videos.iter().find(|v| ids.contains(&v.id)).unwrap();
    let mut others: Vec<u64> = videos
        .iter()
        .filter(|v| v.id != breakout.id)
        .map(|v| v.plays)
        .collect();
    others.sort_unstable();
    assert!(breakout.plays > 10 * others[others.len() / 2]);
    drop(early);
}

#[tokio::test]
async fn the_smtp_sink_receives_mail_and_refuses_it_while_stopped() {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let mut sink = support::smtp::SmtpSink::start(0).await;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.port())
        .build();
    let message = |n: u32| {
        Message::builder()
            .from("trendwatch <trendwatch@example.org>".parse().unwrap())
            .to("equipe@example.org".parse().unwrap())
            .subject(format!("digest {n}"))
            .body(format!("line one\n.line starting with a dot {n}\n"))
            .unwrap()
    };
    transport.send(message(1)).await.unwrap();
    sink.stop();
    assert!(transport.send(message(2)).await.is_err());
    sink.resume().await;
    transport.send(message(3)).await.unwrap();
    let got = sink.messages();
    assert_eq!(got.len(), 2);
    assert!(got[0].data.contains("Subject: digest 1"));
    assert!(got[0].data.contains("\n.line starting with a dot 1"));
    assert_eq!(got[1].to, vec!["<equipe@example.org>".to_string()]);
    assert!(got[1].data.contains("Subject: digest 3"));
}
