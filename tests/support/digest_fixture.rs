//! A month of invented history with every kind of digest item, written into a real store:
//! a hashtag taking off on many small creators' videos, a few-hour spike, a trend cooling,
//! a riding hashtag to discover, a creator gaining followers with high engagement, a
//! breakout video, and sources failing for two causes. Used by the digest tests and by
//! `examples/digest_demo.rs`, which the README screenshot is made from.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use trendwatch::model::Metric;
use trendwatch::model::{
    EntityId, EntityOutcome, Failure, FailureKind, Observation, UnixSeconds, VideoRecord,
};
use trendwatch::store::Store;

const H: i64 = 3600;
const DAY: i64 = 86_400;
/// 2026-11-30T08:00:00Z, a Monday morning.
pub const DEMO_AT: UnixSeconds = 1_796_025_600;
const DAYS: i64 = 30;

fn wobble(t: UnixSeconds) -> f64 {
    1.0 + 0.2 * ((t % DAY) as f64 / DAY as f64 * std::f64::consts::TAU).sin()
}

/// Writes `trendwatch.toml`, `watchlist.toml` and the store under `dir`; returns the config.
pub fn write_demo(dir: &Path, language: &str) -> PathBuf {
    let state = dir.join("state");
    std::fs::write(
        dir.join("watchlist.toml"),
        "[tiktok]\n\
         hashtags = [\"huilesessentielles\", \"skincarenaturel\", \"routinedusoir\", \"argile\", \
         \"huilevegetale\", \"savonartisanal\", \"cosmetiquebio\"]\n\
         creators = [\"lea.aroma\", \"maison.savon\", \"compte.disparu\"]\n\n\
         [discovery]\nenabled = true\nkeywords = [\"naturel\", \"bio\", \"aroma\"]\n",
    )
    .unwrap();
    let cfg = dir.join("trendwatch.toml");
    std::fs::write(
        &cfg,
        format!(
            "watchlist = \"watchlist.toml\"\nstate_dir = \"{}\"\ntimezone = \"Europe/Paris\"\n\n\
             [digest]\nlanguage = \"{language}\"\nto = [\"equipe@example.org\"]\n\
             from = \"trendwatch <trendwatch@example.org>\"\n",
            state.display()
        ),
    )
    .unwrap();
    let store = Store::open(&state).unwrap();
    write_history(&store);
    store.flush().unwrap();
    cfg
}

/// Rate per hour of each hashtag at `t`.
fn tag_rate(tag: &str, t: UnixSeconds) -> f64 {
    let at = DEMO_AT;
    match tag {
        "huilesessentielles" => 8_000.0 * wobble(t) * if t >= at - 3 * DAY { 9.0 } else { 1.0 },
        "skincarenaturel" => 20_000.0 * wobble(t),
        "routinedusoir" => {
            4_000.0
                * wobble(t)
                * if (at - 9 * H..at - 6 * H).contains(&t) {
                    8.0
                } else {
                    1.0
                }
        }
        "argile" => {
            let f = if (at - 6 * DAY..at - 2 * DAY).contains(&t) {
                8.0
            } else if t >= at - 2 * DAY {
                1.5
            } else {
                1.0
            };
            5_000.0 * wobble(t) * f
        }
        _ => 3_000.0 * wobble(t),
    }
}

fn follower_rate(handle: &str, t: UnixSeconds) -> f64 {
    match handle {
        "lea.aroma" => 40.0 * wobble(t) * if t >= DEMO_AT - 30 * H { 10.0 } else { 1.0 },
        _ => 0.5,
    }
}

#[allow(clippy::too_many_arguments)]
fn video(
    id: u64,
    author: &str,
    plays: u64,
    engagement: f64,
    tags: &[&str],
    created_at: UnixSeconds,
    caption: &str,
) -> VideoRecord {
    let e = (plays as f64 * engagement) as u64;
    VideoRecord {
        id: format!("74{id:015}"),
        author: Some(author.into()),
        created_at,
        plays,
        likes: e * 8 / 10,
        comments: e / 10,
        shares: e - e * 8 / 10 - e / 10,
        saves: 0,
        hashtags: tags.iter().map(|s| (*s).to_owned()).collect(),
        description: caption.into(),
    }
}

