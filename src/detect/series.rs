//! Growth, spikes and cooling of one counter against its own seasonal, trend-adjusted
//! baseline.
//!
//! What it models: the increase of a counter over any stretch of time is a count whose usual
//! value comes from the entity's own history (its level, its hour-of-day and weekly cycles,
//! its steady trend) and whose noise has two parts: the multiplicative wobble every real
//! series has (a busy day, a quiet evening), measured on the entity's own baseline, and the
//! counting noise of small numbers (Poisson: three views an hour are never "three times
//! nothing"), plus the rounding of counters that move in display steps. Every test is a
//! log-ratio of observed to usual increase divided by that noise, so a tag with 5 views an
//! hour and one with 5 million are judged on the same scale, and size and persistence are
//! read from the same evidence: the stretch since the take-off began.
//!
//! The method, in order:
//! 1. Rates per hour from the counter ([`super::intervals`]): recounts and gaps never spike,
//!    rounded counters spread their steps.
//! 2. A baseline from the `baseline` window that ends where the `recent` window starts: the
//!    entity's level (median rate), an hour-of-day profile, the rate at the same hour one and
//!    two weeks earlier, and a trend from the Theil–Sen slope of daily log medians (the
//!    smaller of the two halves' slopes, so steady slow growth is expected while a take-off
//!    that started inside the window is not). The usual rate at a time is the larger of the
//!    profile-with-trend and the weekly lag, and never under half the entity's own level (a
//!    floor relative to the entity, so quiet hours cannot make an ordinary rate look huge).
//! 3. `emerging`: the stretch ending now with the strongest evidence of a rise, at least
//!    [`MIN_RUN_SPAN`] long (longer on a rounded counter: by the time one display step takes
//!    at the usual rate, since its views are only placed in time to within a step), whose increase is at least [`MIN_GROWTH`] times the usual, with
//!    each of its halves at least [`RUN_RATIO`] times usual, and so the stretch without the
//!    strongest burst in it (sustained, not one burst, still holding now). When the take-off began before the
//!    recent window, the baseline is fitted again on the time before it, so a take-off that
//!    holds at 4× stays `emerging` for days, until it has lasted long enough to be the new
//!    normal (about half the baseline).
//! 4. `spike`: a burst of at most [`SPIKE_MAX_SPAN`] within the recent window, at least
//!    [`SPIKE_GROWTH`] times usual: a viral moment, not (yet) a trend. A spike that lasts
//!    becomes `emerging`.
//! 5. `cooling`: a sustained peak that has fallen to at most [`COOLING_FRACTION`] of itself.
//!
//! Scores are z-scores, `ln(observed / usual) / noise`: 3 means "three typical wobbles above
//! usual" — capped by the count's own surprise ([`count_significance`] of the increase less
//! one display step, in [`Baseline::unit`]s, minus [`COUNT_MARGIN`]), and every stretch must
//! exceed usual by [`MIN_EXCESS_STEPS`] display steps and the configured floor of views
//! (cooling: fall short of its peak's pace by [`MIN_DROP_STEPS`] steps a day), so a coarse
//! or tiny counter cannot alert on its resolution. It never looks at a sample after `at`.

