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
    #[error("{}", crate::language::tr!(
        format!("impossible de lire le mot de passe SMTP depuis {}", .0),
        format!("cannot read the SMTP password from {}", .0)
    ))]
    Password(String),
    #[error("cannot write {path}")]
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

/// Delivers `raw` (with Message-ID `id`) to the envelope's recipients through a file or
/// sendmail; SMTP goes one recipient at a time ([`smtp_send_one`]).
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
        Transport::Smtp(cfg) => {
            let client = smtp_client(cfg)?;
            match smtp_send_one(&client, cfg, envelope, raw).await {
                Ok(()) => Ok(()),
                Err(SmtpRefusal::Recipient(msg)) => Err(TransportError::Smtp(msg)),
                Err(SmtpRefusal::Failed(e)) => Err(e),
            }
        }
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
    let path = eml_path(dir, id, created_at);
    crate::files::write_atomically(&path, raw)
        .map_err(|source| TransportError::File { path, source })
}

/// Why one recipient's SMTP delivery did not happen.
#[derive(Debug)]
pub enum SmtpRefusal {
    /// The server refused this recipient for good (550, 551, 553: no such mailbox, not
    /// local, bad address): trying again cannot help; the other recipients are not held back.
    Recipient(String),
    /// Anything else (no connection, a timeout, a 4xx, a refused login): worth a retry.
    Failed(TransportError),
}

/// An SMTP client for `cfg`, reused for each recipient of a message.
pub fn smtp_client(cfg: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, TransportError> {
    let pass = match (&cfg.username, &cfg.password) {
        (Some(_), Some(src)) => Some(read_password(src)?),
        _ => None,
    };
    smtp_client_with(cfg, pass)
}

/// [`smtp_client`] with the password already read (`check --mail`, from a shell).
pub fn smtp_client_with(
    cfg: &SmtpConfig,
    password: Option<Secret>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, TransportError> {
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
        let pass = password.unwrap_or_else(|| Secret(String::new()));
        builder = builder.credentials(Credentials::new(user.clone(), pass.expose().to_owned()));
    }
    Ok(builder.build())
}

/// One SMTP transaction for `envelope` (one recipient), within the config's deadline.
pub async fn smtp_send_one(
    client: &AsyncSmtpTransport<Tokio1Executor>,
    cfg: &SmtpConfig,
    envelope: &Envelope,
    raw: &[u8],
) -> Result<(), SmtpRefusal> {
    match tokio::time::timeout(cfg.timeout, client.send_raw(envelope, raw)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => {
            let code = e.status().map(|c| c.to_string());
            let for_good = e.is_permanent()
                && code
                    .as_deref()
                    .is_some_and(|c| matches!(c, "550" | "551" | "553"));
            let msg = crate::model::clean_text(&e.to_string(), 300);
            if for_good {
                Err(SmtpRefusal::Recipient(msg))
            } else {
                Err(SmtpRefusal::Failed(TransportError::Smtp(msg)))
            }
        }
        Err(_) => Err(SmtpRefusal::Failed(TransportError::Smtp(format!(
            "{}:{} did not finish the delivery within {}; will retry",
            cfg.host,
            cfg.port,
            humantime::format_duration(cfg.timeout)
        )))),
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
