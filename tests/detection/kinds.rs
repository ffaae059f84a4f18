//! Each trend kind and each decoy kind, as a user of `trendwatch detect` would notice them:
//! what is reported, with which evidence, and what stays quiet.

use crate::synth::{default_detect_config, generate, input_of, SeriesKind, SynthConfig};
use trendwatch::config::DetectConfig;
use trendwatch::detect::{
    detect, tags_to_track, to_json, DetectInput, EntitySeries, TrendDetails, TrendKind,
};
use trendwatch::model::Metric;
use trendwatch::model::{EntityId, UnixSeconds, VideoRecord};
use trendwatch::store::StoredVideo;

const H: i64 = 3600;
const DAY: i64 = 86_400;
/// 2026-11-20T06:00:00Z
const AT: UnixSeconds = 1_795_154_400;

/// A views counter sampled every 3 h for `days` up to `AT`, with the rate per hour `rate(t)`.
fn counter(days: i64, rate: impl Fn(UnixSeconds) -> f64) -> Vec<(UnixSeconds, f64)> {
    let start = AT - days * DAY;
    let mut v = 1_000_000.0;
    let mut out = vec![(start, v)];
    let mut t = start;
    while t < AT {
        // Integrate hour by hour so rates are exact.
        for h in 0..3 {
            v += rate(t + h * H);
        }
        t += 3 * H;
        out.push((t, v));
    }
    out
}

fn tag(name: &str, points: Vec<(UnixSeconds, f64)>) -> EntitySeries {
    EntitySeries {
        entity: EntityId::hashtag("tiktok", name),
        first_seen: points.first().map(|p| p.0),
        metrics: vec![(Metric::VIEWS, points)],
    }
}

fn input(entities: Vec<EntitySeries>) -> DetectInput {
    DetectInput {
        entities,
        at: AT,
        ..DetectInput::default()
    }
}

/// A small daily wobble so the baseline is not perfectly flat.
fn wobble(t: UnixSeconds) -> f64 {
    1.0 + 0.2 * ((t % DAY) as f64 / DAY as f64 * std::f64::consts::TAU).sin()
}

#[test]
fn a_take_off_is_emerging_with_evidence_since_and_first_seen() {
    let onset = AT - 27 * H;
    let pts = counter(30, |t| {
        3000.0 * wobble(t) * if t >= onset { 13.0 } else { 1.0 }
    });
    let first = pts[0].0;
    let trends = detect(
        &input(vec![tag("mushroomcoffee", pts)]),
        &default_detect_config(),
        AT,
    );
    assert_eq!(trends.len(), 1, "{trends:?}");
    let t = &trends[0];
    assert_eq!(t.kind, TrendKind::Emerging);
    assert_eq!(t.metric, "views");
    assert!(t.growth > 8.0 && t.growth < 20.0, "growth {}", t.growth);
    assert!(t.score >= 3.0);
    assert!(t.rate_now > 30_000.0 && t.rate_baseline < 4_500.0);
    // Growth began within one sampling interval of the onset.
    let since = t.since.unwrap();
    assert!(
        (since - onset).abs() <= 3 * H,
        "since {since} vs onset {onset}"
    );
    assert_eq!(t.first_seen, Some(first));
    assert!(
        t.evidence.starts_with("views/hour ")
            && t.evidence.contains("x the 14-day baseline")
            && t.evidence.contains("(9 samples)"),
        "{}",
        t.evidence
    );
    let json = to_json(&trends);
    let o = &json[0];
    assert_eq!(o["entity"], "tiktok:#mushroomcoffee");
    assert_eq!(o["kind"], "emerging");
    assert_eq!(o["first_seen"], "2026-10-21T06:00:00Z");
    let s = o["since"].as_str().unwrap();
    assert!(s.ends_with('Z') && s.len() == 20, "{s}");
    for k in [
        "score",
        "rate_now",
        "rate_baseline",
        "growth",
        "evidence",
        "metric",
    ] {
        assert!(!o[k].is_null(), "{k} missing");
    }
}

