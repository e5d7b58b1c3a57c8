//! Audio in: espeak-ng speech in a WAV file → the real Silero VAD → `FakeStt` (scripted
//! transcripts, one per utterance) → `FakeLlm` (scripted answers, in process) → committed
//! turns, and the user speaking over the agent interrupts it.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_core::audio::{AudioFrame, read_wav_frames};
use agents_core::llm::{ChatItem, ChatRole};
use agents_core::prelude::*;
use agents_core::testing::{FakeLlm, FakeLlmResponse, FakeStt};
use agents_core::voice::{AgentMetrics, SessionEvent, UserState};
use futures::StreamExt;

/// Two sentences: "Hello there, how are you today?" then, 1.5 s later, "Voice detection works
/// fine." (see crates/agents-plugins-silero/tests/data/README.md).
fn speech() -> Vec<AudioFrame> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/agents-plugins-silero/tests/data/speech_16k.wav");
    read_wav_frames(&path, Duration::from_millis(20)).expect("the fixture reads")
}

/// The fixture's two sentences, as the STT hears them.
const FIRST: &str = "Hello there, how are you today?";
const SECOND: &str = "Voice detection works fine.";

/// The STT fake, scripted with the fixture's two sentences (non-streaming: the session's VAD
/// cuts the utterances).
fn scripted_stt() -> Arc<FakeStt> {
    Arc::new(FakeStt::new([FIRST, SECOND]))
}

/// The real Silero VAD.
fn silero() -> Arc<agents_plugins_silero::Vad> {
    Arc::new(
        agents_plugins_silero::Vad::load()
            .expect("ONNX Runtime: run `cargo xtask setup`, or set ORT_DYLIB_PATH"),
    )
}

/// The fixture's 20 ms frames, one every `every` (5 ms: four times real time).
fn paced_speech(every: Duration) -> impl futures::Stream<Item = AudioFrame> + Send + 'static {
    futures::stream::iter(speech()).then(move |frame| async move {
        tokio::time::sleep(every).await;
        frame
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoken_turns_are_committed_and_speaking_over_the_agent_interrupts_it() {
    // The first reply streams slowly, so the second sentence arrives while it is generated.
    // A word every 250 ms.
    let slow = FakeLlmResponse::text("I am doing very well, thank you for asking.")
        .with_ttft(Duration::from_millis(250))
        .with_duration(Duration::from_millis(250 * 9));
    let llm = FakeLlm::new()
        .on_input(FIRST, slow)
        .on_input(SECOND, FakeLlmResponse::text("Glad to hear it."));
    let stt = scripted_stt();
    let vad = silero();
    let session = AgentSession::builder()
        .llm(llm)
        .vad(vad)
        .stt(stt.clone())
        .min_endpointing_delay(Duration::from_millis(100))
        .min_interruption_duration(Duration::from_millis(300))
        .build();
    let mut events = session.subscribe();

    // The audio at four times real time: 20 ms frames every 5 ms.
    let audio = paced_speech(Duration::from_millis(5));
    session.start(Agent::new("You are a friendly assistant.")).audio_input(audio).await.unwrap();

    let mut user_states = Vec::new();
    let mut finals = Vec::new();
    let mut replies = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while replies < 2 {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("two replies within 30 s")
            .expect("events");
        match event {
            SessionEvent::UserStateChanged { new_state, .. } => user_states.push(new_state),
            SessionEvent::UserInputTranscribed { transcript, is_final: true } => {
                finals.push(transcript)
            }
            SessionEvent::ConversationItemAdded { item: ChatItem::Message(message) }
                if message.role == ChatRole::Assistant =>
            {
                replies += 1;
            }
            _ => {}
        }
    }
    session.wait_for_idle().await;

    assert_eq!(
        user_states,
        [UserState::Speaking, UserState::Listening, UserState::Speaking, UserState::Listening]
    );
    assert_eq!(finals, ["Hello there, how are you today?", "Voice detection works fine."]);
    let utterances = stt.utterances();
    assert_eq!(utterances.len(), 2, "one recognition per utterance");
    for utterance in &utterances {
        // Each utterance is its sentence (about 1.5–2 s) with 0.5 s of prefix padding and the
        // trailing silence the VAD waits for — never the whole file.
        assert!(
            *utterance > Duration::from_millis(1500) && *utterance < Duration::from_secs(4),
            "{utterance:?}"
        );
    }

    let history = session.history();
    let messages: Vec<(ChatRole, String, bool)> = history
        .items()
        .iter()
        .filter_map(|item| match item {
            ChatItem::Message(m) => Some((m.role, m.text(), m.interrupted)),
            _ => None,
        })
        .collect();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert_eq!(messages[0].1, "Hello there, how are you today?");
    assert_eq!(messages[1].0, ChatRole::Assistant);
    assert!(
        messages[1].2,
        "the slow first reply was interrupted by the user speaking: {messages:?}"
    );
    assert!(!messages[1].1.contains("asking"), "only what came before the interruption is kept");
    assert_eq!(messages[2].1, "Voice detection works fine.");
    assert_eq!(messages[3], (ChatRole::Assistant, "Glad to hear it.".to_owned(), false));
    session.close().await;
}

/// A non-streaming TTS double at 24 kHz: `ToneTts::PerCharacter`, a 440 Hz tone, 80 ms per
/// character; `ToneTts::Timed`, 3 s of audio with word timings, the first word taking 1.5 s
/// and the others sharing the rest evenly (the timings come on the second frame).
#[derive(Clone, Copy)]
enum ToneTts {
    PerCharacter,
    Timed,
}

#[async_trait]
impl agents_core::tts::Tts for ToneTts {
    fn model(&self) -> &str {
        "tone"
    }

    fn provider(&self) -> &str {
        "test"
    }

    fn capabilities(&self) -> agents_core::tts::TtsCapabilities {
        // Not streaming; aligned transcripts for the timed one.
        agents_core::tts::TtsCapabilities::new(false, matches!(self, ToneTts::Timed))
    }

    fn sample_rate(&self) -> u32 {
        24_000
    }

    fn num_channels(&self) -> u16 {
        1
    }

    fn synthesize(
        &self,
        text: &str,
        _: &agents_core::tts::TtsOptions,
    ) -> agents_core::tts::ChunkedStream {
        if let ToneTts::Timed = self {
            return timed_speech(text);
        }
        let samples = text.chars().count() * 24_000 * 80 / 1000;
        let tone: Vec<i16> = (0..samples)
            .map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / 24_000.0).sin() * 8000.0) as i16)
            .collect();
        let frames: Vec<_> = tone
            .chunks(480)
            .map(|chunk| {
                Ok(agents_core::tts::SynthesizedAudio::new(
                    AudioFrame::new(chunk.to_vec(), 24_000, 1).unwrap(),
                ))
            })
            .collect();
        agents_core::tts::ChunkedStream::new(text, futures::stream::iter(frames))
    }
}

