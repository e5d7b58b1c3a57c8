//! The agent's voice waiting in its output — for the room, in a job's session started before
//! `ctx.connect()` (Python's order: the agent greets from `on_enter`, then the job joins the
//! room), or for room in a full buffer: an interruption while it waits (`interrupt()`, or
//! the user speaking) ends the speech at once, with nothing heard and nothing kept.
//!
//! The job runs against the LiveKit test server's `/agent` endpoint; its room is never joined,
//! so no network namespace is needed.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use agents_core::audio::AudioFrame;
use agents_core::llm::{ChatItem, ChatRole};
use agents_core::prelude::*;
use agents_core::testing::{FakeLlm, FakeLlmResponse, FakeStt, FakeTts, FakeVad, silence, tone};
use agents_core::voice::{
    AgentMetrics, AgentState, AudioOutput, PlaybackFinished, SessionEvent, SpeechHandle,
};
use agents_core::worker::{BoxError, Worker, WorkerOptions};
use agents_test_support::livekit::TestServer;
use livekit_protocol::JobStatus;

const KEY: &str = "APItestkey";
const SECRET: &str = "test-secret-that-is-long-enough-for-hs256";
const WAIT: Duration = Duration::from_secs(10);

/// What happened to one interrupted greeting, as the entrypoint saw it.
#[derive(Debug)]
struct Outcome {
    how: &'static str,
    /// How long the speech took to be done after the interruption (`None`: not within 5 s).
    ended_after: Option<Duration>,
    interrupted: bool,
    /// The assistant's messages in the history afterwards.
    said: Vec<String>,
    /// Whether the TTS metrics of the speech said it was cancelled.
    tts_cancelled: Vec<bool>,
}

/// Waits until the agent is speaking: the greeting's first audio reached the room's output,
/// where it waits for the room.
async fn until_speaking(session: &AgentSession) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while session.agent_state() != AgentState::Speaking {
        assert!(tokio::time::Instant::now() < deadline, "the greeting never started speaking");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn interrupt_while_waiting(
    session: &AgentSession,
    events: &mut tokio::sync::broadcast::Receiver<SessionEvent>,
    how: &'static str,
    speech: SpeechHandle,
) -> Outcome {
    until_speaking(session).await;
    // The room is not joined: the greeting stays waiting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!speech.done(), "{how}: the greeting did not wait for the room");
    let interrupted_at = tokio::time::Instant::now();
    session.interrupt();
    let ended_after = tokio::time::timeout(Duration::from_secs(5), speech.wait_for_playout())
        .await
        .ok()
        .map(|()| interrupted_at.elapsed());
    let mut tts_cancelled = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let SessionEvent::MetricsCollected { metrics: AgentMetrics::Tts(tts) } = event {
            tts_cancelled.push(tts.cancelled);
        }
    }
    let said = session
        .history()
        .items()
        .iter()
        .filter_map(|item| match item {
            ChatItem::Message(m) if m.role == ChatRole::Assistant => Some(m.text()),
            _ => None,
        })
        .collect();
    Outcome { how, ended_after, interrupted: speech.interrupted(), said, tts_cancelled }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interruption_before_the_room_is_joined_ends_the_waiting_greeting() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let (report, mut outcomes) = tokio::sync::mpsc::unbounded_channel::<Outcome>();
    let app = AgentServer::new().rtc_session(move |ctx: JobContext| {
        let report = report.clone();
        async move {
            let session = AgentSession::builder()
                .llm(
                    FakeLlm::new()
                        .then(FakeLlmResponse::text("Welcome! How can I help you today?")),
                )
                .stt(Arc::new(FakeStt::new(["unused"])))
                .vad(Arc::new(FakeVad::new()))
                .tts(Arc::new(FakeTts::new().with_char_duration(Duration::from_millis(20))))
                .build();
            let mut events = session.subscribe();
            // Started in the job's room before `connect`: its audio output waits for the room.
            session.start(Agent::new("You are friendly.")).room(ctx.room()).await?;

            let greeting = session.say("Hello there, and welcome to the demo.");
            let outcome = interrupt_while_waiting(&session, &mut events, "say", greeting).await;
            let _ = report.send(outcome);
            let reply = session.generate_reply(ReplyOptions::default());
            let outcome =
                interrupt_while_waiting(&session, &mut events, "generate_reply", reply).await;
            let _ = report.send(outcome);
            Ok::<(), BoxError>(())
        }
    });
    let mut options = WorkerOptions::development(server.url(), KEY, SECRET);
    options.port = None;
    let worker = Worker::start(app, options).await.unwrap();
    worker.registered().await.unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let job = server.agent().new_job("demo");
    let id = job.id.clone();
    assert!(connection.dispatch(job, WAIT).await.unwrap().available);

    for how in ["say", "generate_reply"] {
        let outcome = tokio::time::timeout(WAIT, outcomes.recv()).await.unwrap().unwrap();
        assert_eq!(outcome.how, how);
        // Done at once, not when the room comes (it never does here) or the job ends.
        let ended_after = outcome.ended_after.unwrap_or_else(|| {
            panic!("{how}: the interrupted greeting still waited for the room 5 s later")
        });
        assert!(ended_after < Duration::from_secs(1), "{how}: done {ended_after:?} after");
        assert!(outcome.interrupted, "{outcome:?}");
        // Nothing was heard, so nothing was said.
        assert!(outcome.said.is_empty(), "{outcome:?}");
        assert_eq!(outcome.tts_cancelled, [true], "{outcome:?}");
    }
    connection.terminate(&id);
    server.agent().wait_for_status(&id, JobStatus::JsSuccess, WAIT).await.unwrap();
}