#[test]
fn a_small_niche_taking_off_is_emerging_unless_an_absolute_floor_is_set() {
    let onset = AT - 27 * H;
    let pts = counter(30, |t| {
        50.0 * wobble(t) * if t >= onset { 13.0 } else { 1.0 }
    });
    let tiny = input(vec![tag("tiny", pts)]);
    let trends = detect(&tiny, &default_detect_config(), AT);
    assert_eq!(trends.len(), 1, "{trends:?}");
    assert_eq!(trends[0].kind, TrendKind::Emerging);
    let floored = DetectConfig {
        min_rate: 1000.0,
        ..default_detect_config()
    };
    let trends = detect(&tiny, &floored, AT);
    assert!(trends.is_empty(), "{trends:?}");
}

#[test]
fn no_decoy_kind_alerts_on_three_seeds() {
    let synth = SynthConfig {
        emergences: 0,
        per_decoy: 12,
        ..SynthConfig::default()
    };
    let cfg = default_detect_config();
    for seed in [5, 6, 7] {
        let series = generate(seed, &synth);
        for kind in SeriesKind::DECOYS {
            let of_kind: Vec<_> = series.iter().filter(|s| s.kind == kind).cloned().collect();
            assert_eq!(of_kind.len(), 12);
            let trends = detect(&input_of(&of_kind, synth.end()), &cfg, synth.end());
            // Nothing at all, except a fad that rose and faded, which is cooling, and bursts
            // of a few hours in the last day, which are spikes.
            let burst = matches!(kind, SeriesKind::OneHourSpike | SeriesKind::FadedFad);
            let emerging: Vec<_> = trends
                .iter()
                .filter(|t| !(kind == SeriesKind::FadedFad && t.kind == TrendKind::Cooling))
                .filter(|t| !(burst && t.kind == TrendKind::Spike))
                .collect();
            assert!(
                emerging.is_empty(),
                "seed {seed}, {}: {emerging:?}",
                kind.as_str()
            );
        }
    }
}

#[test]
fn a_trend_that_faded_is_cooling_but_a_flat_tag_never_is() {
    // Rose 8× for four days, then fell back to 1.5× for the last two days.
    let pts = counter(30, |t| {
        let f = if (AT - 6 * DAY..AT - 2 * DAY).contains(&t) {
            8.0
        } else if t >= AT - 2 * DAY {
            1.5
        } else {
            1.0
        };
        5000.0 * wobble(t) * f
    });
    let flat = counter(30, |t| 5000.0 * wobble(t));
    let trends = detect(
        &input(vec![tag("faded", pts), tag("flat", flat)]),
        &default_detect_config(),
        AT,
    );
    assert_eq!(trends.len(), 1, "{trends:?}");
    assert_eq!(trends[0].kind, TrendKind::Cooling);
    assert_eq!(trends[0].entity.as_str(), "tiktok:#faded");
    assert!(trends[0].growth < 0.5, "now/peak {}", trends[0].growth);
    assert!(
        trends[0].evidence.contains("of its peak"),
        "{}",
        trends[0].evidence
    );
}

fn video(
    id: &str,
    author: &str,
    plays: u64,
    eng: f64,
    tags: &[&str],
    seen: UnixSeconds,
) -> StoredVideo {
    let e = (plays as f64 * eng) as u64;
    StoredVideo {
        video: VideoRecord {
            id: id.into(),
            author: Some(author.into()),
            created_at: seen - H,
            plays,
            likes: e * 8 / 10,
            comments: e / 10,
            shares: e - e * 8 / 10 - e / 10,
            saves: 0,
            hashtags: tags.iter().map(|s| s.to_string()).collect(),
            description: String::new(),
        },
        first_seen: seen,
        last_seen: seen,
        via: vec![],
    }
}

