//! Per-hour rates from cumulative counters sampled at irregular times.
//!
//! Collection runs every few hours with jitter, sometimes misses a pass for a day, and the
//! platform now and then recounts a counter downwards. This module turns such a counter into
//! rates without inventing spikes: an increase over a gap is spread over the whole gap, and a
//! dip is never negative growth.
//!
//! Many real counters are *quantized*: TikTok pages often carry rounded counts (`68259` shown
//! as `68300`, `13.3M` moving in 100k steps), so a busy tag can show the same value for
//! several samples and then jump by a step. Reading such a counter literally gives zero growth
//! most of the time and an astronomic rate now and then. Here the counter's display step is
//! inferred from the values themselves, an unchanged rounded value is read as "less than one
//! step since", and each step is spread over the time since the value last changed. Exact
//! counters are left as they are. Only the points given are read, so a rate at `T` never
//! depends on a sample after `T`.

use crate::model::UnixSeconds;

/// One rate: the counter's increase per hour over `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub start: UnixSeconds,
    pub end: UnixSeconds,
    /// Increase per hour over the interval, never negative.
    pub rate: f64,
    /// The counter's display step at `end` (1 for an exact counter): how uncertain a
    /// difference of two of its values is.
    pub step: f64,
    /// Whether the value shown changed over the interval: a rate read from a change, not
    /// spread or bounded from a rounded value that stayed the same.
    pub moved: bool,
    /// The increase the shown values made over the interval, before any spreading: how
    /// lumpy the counter really is (0 or whole display steps on a rounded counter).
    pub shown: f64,
}

impl Interval {
    /// The middle of the interval: where the rate "happened", for seasonal profiles.
    pub fn mid(&self) -> UnixSeconds {
        self.start + (self.end - self.start) / 2
    }

    pub fn hours(&self) -> f64 {
        (self.end - self.start) as f64 / 3600.0
    }

    /// The increase over the interval.
    pub fn increase(&self) -> f64 {
        self.rate * self.hours()
    }
}

/// Values a counter's step is read from: the last few distinct values it showed. Four
/// multiples of 100 in a row happen by chance to an exact counter once in 10⁸.
const STEP_EVIDENCE: usize = 4;
/// A counter whose values are all multiples of at least this is read as rounded.
const MIN_STEP: f64 = 10.0;

/// The largest power of ten (up to 10¹⁵) that divides `v`, 1 for a value with a fraction.
fn granularity(v: f64) -> f64 {
    if !(v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15) || v == 0.0 {
        return 1.0;
    }
    let mut g = 1.0;
    while g < 1e15 && (v / (g * 10.0)).fract() == 0.0 {
        g *= 10.0;
    }
    g
}

/// Infers, point by point, the display step of a counter from the last distinct values
/// it showed: the smallest granularity among them.
struct StepTracker {
    recent: [f64; STEP_EVIDENCE],
    last_value: Option<f64>,
    seen: usize,
}

impl StepTracker {
    fn new() -> Self {
        Self {
            recent: [1.0; STEP_EVIDENCE],
            last_value: None,
            seen: 0,
        }
    }

    fn observe(&mut self, v: f64) -> f64 {
        if self.last_value != Some(v) {
            self.recent[self.seen % STEP_EVIDENCE] = granularity(v);
            self.seen += 1;
            self.last_value = Some(v);
        }
        let n = self.seen.min(STEP_EVIDENCE);
        self.recent[..n]
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
    }
}

/// Per-hour rates of a cumulative counter, one per sample after the first, stamped with the
/// sample's time. Points must be sorted by time (as the store returns them); points at the
/// same second are collapsed to the last one.
///
/// - A gap spreads its increase evenly over the gap (one rate covering the whole gap).
/// - A dip (a platform recount) yields no rate. If the next sample is back at or above the
///   level before the dip, the dip was a glitch and the growth is measured from that level
///   over the whole span; if it stays lower, the recount is taken as the new level and growth
///   is measured from the dip.
pub fn rates(points: &[(UnixSeconds, f64)]) -> Vec<(UnixSeconds, f64)> {
    intervals(points).iter().map(|i| (i.end, i.rate)).collect()
}

