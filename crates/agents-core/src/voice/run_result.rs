//! `RunResult`: what a `session.run(user_input)` produced, with assertions for tests.
//!
//! The assertions fail by panicking with a dump of the run's events, like `assert!`; they are
//! meant for tests.
#![allow(clippy::panic)]

use std::fmt::Write as _;

use serde_json::Value;

use super::events::SessionErrorEvent;
use crate::llm::{AgentHandoff, ChatItem, ChatMessage, ChatRole, FunctionCall, FunctionCallOutput};

/// One thing that happened during a run (Python's `RunEvent`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RunEvent {
    /// An agent message.
    Message(ChatMessage),
    /// A tool call.
    FunctionCall(FunctionCall),
    /// A tool call's output.
    FunctionCallOutput(FunctionCallOutput),
    /// A change of agent.
    AgentHandoff(AgentHandoff),
}

impl RunEvent {
    /// The event of a committed item; the run's own user input is not one.
    pub(crate) fn from_item(item: &ChatItem) -> Option<Self> {
        match item {
            ChatItem::Message(message) if message.role == ChatRole::User => None,
            ChatItem::Message(message) => Some(Self::Message(message.clone())),
            ChatItem::FunctionCall(call) => Some(Self::FunctionCall(call.clone())),
            ChatItem::FunctionCallOutput(output) => Some(Self::FunctionCallOutput(output.clone())),
            ChatItem::AgentHandoff(handoff) => Some(Self::AgentHandoff(handoff.clone())),
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Message(message) => format!("message ({:?}): {:?}", message.role, message.text()),
            Self::FunctionCall(call) => format!("function_call: {}({})", call.name, call.arguments),
            Self::FunctionCallOutput(output) => format!(
                "function_call_output{}: {} -> {:?}",
                if output.is_error { " (error)" } else { "" },
                output.name,
                output.output
            ),
            Self::AgentHandoff(handoff) => format!(
                "agent_handoff: {} -> {}",
                handoff.old_agent_id.as_deref().unwrap_or("(none)"),
                handoff.new_agent_id
            ),
        }
    }
}

/// The result of [`AgentSession::run`](super::AgentSession::run): the events of everything the
/// input caused, in the order of the history, and the errors that work reported.
#[derive(Debug, Clone)]
pub struct RunResult {
    events: Vec<RunEvent>,
    errors: Vec<SessionErrorEvent>,
}

impl RunResult {
    pub(crate) fn new(events: Vec<RunEvent>, errors: Vec<SessionErrorEvent>) -> Self {
        Self { events, errors }
    }

    /// The events, in order.
    pub fn events(&self) -> &[RunEvent] {
        &self.events
    }

    /// The errors reported by the work the run caused (LLM failures, disallowed tool calls,
    /// panics in hooks).
    pub fn errors(&self) -> &[SessionErrorEvent] {
        &self.errors
    }

    /// The text of the last agent message, if any.
    pub fn last_message(&self) -> Option<String> {
        self.events.iter().rev().find_map(|event| match event {
            RunEvent::Message(message) => Some(message.text()),
            _ => None,
        })
    }

    /// A cursor over the events for assertions (Python's `result.expect`). A failed
    /// assertion panics with the run's events and errors.
    ///
    /// The events are in the order of the history: the model's tool calls in the order it made
    /// them, then their outputs in the same order, whatever order the tools finished in.
    ///
    /// With the scripted model of `agents_core::testing` (the `testing` feature):
    ///
    /// ```
    /// use agents_core::llm::ChatRole;
    /// use agents_core::prelude::*;
    /// use agents_core::serde_json::json;
    /// use agents_core::testing::{FakeLlm, FakeLlmResponse};
    ///
    /// #[derive(Deserialize, JsonSchema)]
    /// struct Location { location: String }
    ///
    /// async fn lookup_weather(args: Location) -> String {
    ///     format!("sunny in {}", args.location)
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// // It calls `lookup_weather`, then reads the tool's output back.
    /// let llm = FakeLlm::new()
    ///     .on_input(
    ///         "what's the weather in Paris?",
    ///         FakeLlmResponse::tool_call("lookup_weather", json!({"location": "Paris"})),
    ///     )
    ///     .on_input("sunny in Paris", FakeLlmResponse::text("It is sunny in Paris."));
    ///
    /// let tool = function_tool(lookup_weather, "lookup_weather", "Look up the weather.")?;
    /// let agent = Agent::new("You tell the weather.").with_tools([tool])?;
    /// let session = AgentSession::builder().llm(llm).build();
    /// session.start(agent).await?;
    ///
    /// let result = session.run("what's the weather in Paris?").await?;
    /// let mut expect = result.expect();
    /// expect.next_event().is_function_call("lookup_weather").with_arguments(json!({"location": "Paris"}));
    /// // `with_output` compares the whole output.
    /// expect.next_event().is_function_call_output().with_output("sunny in Paris");
    /// expect.next_event().is_message(ChatRole::Assistant).containing("sunny");
    /// expect.no_more_events();
    /// session.close().await;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })
    /// # }
    /// ```
    pub fn expect(&self) -> RunAssert<'_> {
        RunAssert { run: self, position: 0 }
    }

    /// What failed, for [`SessionError::RunFailed`](super::SessionError::RunFailed).
    pub(crate) fn failure(&self) -> String {
        let mut text = String::from("the run's reply failed: ");
        match self.errors.as_slice() {
            [] => text.push_str("(no error was reported)"),
            [error] => text.push_str(&error.to_string()),
            errors => {
                let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
                text.push_str(&listed.join("; "));
            }
        }
        text
    }
}

