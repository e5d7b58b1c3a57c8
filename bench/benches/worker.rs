//! The worker against the LiveKit test server (`cargo bench -p agents-bench --bench worker`):
//!
//! * memory: the resident memory (`VmRSS`) of a worker process with 0, 1, 10, 100 and 1000
//!   idle text jobs (each an `AgentSession` started on the fake LLM, waiting for input). Each
//!   count runs in a fresh child process (this program, re-run), the test server in this one;
//! * throughput: 1000 jobs dispatched at once to one worker, until the server heard
//!   `JS_RUNNING` for all;
//! * latency: availability request → entrypoint running, one job at a time (200), and the
//!   request → availability answer round trip on the same connection for comparison;
//! * start-up: `Worker::start` → registered (20 times).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agents_core::prelude::*;
use agents_core::testing::{FakeLlm, FakeLlmResponse};
use agents_core::worker::{BoxError, Worker, WorkerOptions};
use agents_test_support::livekit::TestServer;
use livekit_protocol::JobStatus;
use tokio::sync::mpsc;

const KEY: &str = "APIbenchkey";
const SECRET: &str = "bench-secret-that-is-long-enough-for-hs256";
const CHILD: &str = "AGENTS_WORKER_BENCH_CHILD";
const WAIT: Duration = Duration::from_secs(120);

/// An entrypoint whose job stays idle: a text session on the fake LLM, waiting for input.
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
            ctx.connect().await?;
            Ok::<(), BoxError>(())
        }
    })
}

fn options(url: String) -> WorkerOptions {
    let mut options = WorkerOptions::development(url, KEY, SECRET);
    options.port = None;
    options
}

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The child: a worker that reports its memory once `jobs` jobs run.
fn child(spec: &str) {
    let (url, jobs) = spec.split_once(' ').unwrap();
    let jobs: usize = jobs.parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let worker = Worker::start(idle_text_server(None), options(url.to_owned())).await.unwrap();
        worker.registered().await.unwrap();
        println!("registered");
        let deadline = Instant::now() + WAIT;
        while worker.active_jobs().len() < jobs {
            assert!(Instant::now() < deadline, "the jobs did not all start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Let the sessions settle (their first scheduling, the allocator's caches).
        tokio::time::sleep(Duration::from_millis(500)).await;
        println!("rss_kb {}", rss_kb());
        // Wait to be killed: the parent ends this process.
        std::future::pending::<()>().await;
    });
}

async fn memory(server: &TestServer, jobs: usize, connection: usize) -> u64 {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .env(CHILD, format!("{} {jobs}", server.url()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, mut lines) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    assert_eq!(lines.recv().await.unwrap(), "registered");
    let worker = server.agent().registered(connection, WAIT).await.unwrap();
    for n in 0..jobs {
        worker.request_availability(server.agent().new_job(&format!("idle-{connection}-{n}")));
    }
    let line = tokio::time::timeout(WAIT, lines.recv()).await.unwrap().unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    line.strip_prefix("rss_kb ").unwrap().parse().unwrap()
}

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

        println!("## memory: worker process RSS with N idle text jobs (fresh process each)");
        let counts = [0usize, 1, 10, 100, 1000];
        let mut base = 0;
        for (connection, jobs) in counts.into_iter().enumerate() {
            let rss = memory(&server, jobs, connection).await;
            if jobs == 0 {
                base = rss;
            }
            let per_job = if jobs > 0 {
                format!("{:.1} KB/job", (rss as f64 - base as f64) / jobs as f64)
            } else {
                String::new()
            };
            println!("jobs {jobs:>5}: rss {:>8.1} MB  {per_job}", rss as f64 / 1024.0);
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