fn timed_speech(text: &str) -> agents_core::tts::ChunkedStream {
    let words: Vec<&str> = text.split_whitespace().collect();
    let rest = 1.5 / (words.len().max(2) - 1) as f64;
    let timed: Vec<_> = words
        .iter()
        .enumerate()
        .map(|(i, word)| {
            let (start, end) = if i == 0 {
                (0.0, 1.5)
            } else {
                (1.5 + rest * (i - 1) as f64, 1.5 + rest * i as f64)
            };
            agents_core::tts::TimedString::new(format!("{word} "), start, end)
        })
        .collect();
    let frames: Vec<_> = (0..30)
        .map(|i| {
            let frame = agents_core::tts::SynthesizedAudio::new(
                AudioFrame::new(vec![1000; 2400], 24_000, 1).unwrap(),
            );
            Ok(if i == 1 { frame.with_timed_transcript(timed.clone()) } else { frame })
        })
        .collect();
    agents_core::tts::ChunkedStream::new(text, futures::stream::iter(frames))
}

/// An audio output double that "plays" at `speed` times real time and records what it got.
struct PlayingOutput {
    speed: f64,
    state: Mutex<Playout>,
}

#[derive(Default)]
struct Playout {
    captured: Duration,
    started: Option<tokio::time::Instant>,
    flushed: bool,
    cleared_at: Option<Duration>,
    first_frame_at: Option<tokio::time::Instant>,
    total: Duration,
}

impl PlayingOutput {
    fn played(state: &Playout, speed: f64) -> Duration {
        let elapsed = state.started.map_or(Duration::ZERO, |s| s.elapsed().mul_f64(speed));
        elapsed.min(state.captured)
    }
}

