//! Job host processes (`--job-hosts`): kill -9 a host under load; its jobs are reported
//! failed, the other host's jobs keep running, and a new host replaces it.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::Duration;

use agents_test_support::livekit::TestServer;
use livekit_protocol::JobStatus;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const PROGRAM: &str = env!("CARGO_BIN_EXE_console-agent");
const KEY: &str = "APItestkey";
const SECRET: &str = "test-secret-that-is-long-enough-for-hs256";
const WAIT: Duration = Duration::from_secs(20);

async fn worker_info(port: u16) -> serde_json::Value {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(b"GET /worker HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    serde_json::from_str(response.split_once("\r\n\r\n").unwrap().1).unwrap()
}

fn host_pids(info: &serde_json::Value) -> Vec<u64> {
    info["job_hosts"].as_array().unwrap().iter().map(|pid| pid.as_u64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_host_fails_its_jobs_only_and_is_replaced() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = server.url();
    let mut child = Command::new(PROGRAM)
        .args(["dev", "--job-hosts", "2", "--port", &port.to_string()])
        .current_dir(std::env::temp_dir())
        .env("LIVEKIT_URL", &url)
        .env("LIVEKIT_API_KEY", KEY)
        .env("LIVEKIT_API_SECRET", SECRET)
        .env("LIVEKIT_LOG_LEVEL", "warn")
        .env("OPENAI_API_KEY", "sk-test")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let jobs: Vec<_> = (0..10).map(|n| server.agent().new_job(&format!("room-{n}"))).collect();
    let ids: Vec<String> = jobs.iter().map(|job| job.id.clone()).collect();
    for job in jobs {
        connection.request_availability(job);
    }
    for id in &ids {
        server.agent().wait_for_status(id, JobStatus::JsRunning, WAIT).await.unwrap();
    }
    let info = worker_info(port).await;
    let pids = host_pids(&info);
    assert_eq!(pids.len(), 2, "{info}");
    assert_eq!(info["active_jobs"], 10);
    // The hosts are children of the worker, each with its share of the jobs.
    let killed = pids[0];
    assert!(Command::new("kill").args(["-9", &killed.to_string()]).status().unwrap().success());

    let failed = tokio::time::timeout(WAIT, async {
        loop {
            let failed: Vec<_> = ids
                .iter()
                .filter_map(|id| server.agent().job(id))
                .filter(|job| job.status() == JobStatus::JsFailed)
                .collect();
            if !failed.is_empty() && worker_info(port).await["active_jobs"] == 10 - failed.len() {
                return failed;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(failed.len(), 5, "the jobs went to the host with the fewest: 5 each");
    for job in &failed {
        assert!(job.error().contains(&format!("pid {killed}")), "{}", job.error());
        assert!(job.error().contains("signal 9"), "{}", job.error());
    }
    let running = ids
        .iter()
        .filter(|id| server.agent().job(id).unwrap().status() == JobStatus::JsRunning)
        .count();
    assert_eq!(running, 5, "the other host's jobs keep running");

    // A new host replaces the killed one, and takes jobs.
    let replaced = tokio::time::timeout(WAIT, async {
        loop {
            let pids = host_pids(&worker_info(port).await);
            if pids.len() == 2 && !pids.contains(&killed) {
                return pids;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    assert!(replaced.contains(&pids[1]));
    let job = server.agent().new_job("after");
    let id = job.id.clone();
    assert!(connection.dispatch(job, WAIT).await.unwrap().available);
    server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();

    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status:?}");
    // Closing ended every remaining job gracefully, in its host, and reported it (the
    // server may read the last frames just after the worker exited).
    let ended = server.agent().wait_for_ended(11, WAIT).await.unwrap();
    let succeeded = ended.iter().filter(|job| job.status() == JobStatus::JsSuccess).count();
    assert_eq!(succeeded, 6, "the 5 survivors and the later job");
    assert!(ids.iter().chain([&id]).all(|id| server.agent().job(id).is_some()));
    assert!(server.violations().is_empty(), "{:?}", server.violations());
}

/// User code printing to stdout (the seed's `print_to_console`) in a job host: the job's
/// statuses still reach the worker (they travel on a channel of their own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_whose_jobs_print_to_stdout_still_reports_them() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let url = server.url();
    let mut child = Command::new(PROGRAM)
        .args(["dev", "--job-hosts", "1", "--port", "0"])
        .current_dir(std::env::temp_dir())
        .env("LIVEKIT_URL", &url)
        .env("LIVEKIT_API_KEY", KEY)
        .env("LIVEKIT_API_SECRET", SECRET)
        .env("LIVEKIT_LOG_LEVEL", "warn")
        .env("OPENAI_API_KEY", "sk-test")
        .env("CONSOLE_AGENT_PRINT", "printed by the job, no newline")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let job = server.agent().new_job("printing");
    let id = job.id.clone();
    assert!(connection.dispatch(job, WAIT).await.unwrap().available);
    server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();
    // Give the entrypoint time to print before the job is ended.
    tokio::time::sleep(Duration::from_millis(500)).await;
    connection.terminate(&id);
    server.agent().wait_for_status(&id, JobStatus::JsSuccess, WAIT).await.unwrap();

    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let mut stdout = child.stdout.take().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status:?}");
    let mut printed = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut printed).unwrap();
    assert!(printed.contains("printed by the job, no newline"), "{printed}");
    assert!(server.violations().is_empty(), "{:?}", server.violations());
}

/// Ctrl+C in a terminal signals its whole process group: the worker closes and ends its
/// hosts' jobs gracefully; the hosts (in groups of their own) are not killed by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_to_the_process_group_ends_host_jobs_gracefully() {
    use std::os::unix::process::CommandExt as _;
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let url = server.url();
    let mut child = Command::new(PROGRAM)
        .args(["dev", "--job-hosts", "1", "--port", "0"])
        .current_dir(std::env::temp_dir())
        .env("LIVEKIT_URL", &url)
        .env("LIVEKIT_API_KEY", KEY)
        .env("LIVEKIT_API_SECRET", SECRET)
        .env("LIVEKIT_LOG_LEVEL", "warn")
        .env("OPENAI_API_KEY", "sk-test")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let job = server.agent().new_job("interrupted");
    let id = job.id.clone();
    assert!(connection.dispatch(job, WAIT).await.unwrap().available);
    server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();

    // The whole group, as a terminal does.
    let group = format!("-{}", child.id());
    assert!(Command::new("kill").args(["-INT", "--", &group]).status().unwrap().success());
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status:?}");
    let ended = server.agent().wait_for_ended(1, WAIT).await.unwrap();
    assert_eq!(ended[0].status(), JobStatus::JsSuccess, "{}", ended[0].error());
}

/// A host whose setup function always fails: the worker (which runs no setup itself with
/// hosts) restarts it with a growing delay and gives its slot up after 5 exits in a row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_never_gets_ready_is_given_up() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = server.url();
    let mut child = Command::new(PROGRAM)
        .args(["dev", "--job-hosts", "1", "--port", &port.to_string()])
        .current_dir(std::env::temp_dir())
        .env("LIVEKIT_URL", &url)
        .env("LIVEKIT_API_KEY", KEY)
        .env("LIVEKIT_API_SECRET", SECRET)
        .env("LIVEKIT_LOG_LEVEL", "error")
        .env("OPENAI_API_KEY", "sk-test")
        .env("CONSOLE_AGENT_SETUP_FAILS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    server.agent().registered(0, WAIT).await.unwrap();
    let started = std::time::Instant::now();
    let stderr = child.stderr.take().unwrap();
    let reading = tokio::task::spawn_blocking(move || {
        let mut seen = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let line = line.unwrap();
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("given up") {
                break;
            }
        }
        seen
    });
    let output = tokio::time::timeout(WAIT, reading).await.unwrap().unwrap();
    assert!(output.contains("given up"), "{output}");
    // 0.5 + 1 + 2 + 4 s between the 5 attempts.
    assert!(started.elapsed() >= Duration::from_secs(7), "restarted with a growing delay");
    assert_eq!(output.matches("setup function failed on purpose").count(), 5, "{output}");
    assert!(host_pids(&worker_info(port).await).is_empty());
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status:?}");
}

/// Kills the worker (and so its hosts) if the test fails while it runs.
struct KillOnPanic(u32);

impl Drop for KillOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new("kill").args(["-9", &self.0.to_string()]).status();
        }
    }
}

