//! Model strings on the session, as Python's `AgentSession(stt="deepgram/nova-3:en",
//! llm="openai/gpt-4.1-mini", tts="cartesia/sonic-3:<voice>")`: a voice turn through the fake
//! gateway, and the typed error of a string that cannot be used.
//!
//! Strings take their gateway URL and credentials from the environment, so the tests that need
//! them run in this test binary again with the variables set (or cleared) for that process only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use agents_core::Agent;
use agents_core::audio::AudioFrame;
use agents_core::llm::{ChatItem, ChatRole};
use agents_core::testing::{FakeAudioOutput, FakeLlm, silence, tone};
use agents_core::voice::{AgentSession, ComponentKind, SessionError};
use agents_inference::ConfigError;
use agents_inference::inference::ModelKind;
use agents_test_support::{FakeGateway, FakeOpenAi, FakeResponse, SttPlan, TtsPlan, Utterance};

const KEY: &str = "APIstrings";
const SECRET: &str = "strings-secret-never-shown";
const VOICE: &str = "9626c31c-bec5-4cca-baa8-f8ba9e84c8bc";

/// Set in the child processes; names the check they run.
const CHILD: &str = "AGENTS_INFERENCE_MODEL_STRINGS_CHILD";

/// Runs the test `name` of this binary again in a child process with `env` set and every other
/// LiveKit variable removed; fails with the child's output unless it passed.
fn run_child(name: &str, env: &[(&str, &str)]) {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child.args([name, "--exact", "--test-threads=1", "--nocapture"]);
    for (variable, _) in std::env::vars_os() {
        if variable.to_string_lossy().starts_with("LIVEKIT_") {
            child.env_remove(variable);
        }
    }
    child.env(CHILD, name).envs(env.iter().copied());
    let output = child.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}

fn in_child(name: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|child| child == name)
}

/// Half a second of a tone, then silence: one utterance, in 10 ms frames at 16 kHz.
fn utterance() -> Vec<AudioFrame> {
    let mut frames = tone(Duration::from_millis(500), 220.0, 16_000);
    frames.extend(silence(Duration::from_millis(300), 16_000));
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_three_model_strings_runs_a_voice_turn() {
    const NAME: &str = "a_session_from_three_model_strings_runs_a_voice_turn";
    if in_child(NAME) {
        // What the user writes: three strings, nothing else from agents-inference.
        let session = AgentSession::builder()
            .stt("deepgram/nova-3:en")
            .llm("openai/gpt-4.1-mini")
            .tts(format!("cartesia/sonic-3:{VOICE}"))
            .build();
        let output = Arc::new(FakeAudioOutput::instant());
        session
            .start(Agent::new("Answer briefly."))
            .audio_input(futures::stream::iter(utterance()))
            .audio_output(output.clone())
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(20), async {
            session.wait_for_audio_input().await;
            session.wait_for_idle().await;
        })
        .await
        .expect("the turn ends");
        let messages: Vec<(ChatRole, String)> = session
            .history()
            .items()
            .iter()
            .filter_map(|item| match item {
                ChatItem::Message(message) => Some((message.role, message.text())),
                _ => None,
            })
            .collect();
        session.close().await;
        assert_eq!(
            messages,
            [
                (ChatRole::User, "what time is it".to_owned()),
                (ChatRole::Assistant, "It is noon.".to_owned())
            ]
        );
        assert!(output.captured() > Duration::ZERO, "the reply was spoken");
        return;
    }
    let llm = FakeOpenAi::with_handler(|_| FakeResponse::text("It is noon.")).await.unwrap();
    let gateway = FakeGateway::start(KEY, SECRET).await.unwrap();
    gateway.forward_http(llm.addr());
    gateway.script_stt(SttPlan::new([Utterance::on_finalize("what time is it")]));
    gateway.script_tts(TtsPlan::tones());
    let base_url = gateway.base_url();
    tokio::task::spawn_blocking(move || {
        run_child(
            NAME,
            &[
                ("LIVEKIT_INFERENCE_URL", &base_url),
                ("LIVEKIT_API_KEY", KEY),
                ("LIVEKIT_API_SECRET", SECRET),
            ],
        );
    })
    .await
    .unwrap();

    assert_eq!(gateway.violations(), Vec::<String>::new());
    // Each string mapped as `inference::Stt::new` / `Llm::new` / `Tts::new` take it: the
    // suffix after the last `:` is the STT's language and the TTS's voice.
    let stt = gateway.accepted("/v1/stt");
    assert_eq!(stt.len(), 1);
    let create = stt[0].messages_of("session.create")[0].clone();
    assert_eq!(create["model"], "deepgram/nova-3");
    assert_eq!(create["settings"]["language"], "en");
    let tts = gateway.accepted("/v1/tts");
    assert_eq!(tts.len(), 1);
    let create = tts[0].messages_of("session.create")[0].clone();
    assert_eq!(create["model"], "cartesia/sonic-3");
    assert_eq!(create["voice"], VOICE);
    assert_eq!(gateway.syntheses(), 1);
    let requests = llm.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].model(), Some("openai/gpt-4.1-mini"));
    assert!(requests[0].bearer_token().is_some());
}

