//! The `trendwatch` binary: parse the command line, set up logging, hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use trendwatch::cli::{self, Cli};

fn main() -> ExitCode {
    // A mistyped command line is the user's to fix: exit 1, like a bad config (2 is kept for
    // failures at run time). `--help` and `--version` print and exit 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    trendwatch::logging::init(cli.log_format);
    cli::say::from_environment();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let message = cli::owner::shown(&format!("{:#}", err.error()));
            eprintln!("{}{message}", cli::say::error_label());
            err.exit_code()
        }
    }
}
