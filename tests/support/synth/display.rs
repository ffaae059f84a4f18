//! Counters as TikTok displays them, for judging alerts by the false alarms a reader gets.
//!
//! The other variants of [`super`] are kind to a detector: their counters move many steps a
//! day. Real hashtag counters do not. TikTok shows exact counts below 10,000, then one
//! decimal of K, M or B (`12.3K` moves in steps of 100, `13.3M` in steps of 100,000, `1.2B`
//! in steps of 100 million); most tags move one to five display steps a week, most 3-hour
//! samples show no change, some go one step down and back (recounts, rounding), and views
//! arrive in clumps (one video's worth at a time). [`generate`] makes such counters with those
//! statistics; a share of them take off (×4 to ×20 over one to four days, held for weeks).
//!
//! What counts as a take-off is not what was planted but what a reader would call one, read
//! from the displayed counter itself ([`take_offs`]): a 7-day gain at least 3 times the tag's
//! usual weekly gain over the 4 weeks before, at least 1,000 views and 3 display steps, and
//! still at least twice the usual the week after. [`evaluate`] replays [`backtest`] every
//! 3 hours and counts, per kind, the alert onsets per tag-week on tags with no take-off, the
//! take-offs caught within [−3 days, +7 days] of their surge, and the `emerging` onsets that
//! belong to one.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{normal, poisson};
use trendwatch::config::DetectConfig;
use trendwatch::detect::{backtest, DetectInput, EntitySeries, TrendKind};
use trendwatch::model::{EntityId, Metric, UnixSeconds, TIKTOK};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// Display steps in the first week of a take-off that make it visible above the counting
/// noise of a quiet week (10 steps where 1 to 3 are usual: a Poisson surprise beyond 4σ).
pub const VISIBLE_STEPS: f64 = 10.0;

/// How much and what to generate.
#[derive(Debug, Clone)]
pub struct DisplayConfig {
    /// First hour of the series.
    pub start: UnixSeconds,
    pub weeks: i64,
    pub tags: usize,
    /// Share of the tags that take off once.
    pub take_off_share: f64,
    /// Usual views per hour drawn log-uniformly in this range instead of from the real
    /// distribution of sizes and weekly steps.
    pub tiny: Option<(f64, f64)>,
}

impl Default for DisplayConfig {
    fn default() -> Self {
        Self {
            // 2026-06-01T00:00:00Z
            start: 1_780_272_000,
            weeks: 14,
            tags: 200,
            take_off_share: 0.25,
            tiny: None,
        }
    }
}

impl DisplayConfig {
    /// Tags of 5 to 100 views an hour: counting noise and clumps dominate.
    pub fn tiny() -> Self {
        Self {
            tiny: Some((5.0, 100.0)),
            ..Self::default()
        }
    }

    pub fn end(&self) -> UnixSeconds {
        self.start + self.weeks * WEEK
    }
}

/// The display step of a value: 1 below 10,000, then one decimal of K, M or B.
pub fn display_step(v: f64) -> f64 {
    if v < 10_000.0 {
        1.0
    } else if v < 1e6 {
        100.0
    } else if v < 1e9 {
        1e5
    } else {
        1e8
    }
}

/// A count as the page shows it (truncated to its display step).
pub fn displayed(v: f64) -> f64 {
    let step = display_step(v);
    (v / step).floor() * step
}

/// One generated counter.
#[derive(Debug, Clone)]
pub struct DisplaySeries {
    pub entity: EntityId,
    pub points: Vec<(UnixSeconds, f64)>,
    /// Whether a take-off was planted (labels come from [`take_offs`], not from this).
    pub planted: bool,
}

/// Generates the counters of one seed.
pub fn generate(seed: u64, cfg: &DisplayConfig) -> Vec<DisplaySeries> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..cfg.tags)
        .map(|i| {
            let planted = (i as f64) < cfg.take_off_share * cfg.tags as f64;
            one(&mut rng, cfg, planted, i)
        })
        .collect()
}

