//! `trendwatch detect`.
use super::{Cli, CommandResult};

pub fn detect(_cli: &Cli, _at: Option<&str>, _json: bool) -> CommandResult {
    super::not_built("detect")
}
