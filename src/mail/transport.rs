//! The ways a queued message leaves trendwatch: `.eml` files, SMTP (lettre over tokio and
//! rustls) or the local sendmail.
//!
//! A transport delivers raw bytes already in the outbox; it never builds or changes a
//! message. The SMTP password is read at send time into [`Secret`], whose Debug and Display
//! redact it, and it never appears in an error or a log line.

use std::fmt;
use std::path::{Path, PathBuf};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSendmailTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{PasswordSource, SmtpConfig, Tls, Transport};

/// A password that never shows itself.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
        Self(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot read the SMTP password from {0}")]
    Password(String),
    #[error("cannot write {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("SMTP: {0}")]
    Smtp(String),
    #[error("sendmail: {0}")]
    Sendmail(String),
}

/// Reads the password from where the config says; the error names the place, not the value.
pub fn read_password(src: &PasswordSource) -> Result<Secret, TransportError> {
    let (value, place) = match src {
        PasswordSource::Credential(name) => {
            let dir = std::env::var_os("CREDENTIALS_DIRECTORY").ok_or_else(|| {
                TransportError::Password(format!(
                    "credential `{name}`: $CREDENTIALS_DIRECTORY is not set"
                ))
            })?;
            let path = Path::new(&dir).join(name);
            (
                std::fs::read_to_string(&path).ok(),
                format!("credential `{name}`"),
            )
        }
        PasswordSource::File(p) => (
            std::fs::read_to_string(p).ok(),
            format!("file {}", p.display()),
        ),
        PasswordSource::Env(v) => (std::env::var(v).ok(), format!("environment variable {v}")),
    };
    let value = value.ok_or(TransportError::Password(place))?;
    // A trailing newline from `echo pass > file` is not part of the password.
    Ok(Secret(value.trim_end_matches(['\r', '\n']).to_owned()))
}

/// Delivers `raw` (with Message-ID `id`) to the envelope's recipients.
pub async fn send(
    transport: &Transport,
    state_dir: &Path,
    envelope: &Envelope,
    id: &str,
    created_at: i64,
    raw: &[u8],
) -> Result<(), TransportError> {
    match transport {
        Transport::File => write_eml(&state_dir.join("outbox"), id, created_at, raw),
        Transport::Smtp(cfg) => send_smtp(cfg, envelope, raw).await,
        Transport::Sendmail { command } => {
            let t = match command {
                Some(c) => {
                    AsyncSendmailTransport::<Tokio1Executor>::new_with_command(c.as_os_str())
                }
                None => AsyncSendmailTransport::<Tokio1Executor>::new(),
            };
            t.send_raw(envelope, raw)
                .await
                .map(|_| ())
                .map_err(|e| TransportError::Sendmail(e.to_string()))
        }
    }
}

/// `<dir>/<created_at>-<id>.eml`, written to a temp file then renamed: a reader never sees
/// half a message, and sending the same item again replaces it instead of duplicating it.
pub fn eml_path(dir: &Path, id: &str, created_at: i64) -> PathBuf {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{created_at}-{safe}.eml"))
}

fn write_eml(dir: &Path, id: &str, created_at: i64, raw: &[u8]) -> Result<(), TransportError> {
    use std::io::Write;
    let path = eml_path(dir, id, created_at);
    let err = |source| TransportError::File {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let tmp = path.with_extension("eml.tmp");
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(raw).map_err(err)?;
    f.sync_all().map_err(err)?;
    drop(f);
    std::fs::rename(&tmp, &path).map_err(err)?;
    Ok(())
}

async fn send_smtp(
    cfg: &SmtpConfig,
    envelope: &Envelope,
    raw: &[u8],
) -> Result<(), TransportError> {
    let smtp = |e: lettre::transport::smtp::Error| TransportError::Smtp(e.to_string());
    let builder = match cfg.tls {
        Tls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host).map_err(smtp)?,
        Tls::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host).map_err(smtp)?
        }
        // Config refuses `none` unless the host is loopback.
        Tls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
    };
    let mut builder = builder.port(cfg.port).timeout(Some(cfg.timeout));
    if let Some(user) = &cfg.username {
        let pass = match &cfg.password {
            Some(src) => read_password(src)?,
            None => Secret(String::new()),
        };
        builder = builder.credentials(Credentials::new(user.clone(), pass.expose().to_owned()));
    }
    let transport = builder.build();
    // lettre's own timeout does not cover every read; this deadline does.
    match tokio::time::timeout(cfg.timeout, transport.send_raw(envelope, raw)).await {
        Ok(sent) => sent.map(|_| ()).map_err(smtp),
        Err(_) => Err(TransportError::Smtp(format!(
            "{}:{} did not finish the delivery within {}; will retry",
            cfg.host,
            cfg.port,
            humantime::format_duration(cfg.timeout)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2".into());
        assert!(!format!("{s:?} {s}").contains("hunter2"));
    }

    #[test]
    fn password_errors_name_the_place_not_the_value() {
        let e = read_password(&PasswordSource::Env("TRENDWATCH_NO_SUCH_VAR".into())).unwrap_err();
        assert!(e.to_string().contains("TRENDWATCH_NO_SUCH_VAR"));
    }
}
