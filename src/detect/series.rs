//! Growth and cooling of one counter against its own seasonal, trend-adjusted baseline.
//!
//! The method, in order (every step is there to silence one kind of false alarm):
//! 1. Rates per hour from the counter ([`super::intervals`]): recounts and gaps never spike.
//! 2. A baseline from the `baseline` window that ends where the `recent` window starts: the
//!    median rate, an hour-of-day profile (daily cycles), the rate at the same hour one and
//!    two weeks earlier (weekly cycles), and a trend factor from the Theil–Sen slope of daily
//!    log medians, taken as the smaller of the slopes of the older and newer halves so that
//!    steady slow growth is expected while a take-off that started inside the window is not.
//!    The expected rate at a time is the larger of the profile-with-trend and the weekly lag.
//! 3. Noise: the robust spread (MAD) of log rates around that expectation, at least 0.1.
//! 4. A run: consecutive samples, ending with the latest, each at least [`RUN_RATIO`] times
//!    its expected rate. One-hour bursts give one or two such samples, fads that faded end the
//!    run before the latest sample; an alert needs [`MIN_RUN`] samples spanning
//!    [`MIN_RUN_SPAN`] seconds.
//! 5. The growth now (median of the last three rates over their expected rates) must reach
//!    [`MIN_GROWTH`]; the score is its robust z-score `ln(growth) / noise`.
//!
//! It never looks at a sample after `at`.

use super::stats::{mad_sigma, median, median_in_place, theil_sen};
use super::{intervals, Interval};
use crate::model::UnixSeconds;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// A sample belongs to a run when its rate is at least this many times its expected rate.
pub const RUN_RATIO: f64 = 1.5;
/// The current growth an emergence needs.
pub const MIN_GROWTH: f64 = 1.8;
/// Samples in a row a run needs: a one-hour burst touches at most two.
pub const MIN_RUN: usize = 3;
/// Time a run must cover, from the start of its first interval to its last sample.
pub const MIN_RUN_SPAN: i64 = 6 * HOUR;
/// Floor of the log-rate noise, so that very smooth series do not turn +30 % into an alert.
pub const MIN_NOISE: f64 = 0.1;
/// Most a steady trend may grow per day (doubling per week) before it counts as a take-off.
const MAX_TREND_PER_DAY: f64 = std::f64::consts::LN_2 / 7.0;
/// Baseline intervals needed before anything is said about an entity.
const MIN_BASELINE_SAMPLES: usize = 8;
/// Cooling: the rate now is at most this fraction of the recent peak.
pub const COOLING_FRACTION: f64 = 0.5;

/// An entity's usual rate as a function of time.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Median rate over the baseline window.
    pub median: f64,
    /// Hour-of-day factors, 8 bins of 3 hours (UTC).
    day: [f64; 8],
    /// Log-rate growth per second of a steady trend (≥ 0).
    slope: f64,
    /// Where `median` sits in time.
    center: UnixSeconds,
    /// Baseline intervals, sorted by middle time, for weekly lags.
    mids: Vec<(UnixSeconds, f64)>,
    /// Robust noise of log rates around the expectation.
    pub noise: f64,
    pub samples: usize,
}

fn hour_bin(t: UnixSeconds) -> usize {
    (t.rem_euclid(DAY) / (3 * HOUR)) as usize
}

impl Baseline {
    /// Fits the baseline on the intervals whose middle lies in `[from, to)`.
    pub fn fit(ivs: &[Interval], from: UnixSeconds, to: UnixSeconds) -> Option<Baseline> {
        let base: Vec<&Interval> = ivs
            .iter()
            .filter(|i| i.mid() >= from && i.end <= to)
            .collect();
        if base.len() < MIN_BASELINE_SAMPLES {
            return None;
        }
        let rates: Vec<f64> = base.iter().map(|i| i.rate).collect();
        let med = median(&rates)?.max(1e-9);
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
        let mut mid_times: Vec<i64> = base.iter().map(|i| i.mid()).collect();
        let center = median_in_place(&mut mid_times.iter().map(|&t| t as f64).collect::<Vec<_>>())
            .map(|c| c as i64)
            .unwrap_or(to);
        mid_times.clear();
        let mut mids: Vec<(UnixSeconds, f64)> = base.iter().map(|i| (i.mid(), i.rate)).collect();
        mids.sort_by_key(|m| m.0);
        let mut b = Baseline {
            median: med,
            day,
            slope,
            center,
            mids,
            noise: MIN_NOISE,
            samples: base.len(),
        };
        let resid: Vec<f64> = base
            .iter()
            .map(|i| (i.rate.max(med * 0.01) / b.profile(i.mid())).ln())
            .collect();
        let c = median(&resid).unwrap_or(0.0);
        b.noise = mad_sigma(&resid, c).unwrap_or(MIN_NOISE).max(MIN_NOISE);
        Some(b)
    }