fn one(rng: &mut StdRng, cfg: &DisplayConfig, planted: bool, i: usize) -> DisplaySeries {
    let hours = (cfg.weeks * 168) as usize;
    let (start_value, base) = match cfg.tiny {
        Some((lo, hi)) => {
            let rate: f64 = rng.gen_range(lo.ln()..hi.ln()).exp();
            (rng.gen_range(1_000f64.ln()..500_000f64.ln()).exp(), rate)
        }
        None => {
            // Final sizes: quartiles 206k / 2.8M / 23.2M; weekly gains in display steps:
            // quartiles 0.8 / 2.2 / 4.9.
            let size = 10f64.powf(6.45 + 1.5 * normal(rng)).clamp(1_000.0, 8e8);
            let steps_a_week = (2.2f64.ln() + 1.34 * normal(rng)).exp().clamp(0.1, 80.0);
            let step = display_step(size).max(100.0);
            (size, steps_a_week * step / 168.0)
        }
    };
    // Views come one video at a time: clumps of 5 to 300 views, never more than a day's worth.
    let clump = rng
        .gen_range(5f64.ln()..300f64.ln())
        .exp()
        .min(base * 24.0)
        .max(1.0);
    let daily_amp = rng.gen_range(0.0..0.4);
    let daily_phase = rng.gen_range(0.0..24.0);
    let wobble = rng.gen_range(0.15..0.5);
    let mut mult = vec![1.0f64; hours];
    if planted {
        let factor: f64 = rng.gen_range(4.0..20.0);
        let ramp = rng.gen_range(24.0..96.0);
        let begin = rng.gen_range(5 * 168..(cfg.weeks as usize - 3) * 168) as f64;
        let hold = rng.gen_range(10.0 * 24.0..28.0 * 24.0);
        for (h, m) in mult.iter_mut().enumerate() {
            let x = h as f64 - begin;
            let up = (x / ramp).clamp(0.0, 1.0);
            let down = ((x - ramp - hold) / 168.0).clamp(0.0, 1.0);
            *m = 1.0 + (factor - 1.0) * up * (1.0 - down);
        }
    }
    // A daily wobble that drifts (a busy week is busy every day).
    let mut day_level = 0.0;
    let mut cum = vec![start_value];
    for (h, m) in mult.iter().enumerate() {
        if h % 24 == 0 {
            day_level = 0.6 * day_level + 0.8 * wobble * normal(rng);
        }
        let cycle =
            1.0 + daily_amp * (std::f64::consts::TAU * (h as f64 + daily_phase) / 24.0).sin();
        let r = base * m * cycle * day_level.exp();
        let last = cum[h];
        cum.push(last + clump * poisson(rng, r / clump));
    }
    let mut points = Vec::new();
    let mut t = cfg.start + rng.gen_range(0..3 * HOUR);
    let end = cfg.end();
    while t < end {
        let h = ((t - cfg.start) / HOUR) as usize;
        let f = ((t - cfg.start) % HOUR) as f64 / 3600.0;
        let exact = (cum[h] + f * (cum[h + 1] - cum[h])).round();
        let mut shown = displayed(exact);
        // One sample in 55 shows a step less (recounts, rounding): 1.8 % of intervals go down.
        if rng.gen_bool(1.0 / 55.0) {
            shown = (shown - display_step(shown)).max(0.0);
        }
        points.push((t, shown));
        // Sampled every ~3 hours (quartiles 2.8 / 2.9 / 3.2 h); a gap over a day is rare.
        let gap = if rng.gen_bool(1.0 / 4_000.0) {
            rng.gen_range(24.0..48.0)
        } else {
            (2.95 + 0.3 * normal(rng)).clamp(2.3, 4.0)
        };
        t += (gap * 3600.0) as i64;
    }
    DisplaySeries {
        entity: EntityId::hashtag(TIKTOK, &format!("tag{i}")),
        points,
        planted,
    }
}

/// A take-off as a reader would call it, read from a displayed counter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TakeOff {
    /// Where the surge began: the first moment from which the next 24 hours' gain is at least
    /// 3 times the usual daily gain and at least one display step.
    pub surge: UnixSeconds,
    /// The last moment a 7-day window starting there was still a take-off.
    pub last: UnixSeconds,
}