/// The run's events (the one at `marker` pointed at), then its errors, which often say why
/// an event is missing.
fn dump(run: &RunResult, marker: Option<usize>) -> String {
    let mut text = String::new();
    for (index, event) in run.events.iter().enumerate() {
        let pointer = if marker == Some(index) { ">>>" } else { "   " };
        let _ = writeln!(text, "{pointer} [{index}] {}", event.describe());
    }
    if run.events.is_empty() {
        text.push_str("    (no events)\n");
    }
    if !run.errors.is_empty() {
        text.push_str("errors reported during the run:\n");
        for error in &run.errors {
            let _ = writeln!(text, "    {error}");
        }
    }
    text
}

/// A cursor over a run's events.
#[derive(Debug, Clone)]
pub struct RunAssert<'a> {
    run: &'a RunResult,
    position: usize,
}

impl<'a> RunAssert<'a> {
    /// The next event; fails when there is none.
    #[track_caller]
    pub fn next_event(&mut self) -> EventAssert<'a> {
        let Some(event) = self.run.events.get(self.position) else {
            panic!(
                "expected another event at index {}, but the run has no more:\n{}",
                self.position,
                dump(self.run, None)
            );
        };
        let index = self.position;
        self.position += 1;
        EventAssert { run: self.run, index, event }
    }

    /// Skips `count` events.
    #[track_caller]
    pub fn skip_next(&mut self, count: usize) -> &mut Self {
        if self.position + count > self.run.events.len() {
            panic!(
                "cannot skip {count} events from index {}:\n{}",
                self.position,
                dump(self.run, None)
            );
        }
        self.position += count;
        self
    }

    /// Fails when events are left.
    #[track_caller]
    pub fn no_more_events(&self) {
        if self.position < self.run.events.len() {
            panic!("expected no more events, but found:\n{}", dump(self.run, Some(self.position)));
        }
    }

    /// The first call to `name` anywhere in the run; fails when there is none.
    #[track_caller]
    pub fn contains_function_call(&self, name: &str) -> FunctionCallAssert<'a> {
        for (index, event) in self.run.events.iter().enumerate() {
            if let RunEvent::FunctionCall(call) = event
                && call.name == name
            {
                return FunctionCallAssert { run: self.run, index, call };
            }
        }
        panic!("expected a call to `{name}` in the run:\n{}", dump(self.run, None));
    }

    /// The first message from `role` anywhere in the run; fails when there is none.
    #[track_caller]
    pub fn contains_message(&self, role: ChatRole) -> MessageAssert<'a> {
        for (index, event) in self.run.events.iter().enumerate() {
            if let RunEvent::Message(message) = event
                && message.role == role
            {
                return MessageAssert { run: self.run, index, message };
            }
        }
        panic!("expected a {role:?} message in the run:\n{}", dump(self.run, None));
    }
}

/// One event, to be checked for its kind.
#[derive(Debug, Clone)]
pub struct EventAssert<'a> {
    run: &'a RunResult,
    index: usize,
    event: &'a RunEvent,
}

