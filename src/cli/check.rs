//! `trendwatch check`.
use super::{Cli, CommandResult};

pub fn check(_cli: &Cli) -> CommandResult {
    super::not_built("check")
}
