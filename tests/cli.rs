//! `cli::run_app` as a program: the commands, exit statuses, `.env` loading, and the text
//! console on piped standard input, with replies on standard output and logs on standard
//! error. The program (`tests/bin/console_agent.rs`) talks to a fake OpenAI server.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use agents_test_support::{FakeOpenAi, FakeResponse};

const PROGRAM: &str = env!("CARGO_BIN_EXE_console-agent");

/// A fresh, empty working directory (no `.env` in it), removed when dropped.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for WorkDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

fn work_dir(name: &str) -> WorkDir {
    let dir = std::env::temp_dir().join(format!("agents-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    WorkDir(dir)
}

/// Runs the program in `dir` with `args` and `stdin`, without the OpenAI and log variables of
/// this environment.
fn run(dir: &Path, args: &[&str], stdin: impl AsRef<[u8]>, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(PROGRAM);
    command
        .args(args)
        .current_dir(dir)
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("LIVEKIT_LOG_LEVEL")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_ref()).unwrap();
    drop(input);
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    result.recv_timeout(Duration::from_secs(30)).expect("the program ended in time").unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_the_commands_on_stdout() {
    let output = run(&work_dir("help"), &["--help"], "", &[]);
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Usage: console-agent <COMMAND>"), "{stdout}");
    assert!(stdout.contains("console") && stdout.contains("--log-level"), "{stdout}");
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn commands_that_are_not_there_yet_say_what_is() {
    let dir = work_dir("unavailable");
    for (args, status, expected) in [
        (&["console", "--record"][..], 2, "`--record` is not available yet"),
        (&[][..], 2, "no command given"),
        (&["consol"][..], 2, "unknown command `consol`"),
        (&["console", "--text", "--log-level", "loud"][..], 2, "invalid log level \"loud\""),
    ] {
        let output = run(&dir, args, "", &[]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(status), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(expected), "{args:?}: {stderr}");
        assert!(stderr.contains("console --text") || status == 2, "{args:?}: {stderr}");
        assert_eq!(text(&output.stdout), "", "{args:?}");
    }
}

/// An ALSA configuration (the system's, then `extra`) in `dir`, for `ALSA_CONFIG_PATH`.
fn alsa_config(dir: &Path, extra: &str) -> String {
    let path = dir.join("asound.conf");
    std::fs::write(&path, format!("</usr/share/alsa/alsa.conf>\n{extra}")).unwrap();
    path.display().to_string()
}

#[test]
fn the_microphone_console_lists_the_devices_and_says_what_is_missing() {
    let dir = work_dir("devices");
    let devices = r#"
pcm.test_mic { type file slave.pcm "null" file "/dev/null" infile "/dev/zero" hint { show on description "Test microphone" } }
pcm.!default { type hw card 99 }
"#;
    let config = alsa_config(&dir, devices);
    let env = [("ALSA_CONFIG_PATH", config.as_str())];

    let listed = run(&dir, &["console", "--list-devices"], "", &env);
    let stdout = text(&listed.stdout);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert!(
        stdout.starts_with("Input devices (--input-device NAME; * the default):\n"),
        "{stdout}"
    );
    assert!(stdout.contains("* default") && stdout.contains("  test_mic  (Test microphone)"));
    assert!(stdout.contains("Output devices (--output-device NAME; * the default):"), "{stdout}");

    // The default device is a sound card that is not there.
    let missing = run(&dir, &["console"], "", &env);
    let stderr = text(&missing.stderr);
    assert_eq!(missing.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: cannot open the input device `default`: "), "{stderr}");
    assert!(stderr.contains("plug in a microphone, pick one with --input-device NAME"), "{stderr}");
    assert!(stderr.contains("`console --text` / `--input-file`"), "{stderr}");
    assert_eq!(text(&missing.stdout), "");

    let unknown = run(&dir, &["console", "--input-device", "nope"], "", &env);
    let stderr = text(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: no input device named `nope` ("), "{stderr}");
    assert!(stderr.contains("test_mic") && stderr.contains("see --list-devices"), "{stderr}");

    let mixed = run(&dir, &["console", "--text", "--output-device", "x"], "", &env);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(text(&mixed.stderr).contains("are for the microphone console"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_text_reads_piped_lines_and_loads_the_env_file() {
    let fake = FakeOpenAi::with_responses([
        FakeResponse::text("Hello! What can I do for you?"),
        FakeResponse::tool_call("call_1", "print_to_console", "{}"),
        FakeResponse::text("Printed."),
    ])
    .await
    .unwrap();
    let dir = work_dir("console");
    let env_file = format!("OPENAI_BASE_URL={}\nOPENAI_API_KEY=from-dotenv\n", fake.base_url());
    std::fs::write(dir.join(".env"), env_file).unwrap();

    let output = tokio::task::spawn_blocking(move || {
        run(&dir, &["console", "--text", "--log-level", "debug"], "\nPrint something.\n", &[])
    })
    .await
    .unwrap();

    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        text(&output.stdout),
        "● Agent: Hello! What can I do for you?\n\
         ➜ print_to_console\n\
         ✓ I've printed to the console.\n\
         ● Agent: Printed.\n"
    );
    assert!(stderr.contains("starting the text console"), "{stderr}");
    assert!(stderr.contains("DEBUG"), "--log-level debug: {stderr}");
    assert_eq!(fake.requests()[0].bearer_token(), Some("from-dotenv"));
}

#[test]
fn an_entrypoint_failure_exits_with_failure_and_says_why() {
    let output = run(&work_dir("failure"), &["console", "--text"], "Hello\n", &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: the job's entrypoint failed:"), "{stderr}");
    assert!(stderr.contains("OPENAI_API_KEY"), "{stderr}");
    assert_eq!(text(&output.stdout), "");
}

/// The `.env` line whose value must never be shown.
const SECRET: &str = "sk-very-secret-4f9a7c";

/// Values the `.env` files load: secrets too, never shown either.
const LOADED_KEY: &str = "APIloadedKey9d2e";
const LOADED_SECRET: &str = "lk-loaded-secret-6b1f";
const OPENAI_KEYS: [&str; 2] = ["after-the-bad-line", "after-the-unclosed-quote"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_env_file_is_reported_by_line_never_by_its_text() {
    let fake = FakeOpenAi::with_handler(|_| FakeResponse::text("Hi.")).await.unwrap();
    let base_url = fake.base_url();
    let files = [
        // A value with a space: the bad line is skipped, the lines after it still load.
        (
            "space",
            format!(
                "# keys\nLIVEKIT_API_KEY={SECRET} oops\nOPENAI_BASE_URL={base_url}\n\
                 LIVEKIT_API_SECRET={LOADED_SECRET}\nOPENAI_API_KEY={}\n",
                OPENAI_KEYS[0]
            ),
            "line 2 of ",
            "not `KEY=value`",
        ),
        // A quote never closed: its line is skipped, and the lines after it still load.
        (
            "quote",
            format!(
                "OPENAI_BASE_URL={base_url}\nLIVEKIT_API_KEY={LOADED_KEY}\n\
                 LIVEKIT_API_SECRET=\"{SECRET}\nOPENAI_API_KEY={}\n",
                OPENAI_KEYS[1]
            ),
            "line 3 of ",
            "a quote opened here is never closed",
        ),
    ];
    for (name, content, line, problem) in files {
        let dir = work_dir(&format!("dotenv-{name}"));
        std::fs::write(dir.join(".env"), &content).unwrap();
        let env_file = dir.join(".env").display().to_string();
        for level in ["trace", "debug", "info", "warn", "error"] {
            let args = ["console", "--text", "--log-level", level];
            let dir = dir.to_path_buf();
            let output = tokio::task::spawn_blocking(move || run(&dir, &args, "Hello\n", &[]))
                .await
                .unwrap();
            let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
            assert!(output.status.success(), "{name} at {level}: {stderr}");
            assert!(stdout.contains("● Agent: Hi."), "{name} at {level}: {stdout}");
            for shown in [&stdout, &stderr] {
                assert!(!shown.contains(SECRET), "{name} at {level}: the secret is shown: {shown}");
                assert!(!shown.contains("oops"), "{name} at {level}: the line is shown: {shown}");
                for value in [LOADED_KEY, LOADED_SECRET].iter().chain(&OPENAI_KEYS) {
                    assert!(!shown.contains(value), "{name} at {level}: {value} is shown: {shown}");
                }
            }
            if level != "error" {
                let warning = format!("{line}{env_file}: {problem}");
                assert!(stderr.contains(&warning), "{name} at {level}: {stderr}");
                assert!(stderr.contains("the line was skipped"), "{name} at {level}: {stderr}");
            }
        }
    }
    let keys: Vec<_> =
        fake.requests().iter().map(|r| r.bearer_token().map(str::to_owned)).collect();
    // Two requests a run (the greeting, "Hello"), five runs a file.
    assert_eq!(keys.len(), 20);
    assert!(keys.iter().take(10).all(|key| key.as_deref() == Some(OPENAI_KEYS[0])), "{keys:?}");
    assert!(keys.iter().skip(10).all(|key| key.as_deref() == Some(OPENAI_KEYS[1])), "{keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_that_is_not_utf8_is_a_turn_all_the_same_and_the_console_goes_on() {
    let fake = FakeOpenAi::with_handler(|_| FakeResponse::text("Got it.")).await.unwrap();
    let dir = work_dir("not-utf8");
    let env = format!("OPENAI_BASE_URL={}\nOPENAI_API_KEY=k\n", fake.base_url());
    std::fs::write(dir.join(".env"), env).unwrap();
    let stdin = b"first\ncaf\xe9 au lait\nlast\n".to_vec();
    let output = tokio::task::spawn_blocking(move || run(&dir, &["console", "--text"], stdin, &[]))
        .await
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(text(&output.stdout), "● Agent: Got it.\n".repeat(4));
    assert!(
        stderr.contains(
            "line 2 of the console input is not valid UTF-8: its invalid bytes are replaced"
        ),
        "{stderr}"
    );
    let users: Vec<_> = fake
        .requests()
        .iter()
        .skip(1)
        .map(|request| {
            let user = request.messages().iter().rev().find(|m| m["role"] == "user").cloned();
            user.and_then(|m| m["content"].as_str().map(str::to_owned))
        })
        .collect();
    assert_eq!(
        users,
        [Some("first".to_owned()), Some("caf\u{fffd} au lait".to_owned()), Some("last".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_exits_with_failure_when_the_session_reported_errors() {
    let fake = FakeOpenAi::with_handler(|_| FakeResponse::status(500)).await.unwrap();
    let dir = work_dir("llm-down");
    let env = format!("OPENAI_BASE_URL={}\nOPENAI_API_KEY=k\n", fake.base_url());
    std::fs::write(dir.join(".env"), env).unwrap();
    let output = tokio::task::spawn_blocking(move || {
        run(&dir, &["console", "--text"], "Hello\nAgain\n", &[])
    })
    .await
    .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(text(&output.stdout), "");
    // The greeting and both lines were tried: the console went on to the end of its input.
    assert!(
        stderr.contains("error: the session reported 3 error(s), the last from the LLM: "),
        "{stderr}"
    );
}
