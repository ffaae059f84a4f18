//! `trendwatch collect [--only ENTITY]…`: one collection pass now, stored in durable batches
//! of [`crate::pipeline::PASS_CHUNK`] entities, then a table of what each entity gave.
//!
//! Entity failures are results, not errors: the command exits 0 once the pass is stored and
//! at least one entity answered; 2 when every entity failed (with the main cause in one line)
//! or the store cannot take the pass; 1 when `--only` names an entity the watchlist does not
//! have.
//! Ctrl-C stops starting requests; what was already learnt is still stored.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{Cli, CommandError, CommandResult};
use crate::collect::{Collector, Target};
use crate::language::tr;
use crate::model::{EntityId, EntityOutcome, Metric};
use crate::store::access::StoreAccess as _;

pub(super) fn collect(cli: &Cli, only: &[String]) -> CommandResult {
    let (cfg, watchlist) = super::load_config(cli)?;
    // The store is opened for each chunk's write and let go while pages are fetched, so the
    // daemon's jobs and other commands run meanwhile; the targets are read in one short turn.
    let targets = {
        let store = super::data::open(&cfg.state_dir)?;
        crate::pipeline::targets(&store, &watchlist).map_err(CommandError::runtime)?
    };
    let targets = select(targets, only)?;
    let collector = Collector::new(&cfg.collect).map_err(CommandError::user)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CommandError::runtime)?;
    let started = Instant::now();
    let cancel = CancellationToken::new();
    let store = crate::store::access::Reopening::new(
        &cfg.state_dir,
        crate::clock::real_duration(super::data::STORE_TURN_WAIT),
        &cancel,
    );
    // A whole pass is the daemon's pass (its bookkeeping included); `--only` stores just what
    // it collected, so the daemon still collects the others at its next start.
    let pass = crate::pipeline::Pass {
        store: &store,
        collector: &collector,
        cfg: &cfg,
        watchlist: &watchlist,
        whole: only.is_empty(),
    };
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut by_browser = 0;
    let report = runtime.block_on(async {
        let on_interrupt = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_interrupt.cancel();
            }
        });
        let progress = crate::progress::Reporter::new("entities", targets.len());
        let report = pass
            .run(&targets, &cancel, &progress, &mut |outcomes, took| {
                by_browser += outcomes
                    .iter()
                    .filter(|o| o.fetched_by == crate::model::Fetcher::Browser)
                    .count();
                rows.extend(outcomes.iter().zip(took).map(|(o, took)| row(o, *took)));
            })
            .await;
        progress.finish();
        report
    });
    let report = report.map_err(|e| {
        CommandError::runtime(anyhow::Error::new(e).context(format!(
            "the pass over {} was not stored whole",
            crate::digest::locale::plural(targets.len() as i64, "entity", "entities")
        )))
    })?;
    let (c, w) = (&cfg, &watchlist);
    // What `status` shows if it finds the store busy later.
    let _ = runtime.block_on(store.with(|s| {
        crate::pipeline::write_status_snapshot(s, c, w);
        Ok::<_, crate::store::StoreError>(())
    }));
    print!("{}", table(&rows));
    let failed = report.failed;
    let skipped = targets.len() - report.entities;
    let plural = crate::digest::locale::plural;
    let ok = report.entities - failed;
    let mut summary = tr!(
        format!(
            "{} : {ok} ok, {failed} en échec",
            plural(report.entities as i64, "élément", "éléments")
        ),
        format!(
            "{}: {ok} ok, {failed} failed",
            plural(report.entities as i64, "entity", "entities")
        )
    );
    if by_browser > 0 {
        let _ = write!(
            summary,
            "{}",
            tr!(
                format!(", {by_browser} lus dans le navigateur"),
                format!(", {by_browser} read in the browser")
            )
        );
    }
    if skipped > 0 {
        let _ = write!(
            summary,
            "{}",
            tr!(
                format!(", {skipped} non commencés (interrompu)"),
                format!(", {skipped} not started (interrupted)")
            )
        );
    }
    let took = started.elapsed().as_secs_f64();
    let dir = super::owner::shown(&cfg.state_dir.display().to_string());
    println!(
        "{}",
        tr!(
            format!("{summary} · {took:.1} s · enregistré dans {dir}"),
            format!("{summary} · {took:.1} s · stored in {dir}")
        )
    );
    if report.entities > 0 && failed == report.entities {
        return Err(CommandError::runtime(anyhow::anyhow!(
            "{}",
            tr!(
                format!(
                    "{} ; rien de nouveau n'a été collecté",
                    report.all_failed_message()
                ),
                format!("{}; nothing new was collected", report.all_failed_message())
            )
        )));
    }
    Ok(())
}