use super::stats::{mad_sigma, median, median_in_place, theil_sen};
use super::{intervals, Interval};
use crate::model::UnixSeconds;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// Each part of a take-off (its older half, its latest hours) runs at least this many times
/// its usual rate.
pub const RUN_RATIO: f64 = 1.5;
/// The growth over a take-off an emergence needs.
pub const MIN_GROWTH: f64 = 1.7;
/// Intervals a take-off needs.
pub const MIN_RUN: usize = 2;
/// Time a take-off must cover: a one-hour burst never does, two 3-hour samples with jitter
/// always do.
pub const MIN_RUN_SPAN: i64 = 5 * HOUR;
/// The most a rounded counter's resolution adds to [`MIN_RUN_SPAN`].
pub const MAX_RESOLUTION: i64 = 2 * DAY;
/// The longest burst reported as a spike.
pub const SPIKE_MAX_SPAN: i64 = 6 * HOUR;
/// How far above usual a burst must go to be a spike.
pub const SPIKE_GROWTH: f64 = 3.0;
/// Floor of the multiplicative noise, so that very smooth series do not turn +30 % into an
/// alert.
pub const MIN_NOISE: f64 = 0.1;
/// The usual rate is never taken under this fraction of the entity's own level.
pub const LEVEL_FLOOR: f64 = 0.5;
/// Intervals over which the multiplicative wobble averages out: beyond that, real series
/// drift together (a busy week is busy every day), so more samples add no certainty.
const MAX_AVERAGED: usize = 4;
/// Most a steady trend may grow per day (doubling per week) before it counts as a take-off.
const MAX_TREND_PER_DAY: f64 = std::f64::consts::LN_2 / 7.0;
/// Baseline intervals needed before anything is said about an entity.
const MIN_BASELINE_SAMPLES: usize = 8;
/// Cooling: the rate now is at most this fraction of the recent peak.
pub const COOLING_FRACTION: f64 = 0.5;
/// A peak that can cool is a level held over this many intervals and this long: more than a
/// one-hour burst can touch, even split over two 3-hour samples.
pub const PEAK_RUN: usize = 3;
pub const PEAK_SPAN: i64 = 6 * HOUR;
/// The excess over usual an `emerging` or `spike` needs, in display steps: one step early is
/// the counter's resolution, not news, and a reader's take-off moves at least three.
pub const MIN_EXCESS_STEPS: f64 = 3.0;
/// What a count's surprise ([`count_significance`]) is discounted by before it is compared
/// with `min_score`: the count model assumes clumps of one size, real counters have clumps of
/// every size and a fatter tail, and a quiet tag is tested at every replay of every week.
/// With it, a quiet tag gets under one false alarm in six months at the default `min_score`.
pub const COUNT_MARGIN: f64 = 1.5;
/// The fall in daily views a `cooling` needs, in display steps.
pub const MIN_DROP_STEPS: f64 = 2.0;
/// The least day-to-day wobble assumed of any series: two weeks of baseline cannot prove a
/// counter steadier than ±20 % a day.
pub const MIN_DAILY_WOBBLE: f64 = 0.2;
/// Units a usual day must hold before its day-to-day wobble can be told from counting noise.
const DAILY_UNITS: f64 = 10.0;
/// Counting noise: half an event added to both sides keeps empty intervals finite.
const HALF_EVENT: f64 = 0.5;

/// An entity's usual rate as a function of time, and how much its series wobbles.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The entity's level: median rate over the baseline window.
    pub median: f64,
    /// Hour-of-day factors, 8 bins of 3 hours (UTC).
    day: [f64; 8],
    /// Log-rate growth per second of a steady trend (≥ 0).
    slope: f64,
    /// Where `median` sits in time.
    center: UnixSeconds,
    /// Baseline intervals, sorted by middle time, for weekly lags.
    mids: Vec<(UnixSeconds, f64)>,
    /// Robust spread of log rates around the expectation, counting noise included.
    pub noise: f64,
    /// The multiplicative part of the noise alone (counting noise removed).
    pub wobble: f64,
    /// How many views the counter moves by at a time, at the least: its display step, or the
    /// clumps its views come in (one video's worth), read as the dispersion of the shown
    /// increases (their variance over their mean). Counts are judged in these units.
    pub unit: f64,
    /// The mean rate over the window: what a count is compared with. On a lumpy counter the
    /// median rate is far below it (most intervals see nothing, then a clump arrives).
    pub mean: f64,
    /// How much whole days differ from each other, multiplicatively, once counting noise is
    /// taken out: busy weeks and quiet ones. It does not average away over a longer stretch,
    /// and on a rounded counter it is the only wobble that can be seen at all.
    pub daily: f64,
    pub samples: usize,
}

fn hour_bin(t: UnixSeconds) -> usize {
    (t.rem_euclid(DAY) / (3 * HOUR)) as usize
}

/// `ln(observed / usual)` of an increase, finite for empty intervals.
fn log_ratio(observed: f64, usual: f64) -> f64 {
    ((observed + HALF_EVENT) / (usual + HALF_EVENT)).ln()
}

