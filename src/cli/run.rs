//! `trendwatch run`.
use super::{Cli, CommandResult};

pub fn run(_cli: &Cli, _once: bool) -> CommandResult {
    super::not_built("run")
}
