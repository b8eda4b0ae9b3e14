//! Throughput of concurrent tasks, summaries of rounds, resident memory.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::DbErr;

/// Errors of the bench: anything, reported by `main`.
pub(crate) type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// How each throughput cell is run.
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct Timing {
    /// Concurrent tasks issuing statements.
    #[arg(long, default_value_t = 16)]
    pub(crate) tasks: usize,
    /// Connections in the pool under test.
    #[arg(long, default_value_t = 16)]
    pub(crate) pool: u32,
    /// Measured seconds per cell.
    #[arg(long, default_value_t = 3.0)]
    pub(crate) secs: f64,
    /// Warm-up seconds per cell (not counted).
    #[arg(long, default_value_t = 1.0)]
    pub(crate) warmup: f64,
    /// Rounds; every variant runs once per round, interleaved.
    #[arg(long, default_value_t = 3)]
    pub(crate) rounds: usize,
}

/// Operations per second of `timing.tasks` tasks calling `op` with
/// consecutive numbers `k` (shared across tasks) until the time is up;
/// operations completing during the warm-up are not counted.
pub(crate) async fn throughput<F, Fut>(timing: Timing, op: F) -> Result<f64>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), DbErr>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now() + Duration::from_secs_f64(timing.warmup);
    let end = start + Duration::from_secs_f64(timing.secs);
    let tasks: Vec<_> = (0..timing.tasks)
        .map(|_| {
            let (op, next) = (op.clone(), next.clone());
            tokio::spawn(async move {
                let mut done = 0u64;
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    op(k).await?;
                    let now = Instant::now();
                    if now >= end {
                        return Ok::<_, DbErr>(done);
                    }
                    if now >= start {
                        done += 1;
                    }
                }
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    Ok(total as f64 / timing.secs)
}

/// Values of one cell over the rounds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rounds(pub(crate) Vec<f64>);

impl Rounds {
    pub(crate) fn push(&mut self, v: f64) {
        self.0.push(v);
    }

    pub(crate) fn mean(&self) -> f64 {
        self.0.iter().sum::<f64>() / self.0.len().max(1) as f64
    }

    /// Half the range as a share of the mean.
    pub(crate) fn spread(&self) -> f64 {
        let max = self.0.iter().copied().fold(f64::MIN, f64::max);
        let min = self.0.iter().copied().fold(f64::MAX, f64::min);
        if self.0.is_empty() || self.mean() == 0.0 {
            0.0
        } else {
            (max - min) / 2.0 / self.mean()
        }
    }

    /// The round-by-round ratio `self / other`.
    pub(crate) fn ratio(&self, other: &Rounds) -> Rounds {
        Rounds(self.0.iter().zip(&other.0).map(|(a, b)| a / b).collect())
    }

    /// `1234 ops/s ±3%`.
    pub(crate) fn ops(&self) -> String {
        format!("{:.0} ±{:.0}%", self.mean(), self.spread() * 100.0)
    }

    /// `0.98 (0.95–1.01)`: mean and range of a ratio.
    pub(crate) fn times(&self) -> String {
        let max = self.0.iter().copied().fold(f64::MIN, f64::max);
        let min = self.0.iter().copied().fold(f64::MAX, f64::min);
        format!("{:.2} ({min:.2}–{max:.2})", self.mean())
    }
}

/// A value of `/proc/self/status` (`VmRSS`, `RssAnon`) in bytes.
pub(crate) fn proc_status(pid: Option<u32>, key: &str) -> Option<u64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line
        .trim_start_matches(key)
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Resident memory of this process in bytes (0 when unknown).
pub(crate) fn rss() -> u64 {
    proc_status(None, "VmRSS").unwrap_or(0)
}

/// A byte count for a table: `12.3 MiB`.
pub(crate) fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
}

/// Prints a Markdown table.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) {
    println!("| {} |", header.join(" | "));
    println!("|{}", "---|".repeat(header.len()));
    for row in rows {
        println!("| {} |", row.join(" | "));
    }
    println!();
}
