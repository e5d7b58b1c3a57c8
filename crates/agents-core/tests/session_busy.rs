//! The session's count of work in flight: whatever way a reply, a tool or a hook ends —
//! finished, interrupted, dropped from the queue, panicked, or its `run` cancelled — the
//! session becomes idle again, and the next `run` completes.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use agents_core::llm::{ChatContext, LlmStream};
use agents_core::prelude::*;
use agents_core::testing::{FakeLlm, FakeLlmResponse};
use agents_core::voice::{AgentState, ModelSettings, default_llm_node};

/// Long enough for any of these tests to finish many times over.
const PATIENCE: Duration = Duration::from_secs(10);

/// Waits for the session to be idle; a leaked count would make this time out.
async fn idle(session: &AgentSession) {
    tokio::time::timeout(PATIENCE, session.wait_for_idle())
        .await
        .expect("the session becomes idle: no work is counted after it ended");
}

/// Waits until the agent is in `state`.
async fn until_state(session: &AgentSession, state: AgentState) {
    tokio::time::timeout(PATIENCE, async {
        while session.agent_state() != state {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the agent reaches the state");
}

/// A reply that streams for a minute.
fn slow(text: &str) -> FakeLlmResponse {
    FakeLlmResponse::text(text).with_duration(Duration::from_secs(60))
}

/// After the test's own work, the session still answers a `run`.
async fn still_answers(session: &AgentSession) {
    let result = tokio::time::timeout(PATIENCE, session.run("still there?"))
        .await
        .expect("the run completes")
        .expect("the run succeeds");
    assert_eq!(result.last_message().as_deref(), Some("Yes."));
}

#[tokio::test]
async fn an_interrupted_reply_and_the_replies_dropped_from_the_queue_are_not_counted() {
    let llm = FakeLlm::new()
        .then(slow("A long story"))
        .on_input("still there?", FakeLlmResponse::text("Yes."));
    let session = AgentSession::builder().llm(llm).build();
    session.start(Agent::new("Tell stories.")).await.unwrap();
    let speaking = session.generate_reply(ReplyOptions::instructions("Tell a story."));
    let queued: Vec<SpeechHandle> = (0..3)
        .map(|_| session.generate_reply(ReplyOptions::instructions("Another one.")))
        .collect();
    until_state(&session, AgentState::Speaking).await;
    session.interrupt();
    idle(&session).await;
    assert!(speaking.interrupted() && speaking.done());
    assert!(queued.iter().all(|handle| handle.interrupted() && handle.done()));
    still_answers(&session).await;
    session.close().await;
}

#[tokio::test]
async fn a_run_cancelled_mid_reply_leaves_nothing_counted() {
    let llm = FakeLlm::new()
        .then(slow("Too late"))
        .on_input("still there?", FakeLlmResponse::text("Yes."));
    let session = AgentSession::builder().llm(llm).build();
    session.start(Agent::new("Answer.")).await.unwrap();
    // The run's future is dropped while its reply streams.
    assert!(tokio::time::timeout(Duration::from_millis(300), session.run("slow")).await.is_err());
    session.interrupt();
    idle(&session).await;
    still_answers(&session).await;
    session.close().await;
}

#[tokio::test]
async fn tools_cancelled_by_an_interruption_are_not_counted() {
    let started = Arc::new(tokio::sync::Notify::new());
    let notify = Arc::clone(&started);
    let hang = function_tool(
        move || {
            let notify = Arc::clone(&notify);
            async move {
                notify.notify_one();
                std::future::pending::<()>().await;
                "never"
            }
        },
        "hang",
        "Never returns.",
    )
    .unwrap();
    let llm = FakeLlm::new()
        .on_input("wait", FakeLlmResponse::tool_call("hang", serde_json::json!({})))
        .on_input("still there?", FakeLlmResponse::text("Yes."));
    let session = AgentSession::builder().llm(llm).build();
    session.start(Agent::new("Answer.").with_tools([hang]).unwrap()).await.unwrap();
    let handle = session.generate_reply(ReplyOptions::user_input("wait"));
    tokio::time::timeout(PATIENCE, started.notified()).await.expect("the tool runs");
    session.interrupt();
    idle(&session).await;
    assert!(handle.done());
    still_answers(&session).await;
    session.close().await;
}

/// Panics in its first `llm_node`, then delegates.
#[derive(Default)]
struct PanicOnce {
    panicked: AtomicBool,
}

#[async_trait]
impl AgentHooks for PanicOnce {
    fn llm_node(
        &self,
        ctx: &AgentContext,
        chat_ctx: &ChatContext,
        tools: &ToolSet,
        settings: &ModelSettings,
    ) -> LlmStream {
        if !self.panicked.swap(true, Ordering::SeqCst) {
            panic!("a bug in llm_node");
        }
        default_llm_node(ctx, chat_ctx, tools, settings)
    }
}

#[tokio::test]
async fn a_reply_that_panics_is_not_counted_once_its_failure_is_reported() {
    let llm = FakeLlm::new().on_input("still there?", FakeLlmResponse::text("Yes."));
    let session = AgentSession::builder().llm(llm).build();
    let agent = Agent::from_parts("a", "Answer.", vec![], Arc::new(PanicOnce::default())).unwrap();
    session.start(agent).await.unwrap();
    let failed = tokio::time::timeout(PATIENCE, session.run("hello"))
        .await
        .expect("the run completes although its reply panicked");
    assert!(failed.is_err(), "the panic fails the run: it was reported before the run ended");
    idle(&session).await;
    still_answers(&session).await;
    session.close().await;
}