/// The take-offs of one counter (see the module docs for the definition).
pub fn take_offs(points: &[(UnixSeconds, f64)]) -> Vec<TakeOff> {
    let value = |t: UnixSeconds| -> Option<f64> {
        let i = points.partition_point(|p| p.0 <= t);
        i.checked_sub(1).map(|i| points[i].1)
    };
    let Some(&(first, _)) = points.first() else {
        return Vec::new();
    };
    let Some(&(last_t, _)) = points.last() else {
        return Vec::new();
    };
    let mut found: Vec<TakeOff> = Vec::new();
    for &(t, v) in points {
        if t - first < 4 * WEEK || t + 2 * WEEK > last_t {
            continue;
        }
        let (Some(old), Some(next), Some(after)) =
            (value(t - 4 * WEEK), value(t + WEEK), value(t + 2 * WEEK))
        else {
            continue;
        };
        let usual = (v - old) / 4.0;
        let gain = next - v;
        let step = display_step(next);
        let is_take_off = gain >= 3.0 * usual
            && gain >= 1_000.0
            && gain >= 3.0 * step
            && after - next >= 2.0 * usual;
        if !is_take_off {
            continue;
        }
        match found.last_mut() {
            Some(k) if t - k.last <= 2 * DAY => k.last = t,
            _ => {
                let daily = usual / 7.0;
                let surge = points
                    .iter()
                    .filter(|p| p.0 >= t - 3 * DAY && p.0 <= t + WEEK)
                    .find(|p| {
                        value(p.0 + DAY)
                            .is_some_and(|d| d - p.1 >= 3.0 * daily && d - p.1 >= display_step(d))
                    })
                    .map_or(t, |p| p.0);
                found.push(TakeOff { surge, last: t });
            }
        }
    }
    found
}

/// What an evaluation found, summed over the tags of one seed.
#[derive(Debug, Clone, Default)]
pub struct DisplayScore {
    /// Tag-weeks replayed on tags with no take-off at all.
    pub quiet_tag_weeks: f64,
    /// Onsets per kind on those tags: emerging, spike, cooling.
    pub quiet_onsets: [usize; 3],
    /// Tag-weeks replayed on every tag, and onsets per kind on all of them.
    pub tag_weeks: f64,
    pub onsets: [usize; 3],
    pub take_offs: usize,
    pub caught: usize,
    /// The take-offs on tags where one was planted (the others are the counting noise of
    /// quiet tags that happens to meet the reader's definition), and those caught.
    pub planted: usize,
    pub planted_caught: usize,
    /// The take-offs whose first week after the surge moved at least [`VISIBLE_STEPS`]
    /// display steps, and those caught: fewer steps are within the counting noise of a quiet
    /// week and cannot be told from it without false alarms.
    pub visible: usize,
    pub visible_caught: usize,
    /// `emerging` onsets in all, and those that belong to a take-off of their tag.
    pub emerging: usize,
    pub emerging_true: usize,
    /// Hours from a caught take-off's surge to its first `emerging` onset.
    pub lags_h: Vec<f64>,
}

impl DisplayScore {
    pub fn per_quiet_tag_week(&self, kind: usize) -> f64 {
        self.quiet_onsets[kind] as f64 / self.quiet_tag_weeks.max(1.0)
    }

    pub fn per_tag_week(&self, kind: usize) -> f64 {
        self.onsets[kind] as f64 / self.tag_weeks.max(1.0)
    }

    pub fn recall(&self) -> f64 {
        self.caught as f64 / self.take_offs.max(1) as f64
    }

    pub fn visible_recall(&self) -> f64 {
        self.visible_caught as f64 / self.visible.max(1) as f64
    }

    pub fn planted_recall(&self) -> f64 {
        self.planted_caught as f64 / self.planted.max(1) as f64
    }

    pub fn precision(&self) -> f64 {
        if self.emerging == 0 {
            1.0
        } else {
            self.emerging_true as f64 / self.emerging as f64
        }
    }

    pub fn f1(&self) -> f64 {
        super::f1(self.precision(), self.recall())
    }

    pub fn median_lag_h(&self) -> Option<f64> {
        super::median(&self.lags_h)
    }

    /// Adds another seed's figures.
    pub fn add(&mut self, o: &DisplayScore) {
        self.quiet_tag_weeks += o.quiet_tag_weeks;
        self.tag_weeks += o.tag_weeks;
        for k in 0..3 {
            self.quiet_onsets[k] += o.quiet_onsets[k];
            self.onsets[k] += o.onsets[k];
        }
        self.take_offs += o.take_offs;
        self.caught += o.caught;
        self.planted += o.planted;
        self.planted_caught += o.planted_caught;
        self.visible += o.visible;
        self.visible_caught += o.visible_caught;
        self.emerging += o.emerging;
        self.emerging_true += o.emerging_true;
        self.lags_h.extend_from_slice(&o.lags_h);
    }
}

