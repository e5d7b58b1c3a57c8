//! The seed example, end to end: `update_tools console --text` against a fake LiveKit
//! Inference server on 127.0.0.1, driven through standard input and output.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use agents_test_support::{
    FakeGateway, FakeOpenAi, FakeResponse, RecordedRequest, SttPlan, Utterance,
};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

mod common;

use common::{KEY, SECRET, example_binary, last_user_text};

/// A model that greets, calls the tools it is asked for, and reports their output.
fn scripted_model(request: &RecordedRequest) -> FakeResponse {
    let last = request.messages().last().cloned().unwrap_or_default();
    if last["role"] == "tool" {
        return FakeResponse::text(format!("Done: {}", last["content"].as_str().unwrap_or("")));
    }
    let user = last_user_text(request);
    if user.contains("print") {
        FakeResponse::tool_call("call_print", "print_to_console", "{}")
    } else if user.contains("random") {
        FakeResponse::tool_call("call_random", "random_number", "{}")
    } else {
        FakeResponse::text("Hello! How can I help you today?")
    }
}

#[tokio::test]
async fn the_seed_runs_in_the_text_console() {
    let fake = FakeOpenAi::with_handler(scripted_model).await.unwrap();
    let mut child = Command::new(example_binary("update_tools"))
        .args(["console", "--text"])
        .env("LIVEKIT_INFERENCE_URL", fake.base_url())
        .env("LIVEKIT_API_KEY", KEY)
        .env("LIVEKIT_API_SECRET", SECRET)
        .env("LIVEKIT_LOG_LEVEL", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the example starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"please print to the console\ngive me a random number\n").await.unwrap();
    drop(stdin); // end of input: the console finishes the turns in flight and exits

    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the console exits after end of input")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );

    // The tool's own line races with `➜ print_to_console`, which is shown as the call starts.
    assert!(stdout.contains("Console Print Success!"), "the tool ran:\n{stdout}");
    let expected_in_order = [
        "Hello! How can I help you today?",
        "➜ print_to_console",
        "✓ I've printed to the console.",
        "Done: I've printed to the console.",
        "➜ random_number",
        "✓ ",
        "Done: ",
    ];
    let mut rest: &str = &stdout;
    for expected in expected_in_order {
        let Some(at) = rest.find(expected) else {
            panic!("missing {expected:?} (in order) in stdout:\n{stdout}\nstderr:\n{stderr}");
        };
        rest = &rest[at + expected.len()..];
    }
    assert!(stderr.contains("random_number called:"), "the tool logs to stderr:\n{stderr}");

    // Every request went to the Inference gateway with a fresh token and strict tools.
    let requests = fake.requests();
    assert_eq!(requests.len(), 5, "greeting, then two turns of two steps each");
    assert!(requests.iter().all(|r| r.bearer_token().is_some()));
    assert_eq!(requests[1].tool_names(), ["print_to_console", "random_number"]);
    assert_eq!(requests[1].model(), Some("openai/gpt-4.1-mini"));
    // The session has an STT and a TTS, but the text console never connects to them (an
    // upgrade to `…/v1/stt` or `…/v1/tts` would reach the same fake server).
    assert!(
        requests.iter().all(|r| r.path.ends_with("/chat/completions")),
        "{:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn missing_credentials_name_the_variables_to_set() {
    let child = Command::new(example_binary("update_tools"))
        .args(["console", "--text"])
        .env_remove("LIVEKIT_API_KEY")
        .env_remove("LIVEKIT_INFERENCE_API_KEY")
        .env_remove("LIVEKIT_API_SECRET")
        .env_remove("LIVEKIT_INFERENCE_API_SECRET")
        // No `.env` file is found from an empty folder.
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the example starts");
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the console exits")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("set LIVEKIT_INFERENCE_API_KEY or LIVEKIT_API_KEY in the environment"),
        "{stderr}"
    );
}

/// The seed's whole voice pipeline: espeak-ng speech in a WAV → the real Silero VAD → the
/// fake STT (a transcript per utterance) → the fake LLM (print_to_console, then
/// random_number) → the fake TTS (a 100 ms tone per word) → the output WAV.
#[tokio::test]
async fn the_seed_talks_from_a_wav_file_to_a_wav_file() {
    const KEY: &str = "devkey";
    const SECRET: &str = "secret-secret-secret-secret-secret";
    let llm = FakeOpenAi::with_handler(scripted_model).await.unwrap();
    let gateway = FakeGateway::start(KEY, SECRET).await.unwrap();
    gateway.forward_http(llm.addr());
    // speech_16k.wav: speech from 1.1 s to 3.5 s and from 4.8 s to 7.1 s.
    gateway.script_stt(SttPlan::new([
        Utterance::after(Duration::from_millis(3_000), "please print to the console"),
        Utterance::after(Duration::from_millis(6_900), "give me a random number"),
    ]));
    let input = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/agents-plugins-silero/tests/data/speech_16k.wav");
    let output =
        std::env::temp_dir().join(format!("update_tools_voice_{}.wav", std::process::id()));
    let child = Command::new(example_binary("update_tools"))
        .args(["console", "--input-file"])
        .arg(&input)
        .arg("--output-file")
        .arg(&output)
        .env("LIVEKIT_INFERENCE_URL", gateway.base_url())
        .env("LIVEKIT_API_KEY", KEY)
        .env("LIVEKIT_API_SECRET", SECRET)
        .env("LIVEKIT_LOG_LEVEL", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the example starts");
    let result = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("the console exits after the end of the input file")
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(gateway.violations(), Vec::<String>::new());
    for expected in ["Console Print Success!", "➜ print_to_console", "➜ random_number"] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in stdout:\n{stdout}\nstderr:\n{stderr}"
        );
    }
    assert_eq!(gateway.accepted("/v1/stt").len(), 1, "one STT stream for the whole input");
    // Every reply was spoken: the greeting (7 words), "Done: I've printed to the console."
    // (6 words) and "Done: <number>" (2 words), at 100 ms a word.
    let reader = hound::WavReader::open(&output).expect("the output WAV");
    let spec = reader.spec();
    let samples: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
    let _ = std::fs::remove_file(&output);
    assert_eq!(spec.sample_rate, 24_000);
    let seconds = samples.len() as f64 / 24_000.0;
    assert!(
        (seconds - 1.5).abs() < 0.011,
        "{seconds} s of agent audio\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // And it is the tone, not silence.
    let loud = samples.iter().filter(|sample| sample.unsigned_abs() > 4_000).count();
    assert!(loud > samples.len() / 3, "{loud} loud samples of {}", samples.len());
    assert_eq!(gateway.syntheses(), 3);
}
