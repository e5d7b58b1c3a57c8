//! The fixtures of the session benchmarks: one user turn of an [`AgentSession`] in text.
//!
//! A turn is `session.run(USER_INPUT)` in which the model makes two tool calls in sequence,
//! so the turn takes three LLM round trips:
//!
//! 1. the user message is last: the model calls `get_weather` ([`WEATHER_ARGUMENTS`]);
//! 2. its output is in: the model calls `get_time` ([`TIME_ARGUMENTS`]);
//! 3. both outputs are in: the model answers with text, streamed in [`FINAL_DELTAS`].
//!
//! The agent ([`turn_agent`]) offers the four `#[function_tools]` methods of
//! [`WeatherAgent`]; the two it calls are cheap (a `format!`).
//!
//! The model is either [`InstantLlm`], an in-process [`Llm`] that answers at once with a ready
//! stream (so the turn measures the framework alone), or the scripted fake OpenAI server of
//! `agents-test-support`, answered by [`fake_openai_response`] with the same three answers
//! over loopback HTTP. Both decide from the chat context of the request, so they follow the
//! session through any number of turns.
//!
//! Also here: [`bare_turn`], the same turn hand-written without the session (the baseline of
//! the in-process benchmarks), and [`TimedLlm`], a wrapper that sums the time an [`Llm`]'s
//! requests take, so that a turn's wall time minus it is the latency the session adds.
//!
//! [`AgentSession`]: agents_core::voice::AgentSession

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use agents_core::llm::{
    ChatChunk, ChatContext, ChatItem, ChatMessage, ChatOptions, ChatRole, CompletionUsage,
    FunctionCall, FunctionCallOutput, FunctionTool, Llm, LlmError, LlmStream,
};
use agents_core::prelude::*;
use agents_test_support::{FakeResponse, RecordedRequest};
use futures::{Stream, StreamExt};
use serde_json::Value;

use crate::WeatherAgent;

/// The agent's instructions.
pub const INSTRUCTIONS: &str = "You are a helpful voice assistant. Answer in one or two short \
                                sentences. Use the tools to look up the weather and the time.";

/// What the user says in every turn.
pub const USER_INPUT: &str = "What's the weather like in Paris, and what time is it there?";

/// The tool the first step calls.
pub const WEATHER_TOOL: &str = "get_weather";

/// The arguments of the first call, as a model sends them.
pub const WEATHER_ARGUMENTS: &str = r#"{"location":"Paris, France","days":1}"#;

/// The tool the second step calls.
pub const TIME_TOOL: &str = "get_time";

/// The arguments of the second call, as a model in strict mode sends them (the optional
/// argument as `null`).
pub const TIME_ARGUMENTS: &str = r#"{"timezone":"Europe/Paris","clock_24h":null}"#;

/// The final answer, in the deltas it is streamed in (about one per token, as models do).
pub const FINAL_DELTAS: [&str; 10] =
    ["It", "'s", " sunny", " in", " Paris", " today", ",", " and", " it's 14:00", " there."];

/// The final answer as one text.
pub fn final_text() -> String {
    FINAL_DELTAS.concat()
}

/// The token usage every answer reports (the numbers do not matter; their parsing does).
pub const USAGE: (u64, u64) = (120, 12);

/// What the model does next in a turn, given the conversation so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Call [`WEATHER_TOOL`] (nothing answered yet since the user spoke).
    CallWeather,
    /// Call [`TIME_TOOL`] (one tool output since the user spoke).
    CallTime,
    /// Answer with [`FINAL_DELTAS`] (two or more tool outputs since the user spoke).
    Answer,
}

impl NextStep {
    /// The step after `outputs_since_user` tool outputs followed the last user message.
    pub fn after(outputs_since_user: usize) -> Self {
        match outputs_since_user {
            0 => Self::CallWeather,
            1 => Self::CallTime,
            _ => Self::Answer,
        }
    }
}

