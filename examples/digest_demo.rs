//! Writes a month of invented history with every kind of digest item into a new state
//! directory, for previews and the README screenshot:
//!
//! ```text
//! cargo run --example digest_demo -- /tmp/demo fr
//! trendwatch -c /tmp/demo/trendwatch.toml digest --preview /tmp/demo/digest.html --at 1796025600
//! ```

#[path = "../tests/support/digest_fixture.rs"]
mod digest_fixture;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), lang) = (args.next(), args.next().unwrap_or_else(|| "fr".into())) else {
        eprintln!("usage: digest_demo DIR [fr|en]");
        return std::process::ExitCode::from(1);
    };
    let dir = std::path::PathBuf::from(dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        return std::process::ExitCode::from(1);
    }
    let cfg = digest_fixture::write_demo(&dir, &lang);
    println!("{}", cfg.display());
    println!("{}", digest_fixture::DEMO_AT);
    std::process::ExitCode::SUCCESS
}
