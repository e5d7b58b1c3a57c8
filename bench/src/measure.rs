//! CPU clocks and summaries for the benchmarks that measure CPU time rather than wall time.
//!
//! * [`thread_cpu`] and [`process_cpu`]: `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` and
//!   `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)` through `rustix`'s safe wrapper (the workspace
//!   forbids `unsafe`). Nanosecond resolution; one system call each (the CPU clocks have no
//!   vDSO fast path), which [`clock_overhead`] measures.
//! * [`task_cpu`]: another thread's CPU time, from the first field of
//!   `/proc/self/task/<tid>/schedstat` (`sum_exec_runtime`, in nanoseconds). Used to take a
//!   helper thread (the fake server's) out of the process's total.
//! * [`ThreadGroup`]: the summed CPU time of a set of threads (one tokio runtime's, registered
//!   from its start and stop hooks), to split a process's CPU between runtimes sharing it.
//! * [`Summary`]: mean and nearest-rank percentiles of a set of durations.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The CPU time the calling thread has used (user + system).
pub fn thread_cpu() -> Duration {
    timespec(rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime))
}

/// The CPU time the whole process has used (user + system, all threads).
pub fn process_cpu() -> Duration {
    timespec(rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime))
}

fn timespec(time: rustix::time::Timespec) -> Duration {
    let secs = u64::try_from(time.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(time.tv_nsec).unwrap_or(0);
    Duration::new(secs, nanos)
}

/// The calling thread's id, for [`task_cpu`].
pub fn current_tid() -> i32 {
    rustix::thread::gettid().as_raw_nonzero().get()
}

/// The CPU time thread `tid` of this process has used, from `/proc/self/task/<tid>/schedstat`.
pub fn task_cpu(tid: i32) -> io::Result<Duration> {
    let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat"))?;
    let nanos =
        text.split_whitespace().next().and_then(|field| field.parse::<u64>().ok()).ok_or_else(
            || io::Error::new(io::ErrorKind::InvalidData, format!("schedstat: {text}")),
        )?;
    Ok(Duration::from_nanos(nanos))
}

/// A set of threads whose CPU time is summed, such as the worker threads of one tokio
/// runtime: its builder's `on_thread_start` calls [`join`](Self::join) and `on_thread_stop`
/// calls [`leave`](Self::leave). Clones share the set.
///
/// A benchmark running two runtimes and a native library with threads of its own in one
/// process splits the process's CPU ([`process_cpu`]) this way: each runtime's group, and
/// the rest (the library's threads, whatever their names; threads they start inherit
/// nothing from the group).
#[derive(Debug, Clone, Default)]
pub struct ThreadGroup {
    threads: Arc<Mutex<GroupThreads>>,
}

#[derive(Debug, Default)]
struct GroupThreads {
    live: Vec<i32>,
    /// The CPU time of the threads that left.
    left: Duration,
}

impl ThreadGroup {
    /// An empty group.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the calling thread.
    pub fn join(&self) {
        let tid = current_tid();
        let mut threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        if !threads.live.contains(&tid) {
            threads.live.push(tid);
        }
    }

    /// Removes the calling thread (about to exit), keeping the CPU time it used.
    pub fn leave(&self) {
        let tid = current_tid();
        let used = thread_cpu();
        let mut threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(index) = threads.live.iter().position(|&live| live == tid) {
            threads.live.swap_remove(index);
            threads.left += used;
        }
    }

    /// How many threads are in the group now.
    pub fn len(&self) -> usize {
        self.threads.lock().unwrap_or_else(PoisonError::into_inner).live.len()
    }

    /// Whether the group has no thread now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The CPU time the group's threads have used, those that left included.
    pub fn cpu(&self) -> Duration {
        let threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        let live: Duration =
            threads.live.iter().map(|&tid| task_cpu(tid).unwrap_or_default()).sum();
        threads.left + live
    }
}

/// What reading the thread CPU clock twice costs, in CPU time: the median of `rounds` pairs of
/// back-to-back [`thread_cpu`] calls. A per-turn CPU figure includes about this much.
pub fn clock_overhead(rounds: usize) -> Duration {
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = thread_cpu();
            thread_cpu() - start
        })
        .collect();
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// The CPU and wall time a piece of work took on the calling thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// Thread CPU time.
    pub cpu: Duration,
    /// Wall-clock time.
    pub wall: Duration,
}