/// Replays `backtest` every `every` over the weeks after the first five and scores it.
pub fn evaluate(
    series: &[DisplaySeries],
    cfg: &DisplayConfig,
    detect_cfg: &DetectConfig,
    every: i64,
) -> DisplayScore {
    let from = cfg.start + 5 * WEEK;
    let to = cfg.end();
    let mut score = DisplayScore::default();
    let weeks = (to - from) as f64 / WEEK as f64;
    for s in series {
        let input = DetectInput {
            entities: vec![EntitySeries {
                entity: s.entity.clone(),
                first_seen: s.points.first().map(|p| p.0),
                metrics: vec![(Metric::VIEWS, s.points.clone())],
            }],
            at: to,
            ..DetectInput::default()
        };
        let labels = take_offs(&s.points);
        let onsets = backtest(&input, detect_cfg, from, to, every);
        let kind_index = |k: TrendKind| match k {
            TrendKind::Emerging => Some(0),
            TrendKind::Spike => Some(1),
            TrendKind::Cooling => Some(2),
            _ => None,
        };
        score.tag_weeks += weeks;
        if labels.is_empty() {
            score.quiet_tag_weeks += weeks;
        }
        for o in &onsets {
            let Some(k) = kind_index(o.trend.kind) else {
                continue;
            };
            score.onsets[k] += 1;
            if labels.is_empty() {
                score.quiet_onsets[k] += 1;
            }
            if k == 0 {
                score.emerging += 1;
                if labels
                    .iter()
                    .any(|l| o.at >= l.surge - 3 * DAY && o.at <= l.last + 2 * WEEK)
                {
                    score.emerging_true += 1;
                }
            }
        }
        for l in labels
            .iter()
            .filter(|l| l.surge >= from && l.surge + WEEK <= to)
        {
            score.take_offs += 1;
            score.planted += usize::from(s.planted);
            let value = |t: UnixSeconds| {
                let i = s.points.partition_point(|p| p.0 <= t);
                i.checked_sub(1).map_or(0.0, |i| s.points[i].1)
            };
            let week = value(l.surge + WEEK);
            let visible = week - value(l.surge) >= VISIBLE_STEPS * display_step(week);
            score.visible += usize::from(visible);
            let first = onsets
                .iter()
                .filter(|o| o.trend.kind == TrendKind::Emerging)
                .find(|o| o.at >= l.surge - 3 * DAY && o.at <= l.surge + WEEK);
            if let Some(o) = first {
                score.caught += 1;
                score.planted_caught += usize::from(s.planted);
                score.visible_caught += usize::from(visible);
                score.lags_h.push((o.at - l.surge) as f64 / 3600.0);
            }
        }
    }
    score
}

#[cfg(test)]
#[allow(unused_imports)] // (compiled but not run in the benches that include this file)
mod tests {
    use super::*;

    #[test]
    fn display_counts_move_in_tiktoks_steps() {
        assert_eq!(displayed(9_999.0), 9_999.0);
        assert_eq!(displayed(12_345.0), 12_300.0);
        assert_eq!(displayed(13_349_999.0), 13_300_000.0);
        assert_eq!(displayed(1_234_567_890.0), 1_200_000_000.0);
    }

    #[test]
    fn the_generated_counters_have_the_real_statistics() {
        let cfg = DisplayConfig {
            take_off_share: 0.0,
            ..DisplayConfig::default()
        };
        let series = generate(7, &cfg);
        let (mut flat, mut down, mut all) = (0usize, 0usize, 0usize);
        let mut weekly_steps = Vec::new();
        for s in &series {
            for w in s.points.windows(2) {
                all += 1;
                if w[1].1 == w[0].1 {
                    flat += 1;
                } else if w[1].1 < w[0].1 {
                    down += 1;
                }
            }
            let (first, last) = (s.points[0], s.points[s.points.len() - 1]);
            let weeks = (last.0 - first.0) as f64 / WEEK as f64;
            weekly_steps.push((last.1 - first.1) / display_step(last.1) / weeks);
        }
        let flat = flat as f64 / all as f64;
        let down = down as f64 / all as f64;
        assert!((0.75..0.95).contains(&flat), "flat share {flat}");
        assert!((0.01..0.05).contains(&down), "down share {down}");
        let median = super::super::median(&weekly_steps).unwrap();
        assert!((1.0..5.0).contains(&median), "weekly steps {median}");
        // Quiet tags hold no take-off by the reader's definition, or hardly any.
        let labelled = series
            .iter()
            .filter(|s| !take_offs(&s.points).is_empty())
            .count();
        assert!(
            labelled <= series.len() / 20,
            "{labelled} quiet tags labelled"
        );
    }
}
