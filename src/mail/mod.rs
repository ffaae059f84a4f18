//! Delivery of digests: the outbox first, then the transport.
//!
//! [`queue`] builds the MIME message (multipart/alternative: text, then multipart/related
//! with the HTML and its inline PNG charts) and makes it durable in the store's outbox with
//! its Message-ID *before* any send attempt. [`flush`] sends what is due and marks each item
//! sent only after the transport accepted it; failures stay pending with a backoff. So a
//! crash or an SMTP outage delays a digest, never drops it, and a sent digest is never sent
//! again (the state lives in the store, across restarts). This module never logs or returns
//! the SMTP password.

pub mod credential;
pub mod outbox;
pub mod transport;
pub mod trial;

use std::time::{Duration, SystemTime};

use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::Message;
use rand::Rng;

use crate::config::Config;
use crate::digest::{Digest, Rendered};
use crate::model::UnixSeconds;
use crate::model::{OutboxItem, OutboxState};
use crate::store::{Store, StoreError};

pub use transport::{Secret, TransportError};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("outbox")]
    Store(#[from] StoreError),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("the digest has no recipient: set digest.to")]
    NoRecipient,
}

/// What one [`flush`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Message-IDs accepted by the transport in this flush.
    pub sent: Vec<String>,
    /// Message-IDs that failed now, with the error (never holding a password).
    pub failed: Vec<(String, String)>,
    /// Items still pending after this flush (failed now or not yet due).
    pub pending: usize,
    /// Recipients the SMTP server refused for good in this flush, with its answer.
    pub rejected: Vec<(String, String)>,
}

/// Where a sent item went, in words for the person who ran the command: the `.eml` file, the
/// SMTP server that accepted it, or the sendmail program.
pub fn delivered_to(cfg: &Config, item: &OutboxItem) -> String {
    let to = cfg.digest.recipients();
    match &cfg.mail.transport {
        crate::config::Transport::File => {
            let file =
                transport::eml_path(&cfg.state_dir.join("outbox"), &item.id, item.created_at);
            crate::language::tr!(
                format!("le fichier {}", file.display()),
                format!("the file {}", file.display())
            )
        }
        crate::config::Transport::Smtp(s) => crate::language::tr!(
            format!("{} par le serveur SMTP {}:{}", to, s.host, s.port),
            format!("{} via the SMTP server {}:{}", to, s.host, s.port)
        ),
        crate::config::Transport::Sendmail { command } => format!(
            "{} via {}",
            to,
            command
                .as_ref()
                .map_or_else(|| "sendmail".to_owned(), |c| c.display().to_string())
        ),
    }
}

/// Builds the message of `r` and writes it to the outbox as pending, due at `at`.
pub fn queue(
    store: &Store,
    cfg: &Config,
    r: &Rendered,
    at: UnixSeconds,
) -> Result<OutboxItem, MailError> {
    let item = pending_item(cfg, r, at)?;
    store.outbox_put(&item)?;
    Ok(item)
}

fn pending_item(cfg: &Config, r: &Rendered, at: UnixSeconds) -> Result<OutboxItem, MailError> {
    let id = message_id(cfg, at);
    let raw = build_message(cfg, r, &id, at)?;
    Ok(OutboxItem {
        id,
        created_at: at,
        subject: r.subject.clone(),
        raw,
        state: OutboxState::Pending {
            attempts: 0,
            next_attempt_at: at,
            last_error: None,
        },
        delivered_to: Vec::new(),
        rejected: Vec::new(),
    })
}

/// Writes the digest to the outbox and, in the same durable step, its items to the alert
/// history (so the cooldown holds from now on) and `meta` (the daemon's "last digest").
pub fn queue_digest(
    store: &Store,
    cfg: &Config,
    d: &Digest,
    r: &Rendered,
    at: UnixSeconds,
    meta: &[(&str, Vec<u8>)],
) -> Result<OutboxItem, MailError> {
    let item = pending_item(cfg, r, at)?;
    store.queue_digest(&item, &d.alerts, meta)?;
    Ok(item)
}

