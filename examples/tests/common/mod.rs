//! What the examples' tests share: the example binaries `cargo test` builds, run as a user
//! runs them, and the fake LiveKit credentials the fakes accept.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use agents_test_support::RecordedRequest;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// The API key the fakes are started with.
pub(crate) const KEY: &str = "devkey";
/// The API secret the fakes are started with.
pub(crate) const SECRET: &str = "secret-secret-secret-secret-secret";

/// The example binary `name` that `cargo test` built beside this test.
pub(crate) fn example_binary(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let profile_dir = test_binary.parent().and_then(|deps| deps.parent()).expect("target dir");
    let binary = profile_dir.join("examples").join(name);
    let build = format!(
        "build it with `cargo build -p examples --example {name}` (`cargo test -p examples` \
         and `cargo test --workspace` do; `cargo test --test <name>` alone does not)"
    );
    let built = std::fs::metadata(&binary).and_then(|m| m.modified());
    let Ok(built) = built else { panic!("{} is missing: {build}", binary.display()) };
    // An example edited since its last build would be tested as it was.
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name).join("main.rs");
    if let Ok(edited) = std::fs::metadata(&source).and_then(|m| m.modified()) {
        assert!(
            edited <= built,
            "{} is older than {}: {build}",
            binary.display(),
            source.display()
        );
    }
    binary
}

/// `<example> <args>` with LiveKit Inference at `inference_url` and the fakes' credentials,
/// run from an empty folder (no `.env` file is found there), output captured.
pub(crate) fn example(name: &str, args: &[&str], inference_url: &str) -> Command {
    let mut command = Command::new(example_binary(name));
    command
        .args(args)
        .env("LIVEKIT_INFERENCE_URL", inference_url)
        .env("LIVEKIT_API_KEY", KEY)
        .env("LIVEKIT_API_SECRET", SECRET)
        .env("LIVEKIT_LOG_LEVEL", "info")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Runs `command` with `input` on its standard input (then closed: the console ends after
/// its turns), within 60 s.
pub(crate) async fn run_with_input(mut command: Command, input: &str) -> Output {
    let mut child = command.spawn().expect("the example starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the example exits within 60 s")
        .unwrap()
}

/// Standard output and standard error, for assertion messages.
pub(crate) fn show(output: &Output) -> String {
    format!(
        "exit status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts `output` succeeded and its standard output has each of `expected`, in order.
pub(crate) fn assert_in_order(output: &Output, expected: &[&str]) {
    assert!(output.status.success(), "{}", show(output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut rest: &str = &stdout;
    for text in expected {
        let Some(at) = rest.find(text) else {
            panic!("missing {text:?} (in order):\n{}", show(output));
        };
        rest = &rest[at + text.len()..];
    }
}

/// The last message of `request`.
pub(crate) fn last_message(request: &RecordedRequest) -> serde_json::Value {
    request.messages().last().cloned().unwrap_or_default()
}

/// The text of the last user message of `request`.
pub(crate) fn last_user_text(request: &RecordedRequest) -> String {
    request
        .messages()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_owned()
}

/// The system message (the agent's instructions) of `request`.
pub(crate) fn instructions(request: &RecordedRequest) -> String {
    request
        .messages()
        .iter()
        .find(|m| m["role"] == "system")
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_owned()
}

/// The tool entry called `name` in `request`.
pub(crate) fn tool<'a>(request: &'a RecordedRequest, name: &str) -> &'a serde_json::Value {
    request.body["tools"]
        .as_array()
        .and_then(|tools| tools.iter().find(|tool| tool["function"]["name"] == name))
        .unwrap_or_else(|| panic!("no tool `{name}` in the request: {}", request.body))
}

/// The chat completion requests among `requests`.
pub(crate) fn chat_requests(requests: Vec<RecordedRequest>) -> Vec<RecordedRequest> {
    requests.into_iter().filter(RecordedRequest::is_chat_completion).collect()
}