fn creator(handle: &str, followers: f64) -> EntitySeries {
    EntitySeries {
        entity: EntityId::creator("tiktok", handle),
        first_seen: Some(AT - 20 * DAY),
        metrics: vec![(
            Metric::FOLLOWERS,
            counter(20, |_| 0.5)
                .into_iter()
                .map(|(t, v)| (t, v - 1_000_000.0 + followers))
                .collect(),
        )],
    }
}

#[test]
fn engagement_is_judged_against_the_creator_tier() {
    let mut inp = input(vec![
        creator("nanostar", 5_000.0),
        creator("megastar", 2_000_000.0),
        creator("microusual", 50_000.0),
    ]);
    for i in 0..5 {
        let seen = AT - (i + 1) * 10 * H;
        inp.videos
            .push(video(&format!("1{i}"), "nanostar", 2_000, 0.12, &[], seen));
        inp.videos.push(video(
            &format!("2{i}"),
            "megastar",
            900_000,
            0.02,
            &[],
            seen,
        ));
        inp.videos.push(video(
            &format!("3{i}"),
            "microusual",
            20_000,
            0.03,
            &[],
            seen,
        ));
    }
    let trends = detect(&inp, &default_detect_config(), AT);
    let names: Vec<&str> = trends.iter().map(|t| t.entity.as_str()).collect();
    assert!(names.contains(&"tiktok:@nanostar"), "{trends:?}");
    assert!(names.contains(&"tiktok:@megastar"), "{trends:?}");
    assert!(!names.contains(&"tiktok:@microusual"), "{trends:?}");
    let nano = trends
        .iter()
        .find(|t| t.entity.as_str() == "tiktok:@nanostar")
        .unwrap();
    assert_eq!(nano.kind, TrendKind::RisingCreator);
    assert_eq!(nano.details.tier().map(|t| t.as_str()), Some("nano"));
    assert!((nano.details.engagement().unwrap() - 0.12).abs() < 0.005);
    assert!(
        nano.evidence.contains("12.0%") && nano.evidence.contains("nano"),
        "{}",
        nano.evidence
    );
    let json = to_json(&trends);
    let j = json
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["entity"] == "tiktok:@nanostar")
        .unwrap();
    assert_eq!(j["kind"], "rising_creator");
    assert_eq!(j["details"]["tier"], "nano");
}

#[test]
fn accelerating_followers_make_a_rising_creator() {
    let pts: Vec<(UnixSeconds, f64)> = counter(30, |t| {
        40.0 * wobble(t) * if t >= AT - 30 * H { 10.0 } else { 1.0 }
    });
    let inp = input(vec![EntitySeries {
        entity: EntityId::creator("tiktok", "risingstar"),
        first_seen: Some(pts[0].0),
        metrics: vec![(Metric::FOLLOWERS, pts)],
    }]);
    let trends = detect(&inp, &default_detect_config(), AT);
    assert_eq!(trends.len(), 1, "{trends:?}");
    assert_eq!(trends[0].kind, TrendKind::RisingCreator);
    assert_eq!(trends[0].metric, "followers");
    assert!(
        trends[0].evidence.starts_with("followers/hour"),
        "{}",
        trends[0].evidence
    );
}

#[test]
fn a_handful_of_new_followers_is_not_a_rising_creator() {
    let pts: Vec<(UnixSeconds, f64)> = counter(30, |t| {
        0.3 * wobble(t) * if t >= AT - 30 * H { 10.0 } else { 1.0 }
    });
    let inp = input(vec![EntitySeries {
        entity: EntityId::creator("tiktok", "quiet"),
        first_seen: Some(pts[0].0),
        metrics: vec![(Metric::FOLLOWERS, pts)],
    }]);
    assert!(detect(&inp, &default_detect_config(), AT).is_empty());
}