/// How a flush reaches the store: the daemon's mail worker lets go of it while it waits on an
/// SMTP server ([`crate::store::access::Reopening`]); a command that holds the store anyway
/// passes the [`Store`].
pub trait OutboxAccess: crate::store::access::StoreAccess {
    /// How long to wait for another process that is sending the outbox.
    fn send_lock_wait(&self) -> Duration {
        outbox::SEND_LOCK_WAIT
    }
}

impl OutboxAccess for Store {}
impl OutboxAccess for crate::store::access::Reopening<'_> {}

/// Sends every pending item due at `at`.
pub async fn flush(
    access: &impl OutboxAccess,
    cfg: &Config,
    at: UnixSeconds,
) -> Result<FlushReport, MailError> {
    flush_with(access, cfg, at, false).await
}

/// Sends every pending item now, due or not (`outbox --flush`).
pub async fn flush_all(
    access: &impl OutboxAccess,
    cfg: &Config,
    at: UnixSeconds,
) -> Result<FlushReport, MailError> {
    flush_with(access, cfg, at, true).await
}

async fn flush_with(
    access: &impl OutboxAccess,
    cfg: &Config,
    at: UnixSeconds,
    force: bool,
) -> Result<FlushReport, MailError> {
    let envelope = envelope(cfg)?;
    let mut report = FlushReport::default();
    // One sender at a time: the store is let go while sending, so without this lock a
    // command and a worker could both find an item pending and send it twice.
    let Some(_sending) =
        outbox::SendLock::take(access.state_dir(), access.send_lock_wait()).await?
    else {
        tracing::info!("another trendwatch is sending the outbox: leaving it to it");
        return Ok(report);
    };
    // Oldest first: digests arrive in the order they were written.
    let mut items = access.with(|s| s.outbox_list()).await?;
    items.reverse();
    for item in items {
        let OutboxState::Pending {
            attempts,
            next_attempt_at,
            ..
        } = item.state
        else {
            continue;
        };
        if !force && next_attempt_at > at {
            report.pending += 1;
            continue;
        }
        let result = match &cfg.mail.transport {
            crate::config::Transport::Smtp(smtp) => {
                deliver_smtp(access, cfg, smtp, &item, &mut report).await?
            }
            other => transport::send(
                other,
                &cfg.state_dir,
                &envelope,
                &item.id,
                item.created_at,
                &item.raw,
            )
            .await
            .map(|()| item.clone()),
        };
        match result {
            Ok(mut updated) => {
                updated.state = OutboxState::Sent {
                    at: crate::clock::now(),
                };
                let record = updated.clone();
                access.with(move |s| s.outbox_put(&record)).await?;
                if updated.delivered_to.is_empty() && !updated.rejected.is_empty() {
                    // Nobody left to try: not retried, and said plainly.
                    tracing::error!(id = %item.id, "digest refused for every recipient");
                    report
                        .failed
                        .push((item.id, "refused for every recipient (see outbox)".into()));
                } else {
                    match cfg.mail.transport {
                        crate::config::Transport::File => tracing::info!(
                            id = %item.id,
                            subject = %item.subject,
                            "digest written as a file in the outbox folder (no mail server configured)"
                        ),
                        _ => tracing::info!(id = %item.id, subject = %item.subject, "digest sent"),
                    }
                    report.sent.push(item.id);
                }
            }
            Err(e) => {
                let attempts = attempts.saturating_add(1);
                let msg = crate::error::Chain(&e).to_string();
                let id = item.id.clone();
                let last_error = msg.clone();
                // What was delivered before the failure stays delivered.
                access
                    .with(move |s| {
                        let mut updated = s.outbox_get(&item.id)?.unwrap_or(item);
                        updated.state = OutboxState::Pending {
                            attempts,
                            next_attempt_at: outbox::next_attempt(at, attempts),
                            last_error: Some(last_error),
                        };
                        s.outbox_put(&updated)
                    })
                    .await?;
                tracing::warn!(id = %id, attempts, error = %msg, "digest not sent, will retry");
                report.failed.push((id, msg));
                report.pending += 1;
            }
        }
    }
    Ok(report)
}