    /// Median × hour-of-day × steady trend.
    fn profile(&self, t: UnixSeconds) -> f64 {
        self.median * self.day[hour_bin(t)] * (self.slope * (t - self.center) as f64).exp()
    }

    /// The median rate around the same hour one and two weeks before `t`.
    fn weekly(&self, t: UnixSeconds) -> Option<f64> {
        let mut near = Vec::new();
        for lag in [WEEK, 2 * WEEK] {
            let c = t - lag;
            let lo = self.mids.partition_point(|m| m.0 < c - 4 * HOUR);
            let hi = self.mids.partition_point(|m| m.0 <= c + 4 * HOUR);
            near.extend(self.mids[lo..hi].iter().map(|m| m.1));
        }
        median_in_place(&mut near)
    }

    /// The rate that would be usual at `t`.
    pub fn expected(&self, t: UnixSeconds) -> f64 {
        let p = self.profile(t);
        match self.weekly(t) {
            Some(w) => p.max(w),
            None => p,
        }
        .max(1e-9)
    }
}

/// A sustained rise of a counter's rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Growth {
    pub rate_now: f64,
    pub rate_baseline: f64,
    pub growth: f64,
    pub score: f64,
    pub since: UnixSeconds,
    pub samples: usize,
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

/// Looks for a sustained rise at `at`; `floor` is the least `rate_now` worth reporting.
pub fn growth_at(
    points: &[(UnixSeconds, f64)],
    at: UnixSeconds,
    baseline: i64,
    recent: i64,
    floor: f64,
) -> Option<Growth> {
    let ivs = window(points, at, at - recent - baseline - DAY);
    growth_in(&ivs, at, baseline, recent, floor)
}

pub fn growth_in(
    ivs: &[Interval],
    at: UnixSeconds,
    baseline: i64,
    recent: i64,
    floor: f64,
) -> Option<Growth> {
    let last = ivs.last()?;
    if last.end < at - recent {
        return None; // nothing recent to judge
    }
    let b = Baseline::fit(ivs, at - recent - baseline, at - recent)?;
    let mut n = 0;
    let mut since = last.start;
    for iv in ivs.iter().rev() {
        if iv.end < at - recent - baseline || iv.rate < RUN_RATIO * b.expected(iv.mid()) {
            break;
        }
        n += 1;
        since = iv.start;
    }
    if n < MIN_RUN || last.end - since < MIN_RUN_SPAN {
        return None;
    }
    let tail = &ivs[ivs.len() - MIN_RUN..];
    let mut now: Vec<f64> = tail.iter().map(|i| i.rate).collect();
    let mut exp: Vec<f64> = tail.iter().map(|i| b.expected(i.mid())).collect();
    let rate_now = median_in_place(&mut now)?;
    let rate_baseline = median_in_place(&mut exp)?;
    let growth = rate_now / rate_baseline;
    if growth < MIN_GROWTH || rate_now < floor {
        return None;
    }
    Some(Growth {
        rate_now,
        rate_baseline,
        growth,
        score: growth.ln() / b.noise,
        since,
        samples: n,
    })
}

/// Looks for a fall at `at` to at most [`COOLING_FRACTION`] of a peak within the last
/// `baseline`, for a series whose peak was itself a sustained rise (a level held over a run of
/// [`MIN_RUN`] samples and [`MIN_RUN_SPAN`], at least [`MIN_GROWTH`] times its seasonal
/// baseline with a z-score of 3): flat series, bursts and weekly cycles never cool.
pub fn cooling_at(
    points: &[(UnixSeconds, f64)],
    at: UnixSeconds,
    baseline: i64,
    recent: i64,
    floor: f64,
) -> Option<Cooling> {
    let ivs = window(points, at, at - 2 * baseline - recent);
    if ivs.len() < MIN_RUN + MIN_BASELINE_SAMPLES {
        return None;
    }
    let last = ivs.last()?;
    if last.end < at - recent {
        return None;
    }
    // Peak: the best level sustained over a run (the lowest rate of at least MIN_RUN
    // intervals spanning MIN_RUN_SPAN) that ended before the recent window; a one-hour burst
    // is never sustained.
    let mut peak: Option<(f64, usize, usize)> = None;
    for k in 0..ivs.len() {
        let iv = &ivs[k];
        if iv.end < at - baseline || iv.end > at - recent {
            continue;
        }
        let mut j = k;
        while j > 0 && (k - j + 1 < MIN_RUN || iv.end - ivs[j].start < MIN_RUN_SPAN) {
            j -= 1;
        }
        if k - j + 1 < MIN_RUN || iv.end - ivs[j].start < MIN_RUN_SPAN {
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
    let tail = &ivs[ivs.len() - MIN_RUN..];
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
    let b = Baseline::fit(&ivs, run_start - baseline, run_start)?;
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