/// Runs `work` and returns its result with the calling thread's CPU and wall time.
pub fn measure<T>(work: impl FnOnce() -> T) -> (T, Cost) {
    let (cpu, wall) = (thread_cpu(), Instant::now());
    let value = work();
    let cost = Cost { wall: wall.elapsed(), cpu: thread_cpu() - cpu };
    (value, cost)
}

/// The 1-minute load average, from `/proc/loadavg`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// Mean and nearest-rank percentiles of some durations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// How many samples.
    pub count: usize,
    /// The mean.
    pub mean: Duration,
    /// The smallest.
    pub min: Duration,
    /// The median (nearest rank).
    pub p50: Duration,
    /// The 99th percentile (nearest rank).
    pub p99: Duration,
    /// The largest.
    pub max: Duration,
}

impl Summary {
    /// The summary of `samples` (all zero when empty).
    pub fn of(samples: &[Duration]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let total: Duration = sorted.iter().sum();
        let count = sorted.len();
        Self {
            count,
            mean: total / u32::try_from(count).unwrap_or(u32::MAX),
            min: sorted[0],
            p50: percentile(&sorted, 50.0),
            p99: percentile(&sorted, 99.0),
            max: sorted[count - 1],
        }
    }
}

/// The nearest-rank `p`th percentile of `sorted` (ascending, not empty).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank: the smallest value with at least p% of the samples at or below it.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of `samples` (zero when empty).
pub fn median(samples: &[Duration]) -> Duration {
    Summary::of(samples).p50
}

/// `duration` in microseconds with one decimal, e.g. `123.4 µs`.
pub fn micros(duration: Duration) -> String {
    format!("{:.1} µs", duration.as_secs_f64() * 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        let summary = Summary::of(&samples);
        assert_eq!(summary.p50, Duration::from_micros(50));
        assert_eq!(summary.p99, Duration::from_micros(99));
        assert_eq!(summary.max, Duration::from_micros(100));
        assert_eq!(summary.mean, Duration::from_nanos(50_500));
        assert_eq!(median(&[Duration::from_micros(3)]), Duration::from_micros(3));
    }

    #[test]
    fn the_clocks_advance() {
        let (spins, cost) = measure(|| (0..200_000_u64).map(std::hint::black_box).sum::<u64>());
        assert!(spins > 0);
        assert!(cost.cpu > Duration::ZERO && cost.wall > Duration::ZERO);
        assert!(process_cpu() >= thread_cpu());
        let own = task_cpu(current_tid()).expect("schedstat is readable");
        assert!(own > Duration::ZERO);
    }

    fn spin(cpu: Duration) {
        let start = thread_cpu();
        while thread_cpu() - start < cpu {
            std::hint::black_box(0);
        }
    }

    #[test]
    fn a_thread_group_counts_its_threads_only_and_keeps_those_that_left() {
        let group = ThreadGroup::new();
        assert!(group.is_empty());
        // The calling thread is not in the group: its spinning does not count.
        spin(Duration::from_millis(30));
        assert_eq!(group.cpu(), Duration::ZERO);

        let (joined, stop) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        std::thread::scope(|scope| {
            scope.spawn(|| {
                group.join();
                group.join();
                spin(Duration::from_millis(40));
                joined.wait();
                stop.wait();
                group.leave();
            });
            joined.wait();
            assert_eq!(group.len(), 1, "joining twice adds the thread once");
            let live = group.cpu();
            assert!(live >= Duration::from_millis(40), "{live:?}");
            assert!(live < Duration::from_millis(1000), "{live:?}");
            stop.wait();
        });
        // The thread left (and exited): its time stays counted.
        assert!(group.is_empty());
        assert!(group.cpu() >= Duration::from_millis(40));
    }
}
