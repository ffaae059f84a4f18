//! The searches over one series' evidence: the take-off ending now (`emerging`), the short
//! burst (`spike`) and the fall from a sustained peak (`cooling`), each read from the observed
//! and usual increases of every stretch of intervals.

use super::*;

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
    /// Day-to-day wobble ([`Baseline::daily`]), for stretches of half a day or more.
    daily: f64,
    step: f64,
    /// The unit the counter's views arrive in ([`Baseline::unit`]).
    unit: f64,
    /// The baseline's mean rate per hour ([`Baseline::mean`]).
    mean: f64,
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
    /// The weaker of the two surprises: against the entity's own wobble, and as a count of
    /// its units (display steps or clumps of views), less one step of resolution.
    z: f64,
}

impl Stretch {
    /// Whether the excess over usual rests on more than the counter's resolution.
    fn beyond_resolution(&self, step: f64, floor: Floor) -> bool {
        let excess = self.observed - self.usual;
        excess >= MIN_EXCESS_STEPS * step && excess >= floor.excess
    }
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
            daily: b.daily,
            step: ivs.last().map_or(1.0, |i| i.step),
            unit: b.unit,
            mean: b.mean,
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
        let mut wobble = self.wobble * self.wobble / averaged;
        if hours >= 12.0 {
            // Days drift together (a busy week is busy every day): over half a day or more
            // the wobble no longer averages out.
            wobble = wobble.max(self.daily.max(self.wobble).powi(2));
        }
        let variance = wobble + 1.0 / (usual + HALF_EVENT) + rounding;
        let lr = log_ratio(observed, usual);
        let unit = self.unit.max(self.step);
        let usual_count = usual.max(self.mean * hours);
        let counted =
            count_significance((observed - self.step).max(0.0) / unit, usual_count / unit);
        Stretch {
            observed,
            usual,
            hours,
            growth: observed / usual.max(1e-9),
            z: (lr / variance.sqrt()).min(counted - COUNT_MARGIN),
        }
    }

    /// The first local index of the shortest suffix covering at least `span` seconds.
    fn suffix_start(&self, span: i64) -> Option<usize> {
        let n = self.len();
        let end = self.iv(n.checked_sub(1)?).end;
        (0..n).rev().find(|&j| end - self.iv(j).start >= span)
    }
}

/// The least an alert may rest on: its rate now (`[detect] min_rate`, followers per hour
/// for creators) and its views beyond usual (`[detect] min_views`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Floor {
    pub rate: f64,
    pub excess: f64,
}

/// Looks for a sustained rise at `at`; `floor` is the least `rate_now` worth reporting.
pub fn growth_at(
    points: &[(UnixSeconds, f64)],
    at: UnixSeconds,
    baseline: i64,
    recent: i64,
    floor: f64,
) -> Option<Growth> {
    let floor = Floor {
        rate: floor,
        excess: 0.0,
    };
    assess(points, at, baseline, recent, floor).emerging
}

/// Emergence, spike or cooling of one counter at `at`, reading its rates once and fitting
/// its baseline once (twice when a take-off began before the recent window).
pub fn assess(
    points: &[(UnixSeconds, f64)],
    at: UnixSeconds,
    baseline: i64,
    recent: i64,
    floor: Floor,
) -> Assessment {
    let ivs = window(points, at, at - recent - 2 * baseline - DAY);
    assess_in(&ivs, at, baseline, recent, floor)
}

fn assess_in(
    ivs: &[Interval],
    at: UnixSeconds,
    baseline: i64,
    recent: i64,
    floor: Floor,
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
fn take_off(ev: &Evidence<'_>, floor: Floor) -> Option<Growth> {
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
        if s.growth < MIN_GROWTH
            || !s.beyond_resolution(ev.step, floor)
            || best.is_some_and(|(_, b)| s.z <= b.z)
        {
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
    if rate_now < floor.rate {
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
        excess: whole.observed - whole.usual,
        step: ev.step,
        hours: whole.hours,
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
fn burst(ev: &Evidence<'_>, from: UnixSeconds, floor: Floor) -> Option<Spike> {
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
                && s.beyond_resolution(ev.step, floor)
                && rate >= floor.rate
                && best.as_ref().is_none_or(|b| s.z > b.1.score)
            {
                let spike = Spike {
                    rate,
                    rate_baseline: s.usual / s.hours.max(1e-9),
                    growth: s.growth,
                    score: s.z,
                    start: iv.start,
                    end,
                    excess: s.observed - s.usual,
                    step: ev.step,
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
        excess: s.observed - s.usual,
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
    floor: Floor,
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
    floor: Floor,
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
    if peak_rate < floor.rate {
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
    // Counted in the counter's own units, the peak must have been a real take-off and the
    // fall must be more than the resolution: a counter that moves two steps a week never
    // "cools" because one step came late.
    let step = last.step;
    let unit = b.unit.max(step);
    let peak_seen: f64 = ivs[j..=k].iter().map(Interval::increase).sum();
    let peak_usual: f64 = ivs[j..=k]
        .iter()
        .map(|i| b.expected(i.mid()) * i.hours())
        .sum();
    let peak_hours = (ivs[k].end - ivs[j].start) as f64 / 3600.0;
    let peak_usual = peak_usual.max(b.mean * peak_hours);
    if peak_seen - peak_usual < (MIN_EXCESS_STEPS * step).max(floor.excess)
        || count_significance((peak_seen - step).max(0.0) / unit, peak_usual / unit) < 3.0
    {
        return None;
    }
    let tail_seen: f64 = tail.iter().map(Interval::increase).sum();
    let tail_hours: f64 = tail.iter().map(Interval::hours).sum();
    if (peak_rate - rate_now) * 24.0 < (MIN_DROP_STEPS * step).max(floor.excess)
        || count_significance((tail_seen + step) / unit, peak_rate * tail_hours / unit) > -3.0
    {
        return None;
    }
    let pre = b.median;
    let noise = b.noise;
    Some(Cooling {
        rate_now,
        peak: peak_rate,
        peak_at,
        score: (peak_rate / rate_now.max(pre * 0.01)).ln() / noise,
        shortfall: (peak_rate - rate_now) * tail_hours,
        step,
        hours: tail_hours,
    })
}
