//! The daemon's scheduler: each job's next run is a tokio-cron-scheduler job that, when it
//! fires, puts a [`Control::Tick`] on the daemon's channel. The loop then starts the job (never
//! two of the same at once) and plans its following run.
//!
//! Runs are planned one at a time, as one-shot jobs at the instant of the next cron
//! occurrence computed by [`super::schedule`] in the configured time zone, rather than as the
//! scheduler's own repeating cron jobs: those compute every later occurrence in the UTC offset
//! the zone had when the job was created (`FixedOffset` from `time_offset_seconds`, in its
//! `scheduler.rs`), so a digest set for 08:00 in Paris would come at 07:00 or 09:00 after the
//! next change of daylight saving time, on a service that runs for months. Planning from the
//! zone each time keeps 08:00 at 08:00, and lets the simulated clock of the end-to-end tests
//! drive the very same path: a simulated instant becomes the real instant it corresponds to.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use uuid::Uuid;

use super::control::Control;
use super::worker::WorkerJob;
use crate::model::UnixSeconds;

/// The scheduler and the one planned run of each job.
pub(crate) struct Ticker {
    scheduler: JobScheduler,
    tx: mpsc::Sender<Control>,
    planned: Vec<(WorkerJob, Uuid)>,
}

impl Ticker {
    /// Starts the scheduler; ticks go to `tx`.
    pub(crate) async fn start(tx: mpsc::Sender<Control>) -> Result<Ticker, JobSchedulerError> {
        let scheduler = JobScheduler::new().await?;
        scheduler.start().await?;
        Ok(Ticker {
            scheduler,
            tx,
            planned: Vec::new(),
        })
    }

    /// Plans `job` to tick when the daemon's clock reads `at` (replacing any run of it
    /// planned before); `None` unplans it.
    pub(crate) async fn plan(
        &mut self,
        job: WorkerJob,
        at: Option<UnixSeconds>,
    ) -> Result<(), JobSchedulerError> {
        if let Some(i) = self.planned.iter().position(|(j, _)| *j == job) {
            let (_, id) = self.planned.swap_remove(i);
            self.scheduler.remove(&id).await?;
        }
        let Some(at) = at else {
            return Ok(());
        };
        let wait = (at as f64 - crate::clock::now_f64()).max(0.0);
        let real = crate::clock::real_duration(Duration::from_secs_f64(wait));
        let tx = self.tx.clone();
        let one_shot = Job::new_one_shot_async(real, move |_id, _scheduler| {
            let tx = tx.clone();
            Box::pin(async move {
                // A closed channel means the daemon is stopping: nothing to tick.
                let _ = tx.send(Control::Tick(job, at)).await;
            })
        })?;
        let id = self.scheduler.add(one_shot).await?;
        self.planned.push((job, id));
        Ok(())
    }

    /// Stops the scheduler; nothing ticks after this.
    pub(crate) async fn shutdown(mut self) {
        if let Err(e) = self.scheduler.shutdown().await {
            tracing::warn!("scheduler did not stop cleanly: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_planned_run_ticks_once_and_a_replaced_one_never() {
        let (tx, mut rx) = mpsc::channel(4);
        let mut ticker = Ticker::start(tx).await.unwrap();
        let now = crate::clock::now();
        // Planned for an hour from now, then replaced by one due at once.
        ticker
            .plan(WorkerJob::Digest, Some(now + 3600))
            .await
            .unwrap();
        ticker.plan(WorkerJob::Digest, Some(now)).await.unwrap();
        ticker.plan(WorkerJob::Collect, None).await.unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap();
        assert_eq!(got, Some(Control::Tick(WorkerJob::Digest, now)));
        assert_eq!(ticker.planned.len(), 1);
        assert!(
            tokio::time::timeout(Duration::from_millis(1500), rx.recv())
                .await
                .is_err(),
            "a one-shot run ticks once"
        );
        ticker.shutdown().await;
    }
}
