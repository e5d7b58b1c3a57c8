//! What a tool's `RunContext` gives: the session, the reply and the session's data when a
//! session made the call; none of them for a call made directly.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use agents_core::prelude::*;
use agents_core::testing::{FakeLlm, FakeLlmResponse};

#[derive(Debug, PartialEq)]
struct Caller(&'static str);

/// What the tool saw: whether it had a session and the reply's handle, and the data.
type Seen = Arc<Mutex<Option<(bool, Option<String>, Option<&'static str>)>>>;

fn inspect(seen: Seen) -> FunctionTool {
    function_tool(
        move |ctx: RunContext| {
            let seen = Arc::clone(&seen);
            async move {
                let speech = ctx.speech_handle().map(|handle| handle.id().to_owned());
                let data = ctx.userdata::<Caller>().map(|data| data.0);
                *seen.lock().unwrap() = Some((ctx.session().is_some(), speech, data));
                "seen"
            }
        },
        "inspect",
        "Look at the call's context.",
    )
    .unwrap()
}

#[tokio::test]
async fn a_call_made_by_a_session_sees_the_session_its_reply_and_its_data() {
    let seen = Seen::default();
    let llm = FakeLlm::new()
        .on_input("look", FakeLlmResponse::tool_call("inspect", serde_json::json!({})))
        .on_input("seen", FakeLlmResponse::text("Done."));
    let session = AgentSession::builder().llm(llm).userdata(Caller("alice")).build();
    session
        .start(Agent::new("Look.").with_tools([inspect(Arc::clone(&seen))]).unwrap())
        .await
        .unwrap();
    let handle = session.generate_reply(ReplyOptions::user_input("look"));
    handle.wait_for_playout().await;
    let (has_session, speech, data) = seen.lock().unwrap().take().expect("the tool ran");
    assert!(has_session);
    assert_eq!(speech.as_deref(), Some(handle.id()), "the handle of the reply that made the call");
    assert_eq!(data, Some("alice"));
    session.close().await;
}

#[tokio::test]
async fn a_call_made_directly_has_no_session() {
    let seen = Seen::default();
    let tool = inspect(Arc::clone(&seen));
    let call = FunctionCall::new("call_1", "inspect", "{}");
    tool.invoke(RunContext::new(call), "{}").await.unwrap();
    assert_eq!(*seen.lock().unwrap(), Some((false, None, None)));
}