impl<'a> EventAssert<'a> {
    /// The event.
    pub fn event(&self) -> &'a RunEvent {
        self.event
    }

    #[track_caller]
    fn fail(&self, expected: &str) -> ! {
        panic!("expected {expected} at index {}:\n{}", self.index, dump(self.run, Some(self.index)))
    }

    /// Checks it is a message from `role`.
    #[track_caller]
    pub fn is_message(&self, role: ChatRole) -> MessageAssert<'a> {
        match self.event {
            RunEvent::Message(message) if message.role == role => {
                MessageAssert { run: self.run, index: self.index, message }
            }
            _ => self.fail(&format!("a {role:?} message")),
        }
    }

    /// Checks it is a call to `name`.
    #[track_caller]
    pub fn is_function_call(&self, name: &str) -> FunctionCallAssert<'a> {
        match self.event {
            RunEvent::FunctionCall(call) if call.name == name => {
                FunctionCallAssert { run: self.run, index: self.index, call }
            }
            _ => self.fail(&format!("a call to `{name}`")),
        }
    }

    /// Checks it is a tool output.
    #[track_caller]
    pub fn is_function_call_output(&self) -> FunctionCallOutputAssert<'a> {
        match self.event {
            RunEvent::FunctionCallOutput(output) => {
                FunctionCallOutputAssert { run: self.run, index: self.index, output }
            }
            _ => self.fail("a function call output"),
        }
    }

    /// Checks it is a handoff to the agent with id `new_agent_id`.
    #[track_caller]
    pub fn is_agent_handoff(&self, new_agent_id: &str) -> &'a AgentHandoff {
        match self.event {
            RunEvent::AgentHandoff(handoff) if handoff.new_agent_id == new_agent_id => handoff,
            _ => self.fail(&format!("a handoff to `{new_agent_id}`")),
        }
    }
}

/// A message event.
#[derive(Debug, Clone)]
pub struct MessageAssert<'a> {
    run: &'a RunResult,
    index: usize,
    message: &'a ChatMessage,
}

impl<'a> MessageAssert<'a> {
    /// The message.
    pub fn message(&self) -> &'a ChatMessage {
        self.message
    }

    /// Checks its text contains `needle`.
    #[track_caller]
    pub fn containing(&self, needle: &str) -> &Self {
        if !self.message.text().contains(needle) {
            panic!(
                "expected the message at index {} to contain {needle:?}:\n{}",
                self.index,
                dump(self.run, Some(self.index))
            );
        }
        self
    }
}

/// A function call event.
#[derive(Debug, Clone)]
pub struct FunctionCallAssert<'a> {
    run: &'a RunResult,
    index: usize,
    call: &'a FunctionCall,
}

impl<'a> FunctionCallAssert<'a> {
    /// The call.
    pub fn call(&self) -> &'a FunctionCall {
        self.call
    }

    /// Checks the call's arguments include `expected` (a subset match: every key given must
    /// be equal; other keys are allowed).
    #[track_caller]
    pub fn with_arguments(&self, expected: Value) -> &Self {
        let actual: Value = serde_json::from_str(&self.call.arguments).unwrap_or(Value::Null);
        let matches = match (&expected, &actual) {
            (Value::Object(expected), Value::Object(actual)) => {
                expected.iter().all(|(key, value)| actual.get(key) == Some(value))
            }
            _ => expected == actual,
        };
        if !matches {
            panic!(
                "expected the arguments of the call at index {} to include {expected}:\n{}",
                self.index,
                dump(self.run, Some(self.index))
            );
        }
        self
    }
}

/// A function call output event.
#[derive(Debug, Clone)]
pub struct FunctionCallOutputAssert<'a> {
    run: &'a RunResult,
    index: usize,
    output: &'a FunctionCallOutput,
}

impl<'a> FunctionCallOutputAssert<'a> {
    /// The output.
    pub fn output(&self) -> &'a FunctionCallOutput {
        self.output
    }

    /// Checks the output text is exactly `expected`.
    #[track_caller]
    pub fn with_output(&self, expected: &str) -> &Self {
        if self.output.output != expected {
            panic!(
                "expected the output at index {} to be {expected:?}:\n{}",
                self.index,
                dump(self.run, Some(self.index))
            );
        }
        self
    }

    /// Checks whether the output is an error.
    #[track_caller]
    pub fn is_error(&self, expected: bool) -> &Self {
        if self.output.is_error != expected {
            panic!(
                "expected the output at index {} to {}be an error:\n{}",
                self.index,
                if expected { "" } else { "not " },
                dump(self.run, Some(self.index))
            );
        }
        self
    }
}
