#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The digest and its delivery: the file, the commands, and real SMTP exchanges on loopback.

#[path = "../common/mod.rs"]
mod common;

#[path = "../support/digest_fixture.rs"]
mod digest_fixture;
#[path = "../support/mod.rs"]
mod support;

mod digest_cli;
mod digest_file;
mod mail_smtp;
