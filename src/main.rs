//! The `trendwatch` binary: parse the command line, set up logging, hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use trendwatch::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    trendwatch::logging::init(cli.log_format);
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("trendwatch: {:#}", err.error());
            err.exit_code()
        }
    }
}
