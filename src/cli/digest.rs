//! `trendwatch digest` and `trendwatch outbox`.
use std::path::Path;

use super::{Cli, CommandResult};

pub fn digest(_cli: &Cli, _preview: Option<&Path>, _send: bool, _at: Option<&str>) -> CommandResult {
    super::not_built("digest")
}

pub fn outbox(_cli: &Cli, _flush: bool) -> CommandResult {
    super::not_built("outbox")
}
