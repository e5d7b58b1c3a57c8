//! [`FakeLlm`]: an LLM whose answers are scripted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;

use super::lock;
use crate::llm::{
    ChatChunk, ChatContext, ChatItem, ChatOptions, ChatRole, CompletionUsage, FunctionCall,
    FunctionTool, Llm, LlmError, LlmStream,
};

/// One scripted answer of a [`FakeLlm`] (Python's `FakeLLMResponse`): text, tool calls, their
/// timing, and optionally a failure.
///
/// The text streams word by word: the first piece after [`ttft`](Self::with_ttft), the rest
/// spread evenly until [`duration`](Self::with_duration); the tool calls follow, then the
/// usage, then the failure if there is one.
#[derive(Debug, Clone)]
pub struct FakeLlmResponse {
    text: String,
    tool_calls: Vec<(Option<String>, String, String)>,
    ttft: Duration,
    duration: Duration,
    usage: Option<CompletionUsage>,
    error: Option<LlmError>,
}

impl FakeLlmResponse {
    /// An answer of `text`.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            tool_calls: Vec::new(),
            ttft: Duration::ZERO,
            duration: Duration::ZERO,
            usage: None,
            error: None,
        }
    }

    /// An answer that calls the tool `name` with `arguments` (a JSON value, serialized as the
    /// model would), with a call id of the form `call_N`.
    pub fn tool_call(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        Self::text("").with_tool_call(name, arguments)
    }

    /// A request that fails with `error` (after [`ttft`](Self::with_ttft)).
    pub fn error(error: LlmError) -> Self {
        Self::text("").with_error(error)
    }

    /// Adds a call of the tool `name` with `arguments`, after the calls already added.
    pub fn with_tool_call(mut self, name: impl Into<String>, arguments: serde_json::Value) -> Self {
        self.tool_calls.push((None, name.into(), arguments.to_string()));
        self
    }

    /// Adds a call with its own call id and raw argument text (which need not be valid JSON:
    /// models get arguments wrong too).
    pub fn with_raw_tool_call(
        mut self,
        call_id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        self.tool_calls.push((Some(call_id.into()), name.into(), arguments.into()));
        self
    }

    /// Sets the time to the first piece of the answer (default zero).
    pub fn with_ttft(mut self, ttft: Duration) -> Self {
        self.ttft = ttft;
        self
    }

    /// Sets the time the whole answer takes (default zero; never less than the ttft).
    pub fn with_duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// Sets the token usage reported at the end (default: an estimate, four characters a
    /// token, of the conversation and the answer).
    pub fn with_usage(mut self, usage: CompletionUsage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Makes the stream fail with `error` after the text and tool calls: a stream cut
    /// mid-answer when there is text, a failed request when there is none.
    pub fn with_error(mut self, error: LlmError) -> Self {
        self.error = Some(error);
        self
    }
}

/// One request a [`FakeLlm`] received.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FakeLlmRequest {
    /// The conversation sent.
    pub chat_ctx: ChatContext,
    /// The names of the tools offered, in the order offered.
    pub tools: Vec<String>,
    /// The request's options (tool choice, ...).
    pub options: ChatOptions,
}

impl FakeLlmRequest {
    /// The text the answer was picked by: the last user or system message, or the last tool
    /// output (see [`FakeLlm::on_input`]).
    pub fn input(&self) -> Option<String> {
        last_input(&self.chat_ctx)
    }
}

/// An [`Llm`] with scripted answers (Python's `FakeLLM`). Clones share the script and the
/// record of requests, so keep one to inspect what the session sent.
///
/// Each request is answered by:
/// 1. the response given with [`on_input`](Self::on_input) for the request's last input —
///    the text of its last user or system message, or of its last tool output, whichever
///    comes last (such a response answers every request with that input);
/// 2. else the next response of [`then`](Self::then), in order (each answers one request);
/// 3. else a [`Configuration`](crate::ApiErrorKind::Configuration) error naming the input
///    nobody scripted.
#[derive(Debug, Clone, Default)]
pub struct FakeLlm {
    inner: Arc<Mutex<Script>>,
}

#[derive(Debug, Default)]
struct Script {
    by_input: Vec<(String, FakeLlmResponse)>,
    queue: VecDeque<FakeLlmResponse>,
    requests: Vec<FakeLlmRequest>,
    calls: u64,
}

impl FakeLlm {
    /// A model with nothing scripted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers every request whose last input is `input` with `response` (a later call for
    /// the same input replaces it).
    pub fn on_input(self, input: impl Into<String>, response: FakeLlmResponse) -> Self {
        {
            let mut script = lock(&self.inner);
            let input = input.into();
            script.by_input.retain(|(known, _)| *known != input);
            script.by_input.push((input, response));
        }
        self
    }