#[test]
fn a_video_far_ahead_of_its_creator_is_a_breakout_with_its_url() {
    let mut inp = input(vec![]);
    for i in 0..6 {
        let plays = if i == 0 {
            400_000
        } else {
            10_000 + i as u64 * 1000
        };
        inp.videos.push(video(
            &format!("73{i}"),
            "lea.aroma",
            plays,
            0.01,
            &[],
            AT - (i + 1) * 20 * H,
        ));
    }
    let trends = detect(&inp, &default_detect_config(), AT);
    assert_eq!(trends.len(), 1, "{trends:?}");
    let t = &trends[0];
    assert_eq!(t.kind, TrendKind::BreakoutVideo);
    assert_eq!(t.entity.as_str(), "tiktok:@lea.aroma");
    let TrendDetails::BreakoutVideo {
        video_id,
        author,
        url,
        ..
    } = &t.details
    else {
        panic!("a breakout video's details: {:?}", t.details)
    };
    assert_eq!(video_id, "730");
    assert_eq!(author, "lea.aroma");
    assert_eq!(url, "https://www.tiktok.com/@lea.aroma/video/730");
    assert!(t.growth > 20.0);
}

#[test]
fn riding_tags_are_discovered_and_tracked_but_generic_and_unrelated_ones_are_not() {
    let mut inp = input(vec![]);
    inp.watched_tags = vec!["skincare".into(), "bienetre".into()];
    inp.keywords = vec!["naturel".into()];
    inp.discovery = true;
    // Four recent videos carry #slugging with watched tags; #fyp everywhere; #football on
    // videos without watched tags; #baumenaturel matches a keyword.
    for i in 0..4 {
        let seen = AT - (i + 1) * 4 * H;
        inp.videos.push(video(
            &format!("9{i}"),
            "a",
            1000,
            0.05,
            &["skincare", "slugging", "fyp"],
            seen,
        ));
        inp.videos.push(video(
            &format!("8{i}"),
            "b",
            1000,
            0.05,
            &["football"],
            seen,
        ));
        inp.videos.push(video(
            &format!("7{i}"),
            "c",
            1000,
            0.05,
            &["baumenaturel"],
            seen,
        ));
    }
    let trends = detect(&inp, &default_detect_config(), AT);
    let found: Vec<&str> = trends
        .iter()
        .filter(|t| t.kind == TrendKind::Discovered)
        .map(|t| t.entity.as_str())
        .collect();
    assert!(found.contains(&"tiktok:#slugging"), "{trends:?}");
    assert!(found.contains(&"tiktok:#baumenaturel"), "{trends:?}");
    assert!(!found.contains(&"tiktok:#fyp") && !found.contains(&"tiktok:#football"));
    assert!(
        !found.contains(&"tiktok:#skincare"),
        "watched tags are not discoveries"
    );
    let slug = trends
        .iter()
        .find(|t| t.entity.as_str() == "tiktok:#slugging")
        .unwrap();
    assert_eq!(slug.details.co_tags(), ["skincare".to_string()]);
    let tracked = tags_to_track(&inp, 1);
    assert_eq!(tracked.len(), 1);
    let all = tags_to_track(&inp, 20);
    assert!(all.contains(&"slugging".to_string()) && all.contains(&"baumenaturel".to_string()));
    assert!(!all.contains(&"football".to_string()) && !all.contains(&"fyp".to_string()));
    // Discovery off: no discovered trends.
    inp.discovery = false;
    assert!(detect(&inp, &default_detect_config(), AT)
        .iter()
        .all(|t| t.kind != TrendKind::Discovered));
}

#[test]
fn replaying_a_past_moment_ignores_later_samples_and_is_deterministic() {
    let synth = SynthConfig::default();
    let series = generate(9, &synth);
    let cfg = default_detect_config();
    let past = synth.end() - 2 * DAY;
    let full = input_of(&series, synth.end());
    let truncated: Vec<_> = series
        .iter()
        .cloned()
        .map(|mut s| {
            s.points.retain(|p| p.0 <= past);
            s
        })
        .collect();
    let a = detect(&full, &cfg, past);
    let b = detect(&input_of(&truncated, past), &cfg, past);
    assert_eq!(a, b);
    assert_eq!(to_json(&a), to_json(&detect(&full, &cfg, past)));
    // And the end differs from the past: something emerged in between.
    assert_ne!(a, detect(&full, &cfg, synth.end()));
}

