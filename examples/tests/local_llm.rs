//! `local_llm`, run as a user runs it (`console --text`) with `OPENAI_BASE_URL` pointing at
//! FakeOpenAi as the "local server": a text turn, a tool call, and the documented errors for
//! a URL where nothing answers and for one that is not a URL.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Stdio;

use agents_test_support::{FakeOpenAi, FakeResponse, RecordedRequest};
use common::{assert_in_order, example_binary, last_message, last_user_text, show};
use tokio::process::Command;

/// `local_llm console --text` with `OPENAI_BASE_URL` = `base_url` and nothing of LiveKit's.
fn local_llm(base_url: &str) -> Command {
    let mut command = Command::new(example_binary("local_llm"));
    command
        .args(["console", "--text"])
        .env("OPENAI_BASE_URL", base_url)
        .env("LLM_MODEL", "qwen2.5")
        .env_remove("OPENAI_API_KEY")
        .env_remove("LIVEKIT_API_KEY")
        .env_remove("LIVEKIT_API_SECRET")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

fn model(request: &RecordedRequest) -> FakeResponse {
    let last = last_message(request);
    if last["role"] == "tool" {
        return FakeResponse::text(format!("That's {}.", last["content"].as_str().unwrap()));
    }
    if last_user_text(request).contains("Fahrenheit") {
        FakeResponse::tool_call("call_1", "convert_temperature", r#"{"celsius":21.5}"#)
    } else {
        FakeResponse::text("Hello from the local model!")
    }
}

#[tokio::test]
async fn a_text_turn_and_a_tool_call_against_the_local_server() {
    let server = FakeOpenAi::with_handler(model).await.unwrap();
    let output = common::run_with_input(
        local_llm(&server.base_url()),
        "hi\nwhat is 21.5 degrees in Fahrenheit?\n",
    )
    .await;
    assert_in_order(
        &output,
        &[
            "Hello from the local model!",
            "➜ convert_temperature",
            "✓ 21.5 °C is 70.7 °F",
            "That's 21.5 °C is 70.7 °F.",
        ],
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(request.path, "/v1/chat/completions");
        assert_eq!(request.model(), Some("qwen2.5"));
        assert_eq!(request.tool_names(), ["convert_temperature"]);
        // No key configured: no Authorization header.
        assert_eq!(request.header("authorization"), None);
    }
}

#[tokio::test]
async fn an_api_key_is_sent_as_a_bearer_token() {
    let server = FakeOpenAi::with_handler(model).await.unwrap();
    let mut command = local_llm(&server.base_url());
    command.env("OPENAI_API_KEY", "vllm-key");
    let output = common::run_with_input(command, "hi\n").await;
    assert_in_order(&output, &["Hello from the local model!"]);
    assert_eq!(server.requests()[0].bearer_token(), Some("vllm-key"));
}

#[tokio::test]
async fn a_url_where_nothing_answers_gives_the_documented_error() {
    // A port that was just free: nothing listens there.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{free}/v1");
    let output = common::run_with_input(local_llm(&url), "hi\n").await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "error: the session reported 1 error(s), the last from the LLM: connection failed: \
             cannot reach {url}/chat/completions"
        )),
        "{}",
        show(&output)
    );
}

#[tokio::test]
async fn a_url_without_a_scheme_gives_the_documented_error() {
    let output = common::run_with_input(local_llm("localhost:11434/v1"), "hi\n").await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "error: the job's entrypoint failed: invalid base URL `localhost:11434/v1`: the \
             scheme is `localhost`, not `http` or `https`"
        ),
        "{}",
        show(&output)
    );
}
