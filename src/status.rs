//! What `trendwatch status` reports: each entity's last success and failure, the store's
//! size, the outbox and the next runs.
//!
//! The running daemon holds the store's lock, so it also writes this report to
//! `STATE_DIR/status.json` after every pass; `status` reads that snapshot when the store is
//! busy, which is exactly when a user asks "is it working?". This module only reads the store;
//! the snapshot is replaced whole (write then rename), so a reader never sees half of one.

use crate::language::tr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{Config, Schedule, Watchlist};
use crate::model::{EntityId, Fetcher, UnixSeconds};
use crate::model::{EntityInfo, OutboxState};
use crate::store::interchange::format_time;
use crate::store::{Store, StoreError};

/// File name of the daemon's snapshot under `state_dir`.
pub const SNAPSHOT_FILE: &str = "status.json";

/// The whole report, as `status --json` prints it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatusReport {
    /// When the report was made (RFC 3339, UTC).
    pub generated_at: String,
    pub entities: Vec<EntityStatus>,
    pub store: StoreStatus,
    pub outbox: OutboxStatus,
    pub next_runs: NextRuns,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntityStatus {
    pub entity: String,
    pub last_success: Option<String>,
    pub last_sample_at: Option<String>,
    pub last_failure: Option<FailureStatus>,
    pub metrics: Vec<crate::model::Metric>,
    /// `http` or `browser`: the fetcher that read the latest outcome; `null` before any.
    #[serde(default)]
    pub fetched_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailureStatus {
    pub at: String,
    pub kind: String,
    pub detail: String,
    /// A success came after this failure.
    pub recovered: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoreStatus {
    pub path: String,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutboxStatus {
    pub pending: usize,
    pub sent: usize,
    /// Addresses the mail server refused for good on the latest digest, with its answer.
    #[serde(default)]
    pub refused: Vec<RefusedRecipient>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RefusedRecipient {
    pub address: String,
    pub answer: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NextRuns {
    /// The cron expressions, as written in the config.
    #[serde(default)]
    pub collect_schedule: String,
    #[serde(default)]
    pub digest_schedule: String,
    pub collect: Vec<String>,
    pub digest: Vec<String>,
}

/// Why the daemon's snapshot could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a status snapshot", path.display())]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
}

impl NextRuns {
    /// The next three runs of each schedule after `now`, in the config's zone.
    pub fn from_config(config: &Config, now: DateTime<Utc>) -> NextRuns {
        let next = |s: &Schedule| -> Vec<String> {
            s.next_runs(config.timezone, now, 3)
                .iter()
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .collect()
        };
        NextRuns {
            collect_schedule: config.collect.schedule.expr.clone(),
            digest_schedule: config.digest.schedule.expr.clone(),
            collect: next(&config.collect.schedule),
            digest: next(&config.digest.schedule),
        }
    }
}

fn entity_status(info: &EntityInfo) -> EntityStatus {
    EntityStatus {
        entity: info.id.as_str().to_string(),
        last_success: info.last_success.map(format_time),
        last_sample_at: info.last_sample_at.map(format_time),
        last_failure: info.last_failure.as_ref().map(|f| FailureStatus {
            at: format_time(f.at),
            kind: f.kind.as_str().to_string(),
            detail: f.detail.clone(),
            recovered: !info.is_failing(),
        }),
        metrics: info.metrics.clone(),
        fetched_by: (info.last_success.is_some() || info.last_failure.is_some())
            .then(|| info.fetched_by.as_str().to_owned()),
    }
}

impl StatusReport {
    /// Reads the store: every entity it knows plus the watched ones never collected yet.
    pub fn build(
        store: &Store,
        config: &Config,
        watchlist: &Watchlist,
        now: UnixSeconds,
    ) -> Result<StatusReport, StoreError> {
        let mut infos = store.entities()?;
        let known: std::collections::HashSet<EntityId> =
            infos.iter().map(|i| i.id.clone()).collect();
        for id in watchlist.entities() {
            if !known.contains(&id) {
                infos.push(EntityInfo {
                    id,
                    first_seen: 0,
                    last_sample_at: None,
                    last_success: None,
                    last_failure: None,
                    metrics: Vec::new(),
                    fetched_by: Fetcher::Http,
                });
            }
        }
        infos.sort_by(|a, b| a.id.cmp(&b.id));
        let outbox = store.outbox_list()?;
        let pending = outbox
            .iter()
            .filter(|i| matches!(i.state, OutboxState::Pending { .. }))
            .count();
        let now_utc = DateTime::from_timestamp(now, 0).unwrap_or_default();
        Ok(StatusReport {
            generated_at: format_time(now),
            entities: infos.iter().map(entity_status).collect(),
            store: StoreStatus {
                path: config.state_dir.display().to_string(),
                size_bytes: store.size_on_disk()?,
            },
            outbox: OutboxStatus {
                pending,
                sent: outbox.len() - pending,
                refused: crate::model::latest_refusals(&outbox)
                    .iter()
                    .map(|(address, answer)| RefusedRecipient {
                        address: address.clone(),
                        answer: answer.clone(),
                    })
                    .collect(),
            },
            next_runs: NextRuns::from_config(config, now_utc),
        })
    }

    /// The table `status` prints, in the person's language, times in `tz`.
    pub fn render_text(&self, tz: chrono_tz::Tz) -> String {
        let time = |t: &str| crate::language::local_rfc3339(t, tz);
        let width = self
            .entities
            .iter()
            .map(|e| e.entity.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        let (entity, sample, success, via, failure) = tr!(
            (
                "ÉLÉMENT",
                "DERNIER RELEVÉ",
                "DERNIER SUCCÈS",
                "PAR",
                "DERNIER ÉCHEC"
            ),
            (
                "ENTITY",
                "LAST SAMPLE",
                "LAST SUCCESS",
                "VIA",
                "LAST FAILURE"
            )
        );
        let mut text =
            format!("{entity:<width$}  {sample:<20}  {success:<20}  {via:<7}  {failure}\n");
        for e in &self.entities {
            let success = e
                .last_success
                .as_deref()
                .map(time)
                .unwrap_or_else(|| tr!("jamais", "never").to_owned());
            let sample = e
                .last_sample_at
                .as_deref()
                .map(time)
                .unwrap_or_else(|| "-".into());
            let failure = match &e.last_failure {
                Some(f) if f.recovered => tr!(
                    format!("({} le {}, rétabli)", f.kind, time(&f.at)),
                    format!("({} at {}, recovered)", f.kind, time(&f.at))
                ),
                Some(f) => tr!(
                    format!("{} le {} : {}", f.kind, time(&f.at), f.detail),
                    format!("{} at {}: {}", f.kind, time(&f.at), f.detail)
                ),
                None => "-".into(),
            };
            let via = e.fetched_by.as_deref().unwrap_or("-");
            text.push_str(&format!(
                "{:<width$}  {sample:<20}  {success:<20}  {via:<7}  {failure}\n",
                e.entity
            ));
        }
        let refused: String = self
            .outbox
            .refused
            .iter()
            .map(|r| {
                tr!(
                    format!(
                        "\nrefusée définitivement : {} ({}) ; corrigez-la sous [digest] to",
                        r.address, r.answer
                    ),
                    format!(
                        "\nrefused for good: {} ({}); fix it in [digest] to",
                        r.address, r.answer
                    )
                )
            })
            .collect();
        let runs = |list: &[String]| list.iter().map(|t| time(t)).collect::<Vec<_>>().join(", ");
        let size = bytesize::ByteSize::b(self.store.size_bytes);
        let (pending, sent) = (self.outbox.pending, self.outbox.sent);
        let (collect_expr, digest_expr) = (
            &self.next_runs.collect_schedule,
            &self.next_runs.digest_schedule,
        );
        let (collect, digest) = (runs(&self.next_runs.collect), runs(&self.next_runs.digest));
        text.push_str(&tr!(
            format!(
                "\nbase : {size} sur le disque dans {}\nrésumés : {pending} en attente, {sent} envoyés{refused}\n\
                 prochaine collecte ({collect_expr}, {tz}) : {collect}\nprochain résumé ({digest_expr}, {tz}) : {digest}\n",
                self.store.path
            ),
            format!(
                "\nstore: {size} on disk in {}\noutbox: {pending} pending, {sent} sent{refused}\n\
                 next collect ({collect_expr}, {tz}): {collect}\nnext digest ({digest_expr}, {tz}): {digest}\n",
                self.store.path
            )
        ));
        text
    }

    /// Replaces the snapshot under `state_dir` whole.
    pub fn save_snapshot(&self, state_dir: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        crate::files::write_atomically(&state_dir.join(SNAPSHOT_FILE), &json)
    }

    /// The snapshot the running daemon last wrote under `state_dir`.
    pub fn load_snapshot(state_dir: &Path) -> Result<StatusReport, SnapshotError> {
        let path = state_dir.join(SNAPSHOT_FILE);
        let bytes = std::fs::read(&path).map_err(|source| SnapshotError::Read {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| SnapshotError::Parse { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EntityId, EntityOutcome, Failure, FailureKind, Observation};

    fn config(state_dir: &Path) -> (Config, Watchlist) {
        let dir = state_dir.join("conf");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("trendwatch.toml"),
            format!(
                "watchlist = \"watchlist.toml\"\nstate_dir = {:?}\ntimezone = \"Europe/Paris\"\n",
                state_dir.display().to_string()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("watchlist.toml"),
            "[tiktok]\nhashtags = [\"bienetre\", \"skincarenaturel\"]\n",
        )
        .unwrap();
        crate::config::load(&dir.join("trendwatch.toml")).unwrap()
    }

    #[test]
    fn the_snapshot_reads_back_what_the_store_said() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, watchlist) = config(dir.path());
        let store = Store::open(dir.path()).unwrap();
        let at = 1_795_000_000;
        store
            .record_pass(&[
                EntityOutcome {
                    fetched_by: Default::default(),
                    entity: EntityId::hashtag("tiktok", "bienetre"),
                    observation: Some(Observation {
                        at,
                        metrics: vec![(crate::model::Metric::VIEWS, 1_000.0)],
                        videos: Vec::new(),
                        label: None,
                    }),
                    failure: None,
                },
                EntityOutcome {
                    fetched_by: Default::default(),
                    entity: EntityId::hashtag("tiktok", "skincarenaturel"),
                    observation: None,
                    failure: Some(Failure {
                        at,
                        kind: FailureKind::Blocked,
                        detail: "bot wall not passed".into(),
                    }),
                },
            ])
            .unwrap();
        let report = StatusReport::build(&store, &cfg, &watchlist, at + 60).unwrap();
        report.save_snapshot(dir.path()).unwrap();
        let back = StatusReport::load_snapshot(dir.path()).unwrap();
        assert_eq!(back, report);
        let text = back.render_text(chrono_tz::UTC);
        assert!(text.contains("blocked at"), "{text}");
        assert!(text.contains("bot wall not passed"), "{text}");
        assert_eq!(back.entities.len(), 2);
        assert_eq!(back.next_runs.collect.len(), 3);
    }

    #[test]
    fn a_missing_snapshot_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = StatusReport::load_snapshot(dir.path()).unwrap_err();
        assert!(err.to_string().contains("status.json"), "{err}");
    }
}
