//! The evaluation generator: synthetic hashtag view counters with planted emergences and
//! decoys, and the scoring of a detector against them.
//!
//! Every series is an hourly true rate (a base level, a daily cycle, log-normal noise, plus
//! its kind's shape) whose events are counted (Poisson, so small tags are as noisy as real
//! small tags), integrated into a cumulative counter and sampled like the default schedule
//! (every ~3 hours with ±20 minutes of jitter). Two variants make it harder the way real
//! pages do: [`SynthConfig::rounded`] shows the counter rounded to three significant figures
//! (TikTok's `stats` numbers: 68259 → 68300), so most samples of a quiet tag show no change,
//! and [`SynthConfig::small_counts`] has tags of a few views an hour. Planted emergences grow
//! logistically by 2.5×–15× over 12–72 hours and reach 2× between 60 and 12 hours before the
//! end; decoys are one-hour spikes, fads of 6–18 hours that faded at least 9 hours (three
//! samples) before the end, weekly cycles of up to +90 %, steady slow growth (1.5×–6× over the
//! month), platform recounts, collection gaps and plain noisy tags. A seed makes it exact.
//! The [`evaluate`] function compares `trendwatch::detect` with the naive rule "24-hour rate
//! over the previous 14-day rate above 3". Used by tests, the `detect_eval` example, the
//! bench and end-to-end tests, which include it (`#[path]`): it is test data, not part of the
//! library. It never touches the store or the network.

pub mod display;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use trendwatch::config::DetectConfig;
use trendwatch::detect::{detect, DetectInput, EntitySeries, TrendKind};
use trendwatch::model::{EntityId, Metric, UnixSeconds, TIKTOK};

const HOUR: i64 = 3600;

/// The middle value (the mean of the two middle ones for an even count).
fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}
const DAY: i64 = 86_400;

/// What a synthetic series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeriesKind {
    /// A planted take-off: the only kind that should alert.
    Emergence,
    Plain,
    OneHourSpike,
    FadedFad,
    WeeklyCycle,
    SlowGrowth,
    Recount,
    Gap,
}

impl SeriesKind {
    pub const DECOYS: [SeriesKind; 7] = [
        Self::Plain,
        Self::OneHourSpike,
        Self::FadedFad,
        Self::WeeklyCycle,
        Self::SlowGrowth,
        Self::Recount,
        Self::Gap,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Emergence => "emergence",
            Self::Plain => "plain",
            Self::OneHourSpike => "one-hour spike",
            Self::FadedFad => "faded fad",
            Self::WeeklyCycle => "weekly cycle",
            Self::SlowGrowth => "slow growth",
            Self::Recount => "recount",
            Self::Gap => "collection gap",
        }
    }
}

/// One generated series.
#[derive(Debug, Clone)]
pub struct SynthSeries {
    pub entity: EntityId,
    pub kind: SeriesKind,
    /// Sampled `views` counter.
    pub points: Vec<(UnixSeconds, f64)>,
    /// Emergences: when the true rate reached twice its level before the take-off.
    pub doubled_at: Option<UnixSeconds>,
}

/// How much to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// First hour of the series.
    pub start: UnixSeconds,
    pub days: i64,
    /// Nominal sampling interval and its jitter (both seconds).
    pub every: i64,
    pub jitter: i64,
    pub emergences: usize,
    /// Series per decoy kind.
    pub per_decoy: usize,
    /// Range of the base rates per hour (drawn log-uniformly).
    pub level: (f64, f64),
    /// The counter is shown rounded to three significant figures.
    pub rounded: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            // 2026-10-01T00:00:00Z
            start: 1_790_812_800,
            days: 30,
            every: 3 * HOUR,
            jitter: 20 * 60,
            emergences: 40,
            per_decoy: 10,
            level: (2_000.0, 200_000.0),
            rounded: false,
        }
    }
}

impl SynthConfig {
    /// Counters rounded to three significant figures, with a history long enough that a
    /// quiet tag's rounded value often stays the same from one sample to the next.
    pub fn rounded() -> Self {
        Self {
            rounded: true,
            ..Self::default()
        }
    }

    /// Small tags: 5 to 100 views an hour, where counting noise dominates.
    pub fn small_counts() -> Self {
        Self {
            level: (5.0, 100.0),
            ..Self::default()
        }
    }