/// `counter` read through TikTok's display rounding to three significant figures.
fn rounded(points: Vec<(UnixSeconds, f64)>) -> Vec<(UnixSeconds, f64)> {
    points
        .into_iter()
        .map(|(t, v)| {
            let step = 10f64.powi(v.log10().floor() as i32 - 2);
            (t, (v / step).round() * step)
        })
        .collect()
}

#[test]
fn a_burst_of_a_few_hours_is_a_spike_and_a_burst_that_lasts_is_emerging() {
    let burst = |from: UnixSeconds, hours: i64| {
        counter(30, move |t| {
            4000.0
                * wobble(t)
                * if (from..from + hours * H).contains(&t) {
                    8.0
                } else {
                    1.0
                }
        })
    };
    let cfg = default_detect_config();
    let trends = detect(&input(vec![tag("viral", burst(AT - 9 * H, 3))]), &cfg, AT);
    assert_eq!(trends.len(), 1, "{trends:?}");
    assert_eq!(trends[0].kind, TrendKind::Spike);
    assert_eq!(to_json(&trends)[0]["kind"], "spike");
    assert!(trends[0].growth >= 3.0, "{trends:?}");
    assert_eq!(trends[0].since, Some(AT - 9 * H));
    // The same burst four days ago is history, not news.
    let old = detect(&input(vec![tag("viral", burst(AT - 4 * DAY, 3))]), &cfg, AT);
    assert!(old.iter().all(|t| t.kind != TrendKind::Spike), "{old:?}");
    // A burst that goes on for a day is a take-off.
    let lasting = detect(&input(vec![tag("viral", burst(AT - 24 * H, 24))]), &cfg, AT);
    assert_eq!(lasting[0].kind, TrendKind::Emerging, "{lasting:?}");
}

#[test]
fn a_take_off_that_holds_stays_emerging_for_days() {
    let onset = AT - 5 * DAY;
    let pts = counter(30, |t| {
        6000.0 * wobble(t) * if t >= onset { 4.0 } else { 1.0 }
    });
    let trends = detect(
        &input(vec![tag("plateau", pts)]),
        &default_detect_config(),
        AT,
    );
    assert_eq!(trends.len(), 1, "{trends:?}");
    let t = &trends[0];
    assert_eq!(t.kind, TrendKind::Emerging);
    assert!(t.growth > 3.0 && t.growth < 5.0, "{t:?}");
    assert!((t.since.unwrap() - onset).abs() <= 3 * H, "{t:?}");
}

#[test]
fn rounded_counters_take_off_and_stay_quiet_like_exact_ones() {
    // 1,000 views an hour on a counter near 1.5M rounded to 10k steps: most 3-hour samples
    // show no change at all.
    let steady = rounded(counter(30, |t| 1000.0 * wobble(t)));
    let flat_share =
        steady.windows(2).filter(|w| w[0].1 == w[1].1).count() as f64 / (steady.len() - 1) as f64;
    assert!(flat_share > 0.6, "{flat_share}");
    let onset = AT - 30 * H;
    let rising = rounded(counter(30, |t| {
        1000.0 * wobble(t) * if t >= onset { 6.0 } else { 1.0 }
    }));
    let trends = detect(
        &input(vec![tag("steady", steady), tag("rising", rising)]),
        &default_detect_config(),
        AT,
    );
    assert_eq!(trends.len(), 1, "{trends:?}");
    assert_eq!(trends[0].entity.as_str(), "tiktok:#rising");
    assert_eq!(trends[0].kind, TrendKind::Emerging);
    assert!(trends[0].growth > 3.0, "{trends:?}");
}
