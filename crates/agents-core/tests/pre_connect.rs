//! A job's session started before `ctx.connect()` (Python's order: the agent greets from
//! `on_enter`, then the job joins the room): its voice waits for the room, and an
//! interruption while it waits ends the speech at once, with nothing heard and nothing kept.
//! Against the LiveKit test server's `/agent` endpoint; the room is never joined, so no
//! network namespace is needed.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use agents_core::llm::{ChatItem, ChatRole};
use agents_core::prelude::*;
use agents_core::testing::{FakeLlm, FakeLlmResponse, FakeStt, FakeTts, FakeVad};
use agents_core::voice::{AgentMetrics, AgentState, SessionEvent, SpeechHandle};
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