/// Sends `item` over SMTP one recipient at a time, each recorded the moment its 250 arrives:
/// a later failure or a crash never makes the server send it again to someone who has it, a
/// recipient refused for good (550) is set aside without holding back the others, and the
/// Message-ID stays the same on every retry. `Ok` once every recipient is delivered or
/// refused; `Err` on the first failure worth a retry.
async fn deliver_smtp(
    access: &impl OutboxAccess,
    cfg: &Config,
    smtp: &crate::config::SmtpConfig,
    item: &OutboxItem,
    report: &mut FlushReport,
) -> Result<Result<OutboxItem, TransportError>, MailError> {
    let mut updated = item.clone();
    let done = |addr: &str, u: &OutboxItem| {
        u.delivered_to.iter().any(|d| d == addr) || u.rejected.iter().any(|(r, _)| r == addr)
    };
    let client = match transport::smtp_client(smtp) {
        Ok(client) => client,
        Err(e) => return Ok(Err(e)),
    };
    for to in &cfg.digest.to {
        let addr = to.email.to_string();
        if done(&addr, &updated) {
            continue;
        }
        let envelope = lettre::address::Envelope::new(
            Some(cfg.digest.from.email.clone()),
            vec![to.email.clone()],
        )
        .map_err(|e| MailError::Build(e.to_string()))?;
        match transport::smtp_send_one(&client, smtp, &envelope, &item.raw).await {
            Ok(()) => {
                updated.delivered_to.push(addr);
            }
            Err(transport::SmtpRefusal::Recipient(why)) => {
                tracing::error!(id = %item.id, recipient = %addr, "recipient refused for good: {why}");
                report.rejected.push((addr.clone(), why.clone()));
                updated.rejected.push((addr, why));
            }
            Err(transport::SmtpRefusal::Failed(e)) => return Ok(Err(e)),
        }
        let record = updated.clone();
        access.with(move |s| s.outbox_put(&record)).await?;
    }
    Ok(Ok(updated))
}

fn envelope(cfg: &Config) -> Result<lettre::address::Envelope, MailError> {
    if cfg.digest.to.is_empty() {
        return Err(MailError::NoRecipient);
    }
    lettre::address::Envelope::new(
        Some(cfg.digest.from.email.clone()),
        cfg.digest.to.iter().map(|m| m.email.clone()).collect(),
    )
    .map_err(|e| MailError::Build(e.to_string()))
}

/// `<unix time>.<random>@<sender's domain>`, without angle brackets.
fn message_id(cfg: &Config, at: UnixSeconds) -> String {
    let r: u64 = rand::thread_rng().gen();
    format!("{at}.{r:016x}@{}", cfg.digest.from.email.domain())
}

/// The RFC 5322 message: multipart/alternative(text/plain, multipart/related(text/html,
/// image/png…)). The subject was cleaned by the renderer; lettre encodes it again.
pub fn build_message(
    cfg: &Config,
    r: &Rendered,
    id: &str,
    at: UnixSeconds,
) -> Result<Vec<u8>, MailError> {
    let mut b = Message::builder()
        .from(cfg.digest.from.clone())
        .subject(crate::digest::clean(&r.subject, 200))
        .message_id(Some(format!("<{id}>")))
        .date(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(at).unwrap_or(0)));
    if cfg.digest.to.is_empty() {
        return Err(MailError::NoRecipient);
    }
    for to in &cfg.digest.to {
        b = b.to(to.clone());
    }
    let png = ContentType::parse("image/png").map_err(|e| MailError::Build(e.to_string()))?;
    let mut related = MultiPart::related().singlepart(SinglePart::html(r.html.clone()));
    for img in &r.images {
        related = related
            .singlepart(Attachment::new_inline(img.cid.clone()).body(img.png.clone(), png.clone()));
    }
    let body = MultiPart::alternative()
        .singlepart(SinglePart::plain(r.text.clone()))
        .multipart(related);
    let msg = b
        .multipart(body)
        .map_err(|e| MailError::Build(e.to_string()))?;
    Ok(msg.formatted())
}