/// The targets `--only` asks for (all when empty); an entity the watchlist does not have is a
/// user error.
fn select(all: Vec<Target>, only: &[String]) -> Result<Vec<Target>, CommandError> {
    if only.is_empty() {
        return Ok(all);
    }
    let mut wanted = Vec::new();
    for raw in only {
        let id = EntityId::parse(raw).map_err(CommandError::user)?;
        if !all.iter().any(|t| t.entity() == id) {
            let known: Vec<String> = all.iter().map(|t| t.entity().to_string()).collect();
            return Err(CommandError::user(anyhow::anyhow!(
                "`{id}` is not in the watchlist (it has: {})",
                if known.is_empty() {
                    "nothing".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
        wanted.push(id);
    }
    Ok(all
        .into_iter()
        .filter(|t| wanted.contains(&t.entity()))
        .collect())
}

/// `1234567.0` → `1,234,567`; fractions keep two decimals.
fn figure(v: f64) -> String {
    if v.fract() != 0.0 || v.abs() >= 1e15 {
        return format!("{v:.2}");
    }
    let digits = format!("{}", v.abs() as u64);
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The key figures of an outcome: `views 1,234,567`, `followers 68,259 · 12 videos`, or the
/// failure's detail.
fn figures(o: &EntityOutcome) -> String {
    let Some(obs) = &o.observation else {
        return o
            .failure
            .as_ref()
            .map(|f| f.detail.chars().take(70).collect())
            .unwrap_or_default();
    };
    let get = |name: &Metric| obs.metrics.iter().find(|(m, _)| m == name).map(|(_, v)| *v);
    let mut parts = Vec::new();
    match o.entity.kind() {
        crate::model::EntityKind::Hashtag => {
            if let Some(v) = get(&Metric::VIEWS) {
                parts.push(format!("views {}", figure(v)));
            }
        }
        crate::model::EntityKind::Creator => {
            if let Some(v) = get(&Metric::FOLLOWERS) {
                parts.push(format!("followers {}", figure(v)));
            }
        }
        crate::model::EntityKind::Product => {
            if let Some(v) = get(&Metric::SOLD) {
                parts.push(format!("sold {}", figure(v)));
            }
            if let Some(v) = get(&Metric::PRICE) {
                parts.push(format!("price {v}"));
            }
        }
        crate::model::EntityKind::Video => {
            if let Some(v) = get(&Metric::PLAYS) {
                parts.push(format!("plays {}", figure(v)));
            }
        }
        crate::model::EntityKind::Custom => {
            parts.extend(
                obs.metrics
                    .iter()
                    .map(|(m, v)| format!("{m} {}", figure(*v))),
            );
        }
    }
    if !obs.videos.is_empty() {
        parts.push(format!("{} videos", obs.videos.len()));
    }
    parts.join(" · ")
}

/// One line of the table: what a person reads of an entity's outcome.
fn row(o: &EntityOutcome, took: Duration) -> [String; 5] {
    [
        o.entity.to_string(),
        o.failure
            .as_ref()
            .map_or_else(|| "ok".to_string(), |f| f.kind.to_string()),
        figures(o),
        o.fetched_by.to_string(),
        format!("{:.1} s", took.as_secs_f64()),
    ]
}

fn table(cells: &[[String; 5]]) -> String {
    let header = tr!(
        ["ÉLÉMENT", "RÉSULTAT", "CHIFFRES", "PAR", "DURÉE"],
        ["ENTITY", "RESULT", "FIGURES", "VIA", "TIME"]
    )
    .map(String::from);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(cells) {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(cells) {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {:>w4$}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Failure, FailureKind, Metric, Observation, VideoRecord, TIKTOK};

    #[test]
    fn figures_are_grouped_and_failures_show_their_kind() {
        assert_eq!(figure(1_234_567.0), "1,234,567");
        assert_eq!(figure(999.0), "999");
        assert_eq!(figure(4.8), "4.80");
        let creator = EntityOutcome {
            fetched_by: Default::default(),
            entity: EntityId::creator(TIKTOK, "lea.soinsnaturels"),
            observation: Some(Observation {
                at: 0,
                metrics: vec![(Metric::FOLLOWERS, 68_259.0), (Metric::LIKES, 5.0)],
                videos: vec![VideoRecord::default(); 12],
                label: None,
            }),
            failure: None,
        };
        let ghost = EntityOutcome {
            fetched_by: crate::model::Fetcher::Browser,
            entity: EntityId::creator(TIKTOK, "ghost"),
            observation: None,
            failure: Some(Failure {
                at: 0,
                kind: FailureKind::NotFound,
                detail: "does not exist or was removed (statusCode 10221)".into(),
            }),
        };
        let t = table(&[
            row(&creator, Duration::from_millis(820)),
            row(&ghost, Duration::from_millis(210)),
        ]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("ENTITY"));
        assert!(lines[1].contains("tiktok:@lea.soinsnaturels"));
        assert!(lines[1].contains(" ok "));
        assert!(lines[1].contains("followers 68,259 · 12 videos"));
        assert!(lines[1].ends_with("0.8 s"));
        assert!(lines[1].contains(" http "));
        assert!(lines[2].contains("not_found"));
        assert!(lines[2].contains(" browser "));
        assert!(lines[2].contains("statusCode 10221"));
    }

    #[test]
    fn only_accepts_watched_entities() {
        let all = vec![
            Target::TiktokHashtag("skincarenaturel".into()),
            Target::TiktokCreator("lea.soinsnaturels".into()),
        ];
        let got = select(all.clone(), &["TikTok:@Lea.SoinsNaturels".into()]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].entity().as_str(), "tiktok:@lea.soinsnaturels");
        assert!(matches!(
            select(all.clone(), &["tiktok:#unknown".into()]),
            Err(CommandError::User(_))
        ));
        assert!(matches!(
            select(all, &["nonsense".into()]),
            Err(CommandError::User(_))
        ));
    }
}
