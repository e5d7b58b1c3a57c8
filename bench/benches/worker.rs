//! The worker against the LiveKit test server (`cargo bench -p agents-bench --bench worker`):
//!
//! * memory: the resident memory (`VmRSS`) of a worker process with 0, 1, 10, 100 and 1000
//!   idle text jobs (each an `AgentSession` started on the fake LLM, waiting for input). Each
//!   count runs in a fresh child process (this program, re-run), the test server in this one;
//! * throughput: 1000 jobs dispatched at once to one worker, until the server heard
//!   `JS_RUNNING` for all;
//! * latency: availability request → entrypoint running, one job at a time (200), and the
//!   request → availability answer round trip on the same connection for comparison;
//! * start-up: `Worker::start` → registered (20 times);
//! * voice jobs: the same memory figure with 10 and 100 jobs each running a voice session
//!   (the fake STT, LLM and TTS, the Silero VAD loaded once by the setup function and shared
//!   through the process's userdata) fed silence at real time; needs ONNX Runtime
//!   (`ORT_DYLIB_PATH`, or `cargo xtask setup`), skipped with the reason without it;
//! * Python side by side: LiveKit's Python worker (livekit-agents from PyPI, in a virtual
//!   environment this bench makes at `target/bench-venv`, or `AGENTS_BENCH_VENV`) on the same
//!   test server: process start → registered for both (spawn until the server answered the
//!   registration), and the memory of the worker with 10 idle jobs, summed over the worker and
//!   every process it started (Python runs a process per job), as ratios from one run.
//!   `AGENTS_BENCH_NO_PYTHON=1` skips it.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::BufRead as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agents_bench::python::{self, python_venv};
use agents_core::audio::AudioFrame;
use agents_core::prelude::*;
use agents_core::testing::{FakeLlm, FakeLlmResponse, FakeStt, FakeTts, silence};
use agents_core::vad::Vad;
use agents_core::worker::{BoxError, Worker, WorkerOptions};
use agents_test_support::livekit::TestServer;
use livekit_protocol::JobStatus;
use tokio::sync::mpsc;

const KEY: &str = "APIbenchkey";
const SECRET: &str = "bench-secret-that-is-long-enough-for-hs256";
const CHILD: &str = "AGENTS_WORKER_BENCH_CHILD";
const WAIT: Duration = Duration::from_secs(120);

/// An entrypoint whose job stays idle: a text session on the fake LLM, waiting for input.
///
/// The job never joins its room (no `ctx.connect()`), like the Python side's idle job: the
/// figure is the framework's cost per job, not a WebRTC connection's (with `connect()` each job
/// would load liblivekit_ffi.so and open a peer connection to the test server).
fn idle_text_server(started: Option<mpsc::UnboundedSender<Instant>>) -> AgentServer {
    let llm = FakeLlm::new().on_input("Hello", FakeLlmResponse::text("Hi!"));
    AgentServer::new().rtc_session(move |ctx: JobContext| {
        let llm = llm.clone();
        let started = started.clone();
        async move {
            if let Some(started) = started {
                let _ = started.send(Instant::now());
            }
            let session = AgentSession::builder().llm(llm).build();
            session.start(Agent::new("You are a helpful assistant.")).room(ctx.room()).await?;
            Ok::<(), BoxError>(())
        }
    })
}

fn options(url: String) -> WorkerOptions {
    let mut options = WorkerOptions::development(url, KEY, SECRET);
    options.port = None;
    options
}

