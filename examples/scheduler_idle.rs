//! Measures what tokio-cron-scheduler costs while nothing is due: trendwatch's two default
//! schedules as `Job::new_async_tz` jobs, the process idle for SECONDS, then the CPU time it
//! used. The daemon schedules with its own loop because this figure alone is over the budget
//! of 0.1 s of CPU per idle hour (BENCHMARKS.md, "Daemon").
//!
//! `cargo run --release --example scheduler_idle [SECONDS]` (default 180).

use std::time::Duration;

use tokio_cron_scheduler::{Job, JobScheduler};

/// utime + stime of this process, in clock ticks.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(180);
    let scheduler = JobScheduler::new().await?;
    for schedule in ["0 0 */3 * * *", "0 0 8 * * Mon"] {
        let job = Job::new_async_tz(
            schedule,
            chrono_tz::Europe::Paris,
            |_, _| Box::pin(async {}),
        )?;
        scheduler.add(job).await?;
    }
    scheduler.start().await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = cpu_ticks().ok_or("cannot read /proc/self/stat")?;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let after = cpu_ticks().ok_or("cannot read /proc/self/stat")?;
    let used = (after - before) as f64 / ticks_per_second();
    println!(
        "tokio-cron-scheduler, 2 jobs, idle {seconds} s: {used:.2} s CPU = {:.2} s per idle hour",
        used * 3600.0 / seconds as f64
    );
    Ok(())
}
