//! One MCP server flips its tool list 1,000 times while several sessions run turns that call
//! its tools: no panic, every call is made against the list its request was offered, and
//! every call is answered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_core::llm::{
    ChatChunk, ChatContext, ChatItem, ChatOptions, FunctionCall, FunctionTool, Llm, LlmStream,
    RunContext, Toolset,
};
use agents_core::prelude::*;
use agents_core::voice::SessionEvent;
use support::HttpServer;
use tokio::sync::broadcast::error::TryRecvError;

/// What one request was offered, and the tool it called.
type Request = (Vec<String>, String);

/// A model that calls `flipper` when it is offered and `echo` otherwise, then answers once
/// the tool output is there; it records what each request was offered and what it called.
#[derive(Clone, Default)]
struct Picker {
    made: Arc<Mutex<Vec<Request>>>,
    ids: Arc<AtomicU64>,
}

impl Llm for Picker {
    fn model(&self) -> &str {
        "picker"
    }
    fn provider(&self) -> &str {
        "test"
    }
    fn chat(&self, chat_ctx: &ChatContext, tools: &[FunctionTool], _: &ChatOptions) -> LlmStream {
        if matches!(chat_ctx.items().last(), Some(ChatItem::FunctionCallOutput(_))) {
            return LlmStream::new(futures::stream::iter([Ok(ChatChunk::Text("ok".into()))]));
        }
        let offered: Vec<String> = tools.iter().map(|tool| tool.name().to_owned()).collect();
        let name = if offered.iter().any(|name| name == "flipper") { "flipper" } else { "echo" };
        self.made.lock().unwrap().push((offered, name.to_owned()));
        let id = self.ids.fetch_add(1, Ordering::SeqCst);
        let call = FunctionCall::new(format!("call_{id}"), name, r#"{"text": "hi"}"#);
        LlmStream::new(futures::stream::iter([Ok(ChatChunk::ToolCall(call))]))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_list_flips_during_concurrent_turns() {
    let http = HttpServer::start().await;
    let controller = http.mcp_server().name("controller").timeout(Duration::from_secs(120));
    let controller = controller.into_toolset();
    controller.setup().await.unwrap();

    let picker = Picker::default();
    let mut sessions = Vec::new();
    for index in 0..4 {
        let toolset = http.mcp_server().name(format!("client{index}")).into_toolset();
        let session = AgentSession::builder()
            .llm(picker.clone())
            .toolsets([Arc::new(toolset.clone()) as Arc<dyn Toolset>])
            .build();
        session.start(Agent::new("x")).await.unwrap();
        sessions.push((session, toolset));
    }

    let flipping = Arc::new(AtomicBool::new(true));
    let flips = {
        let tools = controller.tools().get();
        let flipping = flipping.clone();
        tokio::spawn(async move {
            let call = FunctionCall::new("flip", "flip", r#"{"times": 1000}"#);
            let output = tools.invoke(RunContext::new(call)).await;
            flipping.store(false, Ordering::SeqCst);
            output
        })
    };

    let mut turns = tokio::task::JoinSet::new();
    for (session, _) in &sessions {
        let session = session.clone();
        let flipping = flipping.clone();
        turns.spawn(async move {
            let mut events = session.subscribe();
            let mut count = 0;
            let mut started = HashSet::new();
            let mut finished = Vec::new();
            while flipping.load(Ordering::SeqCst) || count < 10 {
                session.run("call a tool").await.expect("every turn completes");
                count += 1;
                // Drained after every turn, so that the event buffer never overflows.
                loop {
                    match events.try_recv() {
                        Ok(SessionEvent::FunctionToolStarted { function_call }) => {
                            started.insert(function_call.call_id);
                        }
                        Ok(SessionEvent::FunctionToolFinished {
                            function_call, output, ..
                        }) => {
                            finished.push((function_call.call_id, *output));
                        }
                        Ok(_) => {}
                        Err(TryRecvError::Empty) => break,
                        Err(error) => panic!("session events lost: {error}"),
                    }
                }
            }
            (count, started, finished)
        });
    }
    let mut total_calls = 0;
    while let Some(joined) = turns.join_next().await {
        let (count, started, finished) = joined.expect("no panic");
        assert!(count >= 10);
        assert_eq!(started.len(), count, "one call per turn");
        assert_eq!(finished.len(), started.len(), "every call is answered");
        for (call_id, output) in finished {
            assert!(started.contains(&call_id));
            // Never run against a list other than the one offered: the session would answer
            // `Unknown function`. A call to a tool the server has just removed is refused
            // cleanly by the server.
            assert!(!output.output.starts_with("Unknown function"), "{}", output.output);
            assert!(
                !output.is_error || output.output.contains("unknown tool `flipper`"),
                "{}",
                output.output
            );
        }
        total_calls += count;
    }
    let flipped = flips.await.expect("no panic").expect("the flips complete");
    assert_eq!(flipped.output, "flipped");

    for (offered, called) in picker.made.lock().unwrap().iter() {
        let unique: HashSet<&String> = offered.iter().collect();
        assert_eq!(unique.len(), offered.len(), "one list per request, never two mixed");
        assert!(offered.contains(called));
        assert!(offered.iter().any(|name| name == "echo"));
    }
    assert_eq!(picker.made.lock().unwrap().len(), total_calls);
    let with_flipper =
        picker.made.lock().unwrap().iter().filter(|(_, called)| called == "flipper").count();
    assert!(with_flipper > 0, "some turns ran while `flipper` was listed");
    assert!(with_flipper < total_calls, "and some while it was not");

    // After an even number of flips, every client follows to the list without `flipper`.
    for (session, toolset) in &sessions {
        tokio::time::timeout(Duration::from_secs(10), async {
            while toolset.tools().get().contains("flipper") {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the clients follow the last change");
        session.close().await;
    }
    controller.aclose().await;
}