/// The next step for a chat context: counts the tool outputs after the last user message,
/// scanning from the end (so it costs the same at any history length).
pub fn next_step(chat_ctx: &ChatContext) -> NextStep {
    let mut outputs = 0;
    for item in chat_ctx.items().iter().rev() {
        match item {
            ChatItem::FunctionCallOutput(_) => outputs += 1,
            ChatItem::Message(message) if message.role == ChatRole::User => break,
            _ => {}
        }
    }
    NextStep::after(outputs)
}

/// An in-process model that answers at once: [`chat`](Llm::chat) decides the step from the chat
/// context it receives ([`next_step`]) and returns a ready stream of its chunks (a tool call or
/// the text deltas, then the usage). It never waits, does no I/O, and costs about a
/// microsecond per request, so a turn against it measures the framework.
#[derive(Debug, Default)]
pub struct InstantLlm {
    /// Numbers the call ids, which are unique in the session as a provider's are.
    calls: AtomicU64,
}

impl InstantLlm {
    /// A new model.
    pub fn new() -> Self {
        Self::default()
    }

    /// The chunks of the answer to `chat_ctx`.
    pub fn answer(&self, chat_ctx: &ChatContext) -> Vec<Result<ChatChunk, LlmError>> {
        let usage = ChatChunk::Usage(CompletionUsage::new(USAGE.0, 0, USAGE.1));
        let call = |name: &str, arguments: &str| {
            let number = self.calls.fetch_add(1, Ordering::Relaxed);
            ChatChunk::ToolCall(FunctionCall::new(format!("call_{number}"), name, arguments))
        };
        match next_step(chat_ctx) {
            NextStep::CallWeather => vec![Ok(call(WEATHER_TOOL, WEATHER_ARGUMENTS)), Ok(usage)],
            NextStep::CallTime => vec![Ok(call(TIME_TOOL, TIME_ARGUMENTS)), Ok(usage)],
            NextStep::Answer => FINAL_DELTAS
                .iter()
                .map(|delta| Ok(ChatChunk::Text((*delta).to_owned())))
                .chain([Ok(usage)])
                .collect(),
        }
    }
}

impl Llm for InstantLlm {
    fn model(&self) -> &str {
        "instant"
    }

    fn provider(&self) -> &str {
        "agents-bench"
    }

    fn chat(
        &self,
        chat_ctx: &ChatContext,
        _tools: &[FunctionTool],
        _options: &ChatOptions,
    ) -> LlmStream {
        LlmStream::new(futures::stream::iter(self.answer(chat_ctx)))
    }
}

/// An [`Llm`] that adds up the time its requests take: from the `chat` call to the end of
/// the answer's stream. A turn's wall time minus [`LlmClock::llm_time`] is the latency
/// the session adds beyond the model (its own work between and around the requests).
pub struct TimedLlm<L> {
    inner: L,
    /// Nanoseconds spent in requests, summed.
    nanos: Arc<AtomicU64>,
}

impl<L: Llm> TimedLlm<L> {
    /// Wraps `inner`.
    pub fn new(inner: L) -> Self {
        Self { inner, nanos: Arc::new(AtomicU64::new(0)) }
    }

    /// A handle on the time spent in requests, to read while the session owns the model.
    pub fn clock(&self) -> LlmClock {
        LlmClock { nanos: self.nanos.clone() }
    }
}

/// The time a [`TimedLlm`]'s requests took, summed.
#[derive(Debug, Clone)]
pub struct LlmClock {
    nanos: Arc<AtomicU64>,
}

impl LlmClock {
    /// The time spent in requests so far.
    pub fn llm_time(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }
}

impl<L: Llm> Llm for TimedLlm<L> {
    fn model(&self) -> &str {
        self.inner.model()
    }

    fn provider(&self) -> &str {
        self.inner.provider()
    }

