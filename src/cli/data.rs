//! `trendwatch import`, `export`, `status` and `show`: the store seen from the command line.
use std::path::Path;

use super::{Cli, CommandResult, ExportFormat};

pub fn import(_cli: &Cli, _file: &Path) -> CommandResult {
    super::not_built("import")
}

pub fn export(
    _cli: &Cli,
    _format: ExportFormat,
    _entities: &[String],
    _since: Option<&str>,
    _until: Option<&str>,
) -> CommandResult {
    super::not_built("export")
}

pub fn status(_cli: &Cli, _json: bool) -> CommandResult {
    super::not_built("status")
}

pub fn show(_cli: &Cli, _entity: &str) -> CommandResult {
    super::not_built("show")
}
