//! A spoken session on `agents_core::testing`'s in-process fakes only: audio in through the
//! fake VAD and STT, the fake LLM, the fake TTS into the fake speaker — no network, no model.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use agents_core::audio::AudioFrame;
use agents_core::llm::{ChatItem, ChatRole};
use agents_core::prelude::*;
use agents_core::testing::{
    FakeAudioOutput, FakeLlm, FakeLlmResponse, FakeStt, FakeTts, FakeVad, silence, tone,
};

/// Two utterances (a tone each) separated by silence long enough to end each turn, paced at
/// four times real time.
fn two_utterances() -> impl futures::Stream<Item = AudioFrame> + Send + 'static {
    use futures::StreamExt;
    let rate = 16_000;
    let frames: Vec<AudioFrame> = tone(Duration::from_millis(600), 300.0, rate)
        .into_iter()
        .chain(silence(Duration::from_millis(2_500), rate))
        .chain(tone(Duration::from_millis(400), 300.0, rate))
        .chain(silence(Duration::from_millis(2_500), rate))
        .collect();
    futures::stream::iter(frames).then(|frame| async move {
        tokio::time::sleep(Duration::from_micros(2_500)).await;
        frame
    })
}

fn llm() -> FakeLlm {
    FakeLlm::new()
        .on_input(
            "What time is it?",
            FakeLlmResponse::tool_call("current_time", serde_json::json!({})),
        )
        .on_input("12:00", FakeLlmResponse::text("It is noon."))
        .on_input("Thanks.", FakeLlmResponse::text("You are welcome."))
}

fn agent() -> Agent {
    let time = function_tool(|| async { "12:00" }, "current_time", "The current time.").unwrap();
    Agent::new("You are a friendly assistant.").with_tools([time]).unwrap()
}

/// The user's and the agent's messages, in order.
fn transcript(session: &AgentSession) -> Vec<(ChatRole, String)> {
    session
        .history()
        .items()
        .iter()
        .filter_map(|item| match item {
            ChatItem::Message(m) if m.role != ChatRole::System => Some((m.role, m.text())),
            _ => None,
        })
        .collect()
}

async fn spoken_session(stt: FakeStt, vad: Option<FakeVad>) {
    let llm = llm();
    let tts = FakeTts::new().with_char_duration(Duration::from_millis(10));
    let output = Arc::new(FakeAudioOutput::with_speed(4.0));
    let mut builder = AgentSession::builder()
        .llm(llm.clone())
        .stt(Arc::new(stt.clone()))
        .tts(Arc::new(tts.clone()))
        .min_endpointing_delay(Duration::from_millis(200));
    if let Some(vad) = vad {
        builder = builder.vad(Arc::new(vad));
    }
    let session = builder.build();
    session
        .start(agent())
        .audio_input(two_utterances())
        .audio_output(output.clone())
        .await
        .unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while transcript(&session).len() < 4 {
        assert!(tokio::time::Instant::now() < deadline, "turns so far: {:?}", transcript(&session));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    session.wait_for_idle().await;
    assert_eq!(
        transcript(&session),
        [
            (ChatRole::User, "What time is it?".to_owned()),
            (ChatRole::Assistant, "It is noon.".to_owned()),
            (ChatRole::User, "Thanks.".to_owned()),
            (ChatRole::Assistant, "You are welcome.".to_owned()),
        ]
    );
    let inputs: Vec<Option<String>> = llm.requests().iter().map(|r| r.input()).collect();
    assert_eq!(
        inputs,
        [Some("What time is it?".into()), Some("12:00".into()), Some("Thanks.".into())]
    );
    assert_eq!(tts.texts(), ["It is noon.", "You are welcome."]);
    // 27 characters at 10 ms each, spoken whole.
    assert_eq!(output.captured(), Duration::from_millis(270));
    assert!(
        output.segments().iter().all(|segment| !segment.interrupted),
        "{:?}",
        output.segments()
    );
    assert_eq!(stt.remaining(), 0);
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_session_with_a_non_streaming_stt_and_a_vad() {
    spoken_session(FakeStt::new(["What time is it?", "Thanks."]), Some(FakeVad::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_session_with_a_streaming_stt_needs_no_vad() {
    spoken_session(FakeStt::streaming(["What time is it?", "Thanks."]), None).await;
}

/// `console --input-file --fast` with a streaming STT that needs audio after the VAD's end of
/// speech to finalize (its own silence rule is longer): the file must keep coming, and each
/// turn still gets its own reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_file_input_with_a_streaming_stt_keeps_its_turns() {
    let rate = 16_000;
    let speech: Vec<AudioFrame> = tone(Duration::from_millis(500), 300.0, rate)
        .into_iter()
        .chain(silence(Duration::from_millis(1_500), rate))
        .chain(tone(Duration::from_millis(500), 300.0, rate))
        .chain(silence(Duration::from_millis(1_500), rate))
        .collect();
    let input = std::env::temp_dir().join(format!("agents-fast-stt-{}.wav", std::process::id()));
    agents_core::audio::write_wav(&input, speech.iter()).unwrap();

    let server = AgentServer::new().rtc_session(|ctx: JobContext| async move {
        let llm = FakeLlm::new()
            .on_input("one", FakeLlmResponse::text("First."))
            .on_input("two", FakeLlmResponse::text("Second."));
        let stt = FakeStt::streaming(["one", "two"])
            .with_vad(FakeVad::new().with_min_silence_duration(Duration::from_millis(600)));
        let session = AgentSession::builder()
            .llm(llm)
            .vad(Arc::new(FakeVad::new()))
            .stt(Arc::new(stt))
            .build();
        session.start(agent()).room(ctx.room()).await?;
        ctx.connect().await?;
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    });
    let mut transcript = Vec::new();
    let run = agents_core::cli::run_console_files(&server, &input, None, true, &mut transcript);
    let result = tokio::time::timeout(Duration::from_secs(30), run).await.expect("in time");
    std::fs::remove_file(&input).ok();
    result.unwrap();
    assert_eq!(
        String::from_utf8(transcript).unwrap(),
        "● You: one\n● Agent: First.\n● You: two\n● Agent: Second.\n"
    );
}

/// Hooks whose `llm_node` panics.
struct PanickingLlmNode;

impl AgentHooks for PanickingLlmNode {
    fn llm_node(
        &self,
        _ctx: &AgentContext,
        _chat_ctx: &agents_core::llm::ChatContext,
        _tools: &agents_core::llm::ToolSet,
        _settings: &agents_core::agent::ModelSettings,
    ) -> agents_core::llm::LlmStream {
        panic!("llm_node fell over");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_llm_node_during_preemptive_generation_does_not_stop_the_listening() {
    let session = AgentSession::builder()
        .llm(FakeLlm::new())
        .stt(Arc::new(FakeStt::new(["What time is it?", "Thanks."])))
        .vad(Arc::new(FakeVad::new()))
        .min_endpointing_delay(Duration::from_millis(200))
        .preemptive_generation(true)
        .build();
    let agent = Agent::from_parts("x", "x", vec![], Arc::new(PanickingLlmNode)).unwrap();
    session.start(agent).audio_input(two_utterances()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(20), session.wait_for_audio_input())
        .await
        .expect("the audio input ends");
    let users: Vec<String> = transcript(&session)
        .into_iter()
        .filter(|(role, _)| *role == ChatRole::User)
        .map(|(_, text)| text)
        .collect();
    assert_eq!(users, ["What time is it?", "Thanks."], "both turns were heard");
    session.close().await;
}
