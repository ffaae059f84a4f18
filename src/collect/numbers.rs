//! Human-written counts as pages show them: `1.2M`, `116,9k`, `80 000`, `80’000`,
//! `1,234,567`, `3,4 M`, `1 234,5`, in English and French forms.
//!
//! Custom HTML and JSON sources show counts the way their audience reads them, so the same
//! parser must accept a comma as a decimal mark (`116,9k`) and as a thousands separator
//! (`1,234,567`). The rules are: spaces (normal, no-break, narrow no-break, thin) and
//! apostrophes only ever group digits; when both `.` and `,` appear the last one is the decimal
//! mark; a lone `.` or `,` followed by exactly three digits and no suffix groups thousands,
//! otherwise it is the decimal mark. Groups after the first must have three digits, so garbage
//! such as `1 2 3` is refused instead of guessed. This module must never accept a negative
//! count or panic on any input: it returns `None` for anything it does not understand.

/// Characters that only ever separate thousands.
fn is_group_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\u{2007}' | '\'' | '’' | '`' | '´'
    )
}

/// A multiplier suffix, English or French, compared case-insensitively (`m` and `M` both mean
/// million on social sites; nobody writes milli-followers).
fn suffix_multiplier(suffix: &str) -> Option<f64> {
    let s = suffix.trim().trim_end_matches('.').to_lowercase();
    Some(match s.as_str() {
        "" => 1.0,
        "k" | "mille" | "thousand" | "thousands" => 1e3,
        "m" | "mio" | "mln" | "million" | "millions" => 1e6,
        "b" | "bn" | "md" | "mds" | "mrd" | "mrds" | "milliard" | "milliards" | "billion"
        | "billions" => 1e9,
        _ => return None,
    })
}

/// The parts of a count once separators are understood.
struct Parsed {
    /// Digits of the integer part, separators removed.
    int: String,
    /// Digits after the decimal mark, if any.
    frac: Option<String>,
    multiplier: f64,
}

