//! Arbitrary text through the human count parser: no panic, never a negative count.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trendwatch::collect::numbers;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(v) = numbers::parse_count(text) {
            assert!(v >= 0.0 && v.is_finite());
        }
        let _ = numbers::parse_count_u64(text);
        let _ = numbers::parse_plain_u64(text);
    }
});
