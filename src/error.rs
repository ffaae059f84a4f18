//! How an error is said: once, with its causes.
//!
//! Every error type of trendwatch says its own step in its message ("cannot use the store in
//! /var/lib/trendwatch") and keeps what caused it as its `source`, never repeating it. Who
//! shows an error to a person — `main`, a log line — walks the chain once with [`Chain`].

use std::fmt;

/// An error and its causes on one line: `step: cause: deeper cause`. A cause whose text the
/// message above already ends with (a library that repeats its own source) is said once.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut said = self.0.to_string();
        f.write_str(&said)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !said.ends_with(&text) {
                write!(f, ": {text}")?;
                said = text;
            }
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot use the store in /srv/tw")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn each_cause_is_said_once() {
        let e = Outer(std::io::Error::other("disk full"));
        assert_eq!(
            Chain(&e).to_string(),
            "cannot use the store in /srv/tw: disk full"
        );
    }
}
