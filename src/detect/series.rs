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
//! usual". It never looks at a sample after `at`.

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
        let mut b = Baseline {
            median: med,
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
}

/// Intervals of the points up to `at` that matter for a decision at `at`.
pub fn window(points: &[(UnixSeconds, f64)], at: UnixSeconds, from: UnixSeconds) -> Vec<Interval> {
    let end = points.partition_point(|p| p.0 <= at);
    let start = points[..end]
        .partition_point(|p| p.0 < from)
        .saturating_sub(1);
    intervals(&points[start..end])
}

/// Observed and usual increases of the intervals from some index on, summed from the end, so
/// that any stretch `[j, k)` is two subtractions away.
struct Evidence<'a> {
    ivs: &'a [Interval],
    /// `observed[j]` = increase of intervals `j..`; same for `usual`.
    observed: Vec<f64>,
    usual: Vec<f64>,
    /// First index covered.
    first: usize,
    wobble: f64,
    step: f64,
    /// The entity's level (median rate per hour).
    level: f64,
}

/// The observed and usual increase of a stretch, and the verdicts on it.
#[derive(Debug, Clone, Copy)]
struct Stretch {
    observed: f64,
    usual: f64,
    hours: f64,
    growth: f64,
    z: f64,
}

impl<'a> Evidence<'a> {
    /// Sums over the intervals whose start is at or after `from`.
    fn new(ivs: &'a [Interval], b: &Baseline, from: UnixSeconds) -> Self {
        let first = ivs.partition_point(|i| i.start < from);
        let n = ivs.len() - first;
        let mut observed = vec![0.0; n + 1];
        let mut usual = vec![0.0; n + 1];
        for k in (0..n).rev() {
            let iv = &ivs[first + k];
            observed[k] = observed[k + 1] + iv.increase();
            usual[k] = usual[k + 1] + b.expected(iv.mid()) * iv.hours();
        }
        Self {
            ivs,
            observed,
            usual,
            first,
            wobble: b.wobble,
            step: ivs.last().map_or(1.0, |i| i.step),
            level: b.median,
        }
    }

    fn len(&self) -> usize {
        self.observed.len() - 1
    }

    fn iv(&self, k: usize) -> &Interval {
        &self.ivs[self.first + k]
    }

    /// The stretch of intervals `j..k` (local indices).
    fn stretch(&self, j: usize, k: usize) -> Stretch {
        let observed = self.observed[j] - self.observed[k];
        let usual = self.usual[j] - self.usual[k];
        let hours = (self.iv(k - 1).end - self.iv(j).start) as f64 / 3600.0;
        let averaged = (k - j).clamp(1, MAX_AVERAGED) as f64;
        let rounding = if self.step > 1.0 {
            self.step * self.step / 6.0 / observed.max(usual).max(1.0).powi(2)
        } else {
            0.0
        };
        let variance = self.wobble * self.wobble / averaged + 1.0 / (usual + HALF_EVENT) + rounding;
        let lr = log_ratio(observed, usual);
        Stretch {
            observed,
            usual,
            hours,
            growth: observed / usual.max(1e-9),
            z: lr / variance.sqrt(),
        }
    }

    /// The first local index of the shortest suffix covering at least `span` seconds.
    fn suffix_start(&self, span: i64) -> Option<usize> {
        let n = self.len();
        let end = self.iv(n.checked_sub(1)?).end;
        (0..n).rev().find(|&j| end - self.iv(j).start >= span)
    }
}

/// Looks for a sustained rise at `at`; `floor` is the least `rate_now` worth reporting.
pub fn growth_at(
    points: &[(UnixSeconds, f64)],
    at: UnixSeconds,
    baseline: i64,
    recent: i64,
    floor: f64,
) -> Option<Growth> {
    assess(points, at, baseline, recent, floor).emerging
}

/// Emergence, spike or cooling of one counter at `at`, reading its rates once and fitting
/// its baseline once (twice when a take-off began before the recent window).
pub fn assess(
    points: &[(UnixSeconds, f64)],
    at: UnixSeconds,
    baseline: i64,
    recent: i64,
    floor: f64,
) -> Assessment {
    let ivs = window(points, at, at - recent - 2 * baseline - DAY);
    assess_in(&ivs, at, baseline, recent, floor)
}

