//! A simulated TikTok on loopback: tag pages, profiles and `/api/creator/item_list/` in the
//! formats trendwatch parses, whose numbers evolve with a simulated clock from a scenario,
//! plus faults injected at set rates. Every sample served in a 200 data response is recorded
//! so a test can check the store holds it.
//!
//! The simulated time is `START + real elapsed × SCALE`, the same rule as
//! `TRENDWATCH_SIMULATED_CLOCK=START,SCALE` in the daemon (`src/clock.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const HOUR: f64 = 3600.0;
const DAY: f64 = 86_400.0;

/// How a hashtag's view counter grows.
#[derive(Debug, Clone)]
pub enum TagShape {
    /// `rate` views an hour, ±`daily` (fraction) over the day.
    Steady { rate: f64, daily: f64 },
    /// A steady `rate` that rises `factor` times around `at_day`, along a logistic curve.
    Emerging { rate: f64, factor: f64, at_day: f64 },
}

/// A creator: followers grow at `rate` an hour, `factor` times faster after `at_day`.
#[derive(Debug, Clone)]
pub struct CreatorPlan {
    pub handle: String,
    pub followers: f64,
    pub rate: f64,
    pub factor: f64,
    pub at_day: f64,
    /// Hashtags on its videos (watched ones, so discovered tags ride along with them).
    pub tags: Vec<String>,
    /// A video posted at this day that takes off (plays ~50× the creator's usual).
    pub breakout_at_day: Option<f64>,
    /// From this day on, its new videos also carry `discovered_tag`.
    pub discovered_from_day: Option<f64>,
}

/// Fault rates, each a fraction of requests (decided per path and collection slot, so a fault
/// lasts through the retries of one pass and shows as that entity's failure).
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    pub bot_wall: f64,
    pub too_many: f64,
    pub slow: f64,
    pub truncated: f64,
    /// Delay of a slow response (beyond the collector's timeout).
    pub slow_delay: Duration,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub tags: Vec<(String, TagShape)>,
    pub creators: Vec<CreatorPlan>,
    pub discovered_tag: String,
    /// Entities (`tiktok:#tag`, `tiktok:@handle`) whose pages get faults; the others never do,
    /// so a test can tell the health section from the trends.
    pub faulty: Vec<String>,
    pub faults: Faults,
    /// The collection period in simulated seconds (faults are decided per period).
    pub period: f64,
    pub seed: u64,
}

/// What went out: one sample in a 200 response carrying data.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    pub entity: String,
    pub metric: String,
    pub value: f64,
    /// Simulated time of the response.
    pub at: f64,
    /// The collection slot it belongs to (simulated time / period, rounded).
    pub slot: i64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FaultCounts {
    pub bot_wall: u64,
    pub too_many: u64,
    pub slow: u64,
    pub truncated: u64,
    pub ok: u64,
}

#[derive(Default)]
struct Log {
    served: Vec<Served>,
    faults: FaultCounts,
    /// Entity (`tiktok:#tag` / `tiktok:@handle`) → faults it was served.
    faulted: HashMap<String, u64>,
}

struct Sim {
    scenario: Scenario,
    /// Day 0 of the scenario.
    origin: f64,
    /// What the clock read when the server started.
    start: f64,
    scale: f64,
    real_start: Instant,
    log: Mutex<Log>,
    /// A delay added to every response (to catch the daemon in the middle of a pass).
    hold: Mutex<Option<Duration>>,
    /// When set, the clock stands still at this time.
    frozen: Mutex<Option<f64>>,
}

/// The running simulated platform.
pub struct SimPlatform {
    pub server: MockServer,
    sim: Arc<Sim>,
}

impl SimPlatform {
    /// Starts the server; its clock reads `start` now and runs `scale` times real time.
    pub async fn start(scenario: Scenario, start: i64, scale: f64) -> SimPlatform {
        Self::start_at(scenario, start, start, scale).await
    }