/// [`rates`] with the start of each interval, which detection needs for "since" and for
/// seasonal profiles.
///
/// On a rounded counter (see the module docs), the flat intervals before a step share the
/// step: its increase is spread over the time since the value last changed, at most one step
/// of it onto the intervals where the value showed no change.
/// A flat run still open at the last point is "less than one step since": it keeps the rate
/// of the last step while that is consistent with no step showing, and falls as
/// `step / elapsed` once it is not.
pub fn intervals(points: &[(UnixSeconds, f64)]) -> Vec<Interval> {
    let mut out = Vec::with_capacity(points.len().saturating_sub(1));
    let mut steps = StepTracker::new();
    // The reference the next increase is measured from.
    let mut reference: Option<(UnixSeconds, f64)> = None;
    // A sample below the reference, waiting for the next one to tell glitch from recount.
    let mut dip: Option<(UnixSeconds, f64)> = None;
    // Index in `out` of the first flat interval of a rounded counter since its last change.
    let mut flat_since: Option<usize> = None;
    // The rate of the last step of a rounded counter.
    let mut last_step_rate: Option<f64> = None;
    let mut push = |out: &mut Vec<Interval>,
                    start: UnixSeconds,
                    end: UnixSeconds,
                    increase: f64,
                    step: f64| {
        let rate = increase / ((end - start) as f64 / 3600.0);
        if step < MIN_STEP {
            flat_since = None;
            out.push(Interval {
                start,
                end,
                rate,
                step,
                moved: increase > 0.0,
                shown: increase,
            });
            return;
        }
        if increase == 0.0 {
            flat_since.get_or_insert(out.len());
            out.push(Interval {
                start,
                end,
                rate: 0.0,
                step,
                moved: false,
                shown: 0.0,
            });
            return;
        }
        // A step: spread it over the flat run before it, but never more than one step onto
        // the flat part (the value did not change there), so a burst stays a burst.
        let from = flat_since.take().unwrap_or(out.len());
        let span_start = out.get(from).map_or(start, |i| i.start);
        let spread = increase / ((end - span_start) as f64 / 3600.0);
        let flat_hours = (start - span_start) as f64 / 3600.0;
        let flat_rate = if flat_hours > 0.0 {
            spread.min(step / flat_hours)
        } else {
            spread
        };
        for iv in &mut out[from..] {
            iv.rate = flat_rate;
        }
        let hours = (end - start) as f64 / 3600.0;
        let rate = (increase - flat_rate * flat_hours) / hours;
        last_step_rate = Some(spread);
        out.push(Interval {
            start,
            end,
            rate,
            step,
            moved: true,
            shown: increase,
        });
    };
    let mut i = 0;
    while i < points.len() {
        // Collapse duplicates at the same second to the last value.
        let mut j = i;
        while j + 1 < points.len() && points[j + 1].0 == points[i].0 {
            j += 1;
        }
        let (t, v) = points[j];
        i = j + 1;
        if !v.is_finite() {
            continue;
        }
        let step = steps.observe(v);
        let Some((rt, rv)) = reference else {
            reference = Some((t, v));
            continue;
        };
        if t <= rt {
            continue;
        }
        if v >= rv {
            push(&mut out, rt, t, v - rv, step);
            reference = Some((t, v));
            dip = None;
        } else if let Some((dt, dv)) = dip {
            // Still below the old level: the recount is real; measure from the dip.
            if v >= dv && t > dt {
                push(&mut out, dt, t, v - dv, step);
                reference = Some((t, v));
                dip = None;
            } else {
                dip = Some((t, v));
            }
        } else {
            dip = Some((t, v));
        }
    }
    // An open flat run of a rounded counter: less than one step since it began.
    if let Some(from) = flat_since {
        if let (Some(first), Some(last)) = (out.get(from), out.last()) {
            let hours = ((last.end - first.start) as f64 / 3600.0).max(f64::MIN_POSITIVE);
            let bound = last.step / hours;
            let rate = match last_step_rate {
                Some(r) => r.min(bound),
                None => bound / 2.0,
            };
            for iv in &mut out[from..] {
                iv.rate = rate;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;

    #[test]
    fn steady_counter_with_jitter_gives_its_rate() {
        // 1000 per hour, sampled every ~3 h with ±20 min jitter.
        let times = [0, 3 * H + 900, 6 * H - 1200, 9 * H + 300, 12 * H];
        let pts: Vec<_> = times.iter().map(|&t| (t, t as f64 / 3.6)).collect();
        let r = rates(&pts);
        assert_eq!(r.len(), 4);
        for (_, rate) in r {
            assert!((rate - 1000.0).abs() < 1e-6, "{rate}");
        }
    }

    #[test]
    fn a_gap_spreads_its_increase() {
        let pts = vec![
            (0, 0.0),
            (3 * H, 3000.0),
            (27 * H, 27_000.0),
            (30 * H, 30_000.0),
        ];
        let r = rates(&pts);
        assert_eq!(r, vec![(3 * H, 1000.0), (27 * H, 1000.0), (30 * H, 1000.0)]);
    }

    #[test]
    fn a_glitch_dip_is_not_growth_nor_a_spike() {
        let pts = vec![(0, 0.0), (3 * H, 3000.0), (6 * H, 2000.0), (9 * H, 9000.0)];
        let r = rates(&pts);
        // No negative rate, no rate for the dip, and the recovery is spread over 6 h.
        assert_eq!(r, vec![(3 * H, 1000.0), (9 * H, 1000.0)]);
    }

    #[test]
    fn a_lasting_recount_becomes_the_new_level() {
        let pts = vec![
            (0, 10_000.0),
            (3 * H, 13_000.0),
            (6 * H, 8_000.0),
            (9 * H, 11_000.0),
            (12 * H, 14_000.0),
        ];
        let r = rates(&pts);
        assert_eq!(r, vec![(3 * H, 1000.0), (9 * H, 1000.0), (12 * H, 1000.0)]);
        assert!(r.iter().all(|(_, v)| *v >= 0.0));
    }

    #[test]
    fn duplicates_and_single_points_give_no_rate() {
        assert!(rates(&[]).is_empty());
        assert!(rates(&[(5, 1.0)]).is_empty());
        let r = rates(&[(0, 0.0), (0, 5.0), (H, 105.0)]);
        assert_eq!(r, vec![(H, 100.0)]);
    }

    /// 1,000 an hour, shown rounded to 10k: the value changes every ten hours.
    fn rounded_counter(hours: i64, every: i64) -> Vec<(UnixSeconds, f64)> {
        (0..=hours / every)
            .map(|k| {
                let t = k * every * H;
                let exact = 2_000_000.0 + 1000.0 * (t / H) as f64 + 3_000.0;
                (t, (exact / 10_000.0).round() * 10_000.0)
            })
            .collect()
    }

    #[test]
    fn a_rounded_counter_spreads_its_steps_instead_of_zero_then_a_jump() {
        let pts = rounded_counter(60, 3);
        let r = intervals(&pts);
        assert!(r.iter().all(|i| i.step == 10_000.0), "{r:?}");
        // After the first step (with no history before it), every interval up to the open
        // run at the end reads about 1,000 an hour, where the raw reading of the same points
        // is mostly 0 with jumps of 3,333.
        let closed: Vec<f64> = r
            .iter()
            .skip(1)
            .filter(|i| i.end <= 50 * H)
            .map(|i| i.rate)
            .collect();
        assert!(
            closed.iter().all(|&x| (700.0..=1_700.0).contains(&x)),
            "{closed:?}"
        );
        assert!(pts.windows(2).filter(|w| w[0].1 == w[1].1).count() > 10);
        // The whole increase is kept.
        let total: f64 = r.iter().map(Interval::increase).sum();
        let shown = pts[pts.len() - 1].1 - pts[0].1;
        assert!(
            total >= shown - 1.0 && total <= shown + 10_000.0,
            "{total} vs {shown}"
        );
    }

    #[test]
    fn an_unchanged_rounded_value_is_less_than_a_step_not_zero() {
        let mut pts = rounded_counter(30, 3);
        // No change for the last 12 hours: at most 10k in 12 h, and no growth claimed.
        let last = pts[pts.len() - 1];
        for k in 1..=4 {
            pts.push((last.0 + k * 3 * H, last.1));
        }
        let r = intervals(&pts);
        let tail = r.last().unwrap();
        assert!(!tail.moved);
        assert!(tail.rate > 0.0 && tail.rate <= 10_000.0 / 12.0, "{tail:?}");
    }

    #[test]
    fn exact_counters_are_not_taken_for_rounded_ones() {
        let pts: Vec<_> = (0..20)
            .map(|k| (k * 3 * H, 1_234_567.0 + 3_001.0 * k as f64))
            .collect();
        assert!(intervals(&pts).iter().all(|i| i.step == 1.0 && i.moved));
        // A counter whose values happen to end in 0 now and then is still exact.
        let pts: Vec<_> = (0..20)
            .map(|k| (k * 3 * H, 1_000_000.0 + 7.0 * k as f64))
            .collect();
        assert!(intervals(&pts).iter().skip(4).all(|i| i.step < MIN_STEP));
    }
}