fn assess_in(
    ivs: &[Interval],
    at: UnixSeconds,
    baseline: i64,
    recent: i64,
    floor: f64,
) -> Assessment {
    let Some(last) = ivs.last() else {
        return Assessment::default();
    };
    if last.end < at - recent {
        return Assessment::default(); // nothing recent to judge
    }
    let Some(b) = Baseline::fit(ivs, at - recent - baseline, at - recent) else {
        return Assessment::default();
    };
    // The recent window first: most entities are not rising and stop here.
    let ev = Evidence::new(ivs, &b, at - recent - SPIKE_MAX_SPAN);
    let rising = ev
        .suffix_start(MIN_RUN_SPAN)
        .is_some_and(|j| ev.stretch(j, ev.len()).growth >= RUN_RATIO);
    let mut emerging = if rising {
        take_off(&Evidence::new(ivs, &b, at - recent - baseline / 2), floor)
    } else {
        None
    };
    if let Some(g) = &emerging {
        if g.since < at - recent {
            // The take-off is inside the baseline window: judge it against the time before.
            emerging = Baseline::fit(ivs, g.since - baseline, g.since).and_then(|b2| {
                let ev2 = Evidence::new(ivs, &b2, g.since - recent);
                take_off(&ev2, floor)
            });
        }
    }
    let spike = if emerging.is_none() {
        burst(&ev, at - recent, floor)
    } else {
        None
    };
    let cooling = if emerging.is_none() && spike.is_none() {
        cooling_in(ivs, at, baseline, recent, floor)
    } else {
        None
    };
    Assessment {
        emerging,
        spike,
        cooling,
    }
}

/// The take-off ending now with the strongest evidence, if it is one.
fn take_off(ev: &Evidence<'_>, floor: f64) -> Option<Growth> {
    let n = ev.len();
    let tail_start = ev.suffix_start(MIN_RUN_SPAN)?;
    let tail = ev.stretch(tail_start, n);
    if tail.growth < RUN_RATIO {
        return None; // not rising now: the cheap test most entities stop at
    }
    let end = ev.iv(n - 1).end;
    // A rounded counter tells when its views came only to within one display step: a
    // take-off must outlast that, or one burst would pass for a rise.
    let resolution = if ev.step > 1.0 {
        (ev.step / ev.level * 3600.0).min(MAX_RESOLUTION as f64) as i64
    } else {
        0
    };
    let min_span = MIN_RUN_SPAN + resolution;
    // The strongest stretch ending now that is a take-off in size and in persistence.
    let mut best: Option<(usize, Stretch)> = None;
    for j in (0..=tail_start).rev() {
        if n - j < MIN_RUN || end - ev.iv(j).start < min_span {
            continue;
        }
        let s = ev.stretch(j, n);
        if s.growth < RUN_RATIO {
            break; // the stretch now reaches well into ordinary times
        }
        if s.growth < MIN_GROWTH || best.is_some_and(|(_, b)| s.z <= b.z) {
            continue;
        }
        if sustained(ev, j, n) {
            best = Some((j, s));
        }
    }
    let (j, whole) = best?;
    // The take-off began where the rise began: walk back while pairs of intervals still run
    // above usual.
    let mut first = j;
    while first >= 2 && ev.stretch(first - 2, first).growth >= RUN_RATIO {
        first -= 1;
    }
    let since = ev.iv(first).start;
    let rate_now = tail.observed / tail.hours.max(1e-9);
    if rate_now < floor {
        return None;
    }
    let growth_since = ev.stretch(first, n).growth;
    Some(Growth {
        rate_now,
        rate_baseline: tail.usual / tail.hours.max(1e-9),
        growth: tail.growth,
        growth_since,
        score: whole.z,
        since,
        samples: n - first,
    })
}

/// Whether the stretch `j..n` is sustained: each of its halves ran above usual, and so
/// does the stretch without the strongest burst it holds (one burst is a spike, not a trend).
fn sustained(ev: &Evidence<'_>, j: usize, n: usize) -> bool {
    let start = ev.iv(j).start;
    let mid = start + (ev.iv(n - 1).end - start) / 2;
    let half = (j..n)
        .find(|&k| ev.iv(k).start >= mid)
        .unwrap_or(n - 1)
        .clamp(j + 1, n - 1);
    let moved = |a: usize, b: usize| (a..b).any(|k| ev.iv(k).moved);
    moved(j, half)
        && moved(half, n)
        && ev.stretch(j, half).growth >= RUN_RATIO
        && ev.stretch(half, n).growth >= RUN_RATIO
        && without_strongest(ev, j, n).is_some_and(|g| g >= RUN_RATIO)
}

/// Growth of the intervals `j..k` leaving out the two neighbouring intervals with the largest
/// excess over usual: the most a one-hour burst can touch. `None` when nothing is left.
fn without_strongest(ev: &Evidence<'_>, j: usize, k: usize) -> Option<f64> {
    if k - j < 3 {
        return None;
    }
    let pair = |i: usize| {
        let p = ev.stretch(i, i + 2);
        p.observed - p.usual
    };
    let strongest = (j..k - 1).max_by(|&a, &b| pair(a).total_cmp(&pair(b)))?;
    let s = ev.stretch(j, k);
    let burst = ev.stretch(strongest, strongest + 2);
    Some((s.observed - burst.observed) / (s.usual - burst.usual).max(1e-9))
}

