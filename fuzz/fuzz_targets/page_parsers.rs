//! Arbitrary bytes through every TikTok page parser: none may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trendwatch::collect::tiktok;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = tiktok::parse_creator_page(&text, "lea.soinsnaturels");
    let _ = tiktok::parse_tag_page(&text);
    let _ = tiktok::parse_embed_tag_page(&text, "skincarenaturel");
    let _ = tiktok::parse_item_list(&text);
    // Solving runs up to a million hashes: only check that finding the wall never panics.
    let _ = tiktok::WafChallenge::find(&text);
});