    /// Starts the server with the scenario's day 0 at `origin` and the clock reading `start`.
    pub async fn start_at(scenario: Scenario, origin: i64, start: i64, scale: f64) -> SimPlatform {
        let server = MockServer::start().await;
        let sim = Arc::new(Sim {
            scenario,
            origin: origin as f64,
            start: start as f64,
            scale,
            real_start: Instant::now(),
            log: Mutex::new(Log::default()),
            hold: Mutex::new(None),
            frozen: Mutex::new(None),
        });
        Mock::given(any())
            .respond_with(Responder(sim.clone()))
            .mount(&server)
            .await;
        SimPlatform { server, sim }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The simulated time now, in unix seconds.
    pub fn now(&self) -> f64 {
        self.sim.now()
    }

    /// The simulated time at a real instant.
    pub fn sim_time_at(&self, at: Instant) -> f64 {
        let real = if at >= self.sim.real_start {
            at.duration_since(self.sim.real_start).as_secs_f64()
        } else {
            -self.sim.real_start.duration_since(at).as_secs_f64()
        };
        self.sim.start + real * self.sim.scale
    }

    /// Stops the clock at `t` (None: runs again, as if it never stopped).
    pub fn freeze(&self, t: Option<f64>) {
        *self.sim.frozen.lock().unwrap() = t;
    }

    /// Delays every response by `d` (None: answer at once).
    pub fn hold(&self, d: Option<Duration>) {
        *self.sim.hold.lock().unwrap() = d;
    }

    /// The collection slot the simulated time `t` falls in.
    pub fn slot_of(&self, t: f64) -> i64 {
        ((t - self.sim.origin) / self.sim.scenario.period + 0.5).floor() as i64
    }

    /// Ids of the videos planted to break out.
    pub fn breakout_video_ids(&self) -> Vec<String> {
        let later = self.sim.origin + 30.0 * DAY;
        self.sim
            .scenario
            .creators
            .iter()
            .flat_map(|c| creator_videos(&self.sim, c, later, usize::MAX))
            .filter(|v| v.breakout)
            .map(|v| v.id.to_string())
            .collect()
    }

    pub fn served(&self) -> Vec<Served> {
        self.sim.log.lock().unwrap().served.clone()
    }

    pub fn faults(&self) -> FaultCounts {
        self.sim.log.lock().unwrap().faults
    }

    /// Entities that were served at least one fault.
    pub fn faulted_entities(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .sim
            .log
            .lock()
            .unwrap()
            .faulted
            .keys()
            .cloned()
            .collect();
        v.sort();
        v
    }

    /// Requests that reached the server (every one, faults included).
    pub async fn request_count(&self) -> usize {
        self.server
            .received_requests()
            .await
            .map(|r| r.len())
            .unwrap_or(0)
    }
}

impl Sim {
    fn now(&self) -> f64 {
        if let Some(t) = *self.frozen.lock().unwrap() {
            return t;
        }
        self.start + self.real_start.elapsed().as_secs_f64() * self.scale
    }

    fn days(&self, t: f64) -> f64 {
        (t - self.origin) / DAY
    }
}

/// Cumulative count of a rate r(t) = rate × (1 + daily·sin(2πh/24)) from 0 to `hours`.
fn steady_total(rate: f64, daily: f64, hours: f64) -> f64 {
    let w = std::f64::consts::TAU / 24.0;
    rate * (hours + daily * (1.0 - (w * hours).cos()) / w)
}

/// Cumulative of a rate that goes from `rate` to `rate × factor` along a logistic step of
/// width ~3 h centred on `at` hours.
fn emerging_total(rate: f64, factor: f64, at: f64, hours: f64) -> f64 {
    let width = 3.0;
    // ∫ 1/(1+e^{-(x-at)/w}) dx = w·ln(1+e^{(x-at)/w})
    let soft = |x: f64| width * (1.0 + ((x - at) / width).exp()).ln();
    rate * hours + rate * (factor - 1.0) * (soft(hours) - soft(0.0))
}

impl TagShape {
    fn views(&self, hours: f64) -> f64 {
        let base = 2_000_000.0;
        match *self {
            TagShape::Steady { rate, daily } => base + steady_total(rate, daily, hours),
            TagShape::Emerging {
                rate,
                factor,
                at_day,
            } => base + emerging_total(rate, factor, at_day * 24.0, hours),
        }
        .floor()
    }
}

/// A small deterministic hash: faults and ids must not depend on a random source.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn hash_str(s: &str, seed: u64) -> u64 {
    s.bytes().fold(mix(seed), |h, b| mix(h ^ u64::from(b)))
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    BotWall,
    TooMany,
    Slow,
    Truncated,
}