/// Videos as they appear on the pages at the end of the month.
fn videos() -> Vec<(EntityId, VideoRecord)> {
    let at = DEMO_AT;
    let tag = |n: &str| EntityId::hashtag("tiktok", n);
    let mut out = Vec::new();
    // Nine small creators post #huilesessentielles over the last three days; four videos
    // also carry #oleolat, a tag nobody watches yet.
    let shops = [
        "atelier.lavande",
        "savons.de.julie",
        "herboriste.nantes",
        "cosmeto.maison",
        "la.ruche.bio",
        "zoe.naturo",
        "boutique.argan",
        "mes.petits.flacons",
        "aroma.camille",
    ];
    let captions = [
        "Mon roll-on anti-stress en 2 minutes",
        "3 huiles pour dormir enfin",
        "Diffuseur : les erreurs à éviter",
    ];
    for (i, shop) in shops.iter().enumerate() {
        let i = i as u64;
        let tags: &[&str] = if i < 4 {
            &["huilesessentielles", "oleolat"]
        } else {
            &["huilesessentielles", "skincarenaturel"]
        };
        out.push((
            tag("huilesessentielles"),
            video(
                i,
                shop,
                20_000 + 37_000 * i,
                0.06,
                tags,
                at - (2 + i as i64 * 7) * H,
                captions[i as usize % 3],
            ),
        ));
    }
    // @lea.aroma: a video every four days for six weeks, 7 % engagement.
    for i in 0..10u64 {
        out.push((
            EntityId::creator("tiktok", "lea.aroma"),
            video(
                100 + i,
                "lea.aroma",
                18_000 + 4_000 * (i % 4),
                0.072,
                &["lea"],
                at - (i as i64 * 4 + 1) * DAY,
                "Routine du soir aux huiles",
            ),
        ));
    }
    // @maison.savon: one video far ahead of the others.
    for i in 0..6u64 {
        let plays = if i == 0 { 420_000 } else { 9_000 + 800 * i };
        out.push((
            EntityId::creator("tiktok", "maison.savon"),
            video(
                200 + i,
                "maison.savon",
                plays,
                0.03,
                &["savonartisanal"],
                at - (i as i64 + 1) * 20 * H,
                "Saponification à froid, étape par étape",
            ),
        ));
    }
    out
}

fn write_history(store: &Store) {
    let tags = [
        "huilesessentielles",
        "skincarenaturel",
        "routinedusoir",
        "argile",
        "huilevegetale",
        "savonartisanal",
        "cosmetiquebio",
    ];
    // Two tags stopped answering three days ago.
    let offline_from = DEMO_AT - 3 * DAY;
    let offline = ["savonartisanal", "cosmetiquebio"];
    let creators = [("lea.aroma", 42_000.0), ("maison.savon", 8_000.0)];
    let start = DEMO_AT - DAYS * DAY;
    let mut views: Vec<f64> = vec![1_000_000.0; tags.len()];
    let mut followers: Vec<f64> = creators.iter().map(|c| c.1).collect();
    let mut t = start;
    let mut day: Vec<EntityOutcome> = Vec::new();
    while t <= DEMO_AT {
        for (i, name) in tags.iter().enumerate() {
            let id = EntityId::hashtag("tiktok", name);
            if offline.contains(name) && t >= offline_from {
                day.push(EntityOutcome {
                    fetched_by: Default::default(),
                    entity: id,
                    observation: None,
                    failure: Some(Failure {
                        at: t,
                        kind: FailureKind::Network,
                        detail: "error sending request: dns error".into(),
                    }),
                });
                continue;
            }
            day.push(EntityOutcome {
                fetched_by: Default::default(),
                entity: id,
                observation: Some(Observation {
                    at: t,
                    metrics: vec![(Metric::VIEWS, views[i].round())],
                    videos: Vec::new(),
                    label: None,
                }),
                failure: None,
            });
        }
        for (i, (handle, _)) in creators.iter().enumerate() {
            day.push(EntityOutcome {
                fetched_by: Default::default(),
                entity: EntityId::creator("tiktok", handle),
                observation: Some(Observation {
                    at: t,
                    metrics: vec![(Metric::FOLLOWERS, followers[i].round())],
                    videos: Vec::new(),
                    label: None,
                }),
                failure: None,
            });
        }
        day.push(EntityOutcome {
            fetched_by: Default::default(),
            entity: EntityId::creator("tiktok", "compte.disparu"),
            observation: None,
            failure: Some(Failure {
                at: t,
                kind: FailureKind::NotFound,
                detail: "HTTP 404".into(),
            }),
        });
        if (t - start) % DAY == DAY - 3 * H || t == DEMO_AT {
            store.record_pass(&day).unwrap();
            day.clear();
        }
        for h in 0..3 {
            for (i, name) in tags.iter().enumerate() {
                views[i] += tag_rate(name, t + h * H);
            }
            for (i, (handle, _)) in creators.iter().enumerate() {
                followers[i] += follower_rate(handle, t + h * H);
            }
        }
        t += 3 * H;
    }
    // The last pass saw these videos on the pages.
    let mut seen: Vec<EntityOutcome> = Vec::new();
    for (via, v) in videos() {
        seen.push(EntityOutcome {
            fetched_by: Default::default(),
            entity: via,
            observation: Some(Observation {
                at: DEMO_AT,
                metrics: Vec::new(),
                videos: vec![v],
                label: None,
            }),
            failure: None,
        });
    }
    store.record_pass(&seen).unwrap();
}