    fn chat(
        &self,
        chat_ctx: &ChatContext,
        tools: &[FunctionTool],
        options: &ChatOptions,
    ) -> LlmStream {
        let started = Instant::now();
        let inner = self.inner.chat(chat_ctx, tools, options);
        LlmStream::new(TimedStream { inner, started, nanos: self.nanos.clone(), done: false })
    }
}

/// A request's stream that records its duration when it ends (or is dropped before).
struct TimedStream {
    inner: LlmStream,
    started: Instant,
    nanos: Arc<AtomicU64>,
    done: bool,
}

impl TimedStream {
    fn record(&mut self) {
        if !self.done {
            self.done = true;
            let nanos = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.nanos.fetch_add(nanos, Ordering::Relaxed);
        }
    }
}

impl Stream for TimedStream {
    type Item = Result<ChatChunk, LlmError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let next = this.inner.poll_next_unpin(cx);
        if let Poll::Ready(None) = next {
            this.record();
        }
        next
    }
}

impl Drop for TimedStream {
    fn drop(&mut self) {
        self.record();
    }
}

/// The agent of the turn: [`INSTRUCTIONS`] and the four tools of a new
/// [`WeatherAgent`].
pub fn turn_agent() -> Agent {
    Agent::new(INSTRUCTIONS)
        .with_tools(Arc::new(WeatherAgent::default()).function_tools())
        .expect("the WeatherAgent's tool names are unique")
}

/// The same turn without the framework: the least work a hand-written agent loop does.
///
/// `history` is the conversation, instructions first (see [`bare_history`]); the loop appends
/// the user message, then asks `llm` with `&history` itself (no copy), runs each tool call
/// with [`ToolSet::invoke`] on a fresh snapshot of the agent's tools, appends the call and
/// its output, and stops at the first answer without calls, which it appends and returns.
/// There is no session, no task, no event and no copy of the history, so its cost stays flat
/// as the history grows; `session − bare` is what the session adds.
pub async fn bare_turn(llm: &dyn Llm, agent: &Agent, history: &mut ChatContext) -> String {
    history.push(ChatMessage::new(ChatRole::User, USER_INPUT));
    let options = ChatOptions::default();
    loop {
        let tools = agent.tools();
        let mut stream = llm.chat(history, tools.as_slice(), &options);
        let mut text = String::new();
        let mut calls = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(ChatChunk::Text(delta)) => text.push_str(&delta),
                Ok(ChatChunk::ToolCall(call)) => calls.push(call),
                _ => {}
            }
        }
        if calls.is_empty() {
            history.push(ChatMessage::new(ChatRole::Assistant, text.clone()));
            return text;
        }
        for call in calls {
            let (output, is_error) = match tools.invoke(RunContext::new(call.clone())).await {
                Ok(output) => (output.output, false),
                Err(error) => (error.llm_message(), true),
            };
            let output =
                FunctionCallOutput::new(call.call_id.clone(), call.name.clone(), output, is_error);
            history.push(call);
            history.push(output);
        }
    }
}

/// The starting history of [`bare_turn`]: the agent's instructions as a system message.
pub fn bare_history(agent: &Agent) -> ChatContext {
    let mut history = ChatContext::new();
    history.push(ChatMessage::new(ChatRole::System, agent.instructions().as_str()));
    history
}

/// How many tool outputs follow the last user message of a Chat Completions request.
pub fn outputs_since_user(request: &RecordedRequest) -> usize {
    request
        .messages()
        .iter()
        .rev()
        .take_while(|message| message["role"] != "user")
        .filter(|message| message["role"] == "tool")
        .count()
}

/// The fake OpenAI server's answer to `request`: the same three steps as [`InstantLlm`], as
/// streamed Chat Completions (tool-call arguments in fragments, a usage chunk, `[DONE]`). The
/// call ids are numbered by the request's index, so they are unique per server.
pub fn fake_openai_response(request: &RecordedRequest) -> FakeResponse {
    let id = format!("call_{}", request.index);
    let response = match NextStep::after(outputs_since_user(request)) {
        NextStep::CallWeather => FakeResponse::tool_call(id, WEATHER_TOOL, WEATHER_ARGUMENTS),
        NextStep::CallTime => FakeResponse::tool_call(id, TIME_TOOL, TIME_ARGUMENTS),
        NextStep::Answer => FakeResponse::text_deltas(FINAL_DELTAS),
    };
    response.with_usage(USAGE.0, 0, USAGE.1)
}