    pub fn end(&self) -> UnixSeconds {
        self.start + self.days * DAY
    }
}

fn normal(rng: &mut StdRng) -> f64 {
    // Box–Muller: rand 0.8 has no normal distribution without rand_distr.
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Events in an hour at rate `lambda`: Knuth's method for small rates, the normal
/// approximation above 50 (rand 0.8 has no Poisson distribution without rand_distr).
fn poisson(rng: &mut StdRng, lambda: f64) -> f64 {
    if lambda > 50.0 {
        return (lambda + lambda.sqrt() * normal(rng)).max(0.0).round();
    }
    let limit = (-lambda).exp();
    let mut k = 0.0;
    let mut p: f64 = rng.gen::<f64>();
    while p > limit {
        k += 1.0;
        p *= rng.gen::<f64>();
    }
    k
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A count as TikTok's rounded numbers show it: three significant figures.
fn three_figures(v: f64) -> f64 {
    if v < 1000.0 {
        return v.round();
    }
    let step = 10f64.powi(v.log10().floor() as i32 - 2);
    (v / step).round() * step
}

/// Generates the series of one seed: emergences first, then each decoy kind.
pub fn generate(seed: u64, cfg: &SynthConfig) -> Vec<SynthSeries> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut kinds = vec![SeriesKind::Emergence; cfg.emergences];
    for k in SeriesKind::DECOYS {
        kinds.extend(std::iter::repeat_n(k, cfg.per_decoy));
    }
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, k)| one(&mut rng, cfg, k, i))
        .collect()
}

fn one(rng: &mut StdRng, cfg: &SynthConfig, kind: SeriesKind, i: usize) -> SynthSeries {
    let hours = (cfg.days * 24) as usize;
    let end = cfg.end();
    let base = (rng.gen_range(cfg.level.0.ln()..cfg.level.1.ln())).exp();
    let daily_amp = rng.gen_range(0.0..0.4);
    let daily_phase = rng.gen_range(0.0..24.0);
    let noise = rng.gen_range(0.1..0.3);
    let mut mult = vec![1.0f64; hours];
    let mut doubled_at = None;
    match kind {
        SeriesKind::Emergence => {
            let factor: f64 = rng.gen_range(2.5..15.0);
            let width: f64 = rng.gen_range(12.0..72.0); // hours from 10 % to 90 %
            let s = width / (2.0 * 9f64.ln());
            let t2 = end - rng.gen_range(12 * HOUR..60 * HOUR);
            let mid_h = ((t2 - cfg.start) as f64 / 3600.0) + s * (factor - 2.0).ln();
            for (h, m) in mult.iter_mut().enumerate() {
                *m = 1.0 + (factor - 1.0) * logistic((h as f64 + 0.5 - mid_h) / s);
            }
            doubled_at = Some(t2);
        }
        SeriesKind::OneHourSpike => {
            let h = hours - rng.gen_range(1..72);
            mult[h] = rng.gen_range(5.0..20.0);
        }
        SeriesKind::FadedFad => {
            let len = rng.gen_range(6..=18);
            let stop = hours - rng.gen_range(9..72);
            let f = rng.gen_range(3.0..10.0);
            for m in &mut mult[stop - len..stop] {
                *m = f;
            }
        }
        SeriesKind::WeeklyCycle => {
            let amp = rng.gen_range(0.5..0.9);
            let phase = rng.gen_range(0.0..168.0);
            for (h, m) in mult.iter_mut().enumerate() {
                let c = (std::f64::consts::TAU * (h as f64 - phase) / 168.0).cos();
                *m = 1.0 + amp * c.max(0.0).powi(2);
            }
        }
        SeriesKind::SlowGrowth => {
            let total: f64 = rng.gen_range(1.5..6.0);
            for (h, m) in mult.iter_mut().enumerate() {
                *m = total.powf(h as f64 / hours as f64);
            }
        }
        _ => {}
    }
    // Count the events of each hour into a counter at hour boundaries; a rounded counter
    // starts with 300 to 3,000 hours of history, so its display step is a few hours of views.
    let start_value = if cfg.rounded {
        (base * rng.gen_range(300.0..3_000.0f64)).round()
    } else {
        rng.gen_range(1e6..1e9f64).round()
    };
    let mut cum = vec![start_value];
    for (h, m) in mult.iter().enumerate() {
        let daily =
            1.0 + daily_amp * (std::f64::consts::TAU * (h as f64 + daily_phase) / 24.0).sin();
        let r = base * m * daily * (noise * normal(rng)).exp();
        let last = cum[h];
        cum.push(last + poisson(rng, r));
    }
    let value_at = |t: UnixSeconds| -> f64 {
        let x = (t - cfg.start) as f64 / 3600.0;
        let h = (x.floor() as usize).min(hours - 1);
        let f = x - h as f64;
        (cum[h] + f * (cum[h + 1] - cum[h])).round()
    };
    let mut points = Vec::new();
    let mut k = 0i64;
    loop {
        let nominal = cfg.start + k * cfg.every;
        if nominal > end {
            break;
        }
        let t = (nominal + rng.gen_range(-cfg.jitter..=cfg.jitter)).clamp(cfg.start, end);
        points.push((t, value_at(t)));
        k += 1;
    }
    points.sort_by_key(|p| p.0);
    points.dedup_by_key(|p| p.0);
    match kind {
        SeriesKind::Recount => {
            // One lasting downward recount and one glitch, in the last ten days.
            let n = points.len();
            let a = n - rng.gen_range(2..80);
            let drop = rng.gen_range(0.02..0.1);
            let level = points[a].1 * drop;
            for p in &mut points[a..] {
                p.1 -= level;
            }
            let b = n - rng.gen_range(2..80);
            points[b].1 *= 1.0 - rng.gen_range(0.02..0.1);
        }
        SeriesKind::Gap => {
            let len = rng.gen_range(12 * HOUR..48 * HOUR);
            let stop = end - rng.gen_range(3 * HOUR..10 * DAY);
            points.retain(|p| p.0 < stop - len || p.0 >= stop);
        }
        _ => {}
    }
    if cfg.rounded {
        for p in &mut points {
            p.1 = three_figures(p.1);
        }
    }
    SynthSeries {
        entity: EntityId::hashtag(
            TIKTOK,
            &format!("{}{i}", kind.as_str().replace([' ', '-'], "")),
        ),
        kind,
        points,
        doubled_at,
    }
}