const BOT_WALL: &str = include_str!("../fixtures/tiktok/bot_wall.html");

struct Responder(Arc<Sim>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let sim = &self.0;
        let now = sim.now();
        let path = request.url.path().to_string();
        let (entity, body, samples, json) = match route(sim, request, now) {
            Some(r) => r,
            None => return ResponseTemplate::new(404).set_body_string("not found"),
        };
        // Faults are decided per path and collection slot: retries in one pass see the same.
        let slot = ((now - sim.origin) / sim.scenario.period + 0.5).floor() as i64;
        let faulty = entity
            .as_ref()
            .is_some_and(|e| sim.scenario.faulty.contains(e));
        let roll = unit(hash_str(&path, sim.scenario.seed ^ mix(slot as u64)));
        let f = &sim.scenario.faults;
        let fault = [
            (Fault::BotWall, f.bot_wall),
            (Fault::TooMany, f.too_many),
            (Fault::Slow, f.slow),
            (Fault::Truncated, f.truncated),
        ]
        .into_iter()
        .scan(0.0, |acc, (k, p)| {
            *acc += p;
            Some((k, *acc))
        })
        .find(|(_, edge)| roll < *edge)
        .map(|(k, _)| k)
        .filter(|_| faulty);
        let hold = *sim.hold.lock().unwrap();
        let held = |r: ResponseTemplate| match hold {
            Some(d) => r.set_delay(d),
            None => r,
        };
        // The item list is not an entity of its own: its faults only cost videos.
        let mut log = sim.log.lock().unwrap();
        if let Some(kind) = fault {
            match kind {
                Fault::BotWall => log.faults.bot_wall += 1,
                Fault::TooMany => log.faults.too_many += 1,
                Fault::Slow => log.faults.slow += 1,
                Fault::Truncated => log.faults.truncated += 1,
            }
            if let Some(e) = &entity {
                *log.faulted.entry(e.clone()).or_default() += 1;
            }
        }
        let content_type = if json {
            "application/json"
        } else {
            "text/html; charset=utf-8"
        };
        held(match fault {
            Some(Fault::BotWall) => ResponseTemplate::new(200)
                .insert_header("content-type", "text/html; charset=utf-8")
                .set_body_string(BOT_WALL),
            Some(Fault::TooMany) => ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string("rate limited"),
            Some(Fault::Slow) => ResponseTemplate::new(200)
                .insert_header("content-type", content_type)
                .set_body_string(body)
                .set_delay(f.slow_delay),
            Some(Fault::Truncated) => {
                let cut = body.len() / 2;
                let mut cut_at = cut;
                while !body.is_char_boundary(cut_at) {
                    cut_at -= 1;
                }
                ResponseTemplate::new(200)
                    .insert_header("content-type", content_type)
                    .set_body_string(body[..cut_at].to_string())
            }
            None => {
                log.faults.ok += 1;
                for (entity, metric, value) in samples {
                    log.served.push(Served {
                        entity,
                        metric,
                        value,
                        at: now,
                        slot,
                    });
                }
                ResponseTemplate::new(200)
                    .insert_header("content-type", content_type)
                    .set_body_string(body)
            }
        })
    }
}