    /// Answers the next request that no [`on_input`](Self::on_input) response matches.
    pub fn then(self, response: FakeLlmResponse) -> Self {
        lock(&self.inner).queue.push_back(response);
        self
    }

    /// The requests received so far, oldest first.
    pub fn requests(&self) -> Vec<FakeLlmRequest> {
        lock(&self.inner).requests.clone()
    }

    /// How many queued ([`then`](Self::then)) responses no request has taken yet.
    pub fn remaining(&self) -> usize {
        lock(&self.inner).queue.len()
    }

    /// The chunks (each with the delay before it) answering one request.
    fn answer(&self, chat_ctx: &ChatContext, request: FakeLlmRequest) -> Vec<(Duration, Item)> {
        let mut script = lock(&self.inner);
        let input = request.input();
        script.requests.push(request);
        let found = input
            .as_deref()
            .and_then(|input| script.by_input.iter().find(|(known, _)| known == input))
            .map(|(_, response)| response.clone());
        let Some(response) = found.or_else(|| script.queue.pop_front()) else {
            let message = match input {
                Some(input) => format!(
                    "FakeLlm has no response for the input {input:?}: script one with \
                     `on_input` or `then`"
                ),
                None => "FakeLlm has no response for a request with no user message or tool \
                         output: script one with `then`"
                    .to_owned(),
            };
            return vec![(Duration::ZERO, Err(LlmError::configuration(message)))];
        };
        let pieces: Vec<&str> = response.text.split_inclusive(' ').collect();
        let count = pieces.len() + response.tool_calls.len();
        let rest = response.duration.saturating_sub(response.ttft);
        let gap = match u32::try_from(count.saturating_sub(1)) {
            Ok(gaps) if gaps > 0 => rest / gaps,
            _ => Duration::ZERO,
        };
        let mut chunks: Vec<(Duration, Item)> = Vec::with_capacity(count + 2);
        for piece in pieces {
            chunks.push((gap, Ok(ChatChunk::Text(piece.to_owned()))));
        }
        for (call_id, name, arguments) in response.tool_calls {
            let call_id = call_id.unwrap_or_else(|| {
                script.calls += 1;
                format!("call_{}", script.calls)
            });
            chunks
                .push((gap, Ok(ChatChunk::ToolCall(FunctionCall::new(call_id, name, arguments)))));
        }
        if let Some((first, _)) = chunks.first_mut() {
            *first = response.ttft;
        }
        let usage = response.usage.unwrap_or_else(|| {
            let prompt: usize = chat_ctx.items().iter().map(item_len).sum();
            CompletionUsage::new(tokens(prompt), 0, tokens(response.text.len()))
        });
        let failed = response.error.is_some();
        if !failed || !chunks.is_empty() {
            chunks.push((Duration::ZERO, Ok(ChatChunk::Usage(usage))));
        }
        if let Some(error) = response.error {
            let delay = if chunks.is_empty() { response.ttft } else { Duration::ZERO };
            chunks.push((delay, Err(error)));
        }
        chunks
    }
}

type Item = Result<ChatChunk, LlmError>;

impl Llm for FakeLlm {
    fn model(&self) -> &str {
        "fake"
    }

    fn provider(&self) -> &str {
        "agents-core testing"
    }

    fn chat(
        &self,
        chat_ctx: &ChatContext,
        tools: &[FunctionTool],
        options: &ChatOptions,
    ) -> LlmStream {
        let request = FakeLlmRequest {
            chat_ctx: chat_ctx.clone(),
            tools: tools.iter().map(|tool| tool.name().to_owned()).collect(),
            options: options.clone(),
        };
        let chunks = self.answer(chat_ctx, request);
        LlmStream::new(futures::stream::iter(chunks).then(|(delay, item)| async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            item
        }))
    }
}

/// The text of the last user or system message, or tool output, whichever comes last.
fn last_input(chat_ctx: &ChatContext) -> Option<String> {
    chat_ctx.items().iter().rev().find_map(|item| match item {
        ChatItem::Message(message)
            if matches!(message.role, ChatRole::User | ChatRole::System | ChatRole::Developer) =>
        {
            Some(message.text())
        }
        ChatItem::FunctionCallOutput(output) => Some(output.output.clone()),
        _ => None,
    })
}

/// The characters of an item, for the usage estimate.
fn item_len(item: &ChatItem) -> usize {
    match item {
        ChatItem::Message(message) => message.content.iter().map(String::len).sum(),
        ChatItem::FunctionCall(call) => call.name.len() + call.arguments.len(),
        ChatItem::FunctionCallOutput(output) => output.output.len(),
        _ => 0,
    }
}

/// Tokens for `chars` characters: four characters a token, rounded up.
fn tokens(chars: usize) -> u64 {
    u64::try_from(chars.div_ceil(4)).unwrap_or(u64::MAX)
}
