//! What the store keeps about entities, videos, alerts and digests, as the rest of
//! trendwatch sees it: detection, the digest, `status` and mail read these without depending
//! on how the store lays them out.

use super::{EntityId, Failure, Fetcher, UnixSeconds, VideoRecord};

/// An entity as `status`, the digest's health section and detection see it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityInfo {
    pub id: EntityId,
    pub first_seen: UnixSeconds,
    pub last_sample_at: Option<UnixSeconds>,
    pub last_success: Option<UnixSeconds>,
    pub last_failure: Option<Failure>,
    /// Metric names with at least one sample, sorted.
    pub metrics: Vec<super::Metric>,
    /// Which fetcher read the latest outcome.
    pub fetched_by: Fetcher,
}

impl EntityInfo {
    /// The one rule for "this entity is failing": its last failure is not followed by a
    /// success. A failure and a success recorded in the same second (a private account's
    /// counts and its `private` failure) leave it failing: the latest word was a problem.
    pub fn is_failing(&self) -> bool {
        match (&self.last_failure, self.last_success) {
            (Some(f), Some(ok)) => f.at >= ok,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// A video with its latest counters and when and where it was seen.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVideo {
    pub video: VideoRecord,
    pub first_seen: UnixSeconds,
    pub last_seen: UnixSeconds,
    /// Entities whose pages showed this video, sorted.
    pub via: Vec<EntityId>,
}

/// When an alert (a trend key) was last reported, and how strong it was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertRecord {
    pub at: UnixSeconds,
    pub score: f64,
}

/// A digest message waiting in, or sent from, the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// The Message-ID.
    pub id: String,
    pub created_at: UnixSeconds,
    pub subject: String,
    /// The RFC 5322 message.
    pub raw: Vec<u8>,
    pub state: OutboxState,
    /// Recipients whose server answered 250 for this message: never sent it again.
    pub delivered_to: Vec<String>,
    /// Recipients refused for good (a 550 "no such mailbox"), with the server's answer: not
    /// tried again, reported in `outbox`, `status` and the next digest.
    pub rejected: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxState {
    Pending {
        attempts: u32,
        next_attempt_at: UnixSeconds,
        last_error: Option<String>,
    },
    Sent {
        at: UnixSeconds,
    },
}

/// The recipients refused for good on the newest digest that was delivered or refused (`list`
/// newest first, as the outbox lists it): what a reader must fix now.
pub fn latest_refusals(list: &[OutboxItem]) -> &[(String, String)] {
    list.iter()
        .find(|i| matches!(i.state, OutboxState::Sent { .. }))
        .map_or(&[], |i| i.rejected.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FailureKind;

    fn info(failure: Option<UnixSeconds>, success: Option<UnixSeconds>) -> EntityInfo {
        EntityInfo {
            id: EntityId::creator(crate::model::TIKTOK, "atelier.savon"),
            first_seen: 0,
            last_sample_at: success,
            last_success: success,
            last_failure: failure.map(|at| Failure {
                at,
                kind: FailureKind::Private,
                detail: "private account".into(),
            }),
            metrics: Vec::new(),
            fetched_by: Fetcher::default(),
        }
    }

    #[test]
    fn failing_is_one_rule_and_a_same_second_failure_stands() {
        assert!(!info(None, Some(10)).is_failing());
        assert!(info(Some(10), None).is_failing());
        assert!(info(Some(10), Some(10)).is_failing());
        assert!(info(Some(11), Some(10)).is_failing());
        assert!(!info(Some(9), Some(10)).is_failing());
    }
}