type Routed = (Option<String>, String, Vec<(String, String, f64)>, bool);

fn route(sim: &Sim, request: &Request, now: f64) -> Option<Routed> {
    let path = request.url.path();
    let hours = (now - sim.origin) / HOUR;
    if let Some(name) = path.strip_prefix("/tag/") {
        let name = name.to_lowercase();
        // A discovered tag is collected once trendwatch tracks it: it grows from day 3.
        let discovered = TagShape::Emerging {
            rate: 3_000.0,
            factor: 10.0,
            at_day: 3.5,
        };
        let shape = match sim.scenario.tags.iter().find(|(t, _)| *t == name) {
            Some((_, shape)) => shape,
            None if name == sim.scenario.discovered_tag => &discovered,
            None => return None,
        };
        let views = shape.views(hours);
        let entity = format!("tiktok:#{name}");
        let body = tag_page(&name, views as u64);
        let samples = vec![(entity.clone(), "views".to_string(), views)];
        return Some((Some(entity), body, samples, false));
    }
    if let Some(handle) = path.strip_prefix("/@") {
        let plan = sim.scenario.creators.iter().find(|c| c.handle == handle)?;
        let followers = creator_followers(plan, hours);
        let videos = creator_videos(sim, plan, now, usize::MAX);
        let likes = 100_000.0 + videos.iter().map(|v| v.likes).sum::<f64>();
        let following = 300.0;
        let count = 200.0 + videos.len() as f64;
        let entity = format!("tiktok:@{handle}");
        let body = profile_page(plan, followers, following, likes, count);
        let samples = vec![
            (entity.clone(), "followers".to_string(), followers),
            (entity.clone(), "following".to_string(), following),
            (entity.clone(), "likes".to_string(), likes),
            (entity.clone(), "videos".to_string(), count),
        ];
        return Some((Some(entity), body, samples, false));
    }
    if path.starts_with("/api/creator/item_list") {
        let sec_uid = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "secUid")
            .map(|(_, v)| v.to_string())?;
        let plan = sim
            .scenario
            .creators
            .iter()
            .find(|c| sec_uid_of(&c.handle) == sec_uid)?;
        let videos = creator_videos(sim, plan, now, 15);
        return Some((None, item_list(plan, &videos, now), Vec::new(), true));
    }
    None
}

fn creator_followers(plan: &CreatorPlan, hours: f64) -> f64 {
    (plan.followers + emerging_total(plan.rate, plan.factor, plan.at_day * 24.0, hours)).floor()
}

fn sec_uid_of(handle: &str) -> String {
    format!("MS4wLjABAAAA{}SimSecUid", handle.replace('.', "_"))
}

struct SimVideo {
    id: u64,
    created: f64,
    plays: f64,
    likes: f64,
    comments: f64,
    shares: f64,
    saves: f64,
    tags: Vec<String>,
    breakout: bool,
}

