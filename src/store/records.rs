//! Binary layouts of the store's records other than sample blocks (entities, videos, alerts,
//! outbox items), each behind an `encode`/`decode` pair built on [`super::codec`].
//!
//! Layouts only grow at their end; a change that cannot do so needs a schema migration in
//! `mod.rs`. This module never touches sled.

use super::codec::{
    put_bytes, put_f64, put_i, put_opt_i, put_opt_str, put_str, put_u, DecodeError, Reader,
};
use super::{AlertRecord, OutboxItem, OutboxState};
use crate::model::{EntityId, Failure, FailureKind, Fetcher, UnixSeconds, VideoRecord};

/// What the store keeps about an entity, under its number.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct EntityRecord {
    pub id: EntityId,
    pub first_seen: UnixSeconds,
    pub last_sample_at: Option<UnixSeconds>,
    pub last_success: Option<UnixSeconds>,
    pub last_failure: Option<Failure>,
    /// Metric numbers with at least one sample, sorted.
    pub metrics: Vec<u16>,
    /// The fetcher that read the entity's latest outcome (records written before the
    /// browser fetcher existed end before this field: plain HTTP).
    pub fetched_by: Fetcher,
}

fn failure_code(kind: FailureKind) -> u8 {
    match kind {
        FailureKind::Blocked => 0,
        FailureKind::NotFound => 1,
        FailureKind::Private => 2,
        FailureKind::HttpStatus => 3,
        FailureKind::Timeout => 4,
        FailureKind::Network => 5,
        FailureKind::TooLarge => 6,
        FailureKind::UnknownShape => 7,
        FailureKind::BrowserUnavailable => 8,
        FailureKind::Region => 9,
    }
}

fn failure_kind(code: u8) -> Result<FailureKind, DecodeError> {
    Ok(match code {
        0 => FailureKind::Blocked,
        1 => FailureKind::NotFound,
        2 => FailureKind::Private,
        3 => FailureKind::HttpStatus,
        4 => FailureKind::Timeout,
        5 => FailureKind::Network,
        6 => FailureKind::TooLarge,
        7 => FailureKind::UnknownShape,
        8 => FailureKind::BrowserUnavailable,
        9 => FailureKind::Region,
        _ => return Err(DecodeError("unknown failure kind")),
    })
}

impl EntityRecord {
    pub(super) fn new(id: EntityId, first_seen: UnixSeconds) -> Self {
        Self {
            id,
            first_seen,
            last_sample_at: None,
            last_success: None,
            last_failure: None,
            metrics: Vec::new(),
            fetched_by: Fetcher::Http,
        }
    }

    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.id.as_str().len());
        put_str(&mut out, self.id.as_str());
        put_i(&mut out, self.first_seen);
        put_opt_i(&mut out, self.last_sample_at);
        put_opt_i(&mut out, self.last_success);
        match &self.last_failure {
            None => out.push(0),
            Some(f) => {
                out.push(1);
                put_i(&mut out, f.at);
                out.push(failure_code(f.kind));
                put_str(&mut out, &f.detail);
            }
        }
        put_u(&mut out, self.metrics.len() as u64);
        for m in &self.metrics {
            put_u(&mut out, u64::from(*m));
        }
        out.push(match self.fetched_by {
            Fetcher::Http => 0,
            Fetcher::Browser => 1,
        });
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let id = EntityId::parse_stored(&r.string()?).map_err(|_| DecodeError("bad entity id"))?;
        let first_seen = r.i()?;
        let last_sample_at = r.opt_i()?;
        let last_success = r.opt_i()?;
        let last_failure = match r.byte()? {
            0 => None,
            1 => {
                let at = r.i()?;
                let kind = failure_kind(r.byte()?)?;
                let detail = r.string()?;
                Some(Failure { at, kind, detail })
            }
            _ => return Err(DecodeError("bad option tag")),
        };
        let n = r.u()?;
        let mut metrics = Vec::new();
        for _ in 0..n {
            metrics.push(u16::try_from(r.u()?).map_err(|_| DecodeError("bad metric number"))?);
        }
        let fetched_by = if r.is_empty() {
            Fetcher::Http
        } else {
            match r.byte()? {
                0 => Fetcher::Http,
                1 => Fetcher::Browser,
                _ => return Err(DecodeError("unknown fetcher")),
            }
        };
        Ok(Self {
            id,
            first_seen,
            last_sample_at,
            last_success,
            last_failure,
            metrics,
            fetched_by,
        })
    }
}

/// A video as stored: latest counters plus when and through which entities it was seen.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct VideoEntry {
    pub video: VideoRecord,
    /// The observation time of the counters in `video`.
    pub counts_at: UnixSeconds,
    pub first_seen: UnixSeconds,
    pub last_seen: UnixSeconds,
    /// Entity numbers, sorted.
    pub via: Vec<u32>,
}

