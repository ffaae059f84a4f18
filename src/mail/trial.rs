//! `trendwatch check --mail`: a short test message through the configured transport.
//!
//! It goes to every digest recipient the way a digest would (the same transport, server,
//! login and envelope), but never through the outbox: no cooldown starts, no alert is
//! recorded, the next digest is unchanged.

use lettre::message::{header::ContentType, Mailbox};
use lettre::Message;

use super::transport::{self, Secret, SmtpRefusal};
use super::MailError;
use crate::config::{Config, Transport};
use crate::model::UnixSeconds;

/// What happened to the test message, per recipient.
#[derive(Debug, Default)]
pub struct TrialReport {
    /// Recipients the transport accepted it for.
    pub accepted: Vec<String>,
    /// Recipients it could not be delivered to, with the reason (never a password).
    pub failed: Vec<(String, String)>,
    /// The `.eml` file written, with the file transport.
    pub file: Option<std::path::PathBuf>,
}

/// The test message: the digest's sender and recipients, a subject and a few lines saying
/// what it is, in the digest's language.
fn message(cfg: &Config, id: &str, at: UnixSeconds) -> Result<Vec<u8>, MailError> {
    let fr = cfg.digest.language == crate::config::Language::Fr;
    let (subject, body) = if fr {
        (
            "trendwatch : message d'essai",
            "Bonjour,\n\nCeci est un message d'essai envoyé par `trendwatch check --mail`.\n\
             S'il vous parvient, le résumé hebdomadaire vous parviendra aussi, par le même \
             chemin.\n\nAucun résumé n'a été envoyé ni compté : le prochain partira à son heure.\n",
        )
    } else {
        (
            "trendwatch: test message",
            "Hello,\n\nThis is a test message sent by `trendwatch check --mail`.\n\
             If it reached you, the weekly digest will too, the same way.\n\n\
             No digest was sent or counted: the next one goes out on schedule.\n",
        )
    };
    let mut b = Message::builder()
        .from(cfg.digest.from.clone())
        .subject(subject)
        .message_id(Some(format!("<{id}>")))
        .date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at.max(0) as u64));
    for to in &cfg.digest.to {
        b = b.to(to.clone());
    }
    let msg = b
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| MailError::Build(e.to_string()))?;
    Ok(msg.formatted())
}

fn envelope_for(cfg: &Config, to: &[Mailbox]) -> Result<lettre::address::Envelope, MailError> {
    lettre::address::Envelope::new(
        Some(cfg.digest.from.email.clone()),
        to.iter().map(|m| m.email.clone()).collect(),
    )
    .map_err(|e| MailError::Build(e.to_string()))
}

/// Sends the test message to every recipient; `password` is the SMTP password already read
/// (from a shell, the service's credential is found where systemd keeps it).
pub async fn send_test(
    cfg: &Config,
    password: Option<Secret>,
    at: UnixSeconds,
) -> Result<TrialReport, MailError> {
    if cfg.digest.to.is_empty() {
        return Err(MailError::NoRecipient);
    }
    let id = format!("test.{}", super::message_id(cfg, at));
    let raw = message(cfg, &id, at)?;
    let mut report = TrialReport::default();
    let everyone = || cfg.digest.to.iter().map(|m| m.email.to_string());
    match &cfg.mail.transport {
        Transport::Smtp(smtp) => {
            let client = match transport::smtp_client_with(smtp, password) {
                Ok(c) => c,
                Err(e) => {
                    let why = crate::error::Chain(&e).to_string();
                    report.failed = everyone().map(|a| (a, why.clone())).collect();
                    return Ok(report);
                }
            };
            for to in &cfg.digest.to {
                let envelope = envelope_for(cfg, std::slice::from_ref(to))?;
                let addr = to.email.to_string();
                match transport::smtp_send_one(&client, smtp, &envelope, &raw).await {
                    Ok(()) => report.accepted.push(addr),
                    Err(SmtpRefusal::Recipient(why)) => report.failed.push((addr, why)),
                    Err(SmtpRefusal::Failed(e)) => {
                        report
                            .failed
                            .push((addr, crate::error::Chain(&e).to_string()));
                    }
                }
            }
        }
        other => {
            let envelope = envelope_for(cfg, &cfg.digest.to)?;
            let sent = transport::send(other, &cfg.state_dir, &envelope, &id, at, &raw).await;
            match sent {
                Ok(()) => {
                    report.accepted = everyone().collect();
                    if matches!(other, Transport::File) {
                        report.file =
                            Some(transport::eml_path(&cfg.state_dir.join("outbox"), &id, at));
                    }
                }
                Err(e) => {
                    let why = crate::error::Chain(&e).to_string();
                    report.failed = everyone().map(|a| (a, why.clone())).collect();
                }
            }
        }
    }
    Ok(report)
}

/// The fix for a failed test, from the kind of failure; `None` when the reason says it.
pub fn advice(why: &str, fr: bool) -> Option<&'static str> {
    let lower = why.to_ascii_lowercase();
    let pick = |f: &'static str, e: &'static str| Some(if fr { f } else { e });
    if lower.contains("authentication") || lower.contains("535") || lower.contains("credentials") {
        pick(
            "le serveur refuse l'identifiant ou le mot de passe : vérifiez `username` et le mot de passe",
            "the server refuses the login or password: check `username` and the password",
        )
    } else if lower.contains("connection refused")
        || lower.contains("did not finish")
        || lower.contains("timed out")
    {
        pick(
            "le serveur ne répond pas : vérifiez `host` et `port` sous [mail] (587 avec starttls, 465 avec tls)",
            "the server does not answer: check `host` and `port` under [mail] (587 with starttls, 465 with tls)",
        )
    } else if lower.contains("tls") || lower.contains("certificate") {
        pick(
            "la connexion chiffrée échoue : vérifiez `tls` (starttls sur 587, tls sur 465)",
            "the encrypted connection fails: check `tls` (starttls on 587, tls on 465)",
        )
    } else {
        None
    }
}
