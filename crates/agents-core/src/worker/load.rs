//! The worker's load: the CPU the process may use, sampled every 0.5 s into a moving
//! average (Python's `_DefaultLoadCalc` and `utils/hw/cpu.py`).
//!
//! In a cgroup with a CPU quota (a container), the load is the cgroup's CPU time over its
//! quota: cgroup v2 (`cpu.max`, `cpu.stat`) or v1 (`cpu.cfs_quota_us`, `cpu.cfs_period_us`,
//! `cpuacct.usage`). Elsewhere it is the machine's busy time over all its CPUs
//! (`/proc/stat`).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

/// How many samples the moving average spans (Python's 5: about 2.5 s).
const WINDOW: usize = 5;

/// Where CPU time is read from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// cgroup v2: `cpu.stat`'s `usage_usec`, over this many CPUs.
    CgroupV2 { stat: PathBuf, cpus: f64 },
    /// cgroup v1: `cpuacct.usage` (ns), over this many CPUs.
    CgroupV1 { usage: PathBuf, cpus: f64 },
    /// The whole machine: `/proc/stat`.
    ProcStat,
}

/// Samples the CPU load (0..1) of what the process may use.
#[derive(Debug)]
pub(crate) struct CpuMonitor {
    source: Source,
    last: Option<(Instant, u64, u64)>,
}

impl CpuMonitor {
    /// The monitor for this system (cgroup v2, v1, or the machine).
    pub(crate) fn new() -> Self {
        Self::at(Path::new("/sys/fs/cgroup"))
    }

    /// The monitor for a cgroup file system mounted at `root` (for tests).
    fn at(root: &Path) -> Self {
        let machine_cpus = std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64);
        let source = if root.join("cpu.stat").is_file() {
            let cpus = read(&root.join("cpu.max"))
                .and_then(|text| parse_cpu_max(&text))
                .unwrap_or(machine_cpus);
            Source::CgroupV2 { stat: root.join("cpu.stat"), cpus }
        } else if root.join("cpuacct/cpuacct.usage").is_file() {
            let quota =
                read(&root.join("cpu/cpu.cfs_quota_us")).and_then(|q| q.trim().parse::<i64>().ok());
            let period = read(&root.join("cpu/cpu.cfs_period_us"))
                .and_then(|p| p.trim().parse::<i64>().ok());
            let cpus = match (quota, period) {
                (Some(quota), Some(period)) if quota > 0 && period > 0 => {
                    quota as f64 / period as f64
                }
                _ => machine_cpus,
            };
            Source::CgroupV1 { usage: root.join("cpuacct/cpuacct.usage"), cpus }
        } else {
            Source::ProcStat
        };
        Self { source, last: None }
    }

    /// The load since the last sample, between 0 and 1; `None` on the first sample or when
    /// nothing can be read.
    pub(crate) fn sample(&mut self) -> Option<f32> {
        let now = Instant::now();
        // (busy, total) in the same unit: ns of CPU and ns of wall time × CPUs, or jiffies.
        let (busy, total) = match &self.source {
            Source::CgroupV2 { stat, .. } => {
                let usage = read(stat).and_then(|text| parse_usage_usec(&text))?;
                (usage.saturating_mul(1000), 0)
            }
            Source::CgroupV1 { usage, .. } => (read(usage)?.trim().parse::<u64>().ok()?, 0),
            Source::ProcStat => parse_proc_stat(&read(Path::new("/proc/stat"))?)?,
        };
        let last = self.last.replace((now, busy, total));
        let (then, busy_then, total_then) = last?;
        let load = match &self.source {
            Source::CgroupV2 { cpus, .. } | Source::CgroupV1 { cpus, .. } => {
                let wall = now.duration_since(then).as_nanos() as f64 * cpus;
                if wall <= 0.0 {
                    return None;
                }
                busy.saturating_sub(busy_then) as f64 / wall
            }
            Source::ProcStat => {
                let total = total.saturating_sub(total_then);
                if total == 0 {
                    return None;
                }
                busy.saturating_sub(busy_then) as f64 / total as f64
            }
        };
        Some(load.clamp(0.0, 1.0) as f32)
    }
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// CPUs of a cgroup v2 `cpu.max` (`"<quota> <period>"`, or `"max <period>"` for none).
fn parse_cpu_max(text: &str) -> Option<f64> {
    let mut parts = text.split_whitespace();
    let quota = parts.next()?.parse::<f64>().ok()?;
    let period = parts.next()?.parse::<f64>().ok()?;
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

/// `usage_usec` of a cgroup v2 `cpu.stat`.
fn parse_usage_usec(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix("usage_usec "))
        .and_then(|v| v.trim().parse().ok())
}

/// (busy, total) jiffies of `/proc/stat`'s `cpu` line.
fn parse_proc_stat(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|line| line.starts_with("cpu "))?;
    let fields: Vec<u64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    if fields.len() < 4 {
        return None;
    }
    let total: u64 = fields.iter().sum();
    // idle and iowait
    let idle = fields[3] + fields.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

/// The current load, shared between the sampler and the worker.
#[derive(Debug, Clone, Default)]
pub(crate) struct Load {
    bits: Arc<AtomicU32>,
}

impl Load {
    pub(crate) fn get(&self) -> f32 {
        f32::from_bits(self.bits.load(Ordering::Relaxed))
    }

    pub(crate) fn set(&self, load: f32) {
        self.bits.store(load.to_bits(), Ordering::Relaxed);
    }
}

/// The moving average of the last [`WINDOW`] samples.
#[derive(Debug, Default)]
pub(crate) struct MovingAverage {
    samples: VecDeque<f32>,
}

impl MovingAverage {
    pub(crate) fn push(&mut self, sample: f32) -> f32 {
        if self.samples.len() == WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
        self.samples.iter().sum::<f32>() / self.samples.len() as f32
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn cgroup_files_parse() {
        assert_eq!(parse_cpu_max("200000 100000\n"), Some(2.0));
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_usage_usec("usage_usec 1234\nuser_usec 1000\n"), Some(1234));
        assert_eq!(
            parse_proc_stat("cpu  10 0 10 70 10 0 0 0 0 0\ncpu0 1 2 3 4\n"),
            Some((20, 100))
        );
    }

    #[test]
    fn a_cgroup_v2_quota_is_the_denominator() {
        let root = std::env::temp_dir().join(format!("agents-cgroup-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("cpu.max"), "50000 100000\n").unwrap();
        std::fs::write(root.join("cpu.stat"), "usage_usec 0\n").unwrap();
        let mut monitor = CpuMonitor::at(&root);
        assert_eq!(monitor.source, Source::CgroupV2 { stat: root.join("cpu.stat"), cpus: 0.5 });
        assert_eq!(monitor.sample(), None, "the first sample has nothing to compare with");
        std::thread::sleep(std::time::Duration::from_millis(100));
        // 100 ms of wall time at half a CPU is 50 ms of quota: 25 ms used is about half.
        std::fs::write(root.join("cpu.stat"), "usage_usec 25000\n").unwrap();
        let load = monitor.sample().unwrap();
        assert!(load > 0.2 && load <= 0.5, "{load}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_average_spans_five_samples() {
        let mut average = MovingAverage::default();
        for _ in 0..5 {
            average.push(1.0);
        }
        assert_eq!(average.push(0.0), 0.8);
    }
}