impl Baseline {
    /// Fits the baseline on the intervals whose middle lies in `[from, to)`.
    pub fn fit(ivs: &[Interval], from: UnixSeconds, to: UnixSeconds) -> Option<Baseline> {
        let lo = ivs.partition_point(|i| i.mid() < from);
        let base: Vec<&Interval> = ivs[lo..]
            .iter()
            .take_while(|i| i.mid() < to)
            .filter(|i| i.end <= to)
            .collect();
        if base.len() < MIN_BASELINE_SAMPLES {
            return None;
        }
        let mut rates: Vec<f64> = base.iter().map(|i| i.rate).collect();
        let mean = rates.iter().sum::<f64>() / rates.len() as f64;
        // Small counts have a median of 0 while events do happen: half the mean then.
        let med = median_in_place(&mut rates)?.max(0.5 * mean).max(1e-9);
        // Hour-of-day profile: median ratio per 3-hour bin, when the bin has enough samples.
        let mut bins: [Vec<f64>; 8] = Default::default();
        for i in &base {
            bins[hour_bin(i.mid())].push(i.rate / med);
        }
        let mut day = [1.0; 8];
        for (f, b) in day.iter_mut().zip(bins.iter_mut()) {
            if b.len() >= 3 {
                *f = median_in_place(b).unwrap_or(1.0).clamp(0.2, 5.0);
            }
        }
        // Daily log medians, for the trend.
        let mut days: Vec<(f64, f64)> = Vec::new();
        let mut k = 0;
        while k < base.len() {
            let d = (to - base[k].mid()) / DAY;
            let mut day_rates = Vec::new();
            let mut mids = 0i64;
            while k < base.len() && (to - base[k].mid()) / DAY == d {
                day_rates.push(base[k].rate);
                mids += base[k].mid() - from;
                k += 1;
            }
            if day_rates.len() >= 2 {
                let m = median_in_place(&mut day_rates).unwrap_or(0.0);
                let x = (mids / day_rates.len() as i64) as f64 / DAY as f64;
                days.push((x, m.max(med * 0.01).ln()));
            }
        }
        let slope = if days.len() >= 6 {
            let half = days.len() / 2;
            match (theil_sen(&days[..half]), theil_sen(&days[half..])) {
                (Some(a), Some(b)) => a.min(b).clamp(0.0, MAX_TREND_PER_DAY) / DAY as f64,
                _ => 0.0,
            }
        } else {
            0.0
        };
        let mut mid_times: Vec<f64> = base.iter().map(|i| i.mid() as f64).collect();
        let center = median_in_place(&mut mid_times).map_or(to, |c| c as i64);
        // `base` is sorted by end time, hence by middle time for non-overlapping intervals.
        let mids: Vec<(UnixSeconds, f64)> = base.iter().map(|i| (i.mid(), i.rate)).collect();
        let shown_hours: f64 = base.iter().map(|i| i.hours()).sum();
        let shown_mean = base.iter().map(|i| i.shown).sum::<f64>() / shown_hours.max(1e-9);
        let mut b = Baseline {
            median: med,
            unit: 1.0,
            mean: shown_mean,
            daily: MIN_DAILY_WOBBLE,
            day,
            slope,
            center,
            mids,
            noise: MIN_NOISE,
            wobble: MIN_NOISE,
            samples: base.len(),
        };
        let mut counting = Vec::with_capacity(base.len());
        let resid: Vec<f64> = base
            .iter()
            .map(|i| {
                let usual = b.profile(i.mid()).max(LEVEL_FLOOR * b.median) * i.hours();
                counting.push(1.0 / (usual + HALF_EVENT));
                log_ratio(i.increase(), usual)
            })
            .collect();
        let c = median(&resid).unwrap_or(0.0);
        let spread = mad_sigma(&resid, c).unwrap_or(MIN_NOISE).max(MIN_NOISE);
        let counting = median_in_place(&mut counting).unwrap_or(0.0);
        b.noise = spread;
        b.wobble = (spread * spread - counting)
            .max(MIN_NOISE * MIN_NOISE)
            .sqrt();
        b.unit = count_unit(&base, |t| b.profile(t));
        b.daily = daily_wobble(&base, to, shown_mean, b.unit);
        Some(b)
    }