#[tokio::test]
async fn a_malformed_model_string_fails_start_with_a_typed_error() {
    // The grammar is checked before any credential is looked up: no environment needed.
    let session = AgentSession::builder()
        .stt("deepgram/nova 3:en")
        .llm(FakeLlm::new())
        .tts("/sonic-3")
        .build();
    let error = session.start(Agent::new("x")).await.unwrap_err();
    let SessionError::InvalidComponent(invalid) = &error else {
        panic!("a typed error: {error:?}");
    };
    // The first string that could not be used is reported.
    assert_eq!(invalid.kind, ComponentKind::Stt);
    assert_eq!(invalid.input, "deepgram/nova 3:en");
    let Some(ConfigError::InvalidModel(cause)) = invalid.cause().downcast_ref::<ConfigError>()
    else {
        panic!("the cause is the inference crate's error: {invalid:?}");
    };
    assert_eq!(cause.kind, ModelKind::Stt);
    let message = error.to_string();
    assert!(message.contains("`deepgram/nova 3:en`"), "{message}");
    assert!(message.contains("speech-to-text"), "{message}");
    assert!(message.contains("whitespace"), "{message}");
    assert!(message.contains("`provider/model[:language]`"), "{message}");
    // The session never starts: every `start` fails with the same error.
    let again = session.start(Agent::new("x")).await.unwrap_err();
    assert!(matches!(again, SessionError::InvalidComponent(_)), "{again:?}");

    let error = AgentSession::builder().llm("openai/").build().start(Agent::new("x")).await;
    let Err(SessionError::InvalidComponent(invalid)) = error else {
        panic!("{error:?}");
    };
    assert_eq!(invalid.kind, ComponentKind::Llm);
    assert!(invalid.to_string().contains("`provider/model`"), "{invalid}");
}

#[tokio::test]
async fn a_model_string_without_credentials_names_the_variables_to_set() {
    const NAME: &str = "a_model_string_without_credentials_names_the_variables_to_set";
    if in_child(NAME) {
        let session = AgentSession::builder()
            .stt(String::from("deepgram/nova-3"))
            .llm("openai/gpt-4.1-mini")
            .build();
        let error = session.start(Agent::new("x")).await.unwrap_err().to_string();
        assert!(error.contains("`deepgram/nova-3`"), "{error}");
        assert!(error.contains("LIVEKIT_INFERENCE_API_KEY or LIVEKIT_API_KEY"), "{error}");
        return;
    }
    tokio::task::spawn_blocking(|| run_child(NAME, &[])).await.unwrap();
}