fn split(raw: &str) -> Option<Parsed> {
    let s = raw.trim_matches(|c: char| c.is_whitespace() || is_group_space(c));
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_digit()) {
        // A leading `-` (or anything else) is not a count.
        return None;
    }
    // The numeric body is the longest prefix of digits and separators; the rest is a suffix.
    let body_end = s
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '.' || c == ',' || is_group_space(c)))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let (body, suffix) = s.split_at(body_end);
    let body = body.trim_end_matches(|c: char| is_group_space(c) || c.is_whitespace());
    let multiplier = suffix_multiplier(suffix)?;
    if body.ends_with(['.', ',']) {
        return None;
    }

    // Decide which of `.`/`,` (if any) is the decimal mark.
    let last_dot = body.rfind('.');
    let last_comma = body.rfind(',');
    let decimal_at = match (last_dot, last_comma) {
        (None, None) => None,
        (Some(d), Some(c)) => {
            let (pos, ch) = if d > c { (d, '.') } else { (c, ',') };
            if body.matches(ch).count() > 1 {
                return None;
            }
            Some(pos)
        }
        (Some(p), None) | (None, Some(p)) => {
            let ch = if last_dot.is_some() { '.' } else { ',' };
            let after = &body[p + 1..];
            let before = &body[..p];
            // `1,234,567`: every mark groups; `1,234` / `1.234` without a suffix: thousands.
            let groups_only = body.matches(ch).count() > 1;
            let thousands = multiplier == 1.0
                && after.len() == 3
                && after.bytes().all(|b| b.is_ascii_digit())
                && !before.trim_start_matches('0').is_empty()
                && !before.contains(is_group_space);
            if groups_only || thousands {
                None
            } else {
                Some(p)
            }
        }
    };

    let (int_part, frac_part) = match decimal_at {
        Some(p) => (&body[..p], Some(&body[p + 1..])),
        None => (body, None),
    };
    if let Some(frac) = frac_part {
        if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    // Integer part: groups split by any separator; groups after the first have 3 digits.
    let groups: Vec<&str> = int_part
        .split(|c: char| c == '.' || c == ',' || is_group_space(c))
        .collect();
    let first = groups.first()?;
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if groups.len() > 1 && first.len() > 3 {
        return None;
    }
    for g in &groups[1..] {
        if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    Some(Parsed {
        int: groups.concat(),
        frac: frac_part.map(str::to_string),
        multiplier,
    })
}

/// Parses a human count into a float (`"116,9k"` → `116900.0`). `None` when the text is not a
/// non-negative count.
pub fn parse_count(raw: &str) -> Option<f64> {
    let p = split(raw)?;
    let text = match &p.frac {
        Some(f) => format!("{}.{}", p.int, f),
        None => p.int.clone(),
    };
    let v: f64 = text.parse().ok()?;
    let v = v * p.multiplier;
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// Parses a human count into an integer, exact for plain digits however large (up to
/// `u64::MAX`) and rounded to the nearest unit when a suffix or decimals are involved.
pub fn parse_count_u64(raw: &str) -> Option<u64> {
    let p = split(raw)?;
    if p.frac.is_none() && p.multiplier == 1.0 {
        return p.int.parse().ok();
    }
    let v = parse_count(raw)?.round();
    // 2^64 as f64; anything at or above it does not fit.
    (v < 18_446_744_073_709_551_616.0).then_some(v as u64)
}

/// A count the platform wrote itself (`statsV2` strings, ids): plain ASCII digits only.
pub fn parse_plain_u64(raw: &str) -> Option<u64> {
    let t = raw.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn english_and_french_forms_parse() {
        let cases: &[(&str, f64)] = &[
            ("1.2M", 1_200_000.0),
            ("116,9k", 116_900.0),
            ("80 000", 80_000.0),
            ("80\u{a0}000", 80_000.0),
            ("80\u{202f}000", 80_000.0),
            ("80’000", 80_000.0),
            ("80'000", 80_000.0),
            ("1,234,567", 1_234_567.0),
            ("1.234.567", 1_234_567.0),
            ("3,4 M", 3_400_000.0),
            ("12.5K", 12_500.0),
            ("1 234,5", 1_234.5),
            ("1,234.5", 1_234.5),
            ("1.234,5", 1_234.5),
            ("1,234", 1_234.0),
            ("0,5", 0.5),
            ("3,45", 3.45),
            ("42", 42.0),
            ("  7 ", 7.0),
            ("+12", 12.0),
            ("2,1 Md", 2_100_000_000.0),
            ("1.5B", 1_500_000_000.0),
            ("3 millions", 3_000_000.0),
            ("1.234k", 1_234.0),
            ("68.3k", 68_300.0),
            ("926,5 k", 926_500.0),
        ];
        for (raw, want) in cases {
            let got = parse_count(raw);
            assert!(
                got.is_some_and(|g| (g - want).abs() < 1e-6 * want.max(1.0)),
                "{raw:?} → {got:?}, want {want}"
            );
        }
    }

    #[test]
    fn garbage_and_negatives_are_refused() {
        for raw in [
            "",
            " ",
            "-5",
            "−5",
            "abc",
            "1 2 3",
            "12,34,567",
            "1.2.3,4,5",
            "1,",
            "k",
            "1.2X",
            "1,2,3.4.5",
            "١٢",
            "NaN",
            "inf",
            "1e5",
            "12 34",
        ] {
            assert_eq!(parse_count(raw), None, "{raw:?} should not parse");
        }
    }

    #[test]
    fn integers_stay_exact_beyond_f64_precision() {
        assert_eq!(parse_count_u64("11907467940"), Some(11_907_467_940));
        assert_eq!(
            parse_count_u64("18 446 744 073 709 551 615"),
            Some(u64::MAX)
        );
        assert_eq!(parse_count_u64("18446744073709551616"), None);
        assert_eq!(parse_count_u64("1.2M"), Some(1_200_000));
        assert_eq!(parse_count_u64("116,9k"), Some(116_900));
        assert_eq!(parse_plain_u64("68259"), Some(68_259));
        assert_eq!(parse_plain_u64("-977433948"), None);
        assert_eq!(parse_plain_u64("68 259"), None);
    }

    proptest! {
        #[test]
        fn never_panics_and_never_negative(s in "\\PC{0,24}") {
            if let Some(v) = parse_count(&s) {
                prop_assert!(v >= 0.0 && v.is_finite());
            }
            let _ = parse_count_u64(&s);
        }

        #[test]
        fn grouped_integers_round_trip(n in 0u64..10_000_000_000_000, sep in prop::sample::select(vec![" ", "\u{a0}", "\u{202f}", "’", ",", "."])) {
            let digits = n.to_string();
            let mut grouped = String::new();
            for (i, ch) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    grouped.push_str(sep);
                }
                grouped.push(ch);
            }
            // A single `.`/`,` group such as `1,234` is read as thousands too.
            prop_assert_eq!(parse_count_u64(&grouped), Some(n), "{}", grouped);
        }

        #[test]
        fn suffixed_decimals_scale(int in 0u32..1000, frac in 0u32..10, comma in any::<bool>()) {
            let mark = if comma { "," } else { "." };
            let got = parse_count(&format!("{int}{mark}{frac}k")).unwrap();
            let want = (f64::from(int) + f64::from(frac) / 10.0) * 1000.0;
            prop_assert!((got - want).abs() < 1e-6);
        }
    }
}
