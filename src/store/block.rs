//! Sample blocks: every sample of one (entity, metric, week) packed into one sled value.
//!
//! Weeks are [`SPAN`]-second periods counted from the unix epoch (they start on Thursdays,
//! 00:00 UTC). A week rather than a day per key: sled adds tens of bytes per key and rewrites
//! leaf pages as they fill, so fewer, larger values keep the disk cost per sample low (measured
//! in BENCHMARKS.md), while a collection pass still rewrites only a few hundred bytes per series.
//!
//! A block is `count`, then per sample (sorted by time, one sample per second at most) the time
//! as a varint offset from the previous sample (the first from the block start) and the value.
//! Integer values (the usual case: counters) are stored as the zig-zag varint of their
//! difference from the previous integer value of the block, shifted left by one bit; any other
//! value (fractions, infinities, NaN, `-0.0`, integers beyond 2^53) is the byte `1` followed by
//! its 8 IEEE bytes, so every f64 round-trips bit for bit.
//!
//! This module only packs and unpacks; it never touches sled.

use super::codec::{put_u, unzigzag, zigzag, DecodeError, Reader};
use crate::model::UnixSeconds;

pub(super) const SPAN: i64 = 7 * 86_400;

/// Integers up to this magnitude are exact in an f64 and take the compact path.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0; // 2^53

/// The block number of a time (weeks since 1970-01-01, negative before).
pub(super) fn block_of(at: UnixSeconds) -> i64 {
    at.div_euclid(SPAN)
}

fn as_compact_int(v: f64) -> Option<i64> {
    if v.fract() == 0.0 && v.abs() <= MAX_EXACT && !(v == 0.0 && v.is_sign_negative()) {
        Some(v as i64)
    } else {
        None
    }
}

/// Packs samples of one block; `points` must be sorted by time, without duplicate times, and
/// all within the block starting at `block_start`.
pub(super) fn encode(block_start: UnixSeconds, points: &[(UnixSeconds, f64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + points.len() * 4);
    put_u(&mut out, points.len() as u64);
    let mut prev_t = block_start;
    let mut prev_v: i64 = 0;
    for &(t, v) in points {
        // Sorted within one block: the offset is in 0..SPAN.
        put_u(&mut out, (t - prev_t) as u64);
        prev_t = t;
        match as_compact_int(v) {
            Some(iv) => {
                put_u(&mut out, zigzag(iv - prev_v) << 1);
                prev_v = iv;
            }
            None => {
                out.push(1);
                out.extend_from_slice(&v.to_bits().to_be_bytes());
            }
        }
    }
    out
}

/// Unpacks a block, calling `f(time, value)` in time order.
pub(super) fn decode(
    block_start: UnixSeconds,
    bytes: &[u8],
    mut f: impl FnMut(UnixSeconds, f64),
) -> Result<(), DecodeError> {
    let mut r = Reader::new(bytes);
    let count = r.u()?;
    let mut t = block_start;
    let mut prev_v: i64 = 0;
    for _ in 0..count {
        let dt = r.u()?;
        if dt >= SPAN as u64 {
            return Err(DecodeError("sample time outside its block"));
        }
        t += dt as i64;
        let tag = r.u()?;
        let v = if tag & 1 == 0 {
            let iv = prev_v.wrapping_add(unzigzag(tag >> 1));
            prev_v = iv;
            iv as f64
        } else if tag == 1 {
            r.f64()?
        } else {
            return Err(DecodeError("bad value tag"));
        };
        f(t, v);
    }
    if !r.is_empty() {
        return Err(DecodeError("trailing bytes after block"));
    }
    Ok(())
}

/// Unpacks a block into a vector.
pub(super) fn decode_vec(
    block_start: UnixSeconds,
    bytes: &[u8],
) -> Result<Vec<(UnixSeconds, f64)>, DecodeError> {
    let mut out = Vec::new();
    decode(block_start, bytes, |t, v| out.push((t, v)))?;
    Ok(out)
}

/// Merges new points (sorted, unique times) into old ones (same): at an identical time the
/// new value replaces the old one.
pub(super) fn merge(
    old: &[(UnixSeconds, f64)],
    new: &[(UnixSeconds, f64)],
) -> Vec<(UnixSeconds, f64)> {
    let mut out = Vec::with_capacity(old.len() + new.len());
    let (mut i, mut j) = (0, 0);
    while i < old.len() && j < new.len() {
        match old[i].0.cmp(&new[j].0) {
            std::cmp::Ordering::Less => {
                out.push(old[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(new[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(new[j]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&old[i..]);
    out.extend_from_slice(&new[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hourly_counters_take_a_few_bytes_per_sample() {
        let start = 20_000 * SPAN;
        let points: Vec<_> = (0..24)
            .map(|h| (start + h * 3600, 1_000_000.0 + (h * 1234) as f64))
            .collect();
        let bytes = encode(start, &points);
        assert!(bytes.len() <= 24 * 4 + 4, "{} bytes", bytes.len());
        assert_eq!(decode_vec(start, &bytes).unwrap(), points);
    }

    #[test]
    fn odd_values_round_trip_bit_for_bit() {
        let start = -3 * SPAN;
        let points = vec![
            (start, -0.0),
            (start + 1, 0.1),
            (start + 2, f64::INFINITY),
            (start + 3, 1e300),
            (start + 4, -42.0),
            (start + 5, 9_007_199_254_740_993.0),
            (start + SPAN - 1, f64::MIN_POSITIVE),
        ];
        let back = decode_vec(start, &encode(start, &points)).unwrap();
        assert_eq!(back.len(), points.len());
        for (a, b) in back.iter().zip(&points) {
            assert_eq!(a.0, b.0);
            assert_eq!(a.1.to_bits(), b.1.to_bits());
        }
    }

    #[test]
    fn merge_replaces_identical_times_and_keeps_order() {
        let old = [(1, 1.0), (3, 3.0), (5, 5.0)];
        let new = [(0, 0.0), (3, 30.0), (6, 6.0)];
        assert_eq!(
            merge(&old, &new),
            vec![(0, 0.0), (1, 1.0), (3, 30.0), (5, 5.0), (6, 6.0)]
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode(0, &[3, 1], |_, _| {}).is_err());
        assert!(decode(
            0,
            &[1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
            |_, _| {}
        )
        .is_err());
    }
}
