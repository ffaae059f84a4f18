//! `trendwatch collect`.
use super::{Cli, CommandResult};

pub fn collect(_cli: &Cli, _only: &[String]) -> CommandResult {
    super::not_built("collect")
}
