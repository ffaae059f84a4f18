//! Arbitrary `trendwatch.toml` and watchlist text through the config loader: it never panics,
//! and every rejection is an error value. The input is split at the first NUL byte into the
//! config file and the watchlist file, written beside each other as the loader reads files.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("trendwatch-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let (config, watchlist) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let dir = dir();
    let config_path = dir.join("trendwatch.toml");
    let watchlist_path = dir.join("watchlist.toml");
    std::fs::write(&config_path, config).unwrap();
    std::fs::write(&watchlist_path, watchlist).unwrap();
    let _ = trendwatch::config::load(&config_path);
    let _ = trendwatch::config::load_watchlist(&watchlist_path);
});
