//! `dev` and `start` from the command line, against the LiveKit test server: registration,
//! a job, drain on SIGTERM, and one clear line for missing or wrong credentials.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use agents_test_support::livekit::TestServer;
use livekit_protocol::{JobStatus, WorkerStatus, worker_message};

const PROGRAM: &str = env!("CARGO_BIN_EXE_console-agent");
const KEY: &str = "APItestkey";
const SECRET: &str = "test-secret-that-is-long-enough-for-hs256";
const WAIT: Duration = Duration::from_secs(20);

fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(PROGRAM);
    command
        .args(args)
        .current_dir(std::env::temp_dir())
        .env_remove("LIVEKIT_URL")
        .env_remove("LIVEKIT_API_KEY")
        .env_remove("LIVEKIT_API_SECRET")
        .env_remove("LIVEKIT_LOG_LEVEL")
        .env_remove("LIVEKIT_AGENT_NAME")
        // The entrypoint builds an OpenAI client: it only needs a key to exist.
        .env("OPENAI_API_KEY", "sk-test")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

async fn finish(child: Child) -> Output {
    tokio::time::timeout(WAIT, tokio::task::spawn_blocking(move || child.wait_with_output()))
        .await
        .expect("the program ended in time")
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_registers_runs_a_job_and_drains_on_sigterm() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let url = server.url();
    let env = [
        ("LIVEKIT_URL", url.as_str()),
        ("LIVEKIT_API_KEY", KEY),
        ("LIVEKIT_API_SECRET", SECRET),
        ("LIVEKIT_AGENT_NAME", "cli-agent"),
    ];
    let child = command(&["start", "--port", "0"], &env).spawn().unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    assert_eq!(connection.registration().agent_name, "cli-agent");
    let job = server.agent().new_job("cli-room");
    let id = job.id.clone();
    assert!(connection.dispatch(job, WAIT).await.unwrap().available);
    server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();

    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    // Draining: the server hears the worker is full; the job still runs.
    server
        .agent()
        .wait_for_message(0, 0, WAIT, |m| {
            matches!(&m.message, Some(worker_message::Message::UpdateWorker(s))
                if s.status == Some(WorkerStatus::WsFull as i32) && s.draining)
        })
        .await
        .unwrap();
    assert_eq!(server.agent().job(&id).unwrap().status(), JobStatus::JsRunning);
    connection.terminate(&id);
    let output = finish(child).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.lines().all(|line| line.starts_with('{')), "JSON logs in start: {stderr}");
    assert!(stderr.contains("registered"), "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");
    server.agent().wait_for_status(&id, JobStatus::JsSuccess, WAIT).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_wrong_credentials_say_so_in_one_line() {
    let child = command(&["dev"], &[]).spawn().unwrap();
    let output = finish(child).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: the LiveKit URL is not set: set the LIVEKIT_URL"),
        "{stderr}"
    );

    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let url = server.url();
    let env = [
        ("LIVEKIT_URL", url.as_str()),
        ("LIVEKIT_API_KEY", KEY),
        ("LIVEKIT_API_SECRET", "not-the-secret-not-the-secret-not-the"),
        ("LIVEKIT_LOG_LEVEL", "warn"),
    ];
    let child = command(&["dev"], &env).spawn().unwrap();
    let output = finish(child).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<_> = stderr.lines().filter(|line| line.contains("refused")).collect();
    assert!(
        stderr.trim_end().ends_with(
            "check LIVEKIT_API_KEY and LIVEKIT_API_SECRET (see \
             docs/src/troubleshooting.md#credentials)"
        ),
        "{stderr}"
    );
    assert!(!errors.is_empty() && errors.len() <= 2, "one line (and its log record): {stderr}");
    assert!(!stderr.contains("not-the-secret"), "{stderr}");
    assert_eq!(server.upgrades().len(), 1, "no retry storm");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_commands_have_help() {
    let output = finish(command(&["start", "--help"], &[]).spawn().unwrap()).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0));
    for flag in
        ["--url", "--api-key", "--api-secret", "--drain-timeout", "--max-jobs", "LIVEKIT_URL"]
    {
        assert!(stdout.contains(flag), "{flag}: {stdout}");
    }
    let output = finish(command(&["connect"], &[]).spawn().unwrap()).await;
    assert_eq!(output.status.code(), Some(2), "--room is required");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--room"));
}