/// The harmonic mean of precision and recall.
fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

/// The whole seed as a [`DetectInput`] (views of hashtags, nothing else).
pub fn input_of(series: &[SynthSeries], at: UnixSeconds) -> DetectInput {
    DetectInput {
        entities: series
            .iter()
            .map(|s| EntitySeries {
                entity: s.entity.clone(),
                first_seen: s.points.first().map(|p| p.0),
                metrics: vec![(Metric::VIEWS, s.points.clone())],
            })
            .collect(),
        at,
        ..DetectInput::default()
    }
}

/// The naive rule: the last 24 hours' rate is more than 3 times the rate of the 14 days
/// before, and above `min_rate`. Counter values are the latest sample at or before a time.
pub fn naive_rule(points: &[(UnixSeconds, f64)], at: UnixSeconds, min_rate: f64) -> bool {
    let value = |t: UnixSeconds| -> Option<f64> {
        let i = points.partition_point(|p| p.0 <= t);
        i.checked_sub(1).map(|i| points[i].1)
    };
    let (Some(now), Some(day), Some(old)) = (value(at), value(at - DAY), value(at - 15 * DAY))
    else {
        return false;
    };
    let recent = (now - day) / 24.0;
    let before = (day - old) / (14.0 * 24.0);
    recent >= min_rate && recent > 3.0 * before.max(0.0)
}

/// Scores of one method on one seed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MethodScore {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    /// Alerts at the end time per decoy kind, in [`SeriesKind::DECOYS`] order.
    pub decoy_alerts: Vec<(SeriesKind, usize)>,
    /// Hours from "rate reached 2×" to the first alert, per emergence that alerted at all
    /// when replaying every 3 hours (negative: alerted before 2×).
    pub lags_h: Vec<f64>,
    /// Decoys other than fads (which really rise while they last) that alerted at any
    /// replay, every 3 hours over the last 7 days.
    pub decoys_alerting_in_replay: usize,
}