    /// Median × hour-of-day × steady trend.
    fn profile(&self, t: UnixSeconds) -> f64 {
        self.median * self.day[hour_bin(t)] * (self.slope * (t - self.center) as f64).exp()
    }

    /// The median rate around the same hour one and two weeks before `t`.
    fn weekly(&self, t: UnixSeconds) -> Option<f64> {
        let mut near = [0.0; 24];
        let mut n = 0;
        for lag in [WEEK, 2 * WEEK] {
            let c = t - lag;
            let lo = self.mids.partition_point(|m| m.0 < c - 4 * HOUR);
            for m in self.mids[lo..].iter().take_while(|m| m.0 <= c + 4 * HOUR) {
                if n < near.len() {
                    near[n] = m.1;
                    n += 1;
                }
            }
        }
        median_in_place(&mut near[..n])
    }

    /// The rate that would be usual at `t`.
    pub fn expected(&self, t: UnixSeconds) -> f64 {
        let p = self.profile(t);
        match self.weekly(t) {
            Some(w) => p.max(w),
            None => p,
        }
        .max(LEVEL_FLOOR * self.median)
        .max(1e-9)
    }
}

/// The unit views arrive in over the intervals given: the larger of their display step and
/// their index of dispersion (variance over mean of the shown increases around the entity's
/// own daily profile: the size of the clumps a Poisson count of clumps would have). A counter moving in 100k steps, or a small
/// tag whose views come a video at a time, is never judged as if every view were news.
fn count_unit(base: &[&Interval], profile: impl Fn(UnixSeconds) -> f64) -> f64 {
    let step = base.iter().map(|i| i.step).fold(1.0, f64::max);
    let total: f64 = base.iter().map(|i| i.shown).sum();
    let usual: Vec<f64> = base.iter().map(|i| profile(i.mid()) * i.hours()).collect();
    let usual_total: f64 = usual.iter().sum();
    if total <= 0.0 || usual_total <= 0.0 {
        return step;
    }
    // The profile's shape (hour of day, trend) scaled to what was shown: the daily cycle is
    // expected, not dispersion.
    let scale = total / usual_total;
    let spread: f64 = base
        .iter()
        .zip(&usual)
        .map(|(i, u)| (i.shown - u * scale).powi(2))
        .sum();
    (spread / total).max(step).max(1.0)
}

/// The day-to-day multiplicative wobble of the baseline's shown increases, by the method of
/// moments: the variance of whole days' increases less their counting variance (`unit` ×
/// mean), over the squared mean. Never under [`MIN_DAILY_WOBBLE`], never over 1.
fn daily_wobble(base: &[&Interval], to: UnixSeconds, mean_rate: f64, unit: f64) -> f64 {
    let mut days: Vec<(i64, f64, f64)> = Vec::new();
    for i in base {
        let d = (to - i.mid()) / DAY;
        match days.last_mut() {
            Some(last) if last.0 == d => {
                last.1 += i.shown;
                last.2 += i.hours();
            }
            _ => days.push((d, i.shown, i.hours())),
        }
    }
    let full: Vec<(f64, f64)> = days
        .iter()
        .filter(|d| d.2 >= 18.0)
        .map(|d| (d.1, mean_rate * d.2))
        .collect();
    if full.len() < 5 || mean_rate <= 0.0 {
        return MIN_DAILY_WOBBLE;
    }
    let n = full.len() as f64;
    let usual = full.iter().map(|d| d.1).sum::<f64>() / n;
    if usual < DAILY_UNITS * unit {
        // A day holds a few units at most: what varies is the count, which the count model
        // judges; there is no multiplicative wobble to measure.
        return MIN_DAILY_WOBBLE;
    }
    let variance = full.iter().map(|d| (d.0 - d.1).powi(2)).sum::<f64>() / (n - 1.0);
    let excess = (variance - unit * usual) / (usual * usual).max(1e-9);
    excess.max(0.0).sqrt().clamp(MIN_DAILY_WOBBLE, 1.0)
}