/// A job entrypoint with a voice session: the fake STT, LLM and TTS, and the Silero VAD the
/// setup function loaded once for the process, listening to silence at real time. Like the
/// idle text job it does not join its room.
fn voice_server() -> AgentServer {
    let llm = FakeLlm::new();
    AgentServer::new()
        .setup_fnc(|proc: &mut JobProcess| -> Result<(), agents_plugins_silero::LoadError> {
            let vad: Arc<dyn Vad> = Arc::new(agents_plugins_silero::Vad::load()?);
            proc.userdata.insert("vad", vad);
            Ok(())
        })
        .rtc_session(move |ctx: JobContext| {
            let llm = llm.clone();
            async move {
                let vad = ctx.proc().userdata.try_get::<Arc<dyn Vad>>("vad")?.clone();
                let session = AgentSession::builder()
                    .stt(Arc::new(FakeStt::new(Vec::<String>::new())))
                    .llm(llm)
                    .tts(Arc::new(FakeTts::new()))
                    .vad(vad)
                    .build();
                session
                    .start(Agent::new("You are a helpful assistant."))
                    .room(ctx.room())
                    .audio_input(silence_at_real_time())
                    .await?;
                Ok::<(), BoxError>(())
            }
        })
}

/// 10 ms frames of 16 kHz silence, one every 10 ms, for as long as the session listens.
fn silence_at_real_time() -> impl futures::Stream<Item = AudioFrame> + Send + 'static {
    let frame = silence(Duration::from_millis(10), 16_000).remove(0);
    let mut interval = tokio::time::interval(Duration::from_millis(10));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    futures::stream::unfold((interval, frame), |(mut interval, frame)| async move {
        interval.tick().await;
        Some((frame.clone(), (interval, frame)))
    })
}

/// The memory of process `pid` and every process it started (children, their children …):
/// the summed `VmRSS` (pages shared between processes counted in each) and the summed `Pss`
/// (shared pages divided among their sharers), in KiB, and how many processes.
#[derive(Debug, Clone, Copy, Default)]
struct TreeMemory {
    rss_kb: u64,
    pss_kb: u64,
    processes: usize,
}

/// `root` and every process it started, found through their parent ids.
fn tree_pids(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|end| &stat[end + 1..]) else { continue };
        let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        parents.push((pid, ppid));
    }
    let mut tree = vec![root];
    let mut grew = true;
    while grew {
        grew = false;
        for &(pid, ppid) in &parents {
            if tree.contains(&ppid) && !tree.contains(&pid) {
                tree.push(pid);
                grew = true;
            }
        }
    }
    tree
}

fn tree_memory(root: u32) -> TreeMemory {
    let mut memory = TreeMemory::default();
    for pid in tree_pids(root) {
        let field = |file: &str, name: &str| -> Option<u64> {
            let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
            let line = text.lines().find(|line| line.starts_with(name))?;
            line.split_whitespace().nth(1)?.parse().ok()
        };
        let (Some(rss), Some(pss)) = (field("status", "VmRSS:"), field("smaps_rollup", "Pss:"))
        else {
            continue; // exited meanwhile, or a kernel thread
        };
        memory.rss_kb += rss;
        memory.pss_kb += pss;
        memory.processes += 1;
    }
    memory
}

/// The command lines (80 characters at most) of `root` and the processes it started.
fn tree_commands(root: u32) -> Vec<String> {
    let mut commands = Vec::new();
    for pid in tree_pids(root) {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        let line = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        commands.push(line.trim().chars().take(80).collect());
    }
    commands
}

/// Which jobs the child's worker runs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Voice,
}