/// The creator's videos visible at `now`: one posted every 12 simulated hours (the 15 most
/// recent), plays growing for two days then flat; the breakout video grows 50× more.
fn creator_videos(sim: &Sim, plan: &CreatorPlan, now: f64, limit: usize) -> Vec<SimVideo> {
    let per = 12.0 * HOUR;
    let first = sim.origin - 10.0 * DAY;
    let last_k = ((now - first) / per).floor() as i64;
    let mut out = Vec::new();
    for k in (0..=last_k).rev().take(limit) {
        let created = first + k as f64 * per;
        let age_h = ((now - created) / HOUR).max(0.0);
        let mut plays = 20_000.0 * (1.0 - (-age_h / 24.0).exp());
        let mut tags = plan.tags.clone();
        let day = sim.days(created);
        if let Some(d) = plan.discovered_from_day {
            if day >= d {
                tags.push(sim.scenario.discovered_tag.clone());
            }
        }
        let mut breakout = false;
        if let Some(b) = plan.breakout_at_day {
            // The first video posted at or after the breakout day takes off.
            if day >= b && day < b + 0.5 {
                plays *= 50.0;
                breakout = true;
            }
        }
        let plays = plays.floor() + 100.0;
        let like_rate = if plan.factor > 1.0 && day >= plan.at_day {
            0.09
        } else {
            0.03
        };
        let id = ((created as u64) << 32) | (hash_str(&plan.handle, k as u64) & 0xffff_ffff);
        out.push(SimVideo {
            id,
            created,
            plays,
            // About 3 % engagement, usual for a micro creator; a rising creator's new videos
            // engage three times as much.
            likes: (plays * like_rate).floor(),
            comments: (plays * 0.002).floor(),
            shares: (plays * 0.001).floor(),
            saves: (plays * 0.01).floor(),
            tags,
            breakout,
        });
    }
    out
}

fn tag_page(name: &str, views: u64) -> String {
    let data = serde_json::json!({"__DEFAULT_SCOPE__": {
        "webapp.app-context": {"language": "en", "region": "FR"},
        "webapp.challenge-detail": {
            "challengeInfo": {
                "challenge": {"id": format!("{}", 7_100_000_000_000_000_000u64 + hash_str(name, 1) % 1_000_000), "title": name, "desc": ""},
                "stats": {"videoCount": 0, "viewCount": views},
                "statsV2": {"videoCount": "0", "viewCount": views.to_string()}
            },
            "shareMeta": {"title": format!("#{name}"), "desc": ""},
            "statusCode": 0, "statusMsg": ""
        }
    }});
    wrap_page(&data.to_string())
}

fn profile_page(
    plan: &CreatorPlan,
    followers: f64,
    following: f64,
    likes: f64,
    count: f64,
) -> String {
    let n = |v: f64| v as u64;
    let data = serde_json::json!({"__DEFAULT_SCOPE__": {
        "webapp.app-context": {"language": "en", "region": "FR"},
        "webapp.user-detail": {
            "userInfo": {
                "user": {
                    "id": format!("{}", 7_000_000_000_000_000_000u64 + hash_str(&plan.handle, 2) % 1_000_000),
                    "uniqueId": plan.handle, "nickname": format!("Sim {}", plan.handle),
                    "signature": "Invented account of the simulated platform",
                    "verified": false, "secUid": sec_uid_of(&plan.handle),
                    "privateAccount": false, "createTime": 1_631_951_383
                },
                "stats": {"followerCount": (n(followers) / 100) * 100, "followingCount": n(following),
                          "heart": n(likes), "heartCount": n(likes), "videoCount": n(count), "diggCount": 0, "friendCount": 3},
                "statsV2": {"followerCount": n(followers).to_string(), "followingCount": n(following).to_string(),
                            "heart": n(likes).to_string(), "heartCount": n(likes).to_string(),
                            "videoCount": n(count).to_string(), "diggCount": "0", "friendCount": "3"},
                "itemList": []
            },
            "statusCode": 0, "statusMsg": ""
        }
    }});
    wrap_page(&data.to_string())
}