impl MethodScore {
    pub fn precision(&self) -> f64 {
        let d = self.true_positives + self.false_positives;
        if d == 0 {
            0.0
        } else {
            self.true_positives as f64 / d as f64
        }
    }
    pub fn recall(&self) -> f64 {
        let d = self.true_positives + self.false_negatives;
        if d == 0 {
            0.0
        } else {
            self.true_positives as f64 / d as f64
        }
    }
    pub fn f1(&self) -> f64 {
        f1(self.precision(), self.recall())
    }
    /// Median lag in hours; `None` when nothing alerted.
    pub fn median_lag_h(&self) -> Option<f64> {
        median(&self.lags_h)
    }
}

/// trendwatch's detector and the naive rule on one seed.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub seed: u64,
    pub series: usize,
    pub trendwatch: MethodScore,
    pub naive: MethodScore,
}

/// Generates a seed and scores both methods at the end time, and their lags replaying every
/// 3 hours from a day before each emergence doubled.
pub fn evaluate(seed: u64, synth: &SynthConfig, cfg: &DetectConfig) -> Evaluation {
    let series = generate(seed, synth);
    let end = synth.end();
    let alerted: std::collections::HashSet<EntityId> = detect(&input_of(&series, end), cfg, end)
        .into_iter()
        .filter(|t| t.kind == TrendKind::Emerging)
        .map(|t| t.entity)
        .collect();
    let ours = |s: &SynthSeries, at: UnixSeconds| -> bool {
        detect(&input_of(std::slice::from_ref(s), at), cfg, at)
            .iter()
            .any(|t| t.kind == TrendKind::Emerging)
    };
    let naive = |s: &SynthSeries, at: UnixSeconds| naive_rule(&s.points, at, cfg.min_rate);
    let mut scores = [MethodScore::default(), MethodScore::default()];
    for (m, score) in scores.iter_mut().enumerate() {
        let mut decoys: Vec<(SeriesKind, usize)> =
            SeriesKind::DECOYS.iter().map(|k| (*k, 0)).collect();
        for s in &series {
            let hit = if m == 0 {
                alerted.contains(&s.entity)
            } else {
                naive(s, end)
            };
            match (s.kind, hit) {
                (SeriesKind::Emergence, true) => score.true_positives += 1,
                (SeriesKind::Emergence, false) => score.false_negatives += 1,
                (k, true) => {
                    score.false_positives += 1;
                    if let Some(d) = decoys.iter_mut().find(|d| d.0 == k) {
                        d.1 += 1;
                    }
                }
                _ => {}
            }
            if s.kind != SeriesKind::Emergence && s.kind != SeriesKind::FadedFad {
                let mut at = end - 7 * DAY;
                while at <= end {
                    let fired = if m == 0 { ours(s, at) } else { naive(s, at) };
                    if fired {
                        score.decoys_alerting_in_replay += 1;
                        break;
                    }
                    at += 3 * HOUR;
                }
            }
            if let Some(t2) = s.doubled_at {
                // Replay on the 3-hour grid of the schedule.
                let first = synth.start + ((t2 - DAY - synth.start) / (3 * HOUR)) * 3 * HOUR;
                let mut at = first;
                while at <= end {
                    let fired = if m == 0 { ours(s, at) } else { naive(s, at) };
                    if fired {
                        score.lags_h.push((at - t2) as f64 / 3600.0);
                        break;
                    }
                    at += 3 * HOUR;
                }
            }
        }
        score.decoy_alerts = decoys;
    }
    let [trendwatch, naive] = scores;
    Evaluation {
        seed,
        series: series.len(),
        trendwatch,
        naive,
    }
}

/// The default `[detect]` settings: 14-day baseline, 24-hour recent window, no absolute
/// floor, score 3.
pub fn default_detect_config() -> DetectConfig {
    DetectConfig {
        baseline: std::time::Duration::from_secs(14 * DAY as u64),
        recent: std::time::Duration::from_secs(DAY as u64),
        min_rate: 0.0,
        min_views: trendwatch::config::DEFAULT_MIN_VIEWS,
        min_score: trendwatch::config::DEFAULT_MIN_SCORE,
    }
}
