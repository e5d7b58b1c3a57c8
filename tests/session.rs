//! `AgentSession` in text: the reply and tool loop, hooks, handoffs, events and failures.
//!
//! Tests that check what reaches the model on the wire (messages, tool calls, `tool_choice`),
//! or that need HTTP failures (statuses, cut streams, retries), run against a
//! protocol-faithful fake OpenAI server on 127.0.0.1 through the real client; the others use
//! the in-process `FakeLlm`.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agents_core::llm::{ApiConnectOptions, ChatItem, ChatRole, CompletionUsage, ToolChoice};
use agents_core::prelude::*;
use agents_core::testing::{FakeLlm, FakeLlmResponse};
use agents_core::voice::{
    AgentMetrics, AgentState, MockTools, RunEvent, SessionError, SessionErrorEvent, SessionEvent,
};
use agents_inference::openai;
use agents_test_support::{FakeOpenAi, FakeResponse, RecordedRequest, StreamPart};
use serde_json::{Value, json};

const INSTRUCTIONS: &str = "You are a helpful assistant.";

fn fast_retries() -> ApiConnectOptions {
    ApiConnectOptions::new(2, Duration::from_millis(10), Duration::from_secs(5))
}

fn session_for(fake: &FakeOpenAi) -> AgentSessionBuilder {
    let llm = openai::Llm::builder("gpt-4.1-mini")
        .base_url(fake.base_url())
        .api_key("test-key")
        .build()
        .expect("valid client");
    AgentSession::builder().llm(llm).conn_options(fast_retries())
}

use agents_core::voice::AgentSessionBuilder;

/// A session on the in-process fake model, for the tests that need no HTTP.
fn session_with(llm: &FakeLlm) -> AgentSessionBuilder {
    AgentSession::builder().llm(llm.clone()).conn_options(fast_retries())
}

fn roles(request: &RecordedRequest) -> Vec<String> {
    request.messages().iter().map(|m| m["role"].as_str().unwrap_or("?").to_owned()).collect()
}

fn tool_choice(request: &RecordedRequest) -> Value {
    request.body["tool_choice"].clone()
}

fn last_is_tool_output(request: &RecordedRequest) -> bool {
    request.messages().last().is_some_and(|m| m["role"] == "tool")
}

struct Weather {
    calls: AtomicUsize,
    /// Signalled when `fast` finishes (a permit is kept if `slow` is not waiting yet).
    fast_done: tokio::sync::Notify,
}

#[function_tools]
impl Weather {
    /// Look up the weather in a city.
    #[function_tool]
    async fn lookup_weather(
        &self,
        /** The city. */
        city: String,
    ) -> String {
        self.calls.fetch_add(1, Ordering::SeqCst);
        format!("sunny in {city}")
    }

    /// A tool that fails.
    #[function_tool]
    async fn broken(&self) -> Result<String, ToolError> {
        Err(ToolError::message("the weather service is down"))
    }

    /// A tool that asks for no reply.
    #[function_tool]
    async fn stop(&self) -> Result<(), ToolError> {
        Err(ToolError::StopResponse)
    }

    /// A slow tool: it finishes after `fast` (or 2 s if `fast` does not run meanwhile, which
    /// is what tools run one after the other would do), then 150 ms later.
    #[function_tool]
    async fn slow(&self) -> &'static str {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.fast_done.notified()).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        "slow done"
    }

    /// A fast tool.
    #[function_tool]
    async fn fast(&self) -> &'static str {
        self.fast_done.notify_one();
        "fast done"
    }
}

fn weather_agent() -> (Arc<Weather>, Agent) {
    let weather =
        Arc::new(Weather { calls: AtomicUsize::new(0), fast_done: tokio::sync::Notify::new() });
    let agent = Agent::new(INSTRUCTIONS).with_tools(weather.function_tools()).expect("unique");
    (weather, agent)
}

#[tokio::test]
async fn a_plain_reply_sends_the_instructions_first() {
    let fake = FakeOpenAi::with_responses([FakeResponse::text("Hello there!")]).await.unwrap();
    let session = session_for(&fake).build();
    let (_, agent) = weather_agent();
    session.start(agent).await.unwrap();

    let result = session.run("hi").await.unwrap();
    let mut expect = result.expect();
    expect.next_event().is_message(ChatRole::Assistant).containing("Hello there!");
    expect.no_more_events();

    let request = &fake.requests()[0];
    assert_eq!(roles(request), ["system", "user"]);
    assert_eq!(request.messages()[0]["content"], INSTRUCTIONS);
    assert_eq!(request.messages()[1]["content"], "hi");
    assert_eq!(request.tool_names().len(), 5, "every tool is offered");
    session.close().await;
}