/// The roles of a request's messages, for checks.
pub fn roles(request: &RecordedRequest) -> Vec<String> {
    request
        .messages()
        .iter()
        .map(|message| message["role"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// The `messages` count of a request body, for checks.
pub fn message_count(body: &Value) -> usize {
    body.get("messages").and_then(Value::as_array).map_or(0, Vec::len)
}

#[cfg(test)]
mod tests {
    use agents_core::voice::{AgentSession, RunEvent};

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
    }

    fn check_turn(events: &[RunEvent]) {
        let kinds: Vec<String> = events
            .iter()
            .map(|event| match event {
                RunEvent::FunctionCall(call) => format!("call {}", call.name),
                RunEvent::FunctionCallOutput(output) => {
                    assert!(!output.is_error, "{output:?}");
                    format!("output {}", output.name)
                }
                RunEvent::Message(message) => format!("message {}", message.text()),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "call get_weather".to_owned(),
                "output get_weather".to_owned(),
                "call get_time".to_owned(),
                "output get_time".to_owned(),
                format!("message {}", final_text()),
            ]
        );
    }

    #[test]
    fn an_instant_turn_makes_two_calls_then_answers() {
        runtime().block_on(async {
            let session = AgentSession::builder().llm(InstantLlm::new()).build();
            session.start(turn_agent()).await.expect("starts");
            for turn in 1..=3 {
                let result = session.run(USER_INPUT).await.expect("runs");
                check_turn(result.events());
                assert!(result.errors().is_empty(), "{:?}", result.errors());
                // user, call, output, call, output, assistant per turn, after the handoff item.
                assert_eq!(session.history().len(), 1 + 6 * turn);
            }
            session.close().await;
        });
    }

    #[test]
    fn the_bare_turn_does_the_same_work() {
        runtime().block_on(async {
            let (llm, agent) = (InstantLlm::new(), turn_agent());
            let mut history = bare_history(&agent);
            for turn in 1..=3 {
                assert_eq!(bare_turn(&llm, &agent, &mut history).await, final_text());
                assert_eq!(history.len(), 1 + 6 * turn);
            }
            let outputs: Vec<&str> = history
                .items()
                .iter()
                .filter_map(|item| match item {
                    ChatItem::FunctionCallOutput(output) => Some(output.output.as_str()),
                    _ => None,
                })
                .collect();
            assert_eq!(
                outputs[..2],
                ["Sunny in Paris, France for the next 1 days", "14:00 in Europe/Paris"]
            );
        });
    }

    #[test]
    fn a_loopback_turn_makes_the_same_calls() {
        runtime().block_on(async {
            let fake = agents_test_support::FakeOpenAi::with_handler(fake_openai_response)
                .await
                .expect("the fake server starts");
            let llm = agents_inference::openai::Llm::builder("gpt-4.1-mini")
                .base_url(fake.base_url())
                .api_key("bench-key")
                .build()
                .expect("a valid client");
            let session = AgentSession::builder().llm(llm).build();
            session.start(turn_agent()).await.expect("starts");
            for _ in 0..2 {
                let result = session.run(USER_INPUT).await.expect("runs");
                check_turn(result.events());
                assert!(result.errors().is_empty(), "{:?}", result.errors());
            }
            session.close().await;
            let requests = fake.requests();
            assert_eq!(requests.len(), 6);
            assert_eq!(
                roles(&requests[2]),
                ["system", "user", "assistant", "tool", "assistant", "tool"]
            );
            assert_eq!(message_count(&requests[5].body), 12);
            assert_eq!(requests[0].tool_names().len(), 4);
        });
    }
}