/// The strongest burst of at most [`SPIKE_MAX_SPAN`] ending after `from`.
fn burst(ev: &Evidence<'_>, from: UnixSeconds, floor: f64) -> Option<Spike> {
    let n = ev.len();
    let mut best: Option<((usize, usize), Spike)> = None;
    for k in (1..=n).rev() {
        let end = ev.iv(k - 1).end;
        if end <= from {
            break;
        }
        for j in (0..k).rev() {
            let iv = ev.iv(j);
            if end - iv.start > SPIKE_MAX_SPAN && j + 1 < k {
                break;
            }
            if end - iv.start > 2 * SPIKE_MAX_SPAN {
                break; // one interval over a collection gap is no burst
            }
            let s = ev.stretch(j, k);
            let rate = s.observed / s.hours.max(1e-9);
            if s.growth >= SPIKE_GROWTH
                && rate >= floor
                && best.as_ref().is_none_or(|b| s.z > b.1.score)
            {
                let spike = Spike {
                    rate,
                    rate_baseline: s.usual / s.hours.max(1e-9),
                    growth: s.growth,
                    score: s.z,
                    start: iv.start,
                    end,
                };
                best = Some(((j, k), spike));
            }
        }
    }
    let ((mut j, mut k), spike) = best?;
    // The burst itself: the ordinary intervals at either edge of the stretch are not part of it.
    while k - j > 1 && ev.stretch(j, j + 1).growth < RUN_RATIO {
        j += 1;
    }
    while k - j > 1 && ev.stretch(k - 1, k).growth < RUN_RATIO {
        k -= 1;
    }
    let s = ev.stretch(j, k);
    Some(Spike {
        rate: s.observed / s.hours.max(1e-9),
        rate_baseline: s.usual / s.hours.max(1e-9),
        growth: s.growth,
        start: ev.iv(j).start,
        end: ev.iv(k - 1).end,
        ..spike
    })
}

/// Looks for a fall at `at` to at most [`COOLING_FRACTION`] of a peak within the last
/// `baseline`, for a series whose peak was itself a sustained rise (a level held over a run of
/// [`PEAK_RUN`] samples and [`PEAK_SPAN`], at least [`MIN_GROWTH`] times its seasonal
/// baseline with a z-score of 3): flat series, bursts and weekly cycles never cool.
pub fn cooling_at(
    points: &[(UnixSeconds, f64)],
    at: UnixSeconds,
    baseline: i64,
    recent: i64,
    floor: f64,
) -> Option<Cooling> {
    cooling_in(
        &window(points, at, at - 2 * baseline - recent),
        at,
        baseline,
        recent,
        floor,
    )
}

fn cooling_in(
    ivs: &[Interval],
    at: UnixSeconds,
    baseline: i64,
    recent: i64,
    floor: f64,
) -> Option<Cooling> {
    if ivs.len() < PEAK_RUN + MIN_BASELINE_SAMPLES {
        return None;
    }
    let last = ivs.last()?;
    if last.end < at - recent {
        return None;
    }
    // Peak: the best level sustained over a run (the lowest rate of at least PEAK_RUN
    // intervals spanning PEAK_SPAN) that ended before the recent window; a one-hour burst
    // is never sustained.
    let mut peak: Option<(f64, usize, usize)> = None;
    for k in 0..ivs.len() {
        let iv = &ivs[k];
        if iv.end < at - baseline || iv.end > at - recent {
            continue;
        }
        let mut j = k;
        while j > 0 && (k - j + 1 < PEAK_RUN || iv.end - ivs[j].start < PEAK_SPAN) {
            j -= 1;
        }
        if k - j + 1 < PEAK_RUN || iv.end - ivs[j].start < PEAK_SPAN {
            continue;
        }
        let m = ivs[j..=k]
            .iter()
            .map(|i| i.rate)
            .fold(f64::INFINITY, f64::min);
        match peak {
            Some((p, _, _)) if p >= m => {}
            _ => peak = Some((m, j, k)),
        }
    }
    let (peak_rate, j, k) = peak?;
    if peak_rate < floor {
        return None;
    }
    let peak_at = ivs[k].end;
    // Cheap test first: most series are nowhere near half their peak.
    let tail = &ivs[ivs.len() - PEAK_RUN..];
    if tail[0].end <= peak_at {
        return None;
    }
    let mut now: Vec<f64> = tail.iter().map(|i| i.rate).collect();
    let rate_now = median_in_place(&mut now)?;
    if rate_now > COOLING_FRACTION * peak_rate {
        return None;
    }
    // Was the peak a trend? Judge it like an emergence, against the seasonal baseline that
    // ended where its run began (weekly cycles peak every week and are no trend).
    let run_start = ivs[j].start;
    let b = Baseline::fit(ivs, run_start - baseline, run_start)?;
    let mut exp: Vec<f64> = ivs[j..=k].iter().map(|i| b.expected(i.mid())).collect();
    let expected = median_in_place(&mut exp)?;
    if peak_rate < MIN_GROWTH * expected || (peak_rate / expected).ln() / b.noise < 3.0 {
        return None;
    }
    let pre = b.median;
    let noise = b.noise;
    Some(Cooling {
        rate_now,
        peak: peak_rate,
        peak_at,
        score: (peak_rate / rate_now.max(pre * 0.01)).ln() / noise,
    })
}