#[tokio::test]
async fn a_tool_call_runs_and_the_model_is_asked_again() {
    let fake = FakeOpenAi::with_handler(|request| {
        if last_is_tool_output(request) {
            FakeResponse::text("It is sunny in Paris.")
        } else {
            FakeResponse::tool_call("call_1", "lookup_weather", r#"{"city": "Paris"}"#)
        }
    })
    .await
    .unwrap();
    let session = session_for(&fake).build();
    let (weather, agent) = weather_agent();
    session.start(agent).await.unwrap();

    let result = session.run("weather in Paris?").await.unwrap();
    let mut expect = result.expect();
    expect.next_event().is_function_call("lookup_weather").with_arguments(json!({"city": "Paris"}));
    expect.next_event().is_function_call_output().with_output("sunny in Paris").is_error(false);
    expect.next_event().is_message(ChatRole::Assistant).containing("sunny in Paris");
    expect.no_more_events();
    assert_eq!(weather.calls.load(Ordering::SeqCst), 1);

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(roles(&requests[1]), ["system", "user", "assistant", "tool"]);
    assert_eq!(requests[1].messages()[2]["tool_calls"][0]["id"], "call_1");
    assert_eq!(requests[1].messages()[3]["tool_call_id"], "call_1");
    assert_eq!(tool_choice(&requests[1]), "auto");
    // Nothing is duplicated in the history.
    let history = session.history();
    let calls = history.items().iter().filter(|i| matches!(i, ChatItem::FunctionCall(_))).count();
    assert_eq!(calls, 1);
    session.close().await;
}

#[tokio::test]
async fn parallel_calls_run_concurrently_and_are_recorded_in_the_models_order() {
    // The model says "Checking." and calls `slow` then `fast`; `fast` finishes first.
    let fake = FakeOpenAi::with_handler(|request| {
        if last_is_tool_output(request) {
            FakeResponse::text("Both done.")
        } else {
            FakeResponse::stream([
                StreamPart::text("Checking."),
                StreamPart::tool_call("call_slow", "slow", "{}"),
                StreamPart::tool_call("call_fast", "fast", "{}"),
                StreamPart::finish("tool_calls"),
                StreamPart::Done,
            ])
        }
    })
    .await
    .unwrap();
    let session = session_for(&fake).build();
    let mut events = session.subscribe();
    let (_, agent) = weather_agent();
    session.start(agent).await.unwrap();
    let started = std::time::Instant::now();
    let result = session.run("do both").await.unwrap();
    // `slow` waits for `fast` to finish: run one after the other, they would take 2 s.
    assert!(started.elapsed() < Duration::from_secs(2), "the calls ran concurrently");

    // What the model said, in its order: the calls, then their outputs in the same order.
    let mut expect = result.expect();
    expect.next_event().is_message(ChatRole::Assistant).containing("Checking.");
    expect.next_event().is_function_call("slow");
    expect.next_event().is_function_call("fast");
    expect.next_event().is_function_call_output().with_output("slow done");
    expect.next_event().is_function_call_output().with_output("fast done");
    expect.next_event().is_message(ChatRole::Assistant).containing("Both done.");
    expect.no_more_events();

    // On the wire: one assistant message with its text and both calls, then the outputs.
    let follow_up = &fake.requests()[1];
    assert_eq!(roles(follow_up), ["system", "user", "assistant", "tool", "tool"]);
    let assistant = &follow_up.messages()[2];
    assert_eq!(assistant["content"], "Checking.");
    assert_eq!(assistant["tool_calls"][0]["id"], "call_slow");
    assert_eq!(assistant["tool_calls"][1]["id"], "call_fast");
    assert_eq!(follow_up.messages()[3]["tool_call_id"], "call_slow");
    assert_eq!(follow_up.messages()[4]["tool_call_id"], "call_fast");

    // Each call is announced as it starts, before the batch is done; the batch is in the
    // model's order too.
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        match event {
            SessionEvent::FunctionToolStarted { function_call } => {
                seen.push(format!("started {}", function_call.name));
            }
            SessionEvent::FunctionToolsExecuted { function_calls, function_call_outputs } => {
                let calls: Vec<&str> = function_calls.iter().map(|c| c.name.as_str()).collect();
                let outputs: Vec<&str> =
                    function_call_outputs.iter().map(|o| o.output.as_str()).collect();
                seen.push(format!("executed {calls:?} {outputs:?}"));
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        ["started slow", "started fast", r#"executed ["slow", "fast"] ["slow done", "fast done"]"#]
    );
    session.close().await;
}

#[tokio::test]
async fn tool_errors_go_back_to_the_model_and_stop_response_ends_the_turn() {
    let llm = FakeLlm::new()
        .on_input("check the weather", FakeLlmResponse::tool_call("broken", json!({})))
        .on_input(
            "the weather service is down",
            FakeLlmResponse::text("Sorry, the service is down."),
        )
        .on_input("please stop", FakeLlmResponse::tool_call("stop", json!({})));
    let session = session_with(&llm).build();
    let (_, agent) = weather_agent();
    session.start(agent).await.unwrap();

    let result = session.run("check the weather").await.unwrap();
    let mut expect = result.expect();
    expect.next_event().is_function_call("broken");
    expect
        .next_event()
        .is_function_call_output()
        .with_output("the weather service is down")
        .is_error(true);
    expect.next_event().is_message(ChatRole::Assistant);
    expect.no_more_events();

    let before = llm.requests().len();
    let result = session.run("please stop").await.unwrap();
    let mut expect = result.expect();
    expect.next_event().is_function_call("stop");
    expect.next_event().is_function_call_output().with_output("").is_error(false);
    expect.no_more_events();
    assert_eq!(llm.requests().len(), before + 1, "no reply after StopResponse");
    session.close().await;
}

#[tokio::test]
async fn after_max_tool_steps_a_final_reply_without_tools_is_forced() {
    // A model that always calls a tool, even when told not to.
    let fake = FakeOpenAi::with_handler(|request| {
        let n = request.messages().iter().filter(|m| m["role"] == "tool").count();
        FakeResponse::tool_call(format!("call_{n}"), "lookup_weather", r#"{"city": "Rome"}"#)
    })
    .await
    .unwrap();
    let session = session_for(&fake).max_tool_steps(1).build();
    let mut events = session.subscribe();
    let (weather, agent) = weather_agent();
    session.start(agent).await.unwrap();

    let result = session.run("loop forever").await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "max_tool_steps = 1: two rounds of tools, then a final reply");
    assert_eq!(tool_choice(&requests[0]), Value::Null);
    assert_eq!(tool_choice(&requests[1]), "auto");
    assert_eq!(tool_choice(&requests[2]), "none");
    assert_eq!(weather.calls.load(Ordering::SeqCst), 2, "the forced-none call is not run");

    // The call made anyway is recorded with an error output and reported, never dropped.
    let last_output = result
        .events()
        .iter()
        .rev()
        .find_map(|e| match e {
            RunEvent::FunctionCallOutput(o) => Some(o.clone()),
            _ => None,
        })
        .unwrap();
    assert!(last_output.is_error);
    assert_eq!(last_output.call_id, "call_2");
    assert!(matches!(result.errors(), [SessionErrorEvent::UnexpectedToolCalls { .. }]));
    let mut saw_error_event = false;
    while let Ok(event) = events.try_recv() {
        saw_error_event |= matches!(event, SessionEvent::Error { .. });
    }
    assert!(saw_error_event);
    session.close().await;
}

/// A tool that unlocks another: the next step of the same turn can call it.
struct Vault {
    agent: std::sync::OnceLock<Agent>,
}

#[function_tools]
impl Vault {
    /// Unlock the secret tool.
    #[function_tool]
    async fn unlock(&self) -> Result<&'static str, ToolError> {
        let agent = self.agent.get().ok_or_else(|| ToolError::message("no agent"))?;
        let secret = function_tool(|| async { "42" }, "read_secret", "Read the secret.")
            .map_err(ToolError::internal)?;
        agent.update_tools(agent.tools() + secret).await.map_err(ToolError::internal)?;
        Ok("unlocked")
    }
}

#[tokio::test]
async fn update_tools_takes_effect_at_the_next_step_of_the_same_turn() {
    let fake = FakeOpenAi::with_handler(|request| {
        let outputs = request.messages().iter().filter(|m| m["role"] == "tool").count();
        match outputs {
            0 => FakeResponse::tool_call("call_u", "unlock", "{}"),
            1 => FakeResponse::tool_call("call_r", "read_secret", "{}"),
            _ => FakeResponse::text("The secret is 42."),
        }
    })
    .await
    .unwrap();
    let session = session_for(&fake).build();
    let vault = Arc::new(Vault { agent: std::sync::OnceLock::new() });
    let agent = Agent::new(INSTRUCTIONS).with_tools(vault.function_tools()).unwrap();
    vault.agent.set(agent.clone()).unwrap();
    session.start(agent).await.unwrap();

    let result = session.run("what is the secret?").await.unwrap();
    let mut expect = result.expect();
    expect.next_event().is_function_call("unlock");
    expect.next_event().is_function_call_output().with_output("unlocked");
    expect.next_event().is_function_call("read_secret");
    expect.next_event().is_function_call_output().with_output("42").is_error(false);
    expect.next_event().is_message(ChatRole::Assistant).containing("42");
    let requests = fake.requests();
    assert_eq!(requests[0].tool_names(), ["unlock"]);
    assert_eq!(requests[1].tool_names(), ["unlock", "read_secret"]);
    session.close().await;
}

#[derive(Agent)]
#[agent(instructions = "You greet people.")]
struct Greeter {
    exits: Arc<AtomicUsize>,
}

#[async_trait]
impl AgentHooks for Greeter {
    async fn on_enter(&self, ctx: AgentContext) {
        ctx.session().generate_reply(ReplyOptions::instructions("Greet the user."));
    }

    async fn on_exit(&self, _ctx: AgentContext) {
        self.exits.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Agent)]
#[agent(instructions = "You are the front desk.")]
struct FrontDesk {
    exits: Arc<AtomicUsize>,
}

#[function_tools]
impl FrontDesk {
    /// Transfer the user to the greeter.
    #[function_tool]
    async fn transfer(&self) -> Result<Agent, ToolError> {
        Greeter { exits: self.exits.clone() }.into_agent().map_err(ToolError::internal)
    }
}

#[tokio::test]
async fn on_enter_greets_and_a_tool_can_hand_off() {
    let fake = FakeOpenAi::with_handler(|request| {
        let system = request.messages()[0]["content"].as_str().unwrap_or("").to_owned();
        if system.contains("greet") {
            FakeResponse::text("Welcome!")
        } else {
            FakeResponse::tool_call("call_t", "transfer", "{}")
        }
    })
    .await
    .unwrap();
    let session = session_for(&fake).build();
    let exits = Arc::new(AtomicUsize::new(0));
    session.start(FrontDesk { exits: exits.clone() }.into_agent().unwrap()).await.unwrap();

    let result = session.run("I'd like to be greeted").await.unwrap();
    let mut expect = result.expect();
    expect.next_event().is_function_call("transfer");
    expect.next_event().is_function_call_output().with_output("");
    expect.next_event().is_agent_handoff("greeter");
    expect.next_event().is_message(ChatRole::Assistant).containing("Welcome!");
    expect.no_more_events();
    assert_eq!(session.current_agent().unwrap().id(), "greeter");
    // The per-reply instructions of on_enter were sent last, for that reply only.
    let greeting = fake.last_request().unwrap();
    assert_eq!(greeting.messages().last().unwrap()["content"], "Greet the user.");
    session.close().await;
    assert_eq!(exits.load(Ordering::SeqCst), 1, "the greeter's on_exit ran at close");
}

#[tokio::test]
async fn llm_failures_are_reported_and_the_session_survives() {
    let fake = FakeOpenAi::with_responses([
        FakeResponse::status(500),
        FakeResponse::status(500),
        FakeResponse::status(500),
        FakeResponse::text("Back online."),
    ])
    .await
    .unwrap();
    let session = session_for(&fake).build();
    let mut events = session.subscribe();
    let (_, agent) = weather_agent();
    session.start(agent).await.unwrap();

    // The run fails, as Python's `run` raises; its result comes with the error.
    let failed = match session.run("hello?").await {
        Err(SessionError::RunFailed(failed)) => failed,
        other => panic!("expected a failed run, got {other:?}"),
    };
    assert!(failed.events().is_empty());
    match failed.errors() {
        [SessionErrorEvent::Llm(error)] => assert!(error.retryable()),
        other => panic!("expected one LLM error, got {other:?}"),
    }
    assert_eq!(fake.request_count(), 3, "one attempt and two retries");
    let mut error_events = 0;
    while let Ok(event) = events.try_recv() {
        error_events += usize::from(matches!(event, SessionEvent::Error { .. }));
    }
    assert_eq!(error_events, 1);

    let recovered = session.run("hello again").await.unwrap();
    recovered.expect().next_event().is_message(ChatRole::Assistant).containing("Back online.");
    // The failed turn's user message stays; no assistant message was invented for it.
    let history = session.history();
    let assistant_messages = history
        .items()
        .iter()
        .filter(|i| matches!(i, ChatItem::Message(m) if m.role == ChatRole::Assistant))
        .count();
    assert_eq!(assistant_messages, 1);
    session.close().await;
}

#[tokio::test]
async fn a_retried_request_duplicates_nothing() {
    let fake = FakeOpenAi::with_responses([
        FakeResponse::status(429),
        FakeResponse::text_deltas(["Hel", "lo"]),
    ])
    .await
    .unwrap();
    let session = session_for(&fake).build();
    let (_, agent) = weather_agent();
    session.start(agent).await.unwrap();
    let result = session.run("hi").await.unwrap();
    assert_eq!(result.last_message().as_deref(), Some("Hello"));
    assert!(result.errors().is_empty());
    assert_eq!(session.history().len(), 3, "handoff to the agent, user, assistant");
    session.close().await;
}

#[tokio::test]
async fn interrupt_cancels_the_reply_in_flight() {
    // A word every 200 ms.
    let llm = FakeLlm::new().then(
        FakeLlmResponse::text("one two three four")
            .with_ttft(Duration::from_millis(200))
            .with_duration(Duration::from_millis(800)),
    );
    let session = session_with(&llm).build();
    let (_, agent) = weather_agent();
    session.start(agent).await.unwrap();
    let handle = session.generate_reply(ReplyOptions::user_input("count"));
    tokio::time::sleep(Duration::from_millis(450)).await;
    session.interrupt();
    tokio::time::timeout(Duration::from_secs(2), handle.wait_for_playout()).await.unwrap();
    assert!(handle.interrupted());
    let history = session.history();
    let Some(ChatItem::Message(last)) = history.items().last() else { panic!("no message") };
    assert!(last.interrupted);
    assert!(!last.text().contains("four"), "only what came before the interruption is kept");
    session.close().await;
}

#[tokio::test]
async fn mocked_tools_replace_execution_but_not_the_schema() {
    let fake = FakeOpenAi::with_handler(|request| {
        if last_is_tool_output(request) {
            FakeResponse::text("ok")
        } else {
            FakeResponse::tool_call("call_1", "lookup_weather", r#"{"city": "Oslo"}"#)
        }
    })
    .await
    .unwrap();
    let session = session_for(&fake).build();
    let (weather, agent) = weather_agent();
    session.mock_tools(MockTools::new().with("lookup_weather", |args: Value| async move {
        format!("mocked snow in {}", args["city"].as_str().unwrap_or("?"))
    }));
    session.start(agent).await.unwrap();
    let result = session.run("weather?").await.unwrap();
    result
        .expect()
        .skip_next(1)
        .next_event()
        .is_function_call_output()
        .with_output("mocked snow in Oslo");
    assert_eq!(weather.calls.load(Ordering::SeqCst), 0);
    assert!(fake.requests()[0].tool_names().contains(&"lookup_weather"));
    session.close().await;
}

#[tokio::test]
async fn events_report_states_items_and_metrics() {
    let llm = FakeLlm::new()
        .then(FakeLlmResponse::text("Hi!").with_usage(CompletionUsage::new(12, 2, 3)));
    let session = session_with(&llm).build();
    let mut events = session.subscribe();
    let (_, agent) = weather_agent();
    session.start(agent).await.unwrap();
    session.run("hello").await.unwrap();
    session.close().await;

    let mut states = Vec::new();
    let mut items = Vec::new();
    let mut metrics = Vec::new();
    let mut closed = false;
    while let Ok(event) = events.try_recv() {
        match event {
            SessionEvent::AgentStateChanged { new_state, .. } => states.push(new_state),
            SessionEvent::ConversationItemAdded { item } => items.push(item),
            SessionEvent::MetricsCollected { metrics: AgentMetrics::Llm(m) } => metrics.push(m),
            SessionEvent::Close { .. } => closed = true,
            _ => {}
        }
    }
    assert_eq!(
        states,
        [AgentState::Listening, AgentState::Thinking, AgentState::Speaking, AgentState::Listening]
    );
    assert!(matches!(items[0], ChatItem::AgentHandoff(_)));
    assert!(matches!(&items[1], ChatItem::Message(m) if m.role == ChatRole::User));
    assert!(matches!(&items[2], ChatItem::Message(m) if m.role == ChatRole::Assistant));
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].usage.prompt_tokens, 12);
    assert_eq!(metrics[0].usage.completion_tokens, 3);
    assert!(metrics[0].ttft.is_some());
    assert!(closed);
}

#[tokio::test]
async fn misuse_is_an_error() {
    let session = session_with(&FakeLlm::new()).build();
    assert!(matches!(session.run("hi").await, Err(agents_core::voice::SessionError::NotRunning)));
    let (_, agent) = weather_agent();
    session.start(agent.clone()).await.unwrap();
    assert!(session.start(agent).await.is_err());
    let _ = ToolChoice::Auto;
    session.close().await;
}

#[tokio::test]
async fn history_of_removed_tools_is_kept_and_sent() {
    // Decision (unlike Python): calls to tools removed by `update_tools` stay in the
    // conversation with their outputs; the model is only offered the current tools.
    let fake = FakeOpenAi::with_handler(|request| {
        let users = request.messages().iter().filter(|m| m["role"] == "user").count();
        if users == 1 && !last_is_tool_output(request) {
            FakeResponse::tool_call("call_1", "lookup_weather", r#"{"city": "Lima"}"#)
        } else {
            FakeResponse::text("Noted.")
        }
    })
    .await
    .unwrap();
    let session = session_for(&fake).build();
    let (_, agent) = weather_agent();
    session.start(agent.clone()).await.unwrap();
    session.run("weather in Lima?").await.unwrap();

    agent.update_tools(Vec::new()).await.unwrap();
    session.run("thanks").await.unwrap();
    let last = fake.last_request().unwrap();
    assert_eq!(roles(&last), ["system", "user", "assistant", "tool", "assistant", "user"]);
    assert_eq!(last.messages()[2]["tool_calls"][0]["function"]["name"], "lookup_weather");
    assert_eq!(last.messages()[3]["content"], "sunny in Lima");
    assert!(last.tool_names().is_empty(), "the removed tool is no longer offered");
    assert!(last.body.get("tool_choice").is_none());
    session.close().await;
}

#[tokio::test]
async fn interrupting_while_tools_run_cancels_them_and_asks_no_reply() {
    let both = FakeLlmResponse::tool_call("fast", json!({})).with_tool_call("slow", json!({}));
    let llm = FakeLlm::new()
        .on_input("go", both)
        .on_input("fast done", FakeLlmResponse::text("should not be asked"));
    let session = session_with(&llm).build();
    let (_, agent) = weather_agent();
    session.start(agent).await.unwrap();
    let handle = session.generate_reply(ReplyOptions::user_input("go"));
    tokio::time::sleep(Duration::from_millis(60)).await;
    session.interrupt();
    tokio::time::timeout(Duration::from_secs(2), handle.wait_for_playout()).await.unwrap();
    session.wait_for_idle().await;
    assert_eq!(llm.requests().len(), 1, "no follow-up request after the interruption");
    let history = session.history();
    let outputs: Vec<String> = history
        .items()
        .iter()
        .filter_map(|i| match i {
            ChatItem::FunctionCallOutput(o) => Some(o.name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(outputs, ["fast"], "the finished call is kept, the cancelled one is not");
    session.close().await;
}

#[derive(Agent)]
#[agent(instructions = "You are a careful assistant.")]
struct Careful;

#[async_trait]
impl AgentHooks for Careful {
    async fn on_user_turn_completed(
        &self,
        _ctx: AgentContext,
        turn_ctx: &mut agents_core::llm::ChatContext,
        new_message: &agents_core::llm::ChatMessage,
    ) -> Result<(), agents_core::voice::StopResponse> {
        if new_message.text().contains("shh") {
            return Err(agents_core::voice::StopResponse);
        }
        turn_ctx.add_message(ChatRole::System, "The user is in a hurry.");
        Ok(())
    }

    fn llm_node(
        &self,
        ctx: &AgentContext,
        chat_ctx: &agents_core::llm::ChatContext,
        tools: &ToolSet,
        settings: &agents_core::voice::ModelSettings,
    ) -> agents_core::llm::LlmStream {
        let mut chat_ctx = chat_ctx.clone();
        chat_ctx.add_message(ChatRole::System, "Answer in one word.");
        agents_core::voice::default_llm_node(ctx, &chat_ctx, tools, settings)
    }
}

#[tokio::test]
async fn user_turn_hook_and_llm_node_shape_the_request() {
    let fake = FakeOpenAi::with_handler(|_| FakeResponse::text("Fine.")).await.unwrap();
    let session = session_for(&fake).build();
    session.start(Careful.into_agent().unwrap()).await.unwrap();

    let skipped = session.run("shh, don't answer").await.unwrap();
    assert!(skipped.events().is_empty());
    assert_eq!(fake.request_count(), 0, "StopResponse skips the reply");

    session.run("how are you?").await.unwrap();
    let request = fake.last_request().unwrap();
    let contents: Vec<&str> =
        request.messages().iter().map(|m| m["content"].as_str().unwrap_or("")).collect();
    assert_eq!(
        contents,
        [
            "You are a careful assistant.",
            "how are you?",
            "The user is in a hurry.",
            "Answer in one word."
        ]
    );
    // The hook's edit applied to that reply only; the history has no such message.
    let history = session.history();
    assert!(
        !history
            .items()
            .iter()
            .any(|i| matches!(i, ChatItem::Message(m) if m.text() == "The user is in a hurry."))
    );
    session.close().await;
}

struct PanicOnEnter;

#[async_trait]
impl AgentHooks for PanicOnEnter {
    async fn on_enter(&self, _ctx: AgentContext) {
        panic!("a bug in on_enter");
    }
}

#[tokio::test]
async fn a_panicking_hook_does_not_wedge_the_session() {
    let llm = FakeLlm::new().on_input("hello", FakeLlmResponse::text("Still here."));
    let session = session_with(&llm).build();
    let mut events = session.subscribe();
    let agent = Agent::from_parts("a", INSTRUCTIONS, vec![], Arc::new(PanicOnEnter)).unwrap();
    session.start(agent).await.unwrap();
    let result = tokio::time::timeout(Duration::from_secs(5), session.run("hello"))
        .await
        .expect("the session is not wedged")
        .unwrap();
    result.expect().next_event().is_message(ChatRole::Assistant).containing("Still here.");
    let mut reported = false;
    while let Ok(event) = events.try_recv() {
        reported |= matches!(event, SessionEvent::Error { .. });
    }
    assert!(reported, "the panic is reported as an error event");
    session.close().await;
}

#[tokio::test]
async fn a_cancelled_run_does_not_block_the_next_one() {
    let llm = FakeLlm::new()
        .then(FakeLlmResponse::text("too late").with_ttft(Duration::from_secs(3)))
        .then(FakeLlmResponse::text("on time"));
    let session = session_with(&llm).build();
    let (_, agent) = weather_agent();
    session.start(agent).await.unwrap();
    assert!(tokio::time::timeout(Duration::from_millis(200), session.run("slow")).await.is_err());
    session.interrupt();
    session.wait_for_idle().await;
    let result = session.run("again").await.expect("not a nested run");
    assert_eq!(result.last_message().as_deref(), Some("on time"));
    session.close().await;
}

struct Hangup;

#[function_tools]
impl Hangup {
    /// End the call.
    #[function_tool]
    async fn end_call(&self, ctx: RunContext) -> &'static str {
        if let Some(session) = ctx.session() {
            session.close().await;
        }
        "ended"
    }
}

#[tokio::test]
async fn close_from_a_tool_completes() {
    // Every request (the user's, and the tool's output if one is made) calls the tool.
    let end_call = FakeLlmResponse::tool_call("end_call", json!({}));
    let llm = FakeLlm::new().on_input("bye", end_call.clone()).on_input("ended", end_call);
    let session = session_with(&llm).build();
    let mut events = session.subscribe();
    let agent = Agent::new(INSTRUCTIONS).with_tools(Arc::new(Hangup).function_tools()).unwrap();
    session.start(agent).await.unwrap();
    session.generate_reply(ReplyOptions::user_input("bye"));
    tokio::time::timeout(Duration::from_secs(5), session.wait_for_close()).await.expect("closed");
    assert!(session.is_closed());
    let mut closed_events = 0;
    while let Ok(event) = events.try_recv() {
        closed_events += usize::from(matches!(event, SessionEvent::Close { .. }));
    }
    assert_eq!(closed_events, 1);
    session.close().await; // idempotent
}

struct CloseOnEnter;

#[async_trait]
impl AgentHooks for CloseOnEnter {
    async fn on_enter(&self, ctx: AgentContext) {
        ctx.session().close().await;
    }
}

#[tokio::test]
async fn close_from_on_enter_completes() {
    let session = session_with(&FakeLlm::new()).build();
    let agent = Agent::from_parts("a", INSTRUCTIONS, vec![], Arc::new(CloseOnEnter)).unwrap();
    session.start(agent).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), session.wait_for_close()).await.expect("closed");
    tokio::time::timeout(Duration::from_secs(5), session.wait_for_idle()).await.expect("idle");
}

struct SayGoodbye;

#[async_trait]
impl AgentHooks for SayGoodbye {
    async fn on_exit(&self, ctx: AgentContext) {
        ctx.session()
            .generate_reply(ReplyOptions::instructions("Say goodbye."))
            .wait_for_playout()
            .await;
    }
}

#[tokio::test]
async fn a_reply_asked_for_in_on_exit_is_the_old_agents() {
    let fake = FakeOpenAi::with_handler(|_| FakeResponse::text("Goodbye!")).await.unwrap();
    let session = session_for(&fake).build();
    let old =
        Agent::from_parts("old", "I am the old agent.", vec![], Arc::new(SayGoodbye)).unwrap();
    let new = Agent::new("I am the new agent.");
    session.start(old.clone()).await.unwrap();
    session.update_agent(new.clone());
    tokio::time::timeout(Duration::from_secs(5), session.wait_for_idle()).await.unwrap();
    let request = fake.last_request().unwrap();
    assert_eq!(request.messages()[0]["content"], "I am the old agent.");
    assert_eq!(old.chat_ctx().len(), 1, "the goodbye is in the old agent's conversation");
    assert!(new.chat_ctx().is_empty());
    session.close().await;
}

struct SlowOnEnter;

#[async_trait]
impl AgentHooks for SlowOnEnter {
    async fn on_enter(&self, _ctx: AgentContext) {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

#[tokio::test]
async fn interrupt_drops_a_reply_queued_behind_a_hook_at_once() {
    let llm = FakeLlm::new();
    let session = session_with(&llm).build();
    let agent = Agent::from_parts("a", INSTRUCTIONS, vec![], Arc::new(SlowOnEnter)).unwrap();
    session.start(agent).await.unwrap();
    let handle = session.generate_reply(ReplyOptions::user_input("hi"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    session.interrupt();
    tokio::time::timeout(Duration::from_millis(500), handle.wait_for_playout()).await.unwrap();
    assert!(handle.interrupted());
    assert_eq!(llm.requests().len(), 0);
    session.close().await;
}

#[tokio::test]
async fn a_session_closed_before_start_cannot_start() {
    let session = session_with(&FakeLlm::new()).build();
    session.close().await;
    assert!(session.is_closed());
    assert!(session.start(Agent::new(INSTRUCTIONS)).await.is_err());
}

/// Greets in `on_enter`, as a new user's agent does, after looking the user up.
struct GreetOnEnter;

#[async_trait]
impl AgentHooks for GreetOnEnter {
    async fn on_enter(&self, ctx: AgentContext) {
        tokio::time::sleep(Duration::from_millis(30)).await;
        ctx.session().generate_reply(ReplyOptions::instructions("Greet the user."));
    }
}

#[tokio::test]
async fn run_right_after_start_holds_only_what_its_input_caused() {
    // The greeting is slow, so it is still in flight when the run starts.
    let llm = FakeLlm::new()
        .on_input(
            "Greet the user.",
            FakeLlmResponse::text("Welcome!").with_ttft(Duration::from_millis(100)),
        )
        .on_input("hi", FakeLlmResponse::text("Hi back."));
    for delay in [Duration::ZERO, Duration::from_millis(150)] {
        let session = session_with(&llm).build();
        let agent = Agent::from_parts("a", INSTRUCTIONS, vec![], Arc::new(GreetOnEnter)).unwrap();
        session.start(agent).await.unwrap();
        tokio::time::sleep(delay).await;

        let result = session.run("hi").await.unwrap();
        let mut expect = result.expect();
        expect.next_event().is_message(ChatRole::Assistant).containing("Hi back.");
        expect.no_more_events();
        // The greeting comes before the input in the history, whatever the timing.
        let texts: Vec<String> = session
            .history()
            .items()
            .iter()
            .filter_map(|item| match item {
                ChatItem::Message(message) => Some(message.text()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["Welcome!", "hi", "Hi back."], "after {delay:?}");
        session.close().await;
    }
}

#[tokio::test]
async fn a_failed_run_is_an_error_and_its_assertions_show_why() {
    let fake = FakeOpenAi::with_responses([FakeResponse::error(
        401,
        json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}),
    )])
    .await
    .unwrap();
    let session = session_for(&fake).build();
    let (_, agent) = weather_agent();
    session.start(agent).await.unwrap();

    let error = session.run("hello?").await.unwrap_err();
    assert!(error.to_string().contains("401"), "the error says why: {error}");
    let SessionError::RunFailed(failed) = error else { panic!("expected a failed run") };
    assert!(matches!(failed.errors(), [SessionErrorEvent::Llm(_)]));

    // An assertion on the failed run shows the run's errors, not only "no events".
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        failed.expect().next_event();
    }))
    .unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("(no events)"), "{message}");
    assert!(message.contains("errors reported during the run"), "{message}");
    assert!(message.contains("401"), "{message}");
    session.close().await;
}

#[tokio::test]
async fn a_reply_cut_mid_stream_is_kept_marked_interrupted() {
    // The role chunk and two deltas, then the connection drops.
    let fake = FakeOpenAi::with_responses([FakeResponse::text_deltas([
        "The weather ",
        "in Paris ",
        "is",
    ])
    .cut_after(3)])
    .await
    .unwrap();
    let session = session_for(&fake).build();
    let (_, agent) = weather_agent();
    session.start(agent).await.unwrap();

    let Err(SessionError::RunFailed(failed)) = session.run("weather?").await else {
        panic!("the broken stream fails the run");
    };
    let message = failed.expect().next_event().is_message(ChatRole::Assistant).message().clone();
    assert_eq!(message.text(), "The weather in Paris ");
    assert!(message.interrupted, "a partial reply is marked interrupted");
    let history = session.history();
    let Some(ChatItem::Message(last)) = history.items().last() else { panic!("no message") };
    assert!(last.interrupted);
    assert_eq!(fake.request_count(), 1, "a stream that already answered is not retried");
    session.close().await;
}

#[derive(Agent)]
#[agent(instructions = "You handle billing.")]
struct Billing;

/// Tools that meet errors of other libraries and pass them on with `?`.
struct Fallible;

#[function_tools]
impl Fallible {
    /// Hand off to billing.
    #[function_tool]
    async fn to_billing(&self) -> Result<Agent, ToolError> {
        Ok(Billing.into_agent()?)
    }

    /// Build an agent with clashing tools.
    #[function_tool]
    async fn clash(&self) -> Result<String, ToolError> {
        let tool =
            function_tool(|| async { "x" }, "same", "A tool.").map_err(ToolError::internal)?;
        Agent::new("clash").with_tools(vec![tool.clone(), tool])?;
        Ok("built".to_owned())
    }

    /// Read a missing file.
    #[function_tool]
    async fn read_file(&self) -> Result<String, ToolError> {
        Ok(std::fs::read_to_string("/nonexistent/agents-tests/secret-path.txt")?)
    }

    /// Parse broken JSON.
    #[function_tool]
    async fn parse(&self) -> Result<String, ToolError> {
        let value: Value = serde_json::from_str("{\"broken\": ")?;
        Ok(value.to_string())
    }

    /// Fail with a boxed error.
    #[function_tool]
    async fn boxed(&self) -> Result<String, ToolError> {
        Ok(check_password()?)
    }
}

fn check_password() -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    Err("database password rejected".into())
}

#[tokio::test]
async fn errors_met_in_tools_convert_with_question_mark_and_stay_hidden() {
    let fake = FakeOpenAi::with_handler(|request| {
        let outputs = request.messages().iter().filter(|m| m["role"] == "tool").count();
        match outputs {
            0 => FakeResponse::tool_calls([
                ("call_1", "clash", "{}"),
                ("call_2", "read_file", "{}"),
                ("call_3", "parse", "{}"),
                ("call_4", "boxed", "{}"),
            ]),
            4 => FakeResponse::tool_call("call_5", "to_billing", "{}"),
            _ => FakeResponse::text("Billing here."),
        }
    })
    .await
    .unwrap();
    let session = session_for(&fake).build();
    let agent = Agent::new(INSTRUCTIONS).with_tools(Arc::new(Fallible).function_tools()).unwrap();
    session.start(agent).await.unwrap();

    let result = session.run("try everything").await.unwrap();
    let mut expect = result.expect();
    for name in ["clash", "read_file", "parse", "boxed"] {
        expect.next_event().is_function_call(name);
    }
    for _ in 0..4 {
        // Internal errors reach the model only as this sentence (the path, the password and
        // the parser's words stay in the logs).
        expect
            .next_event()
            .is_function_call_output()
            .with_output("An internal error occurred")
            .is_error(true);
    }
    expect.next_event().is_function_call("to_billing");
    expect.next_event().is_function_call_output().with_output("").is_error(false);
    expect.next_event().is_agent_handoff("billing");
    expect.no_more_events();
    assert_eq!(session.current_agent().unwrap().id(), "billing");
    let sent = serde_json::to_string(fake.requests()[1].messages()).unwrap();
    assert!(!sent.contains("secret-path") && !sent.contains("password"), "{sent}");
    session.close().await;
}