/// The child: a worker that says `ready` once `jobs` jobs run and have settled.
fn child(spec: &str) {
    let mut parts = spec.split(' ');
    let url = parts.next().unwrap();
    let jobs: usize = parts.next().unwrap().parse().unwrap();
    let server = match parts.next() {
        Some("voice") => voice_server(),
        _ => idle_text_server(None),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let worker = Worker::start(server, options(url.to_owned())).await.unwrap();
        worker.registered().await.unwrap();
        println!("registered");
        let deadline = Instant::now() + WAIT;
        while worker.active_jobs().len() < jobs {
            assert!(Instant::now() < deadline, "the jobs did not all start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Let the sessions settle (their first scheduling, the allocator's caches).
        tokio::time::sleep(SETTLE).await;
        println!("ready");
        // Wait to be killed: the parent ends this process.
        std::future::pending::<()>().await;
    });
}

/// How long a worker runs its jobs before its memory is read.
const SETTLE: Duration = Duration::from_millis(500);

/// A worker process under measurement, killed (with every process it started) on drop.
struct Spawned {
    child: std::process::Child,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Spawned {
    fn spawn(mut command: Command) -> Self {
        // Its own process group, so that the kill reaches the processes it started.
        use std::os::unix::process::CommandExt as _;
        command.process_group(0).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    async fn expect_line(&mut self, expected: &str) {
        let line = tokio::time::timeout(WAIT, self.lines.recv()).await.unwrap().unwrap();
        assert_eq!(line, expected);
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // The whole group: Python's job processes and its forkserver, not only the worker.
        let _ =
            Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rust_worker(server: &TestServer, jobs: usize, kind: Kind) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    let kind = if kind == Kind::Voice { "voice" } else { "text" };
    command.env(CHILD, format!("{} {jobs} {kind}", server.url()));
    command
}

/// Spawns a worker, waits until the server registered it, dispatches `jobs` jobs and waits
/// until the server heard `JS_RUNNING` for each; returns the process and spawn → registered.
async fn start_worker(server: &TestServer, command: Command, jobs: usize) -> (Spawned, Duration) {
    let connection = server.agent().connections();
    let began = Instant::now();
    let spawned = Spawned::spawn(command);
    let worker = server.agent().registered(connection, WAIT).await.unwrap();
    let startup = began.elapsed();
    let mut ids = Vec::new();
    for n in 0..jobs {
        let job = server.agent().new_job(&format!("idle-{connection}-{n}"));
        ids.push(job.id.clone());
        worker.request_availability(job);
    }
    for id in &ids {
        server.agent().wait_for_status(id, JobStatus::JsRunning, WAIT).await.unwrap();
    }
    (spawned, startup)
}

/// The memory of a fresh Rust worker process with `jobs` jobs of `kind`, once they settled.
async fn memory(server: &TestServer, jobs: usize, kind: Kind) -> TreeMemory {
    let (mut spawned, _) = start_worker(server, rust_worker(server, jobs, kind), jobs).await;
    spawned.expect_line("registered").await;
    spawned.expect_line("ready").await;
    tree_memory(spawned.pid())
}

/// The CPU time (user + system, all threads) process `pid` has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 1..];
    // After `comm`: state is field 0, utime 11 and stime 12 (fields 14 and 15 of proc(5)).
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // `_SC_CLK_TCK` is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// How much of one core the worker uses with its jobs running, over this window.
const CPU_WINDOW: Duration = Duration::from_secs(2);

async fn memory_table(server: &TestServer, counts: &[usize], kind: Kind) {
    let mut base = 0;
    for &jobs in counts {
        let (mut spawned, _) = start_worker(server, rust_worker(server, jobs, kind), jobs).await;
        spawned.expect_line("registered").await;
        spawned.expect_line("ready").await;
        let memory = tree_memory(spawned.pid());
        let cpu_before = cpu_time(spawned.pid());
        tokio::time::sleep(CPU_WINDOW).await;
        let cpu = (cpu_time(spawned.pid()) - cpu_before).as_secs_f64() / CPU_WINDOW.as_secs_f64();
        drop(spawned);
        let rss = memory.rss_kb;
        if jobs == 0 {
            base = rss;
        }
        let per_job = if jobs > 0 {
            format!("{:.1} KB/job", (rss as f64 - base as f64) / jobs as f64)
        } else {
            String::new()
        };
        println!(
            "jobs {jobs:>5}: rss {:>8.1} MB  {per_job:<16} cpu {:.0}% of a core",
            rss as f64 / 1024.0,
            cpu * 100.0
        );
    }
}

/// Whether ONNX Runtime can be found for the Silero VAD.
fn ort_ready() -> Result<(), String> {
    agents_plugins_silero::Vad::load().map(drop).map_err(|error| error.to_string())
}

fn python_worker(server: &TestServer, python: &Path) -> Command {
    let mut command = Command::new(python);
    command
        .arg(python::script("worker_idle.py"))
        .env("LIVEKIT_URL", server.url())
        .env("LIVEKIT_API_KEY", KEY)
        .env("LIVEKIT_API_SECRET", SECRET);
    command
}

/// Rust's and Python's workers, alternately in the same run: process start → registered
/// (5 each), and the memory of each worker with 0 and with 10 idle jobs.
async fn side_by_side(server: &TestServer, python: &Path) {
    const RUNS: usize = 5;
    let (mut rust_startup, mut python_startup) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let (rust, startup) = start_worker(server, rust_worker(server, 0, Kind::Text), 0).await;
        rust_startup.push(startup);
        drop(rust);
        let (py, startup) = start_worker(server, python_worker(server, python), 0).await;
        python_startup.push(startup);
        drop(py);
    }
    rust_startup.sort();
    python_startup.sort();
    let (rust_p50, python_p50) = (percentile(&rust_startup, 0.5), percentile(&python_startup, 0.5));
    println!(
        "start -> registered: rust p50 {} (min {}, max {})  python p50 {} (min {}, max {})  \
         python/rust {:.0}x",
        micros(rust_p50),
        micros(rust_startup[0]),
        micros(*rust_startup.last().unwrap()),
        micros(python_p50),
        micros(python_startup[0]),
        micros(*python_startup.last().unwrap()),
        python_p50.as_secs_f64() / rust_p50.as_secs_f64()
    );

    let mb = |kb: u64| kb as f64 / 1024.0;
    let mut figures = Vec::new();
    for jobs in [0usize, 10] {
        let rust = memory(server, jobs, Kind::Text).await;
        let (py, _) = start_worker(server, python_worker(server, python), jobs).await;
        // Python's job processes finish starting after `JS_RUNNING` (their entrypoint runs
        // once the process is up): give them longer than the Rust jobs.
        tokio::time::sleep(PYTHON_SETTLE).await;
        let python = tree_memory(py.pid());
        if jobs > 0 {
            println!("python's processes: {}", tree_commands(py.pid()).join(" | "));
        }
        drop(py);
        println!(
            "{jobs:>2} idle jobs: rust {} process(es) rss {:.1} MB pss {:.1} MB  python {} \
             processes rss {:.1} MB pss {:.1} MB  python/rust rss {:.0}x pss {:.0}x",
            rust.processes,
            mb(rust.rss_kb),
            mb(rust.pss_kb),
            python.processes,
            mb(python.rss_kb),
            mb(python.pss_kb),
            python.rss_kb as f64 / rust.rss_kb as f64,
            python.pss_kb as f64 / rust.pss_kb as f64
        );
        figures.push((rust, python));
    }
    let per_job = |with: u64, without: u64| (with as f64 - without as f64) / 10.0 / 1024.0;
    let ((rust0, python0), (rust10, python10)) = (figures[0], figures[1]);
    println!(
        "per idle job beyond none: rust rss {:.2} MB pss {:.2} MB  python rss {:.1} MB pss {:.1} MB",
        per_job(rust10.rss_kb, rust0.rss_kb),
        per_job(rust10.pss_kb, rust0.pss_kb),
        per_job(python10.rss_kb, python0.rss_kb),
        per_job(python10.pss_kb, python0.pss_kb)
    );
}

/// How long Python's job processes run before the memory is read.
const PYTHON_SETTLE: Duration = Duration::from_secs(3);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        child(&spec);
        return;
    }
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let server = TestServer::start(KEY, SECRET).await.unwrap();

        if std::env::var_os("AGENTS_BENCH_ONLY_NEW").is_none() {
            println!("## memory: worker process RSS with N idle text jobs (fresh process each)");
            memory_table(&server, &[0, 1, 10, 100, 1000], Kind::Text).await;
        }

        println!("## memory: worker process RSS with N voice jobs (Silero VAD shared, silence)");
        match ort_ready() {
            Ok(()) => memory_table(&server, &[0, 10, 100], Kind::Voice).await,
            Err(reason) => println!("skipped: {reason}"),
        }

        println!("## side by side: LiveKit's Python worker on the same test server");
        match python_venv() {
            Ok(python) => side_by_side(&server, &python).await,
            Err(reason) => println!("skipped: {reason}"),
        }
        if std::env::var_os("AGENTS_BENCH_ONLY_NEW").is_some() {
            return;
        }

        println!("## start-up: Worker::start -> registered (in process, 20 runs)");
        let mut startups = Vec::new();
        let mut workers = Vec::new();
        for _ in 0..20 {
            let began = Instant::now();
            let worker =
                Worker::start(idle_text_server(None), options(server.url())).await.unwrap();
            worker.registered().await.unwrap();
            startups.push(began.elapsed());
            workers.push(worker);
        }
        for worker in &workers {
            worker.aclose().await;
        }
        drop(workers);
        startups.sort();
        println!(
            "start-up: p50 {}  p90 {}  max {}",
            micros(percentile(&startups, 0.5)),
            micros(percentile(&startups, 0.9)),
            micros(*startups.last().unwrap())
        );

        let (started_tx, mut started) = mpsc::unbounded_channel();
        let worker =
            Worker::start(idle_text_server(Some(started_tx)), options(server.url())).await.unwrap();
        worker.registered().await.unwrap();
        let connection = server.agent().connections() - 1;
        let handle = server.agent().registered(connection, WAIT).await.unwrap();

        println!(
            "## latency: availability request -> entrypoint running (200 jobs, one at a time)"
        );
        let mut to_entrypoint = Vec::new();
        let mut to_answer = Vec::new();
        for n in 0..200 {
            let job = server.agent().new_job(&format!("latency-{n}"));
            let id = job.id.clone();
            let began = Instant::now();
            handle.request_availability(job);
            let entered = tokio::time::timeout(WAIT, started.recv()).await.unwrap().unwrap();
            to_entrypoint.push(entered - began);
            // The answer was recorded before the assignment went out.
            let record = server.agent().job(&id).unwrap();
            assert!(record.availability.is_some());
            server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();
            handle.terminate(&id);
            server.agent().wait_for_status(&id, JobStatus::JsSuccess, WAIT).await.unwrap();
        }
        // The protocol's round trip alone: a request the worker rejects at once (full).
        worker.drain(Some(Duration::from_secs(5))).await.unwrap();
        for n in 0..200 {
            let job = server.agent().new_job(&format!("rtt-{n}"));
            let began = Instant::now();
            handle.dispatch(job, WAIT).await.unwrap();
            to_answer.push(began.elapsed());
        }
        to_entrypoint.sort();
        to_answer.sort();
        println!(
            "request -> entrypoint: p50 {}  p90 {}  p99 {}",
            micros(percentile(&to_entrypoint, 0.5)),
            micros(percentile(&to_entrypoint, 0.9)),
            micros(percentile(&to_entrypoint, 0.99))
        );
        println!(
            "request -> answer (one round trip): p50 {}  p90 {}  p99 {}",
            micros(percentile(&to_answer, 0.5)),
            micros(percentile(&to_answer, 0.9)),
            micros(percentile(&to_answer, 0.99))
        );
        worker.aclose().await;

        println!("## throughput: 1000 jobs dispatched at once to one worker");
        let worker = Worker::start(idle_text_server(None), options(server.url())).await.unwrap();
        worker.registered().await.unwrap();
        let connection = server.agent().connections() - 1;
        let handle = server.agent().registered(connection, WAIT).await.unwrap();
        let jobs: Vec<_> =
            (0..1000).map(|n| server.agent().new_job(&format!("burst-{n}"))).collect();
        let ids: Arc<Vec<String>> = Arc::new(jobs.iter().map(|job| job.id.clone()).collect());
        let began = Instant::now();
        for job in jobs {
            handle.request_availability(job);
        }
        loop {
            let running = ids
                .iter()
                .filter(|id| {
                    server.agent().job(id).is_some_and(|j| j.status() == JobStatus::JsRunning)
                })
                .count();
            if running == ids.len() {
                break;
            }
            assert!(began.elapsed() < WAIT);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let elapsed = began.elapsed();
        println!(
            "1000 jobs running in {:.1} ms: {:.0} jobs/s",
            elapsed.as_secs_f64() * 1e3,
            1000.0 / elapsed.as_secs_f64()
        );
        worker.aclose().await;
    });
}