impl VideoEntry {
    pub(super) fn encode(&self) -> Vec<u8> {
        let v = &self.video;
        let mut out = Vec::with_capacity(64 + v.description.len());
        put_str(&mut out, &v.id);
        put_opt_str(&mut out, v.author.as_deref());
        put_i(&mut out, v.created_at);
        for c in [v.plays, v.likes, v.comments, v.shares, v.saves] {
            put_u(&mut out, c);
        }
        put_u(&mut out, v.hashtags.len() as u64);
        for h in &v.hashtags {
            put_str(&mut out, h);
        }
        put_str(&mut out, &v.description);
        put_i(&mut out, self.counts_at);
        put_i(&mut out, self.first_seen);
        put_i(&mut out, self.last_seen);
        put_u(&mut out, self.via.len() as u64);
        for e in &self.via {
            put_u(&mut out, u64::from(*e));
        }
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let id = r.string()?;
        let author = r.opt_str()?;
        let created_at = r.i()?;
        let (plays, likes, comments, shares, saves) = (r.u()?, r.u()?, r.u()?, r.u()?, r.u()?);
        let n = r.u()?;
        let mut hashtags = Vec::new();
        for _ in 0..n {
            hashtags.push(r.string()?);
        }
        let description = r.string()?;
        let counts_at = r.i()?;
        let first_seen = r.i()?;
        let last_seen = r.i()?;
        let n = r.u()?;
        let mut via = Vec::new();
        for _ in 0..n {
            via.push(u32::try_from(r.u()?).map_err(|_| DecodeError("bad entity number"))?);
        }
        Ok(Self {
            video: VideoRecord {
                id,
                author,
                created_at,
                plays,
                likes,
                comments,
                shares,
                saves,
                hashtags,
                description,
            },
            counts_at,
            first_seen,
            last_seen,
            via,
        })
    }
}

pub(super) fn encode_alert(a: &AlertRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    put_i(&mut out, a.at);
    put_f64(&mut out, a.score);
    out
}

pub(super) fn decode_alert(bytes: &[u8]) -> Result<AlertRecord, DecodeError> {
    let mut r = Reader::new(bytes);
    Ok(AlertRecord {
        at: r.i()?,
        score: r.f64()?,
    })
}

pub(super) fn encode_outbox(item: &OutboxItem) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + item.raw.len());
    put_str(&mut out, &item.id);
    put_i(&mut out, item.created_at);
    put_str(&mut out, &item.subject);
    put_bytes(&mut out, &item.raw);
    match &item.state {
        OutboxState::Pending {
            attempts,
            next_attempt_at,
            last_error,
        } => {
            out.push(0);
            put_u(&mut out, u64::from(*attempts));
            put_i(&mut out, *next_attempt_at);
            put_opt_str(&mut out, last_error.as_deref());
        }
        OutboxState::Sent { at } => {
            out.push(1);
            put_i(&mut out, *at);
        }
    }
    put_u(&mut out, item.delivered_to.len() as u64);
    for to in &item.delivered_to {
        put_str(&mut out, to);
    }
    put_u(&mut out, item.rejected.len() as u64);
    for (to, why) in &item.rejected {
        put_str(&mut out, to);
        put_str(&mut out, why);
    }
    out
}

pub(super) fn decode_outbox(bytes: &[u8]) -> Result<OutboxItem, DecodeError> {
    let mut r = Reader::new(bytes);
    let id = r.string()?;
    let created_at = r.i()?;
    let subject = r.string()?;
    let raw = r.bytes()?.to_vec();
    let state = match r.byte()? {
        0 => OutboxState::Pending {
            attempts: u32::try_from(r.u()?).map_err(|_| DecodeError("bad attempt count"))?,
            next_attempt_at: r.i()?,
            last_error: r.opt_str()?,
        },
        1 => OutboxState::Sent { at: r.i()? },
        _ => return Err(DecodeError("bad outbox state")),
    };
    // Items written before per-recipient delivery end here.
    let (mut delivered_to, mut rejected) = (Vec::new(), Vec::new());
    if !r.is_empty() {
        for _ in 0..r.u()? {
            delivered_to.push(r.string()?);
        }
        for _ in 0..r.u()? {
            rejected.push((r.string()?, r.string()?));
        }
    }
    Ok(OutboxItem {
        id,
        created_at,
        subject,
        raw,
        state,
        delivered_to,
        rejected,
    })
}

pub(super) fn encode_strings(items: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    put_u(&mut out, items.len() as u64);
    for s in items {
        put_str(&mut out, s);
    }
    out
}

pub(super) fn decode_strings(bytes: &[u8]) -> Result<Vec<String>, DecodeError> {
    let mut r = Reader::new(bytes);
    let n = r.u()?;
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(r.string()?);
    }
    Ok(out)
}