#[async_trait]
impl agents_core::voice::AudioOutput for PlayingOutput {
    async fn capture_frame(&self, frame: AudioFrame) {
        let mut state = self.state.lock().unwrap();
        let now = tokio::time::Instant::now();
        state.started.get_or_insert(now);
        state.first_frame_at.get_or_insert(now);
        state.captured += frame.duration();
        state.total += frame.duration();
    }

    fn flush(&self) {
        self.state.lock().unwrap().flushed = true;
    }

    fn clear_buffer(&self) {
        let mut state = self.state.lock().unwrap();
        let played = Self::played(&state, self.speed);
        state.cleared_at = Some(played);
    }

    async fn wait_for_playout(&self) -> agents_core::voice::PlaybackFinished {
        loop {
            {
                let mut state = self.state.lock().unwrap();
                let finished = if let Some(position) = state.cleared_at {
                    Some(agents_core::voice::PlaybackFinished::new(position, true))
                } else if state.flushed && Self::played(&state, self.speed) >= state.captured {
                    Some(agents_core::voice::PlaybackFinished::new(state.captured, false))
                } else {
                    None
                };
                if let Some(finished) = finished {
                    let (first, total) = (state.first_frame_at, state.total);
                    *state = Playout { first_frame_at: first, total, ..Playout::default() };
                    return finished;
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_speaks_and_an_interrupted_reply_keeps_only_what_was_heard() {
    // The first turn calls the tool, whose output ("12:00") gets the long answer.
    let llm = FakeLlm::new()
        .on_input(FIRST, FakeLlmResponse::tool_call("current_time", serde_json::json!({})))
        .on_input(
            "12:00",
            FakeLlmResponse::text("It is noon, and I am doing very well, thank you for asking."),
        )
        .on_input(SECOND, FakeLlmResponse::text("Glad to hear it."));
    let stt = scripted_stt();
    let vad = silero();
    let session = AgentSession::builder()
        .llm(llm)
        .vad(vad)
        .stt(stt)
        .tts(Arc::new(ToneTts::PerCharacter))
        .min_endpointing_delay(Duration::from_millis(100))
        .min_interruption_duration(Duration::from_millis(300))
        .build();
    let output = Arc::new(PlayingOutput { speed: 4.0, state: Mutex::new(Playout::default()) });
    let mut events = session.subscribe();
    let time_tool =
        function_tool(|| async { "12:00" }, "current_time", "The current time.").unwrap();
    let agent = Agent::new("You are a friendly assistant.").with_tools([time_tool]).unwrap();
    let audio = paced_speech(Duration::from_millis(5));
    session.start(agent).audio_input(audio).audio_output(output.clone()).await.unwrap();

    let mut first_end_of_speech = None;
    let mut tools_executed = false;
    let mut metrics = std::collections::BTreeSet::new();
    let mut replies = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while replies < 2 {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("in time")
            .expect("events");
        match event {
            SessionEvent::UserStateChanged { new_state: UserState::Listening, .. } => {
                first_end_of_speech.get_or_insert(tokio::time::Instant::now());
            }
            SessionEvent::FunctionToolsExecuted { .. } => tools_executed = true,
            SessionEvent::MetricsCollected { metrics: collected } => {
                metrics.insert(match collected {
                    AgentMetrics::Llm(_) => "llm",
                    AgentMetrics::Tts(m) => {
                        assert!(m.ttfb.is_some() && m.characters > 0, "{m:?}");
                        "tts"
                    }
                    AgentMetrics::EndOfUtterance(m) => {
                        assert!(m.end_of_utterance_delay >= Duration::from_millis(100), "{m:?}");
                        "eou"
                    }
                    AgentMetrics::Vad(m) => {
                        assert_eq!(m.inference_count, 31);
                        "vad"
                    }
                    AgentMetrics::Turn(m) => {
                        assert!(m.e2e_latency >= Duration::from_millis(100), "{m:?}");
                        "turn"
                    }
                    AgentMetrics::Stt(m) => {
                        // The scripted STT is non-streaming: one request per utterance, the
                        // utterance with its VAD padding.
                        assert!(!m.streamed, "{m:?}");
                        assert!(m.audio_duration > Duration::from_millis(500), "{m:?}");
                        assert!(m.duration > Duration::ZERO, "{m:?}");
                        "stt"
                    }
                    _ => "other",
                });
            }
            SessionEvent::ConversationItemAdded { item: ChatItem::Message(message) }
                if message.role == ChatRole::Assistant =>
            {
                replies += 1;
            }
            _ => {}
        }
    }
    session.wait_for_idle().await;
    assert!(tools_executed, "the tool ran");
    assert_eq!(
        metrics.into_iter().collect::<Vec<_>>(),
        ["eou", "llm", "stt", "tts", "turn", "vad"]
    );

    let (first_frame_at, total) = {
        let state = output.state.lock().unwrap();
        (state.first_frame_at, state.total)
    };
    let first_frame_at = first_frame_at.expect("the agent spoke");
    assert!(first_frame_at > first_end_of_speech.unwrap(), "the agent spoke after the user's turn");
    assert!(total > Duration::from_secs(1), "agent audio was produced: {total:?}");

    let history = session.history();
    let replies: Vec<(String, bool)> = history
        .items()
        .iter()
        .filter_map(|item| match item {
            ChatItem::Message(m) if m.role == ChatRole::Assistant => {
                Some((m.text(), m.interrupted))
            }
            _ => None,
        })
        .collect();
    let (first, interrupted) = &replies[0];
    assert!(*interrupted, "the user spoke over the first reply: {replies:?}");
    let full = "It is noon, and I am doing very well, thank you for asking.";
    assert!(
        full.starts_with(first.as_str()) && first.len() < full.len(),
        "kept what was heard: {first:?}"
    );
    assert!(!first.is_empty());
    assert_eq!(replies[1], ("Glad to hear it.".to_owned(), false));
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn say_speaks_through_the_tts() {
    let session = AgentSession::builder().tts(Arc::new(ToneTts::PerCharacter)).build();
    let output = Arc::new(PlayingOutput { speed: 50.0, state: Mutex::new(Playout::default()) });
    session.start(Agent::new("x")).audio_output(output.clone()).await.unwrap();
    let handle = session.say("Welcome to the show.");
    tokio::time::timeout(Duration::from_secs(10), handle.wait_for_playout()).await.unwrap();
    let total = output.state.lock().unwrap().total;
    // 20 characters at 80 ms each.
    assert_eq!(total, Duration::from_millis(1600));
    let last = session.history().items().last().cloned();
    assert!(
        matches!(last, Some(ChatItem::Message(m)) if m.text() == "Welcome to the show." && !m.interrupted)
    );
    session.close().await;
}

#[tokio::test]
async fn audio_output_needs_a_tts() {
    let session = AgentSession::builder().build();
    let output = Arc::new(PlayingOutput { speed: 1.0, state: Mutex::new(Playout::default()) });
    let error = session.start(Agent::new("x")).audio_output(output).await.unwrap_err();
    assert!(error.to_string().contains("AgentSession::builder().tts(...)"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_talks_with_wav_files() {
    let server = AgentServer::new().rtc_session(move |ctx: JobContext| {
        async move {
            let llm = FakeLlm::new()
                .on_input(FIRST, FakeLlmResponse::text("Nice to hear you."))
                .on_input(SECOND, FakeLlmResponse::text("Nice to hear you."));
            let stt = scripted_stt();
            let session = AgentSession::builder()
                .llm(llm)
                .vad(Arc::new(agents_plugins_silero::Vad::load()?))
                .stt(stt)
                .tts(Arc::new(ToneTts::PerCharacter))
                // `--fast` counts the delay on the file's timeline: it ends within the 1.5 s
                // pause between the sentences, which are two turns, as in real time.
                .min_endpointing_delay(Duration::from_secs(1))
                .build();
            session.start(Agent::new("You are a friendly assistant.")).room(ctx.room()).await?;
            ctx.connect().await?;
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        }
    });
    let input = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/agents-plugins-silero/tests/data/speech_16k.wav");
    let output =
        std::env::temp_dir().join(format!("agents-console-test-{}.wav", std::process::id()));
    let mut transcript = Vec::new();
    agents_core::cli::run_console_files(&server, &input, Some(&output), true, &mut transcript)
        .await
        .expect("the console runs");
    let transcript = String::from_utf8(transcript).unwrap();
    assert_eq!(
        transcript,
        "● You: Hello there, how are you today?\n● Agent: Nice to hear you.\n\
         ● You: Voice detection works fine.\n● Agent: Nice to hear you.\n"
    );
    let spoken = agents_core::audio::read_wav(&output).expect("the agent's audio");
    std::fs::remove_file(&output).ok();
    assert_eq!(spoken.sample_rate(), 24_000);
    // "Nice to hear you." twice: 17 characters at 80 ms each.
    assert_eq!(spoken.duration(), Duration::from_millis(2 * 1360));
}

/// The end-to-end latency of the first spoken turn, and how many LLM requests were made.
async fn first_turn_latency(preemptive: bool) -> (Duration, usize) {
    // The model takes 400 ms to answer. The endpointing delay counts from when the user last
    // spoke (Python's `last_speaking_time`): the VAD reports the end of speech after 0.55 s of
    // silence, so a 900 ms delay ends the turn 350 ms after that report. The audio runs at
    // twice real time, so the 1.5 s pause between the sentences (0.75 s) keeps the two turns
    // apart.
    let sure = FakeLlmResponse::text("Sure.").with_ttft(Duration::from_millis(400));
    let llm = FakeLlm::new().on_input(FIRST, sure.clone()).on_input(SECOND, sure);
    let stt = scripted_stt();
    let session = AgentSession::builder()
        .llm(llm.clone())
        .vad(silero())
        .stt(stt)
        .tts(Arc::new(ToneTts::PerCharacter))
        .min_endpointing_delay(Duration::from_millis(900))
        .preemptive_generation(preemptive)
        .build();
    let output = Arc::new(PlayingOutput { speed: 50.0, state: Mutex::new(Playout::default()) });
    let mut events = session.subscribe();
    let audio = paced_speech(Duration::from_millis(10));
    session.start(Agent::new("Be brief.")).audio_input(audio).audio_output(output).await.unwrap();
    let latency = loop {
        let event =
            tokio::time::timeout(Duration::from_secs(20), events.recv()).await.unwrap().unwrap();
        if let SessionEvent::MetricsCollected { metrics: AgentMetrics::Turn(turn) } = event {
            break turn.e2e_latency;
        }
    };
    session.wait_for_audio_input().await;
    session.wait_for_idle().await;
    session.close().await;
    (latency, llm.requests().len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preemptive_generation_starts_the_llm_before_the_end_of_the_turn() {
    let (without, requests_without) = first_turn_latency(false).await;
    let (with, requests_with) = first_turn_latency(true).await;
    // Without it, the 350 ms left of the endpointing delay and the 400 ms answer add up; with
    // it, they overlap.
    assert!(without >= Duration::from_millis(800), "{without:?}");
    assert!(with < without - Duration::from_millis(250), "with {with:?}, without {without:?}");
    // The prepared answer was used, not asked for again.
    assert_eq!(requests_without, 2);
    assert_eq!(requests_with, 2);
}

/// An output that plays nothing by itself: cleared, it reports `position` played.
struct StoppedAt {
    position: Duration,
    captured: Mutex<Duration>,
    cleared: tokio::sync::Notify,
}

#[async_trait]
impl agents_core::voice::AudioOutput for StoppedAt {
    async fn capture_frame(&self, frame: AudioFrame) {
        *self.captured.lock().unwrap() += frame.duration();
    }

    fn flush(&self) {}

    fn clear_buffer(&self) {
        self.cleared.notify_one();
    }

    async fn wait_for_playout(&self) -> agents_core::voice::PlaybackFinished {
        self.cleared.notified().await;
        agents_core::voice::PlaybackFinished::new(self.position, true)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_reply_keeps_the_words_the_tts_timed_before_the_cut() {
    let session = AgentSession::builder().tts(Arc::new(ToneTts::Timed)).build();
    let output = Arc::new(StoppedAt {
        position: Duration::from_millis(1600),
        captured: Mutex::new(Duration::ZERO),
        cleared: tokio::sync::Notify::new(),
    });
    session.start(Agent::new("x")).audio_output(output.clone()).await.unwrap();
    let text = "It is noon, and I am doing very well, thank you for asking.";
    let handle = session.say(text);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while *output.captured.lock().unwrap() < Duration::from_secs(3) {
        assert!(tokio::time::Instant::now() < deadline, "the TTS audio was captured");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    session.interrupt();
    tokio::time::timeout(Duration::from_secs(10), handle.wait_for_playout()).await.unwrap();
    assert!(handle.interrupted());
    let last = session.history().items().last().cloned();
    // 1.6 s of 3 s played: "It" (ends at 1.5 s) was heard, "is" (ends at 1.625 s) was not.
    // Without timings, the share of the audio would have kept about half the text.
    match last {
        Some(ChatItem::Message(m)) => {
            assert_eq!((m.text().as_str(), m.interrupted), ("It", true));
        }
        other => panic!("the interrupted reply is in the history: {other:?}"),
    }
    session.close().await;
}