/// An output whose buffer never has room (a sink that stopped draining): each frame waits.
#[derive(Default)]
struct Full {
    waiting: AtomicUsize,
    cleared: AtomicBool,
    clears: AtomicUsize,
}

#[async_trait]
impl AudioOutput for Full {
    async fn capture_frame(&self, _frame: AudioFrame) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
    }
    fn flush(&self) {}
    fn clear_buffer(&self) {
        self.clears.fetch_add(1, Ordering::SeqCst);
        self.cleared.store(true, Ordering::SeqCst);
    }
    async fn wait_for_playout(&self) -> PlaybackFinished {
        PlaybackFinished::new(Duration::ZERO, self.cleared.swap(false, Ordering::SeqCst))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_speaking_ends_a_greeting_waiting_for_room_in_the_output() {
    let output = Arc::new(Full::default());
    let (microphone, mut frames) = tokio::sync::mpsc::channel::<AudioFrame>(16);
    let input = futures::stream::poll_fn(move |cx| frames.poll_recv(cx));
    let room = Room::local_with_audio(
        "full",
        Some(futures::StreamExt::boxed(input)),
        Some(output.clone() as Arc<dyn AudioOutput>),
    );
    let session = AgentSession::builder()
        .llm(FakeLlm::new())
        .stt(Arc::new(FakeStt::new(["Wait."])))
        .vad(Arc::new(FakeVad::new()))
        .tts(Arc::new(FakeTts::new().with_char_duration(Duration::from_millis(20))))
        .min_interruption_duration(Duration::from_millis(100))
        .build();
    session.start(Agent::new("You are friendly.")).room(&room).await.unwrap();

    let greeting = session.say("Hello there, and welcome to the demo.");
    until_speaking(&session).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(output.waiting.load(Ordering::SeqCst) > 0, "the greeting's audio is waiting");
    assert!(!greeting.done());

    // The user speaks over it, in real time, until the greeting ends (at most 3 s).
    let spoke_at = tokio::time::Instant::now();
    let speaking = tokio::spawn(async move {
        let speech = tone(Duration::from_secs(3), 300.0, 16_000);
        for frame in speech.into_iter().chain(silence(Duration::from_millis(500), 16_000)) {
            if microphone.send(frame).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        microphone
    });
    tokio::time::timeout(Duration::from_secs(2), greeting.wait_for_playout())
        .await
        .expect("the user spoke for 2 s and the greeting still waited in the output");
    let ended_after = spoke_at.elapsed();
    // 100 ms of speech to interrupt, and the VAD's frames: well under a second.
    assert!(ended_after < Duration::from_secs(1), "done {ended_after:?} after the user spoke");
    assert!(greeting.interrupted());
    assert!(output.clears.load(Ordering::SeqCst) > 0, "its waiting audio was cleared");
    let said: Vec<String> = session
        .history()
        .items()
        .iter()
        .filter_map(|item| match item {
            ChatItem::Message(m) if m.role == ChatRole::Assistant => Some(m.text()),
            _ => None,
        })
        .collect();
    assert!(said.is_empty(), "nothing was heard, nothing is kept: {said:?}");
    speaking.abort();
}
