//! Per-hour rates from cumulative counters sampled at irregular times.
//!
//! Collection runs every few hours with jitter, sometimes misses a pass for a day, and the
//! platform now and then recounts a counter downwards. This module turns such a counter into
//! rates without inventing spikes: an increase over a gap is spread over the whole gap, and a
//! dip is never negative growth. It must never read anything but the points it is given.

use crate::model::UnixSeconds;

/// One rate: the counter's increase per hour over `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub start: UnixSeconds,
    pub end: UnixSeconds,
    /// Increase per hour over the interval, never negative.
    pub rate: f64,
}

impl Interval {
    /// The middle of the interval: where the rate "happened", for seasonal profiles.
    pub fn mid(&self) -> UnixSeconds {
        self.start + (self.end - self.start) / 2
    }

    pub fn hours(&self) -> f64 {
        (self.end - self.start) as f64 / 3600.0
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
pub fn intervals(points: &[(UnixSeconds, f64)]) -> Vec<Interval> {
    let mut out = Vec::with_capacity(points.len().saturating_sub(1));
    // The reference the next increase is measured from.
    let mut reference: Option<(UnixSeconds, f64)> = None;
    // A sample below the reference, waiting for the next one to tell glitch from recount.
    let mut dip: Option<(UnixSeconds, f64)> = None;
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
        let Some((rt, rv)) = reference else {
            reference = Some((t, v));
            continue;
        };
        if t <= rt {
            continue;
        }
        if v >= rv {
            out.push(Interval {
                start: rt,
                end: t,
                rate: (v - rv) / ((t - rt) as f64 / 3600.0),
            });
            reference = Some((t, v));
            dip = None;
        } else if let Some((dt, dv)) = dip {
            // Still below the old level: the recount is real; measure from the dip.
            if v >= dv && t > dt {
                out.push(Interval {
                    start: dt,
                    end: t,
                    rate: (v - dv) / ((t - dt) as f64 / 3600.0),
                });
                reference = Some((t, v));
                dip = None;
            } else {
                dip = Some((t, v));
            }
        } else {
            dip = Some((t, v));
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
}