/// How surprising a count is: the signed root of the Poisson deviance of `k` units observed
/// where `lambda` were usual (the Li–Ma significance). It behaves like a z-score far into the
/// tails, where a log-normal approximation of small counts is wrong by orders of magnitude:
/// 14 units where 1.5 are usual is 6.1 (the exact tail is 7·10⁻¹⁰), 2 where 0.3 are usual 2.0.
pub fn count_significance(k: f64, lambda: f64) -> f64 {
    let lambda = lambda.max(1e-9);
    let k = k.max(0.0);
    let deviance = if k > 0.0 {
        2.0 * (k * (k / lambda).ln() - k + lambda)
    } else {
        2.0 * lambda
    };
    deviance.max(0.0).sqrt().copysign(k - lambda)
}

/// A sustained rise of a counter's rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Growth {
    /// Rate over the latest [`MIN_RUN_SPAN`] of the take-off.
    pub rate_now: f64,
    /// What would be usual over that span.
    pub rate_baseline: f64,
    /// `rate_now / rate_baseline`.
    pub growth: f64,
    /// Increase since the take-off over the usual increase over the same time.
    pub growth_since: f64,
    pub score: f64,
    /// Where the take-off began.
    pub since: UnixSeconds,
    /// Intervals since then.
    pub samples: usize,
    /// The evidence: views beyond usual over the stretch judged, the display step, and the
    /// stretch's hours.
    pub excess: f64,
    pub step: f64,
    pub hours: f64,
}

/// A burst of a few hours.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    /// Rate during the burst.
    pub rate: f64,
    /// What would have been usual then.
    pub rate_baseline: f64,
    pub growth: f64,
    pub score: f64,
    pub start: UnixSeconds,
    pub end: UnixSeconds,
    /// Views beyond usual during the burst, and the display step.
    pub excess: f64,
    pub step: f64,
}

/// What a counter is doing at a time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assessment {
    pub emerging: Option<Growth>,
    pub spike: Option<Spike>,
    /// Only looked for when the counter is neither emerging nor spiking.
    pub cooling: Option<Cooling>,
}

/// A fall from a recent peak.
#[derive(Debug, Clone, PartialEq)]
pub struct Cooling {
    pub rate_now: f64,
    pub peak: f64,
    pub peak_at: UnixSeconds,
    pub score: f64,
    /// Views short of the peak's pace over the latest samples, the display step, and the
    /// hours those samples cover.
    pub shortfall: f64,
    pub step: f64,
    pub hours: f64,
}

/// Intervals of the points up to `at` that matter for a decision at `at`.
pub fn window(points: &[(UnixSeconds, f64)], at: UnixSeconds, from: UnixSeconds) -> Vec<Interval> {
    let end = points.partition_point(|p| p.0 <= at);
    let start = points[..end]
        .partition_point(|p| p.0 < from)
        .saturating_sub(1);
    intervals(&points[start..end])
}

mod search;

pub use search::{assess, cooling_at, growth_at, Floor};

/// How finely a counter can be judged: its display step, how many steps it moves in a usual
/// week, and the smallest rise over two days that would be reported. A tag that moves two
/// display steps a week cannot show a doubling within days: `show` says so rather than let
/// a reader think it is watched as closely as a busy tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    pub step: f64,
    pub steps_per_week: f64,
    /// The smallest factor over the usual rate, held for two days, that reaches `min_score`;
    /// `None` beyond a thousandfold.
    pub visible_in_two_days: Option<f64>,
}

/// The [`Resolution`] of a counter over the two weeks before `at`.
pub fn resolution(
    points: &[(UnixSeconds, f64)],
    at: UnixSeconds,
    min_score: f64,
) -> Option<Resolution> {
    let ivs = window(points, at, at - 2 * WEEK);
    let b = Baseline::fit(&ivs, at - 2 * WEEK, at + 1)?;
    let step = ivs.last()?.step;
    let usual = b.mean * 48.0;
    let unit = b.unit.max(step);
    let mut factor = 1.25f64;
    let visible = loop {
        if factor > 1000.0 {
            break None;
        }
        let seen = ((factor * usual - step).max(0.0)) / unit;
        if count_significance(seen, usual / unit) - COUNT_MARGIN >= min_score {
            break Some(factor);
        }
        factor *= 1.1;
    };
    Some(Resolution {
        step,
        steps_per_week: b.mean * 168.0 / step.max(1.0),
        visible_in_two_days: visible,
    })
}
