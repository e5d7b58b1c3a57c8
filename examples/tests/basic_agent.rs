//! `basic_agent`, run as a user runs it, against a fake LiveKit Inference on 127.0.0.1: a
//! typed turn and a spoken turn (a WAV file through the real Silero VAD, the fake STT and
//! TTS) that each call the agent's tool.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use agents_test_support::{
    FakeGateway, FakeOpenAi, FakeResponse, RecordedRequest, SttPlan, Utterance,
};
use common::{KEY, SECRET, assert_in_order, example, last_message, last_user_text, show};

/// A model that greets, looks the weather up when asked, and reads the tool's answer out.
fn weather_model(request: &RecordedRequest) -> FakeResponse {
    let last = last_message(request);
    if last["role"] == "tool" {
        return FakeResponse::text(format!("Here you go: {}", last["content"].as_str().unwrap()));
    }
    if last_user_text(request).contains("weather") {
        FakeResponse::tool_call("call_1", "lookup_weather", r#"{"location":"Paris"}"#)
    } else {
        FakeResponse::text("Hi, I'm Kelly. How can I help?")
    }
}

#[tokio::test]
async fn a_typed_turn_calls_the_tool() {
    let llm = FakeOpenAi::with_handler(weather_model).await.unwrap();
    let output = common::run_with_input(
        example("basic_agent", &["console", "--text"], &llm.base_url()),
        "what's the weather in Paris?\n",
    )
    .await;
    assert_in_order(
        &output,
        &[
            "Hi, I'm Kelly. How can I help?",
            "➜ lookup_weather",
            "✓ Sunny with a temperature of 21 degrees Celsius in Paris.",
            "Here you go: Sunny with a temperature of 21 degrees Celsius in Paris.",
        ],
    );
    let requests = llm.requests();
    assert_eq!(requests.len(), 3, "the greeting, then the turn's two steps");
    assert_eq!(requests[1].model(), Some("openai/gpt-4.1-mini"));
    assert_eq!(requests[1].tool_names(), ["lookup_weather"]);
    assert!(common::instructions(&requests[0]).starts_with("You are Kelly"));
}

#[tokio::test]
async fn a_spoken_turn_calls_the_tool_and_the_answer_is_spoken() {
    let llm = FakeOpenAi::with_handler(weather_model).await.unwrap();
    let gateway = FakeGateway::start(KEY, SECRET).await.unwrap();
    gateway.forward_http(llm.addr());
    // speech_16k.wav: speech from 1.1 s to 3.5 s, and from 4.8 s to 7.1 s.
    gateway.script_stt(SttPlan::new([Utterance::after(
        Duration::from_millis(3_000),
        "what's the weather in Paris?",
    )]));
    let input = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/agents-plugins-silero/tests/data/speech_16k.wav");
    let wav = std::env::temp_dir().join(format!("basic_agent_{}.wav", std::process::id()));
    let mut command = example(
        "basic_agent",
        &[
            "console",
            "--input-file",
            input.to_str().unwrap(),
            "--output-file",
            wav.to_str().unwrap(),
        ],
        &gateway.base_url(),
    );
    command.stdin(Stdio::null());
    let child = command.spawn().expect("the example starts");
    let output = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("the console exits after the end of the input file")
        .unwrap();
    assert_in_order(
        &output,
        &[
            "Hi, I'm Kelly.",
            "● You: what's the weather in Paris?",
            "➜ lookup_weather",
            "Here you go:",
        ],
    );
    assert_eq!(gateway.violations(), Vec::<String>::new());
    assert_eq!(gateway.accepted("/v1/stt").len(), 1, "{}", show(&output));
    assert_eq!(gateway.syntheses(), 2, "the greeting and the answer were spoken");
    let reader = hound::WavReader::open(&wav).expect("the output WAV");
    let samples = reader.len();
    let _ = std::fs::remove_file(&wav);
    assert!(samples > 0, "the agent's voice is in {}", wav.display());
}