/// A digest of 12 items as big as real ones get: longest names, three videos with long
/// captions, five riding tags, five creators and a two-week chart each, plus failing sources.
pub fn digest12() -> trendwatch::digest::Digest {
    use trendwatch::detect::TrendKind;
    use trendwatch::digest::facts::{CreatorFact, Facts, Reading, VideoFact, WeekVolumes};
    use trendwatch::digest::{Digest, HealthItem, Item, Section};
    let at = DEMO_AT;
    let kinds = [
        TrendKind::Emerging,
        TrendKind::Spike,
        TrendKind::Discovered,
        TrendKind::Cooling,
    ];
    let long = "é".repeat(80);
    let sections = kinds
        .iter()
        .enumerate()
        .map(|(k, kind)| Section {
            kind: *kind,
            items: (0..3)
                .map(|i| Item {
                    name: format!("#{}{k}{i}", &long[..70]),
                    url: Some(format!("https://www.tiktok.com/tag/tendance{k}{i}")),
                    score: 8.0,
                    growth: 13.3,
                    rate_now: 41_200.0,
                    rate_baseline: 3_100.0,
                    metric: "views".into(),
                    since: Some(at - 3 * DAY),
                    evidence: "views/hour 13.3x the 14-day baseline for 9 samples".into(),
                    samples: Some(9),
                    // The longest confidence sentence: many display steps, a clear call.
                    confidence: (*kind != TrendKind::Discovered).then_some(
                        trendwatch::detect::Confidence {
                            level: trendwatch::detect::ConfidenceLevel::Clear,
                            excess: 2_690_000.0,
                            step: 100_000.0,
                            hours: 72.0,
                        },
                    ),
                    tier: None,
                    engagement: None,
                    benchmark: None,
                    // 14 days of rates every 3 h with noise and a late take-off.
                    rates: (0..112)
                        .map(|h| {
                            let base = 3_000.0 + ((h * 7919 + i * 31) % 900) as f64;
                            let boost = if h > 90 {
                                (h - 90) as f64 * 1500.0
                            } else {
                                0.0
                            };
                            (at - (112 - h) * 3 * H, base + boost)
                        })
                        .collect(),
                    chart_metric: "views".into(),
                    chart_from: at - 14 * DAY,
                    chart_to: at,
                    facts: Facts {
                        week: Some(WeekVolumes {
                            this_week: 2_900_000.0,
                            usual: 210_000.0,
                            previous: Some(400_000.0),
                        }),
                        videos: (0..3)
                            .map(|v| VideoFact {
                                author: Some(format!("{}{v}", "createur.".repeat(6))),
                                plays: 1_234_567,
                                engagement: Some(0.072),
                                url: Some(format!(
                                    "https://www.tiktok.com/@createur/video/7400000000000000{v}"
                                )),
                                caption: "x".repeat(70),
                                created_at: at - DAY,
                            })
                            .collect(),
                        co_tags: (0..5).map(|t| format!("{}{t}", &long[..60])).collect(),
                        creators: (0..5)
                            .map(|c| CreatorFact {
                                handle: format!("{}{c}", "boutique.".repeat(6)),
                                tier: None,
                                videos: 2,
                            })
                            .collect(),
                        creator_count: 14,
                        video_count: 20,
                        reading: Some(Reading::Organic {
                            creators: 14,
                            small: true,
                        }),
                        partner: None,
                    },
                    product: None,
                })
                .collect(),
        })
        .collect();
    let health = (0..40)
        .map(|i| HealthItem {
            name: format!("#source{i}"),
            url: None,
            kind: if i % 2 == 0 { "network" } else { "blocked" }.into(),
            detail: "error sending request".into(),
            failing_since: at - H,
            last_success: Some(at - 3 * DAY),
        })
        .collect();
    Digest {
        at,
        timezone: chrono_tz::Europe::Paris,
        sections,
        health,
        read_by_browser: 3,
        refused: Vec::new(),
        warmup: None,
        alerts: Vec::new(),
        campaigns: Vec::new(),
        already_told: Vec::new(),
    }
}
