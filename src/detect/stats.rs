//! Small robust statistics for detection: medians, MAD and the Theil–Sen slope.
//!
//! Detection compares noisy rates; medians and MAD ignore the odd burst or recount that a
//! mean would follow. These helpers never allocate more than one scratch copy.

/// Median of the values (NaN-free input expected); `None` when empty.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.to_vec();
    median_in_place(&mut v)
}

/// Median, reordering the slice.
pub(super) fn median_in_place(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let n = v.len();
    let mid = n / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if n % 2 == 1 {
        Some(m)
    } else {
        let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some((lower + m) / 2.0)
    }
}

/// Median absolute deviation from `center`, scaled to estimate a standard deviation.
pub(super) fn mad_sigma(values: &[f64], center: f64) -> Option<f64> {
    let mut dev: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    median_in_place(&mut dev).map(|m| 1.4826 * m)
}

/// Theil–Sen slope of `(x, y)` points: the median of pairwise slopes.
pub(super) fn theil_sen(points: &[(f64, f64)]) -> Option<f64> {
    let mut slopes = Vec::with_capacity(points.len() * points.len() / 2);
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            let dx = b.0 - a.0;
            if dx.abs() > f64::EPSILON {
                slopes.push((b.1 - a.1) / dx);
            }
        }
    }
    median_in_place(&mut slopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_spread() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        let s = mad_sigma(&[1.0, 2.0, 3.0, 100.0], 2.5).unwrap();
        assert!(s < 2.0, "an outlier does not blow the spread up: {s}");
    }

    #[test]
    fn theil_sen_ignores_an_outlier() {
        let mut pts: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 2.0 * i as f64)).collect();
        pts[9].1 = 1000.0;
        assert!((theil_sen(&pts).unwrap() - 2.0).abs() < 1e-9);
    }
}