fn item_list(plan: &CreatorPlan, videos: &[SimVideo], now: f64) -> String {
    let items: Vec<serde_json::Value> = videos
        .iter()
        .map(|v| {
            let n = |x: f64| x as u64;
            let desc = v
                .tags
                .iter()
                .map(|t| format!("#{t}"))
                .collect::<Vec<_>>()
                .join(" ");
            serde_json::json!({
                "id": v.id.to_string(),
                "desc": format!("Une recette simple {desc}"),
                "createTime": (v.created as i64).to_string(),
                "author": {"uniqueId": plan.handle, "secUid": sec_uid_of(&plan.handle)},
                "challenges": v.tags.iter().map(|t| serde_json::json!({"id": "1", "title": t})).collect::<Vec<_>>(),
                "stats": {"diggCount": n(v.likes), "shareCount": n(v.shares), "commentCount": n(v.comments),
                          "playCount": n(v.plays), "collectCount": n(v.saves).to_string()},
                "statsV2": {"diggCount": n(v.likes).to_string(), "shareCount": n(v.shares).to_string(),
                            "commentCount": n(v.comments).to_string(), "playCount": n(v.plays).to_string(),
                            "collectCount": n(v.saves).to_string(), "repostCount": "0"},
                "textExtra": v.tags.iter().map(|t| serde_json::json!({"type": 1, "hashtagName": t})).collect::<Vec<_>>()
            })
        })
        .collect();
    serde_json::json!({
        "cursor": ((now * 1000.0) as u64).to_string(),
        "extra": {"now": (now * 1000.0) as u64},
        "hasMore": false, "hasMorePrevious": false,
        "itemList": items,
        "statusCode": 0
    })
    .to_string()
}

fn wrap_page(json: &str) -> String {
    // `<` inside the JSON is escaped as TikTok does, so the script never ends early.
    let json = json.replace('<', "\\u003c");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"UTF-8\" />\
         <title>TikTok - Make Your Day</title></head>\n<body style=\"margin: 0\">\
         <div id=\"app\" data-csr=\"1\"></div>\
         <script id=\"__UNIVERSAL_DATA_FOR_REHYDRATION__\" type=\"application/json\">{json}</script>\
         </body></html>\n"
    )
}

/// The week scenario of the end-to-end test: three quiet steady tags, two emerging ones, a
/// steady creator with a breakout video, a creator whose followers jump, a hashtag that
/// starts riding along on their videos, and two flaky entities that get every kind of fault.
pub fn week_scenario() -> Scenario {
    let steady = |rate: f64| TagShape::Steady { rate, daily: 0.3 };
    Scenario {
        tags: vec![
            ("routinevisage".into(), steady(40_000.0)),
            ("huilesessentielles".into(), steady(25_000.0)),
            ("bienetre".into(), steady(60_000.0)),
            ("cosmetiquemaison".into(), steady(30_000.0)),
            (
                "mushroomcoffee".into(),
                TagShape::Emerging {
                    rate: 8_000.0,
                    factor: 12.0,
                    at_day: 4.5,
                },
            ),
            (
                "guashaglace".into(),
                TagShape::Emerging {
                    rate: 5_000.0,
                    factor: 15.0,
                    at_day: 5.0,
                },
            ),
        ],
        creators: vec![
            CreatorPlan {
                handle: "sim.steady".into(),
                followers: 80_000.0,
                rate: 20.0,
                factor: 1.0,
                at_day: 0.0,
                tags: vec!["mushroomcoffee".into()],
                breakout_at_day: Some(5.0),
                discovered_from_day: Some(3.0),
            },
            CreatorPlan {
                handle: "sim.rising".into(),
                followers: 30_000.0,
                rate: 15.0,
                factor: 12.0,
                at_day: 4.5,
                tags: vec!["guashaglace".into()],
                breakout_at_day: None,
                discovered_from_day: Some(3.5),
            },
            CreatorPlan {
                handle: "sim.flaky".into(),
                followers: 12_000.0,
                rate: 6.0,
                factor: 1.0,
                at_day: 0.0,
                tags: vec!["guashaglace".into()],
                breakout_at_day: None,
                discovered_from_day: None,
            },
        ],
        discovered_tag: "seamossnaturel".into(),
        faulty: vec![
            "tiktok:#cosmetiquemaison".into(),
            "tiktok:@sim.flaky".into(),
        ],
        faults: Faults {
            bot_wall: 0.15,
            too_many: 0.15,
            slow: 0.08,
            truncated: 0.15,
            slow_delay: Duration::from_millis(2500),
        },
        period: 3.0 * HOUR,
        seed: 7,
    }
}