/// A host is started off the worker's executor and outside its locks: while a replacement
/// host's `exec` is slow (held 5 s here by `strace`'s fault injection), the worker, on a
/// single runtime thread, still answers its health endpoint and the server, reports the dead
/// host's jobs failed, and queues a job assigned meanwhile for the new host.
///
/// Needs `strace` and the right to trace the worker (root): `apt-get install strace`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_host_start_does_not_stall_the_worker() {
    const EXEC_DELAY: Duration = Duration::from_secs(5);
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = server.url();
    let mut child = Command::new(PROGRAM)
        .args(["dev", "--job-hosts", "1", "--port", &port.to_string()])
        .current_dir(std::env::temp_dir())
        .env("LIVEKIT_URL", &url)
        .env("LIVEKIT_API_KEY", KEY)
        .env("LIVEKIT_API_SECRET", SECRET)
        .env("LIVEKIT_LOG_LEVEL", "warn")
        .env("OPENAI_API_KEY", "sk-test")
        // One runtime thread: a blocking call on it stalls the whole worker.
        .env("TOKIO_WORKER_THREADS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _worker = KillOnPanic(child.id());
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let jobs: Vec<_> = (0..2).map(|n| server.agent().new_job(&format!("room-{n}"))).collect();
    let ids: Vec<String> = jobs.iter().map(|job| job.id.clone()).collect();
    for job in jobs {
        assert!(connection.dispatch(job, WAIT).await.unwrap().available);
    }
    for id in &ids {
        server.agent().wait_for_status(id, JobStatus::JsRunning, WAIT).await.unwrap();
    }
    let pids = host_pids(&worker_info(port).await);
    assert_eq!(pids.len(), 1);

    // Every `exec` the worker's processes make from now on takes 5 s more.
    let mut strace = tokio::process::Command::new("strace")
        .args(["-f", "-o", "/dev/null", "-e", "trace=execve"])
        .arg(format!("--inject=execve:delay_enter={}s", EXEC_DELAY.as_secs()))
        .args(["-p", &child.id().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("this test needs strace: apt-get install strace");
    let mut strace_err = tokio::io::BufReader::new(strace.stderr.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(WAIT, tokio::io::AsyncBufReadExt::read_line(&mut strace_err, &mut line))
        .await
        .unwrap()
        .unwrap();
    assert!(line.contains("attached"), "strace could not trace the worker (run as root): {line}");

    let killed = pids[0];
    assert!(Command::new("kill").args(["-9", &killed.to_string()]).status().unwrap().success());
    let killed_at = std::time::Instant::now();

    // While the new host's `exec` waits, the worker answers at once ...
    let mut reported = false;
    let mut later = None;
    while killed_at.elapsed() < EXEC_DELAY - Duration::from_secs(1) {
        let asked = std::time::Instant::now();
        let info = tokio::time::timeout(Duration::from_secs(2), worker_info(port))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the worker stopped answering while it started a host ({:?} in)",
                    asked.duration_since(killed_at)
                )
            });
        // ... reports the dead host's jobs failed ...
        if !reported
            && ids.iter().all(|id| {
                server.agent().job(id).is_some_and(|job| job.status() == JobStatus::JsFailed)
            })
        {
            reported = true;
            assert_eq!(info["active_jobs"], 0, "{info}");
            for id in &ids {
                let error = server.agent().job(id).unwrap().error().to_owned();
                assert!(error.contains(&format!("pid {killed}")), "{error}");
            }
            // ... and takes a job, which waits for the new host.
            let job = server.agent().new_job("meanwhile");
            later = Some(job.id.clone());
            let answer =
                tokio::time::timeout(Duration::from_secs(2), connection.dispatch(job, WAIT))
                    .await
                    .expect("the worker did not answer an availability request in 2 s")
                    .unwrap();
            assert!(answer.available);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        reported,
        "the dead host's jobs were not reported failed within {:?}",
        killed_at.elapsed()
    );
    let later = later.unwrap();
    let status = server.agent().job(&later).unwrap().status();
    assert_ne!(status, JobStatus::JsFailed, "{}", server.agent().job(&later).unwrap().error());

    // Once the new host runs, the job assigned meanwhile runs in it.
    server.agent().wait_for_status(&later, JobStatus::JsRunning, WAIT + EXEC_DELAY).await.unwrap();
    // Interrupted, strace detaches from the worker and its new host (killed, it might not).
    let strace_pid = strace.id().unwrap().to_string();
    assert!(Command::new("kill").args(["-INT", &strace_pid]).status().unwrap().success());
    tokio::time::timeout(WAIT, strace.wait()).await.unwrap().unwrap();
    let replaced = host_pids(&worker_info(port).await);
    assert_eq!(replaced.len(), 1);
    assert_ne!(replaced[0], killed);

    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(server.violations().is_empty(), "{:?}", server.violations());
}
