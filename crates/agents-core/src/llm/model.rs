//! The LLM abstraction: a chat request, its streamed answer, and what can go wrong.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use super::{ChatContext, FunctionCall, FunctionTool};
use crate::types::ApiConnectOptions;

/// A language model that continues a chat (Python's `llm.LLM`).
///
/// Object-safe: sessions hold an `Arc<dyn Llm>`. `chat` starts a request and returns its
/// stream at once; the request runs as the stream is polled.
pub trait Llm: Send + Sync + 'static {
    /// The model name, e.g. `openai/gpt-4.1-mini`.
    fn model(&self) -> &str;

    /// The provider, e.g. `livekit` or `openai`.
    fn provider(&self) -> &str;

    /// Asks the model to continue `chat_ctx`, offering `tools`.
    fn chat(
        &self,
        chat_ctx: &ChatContext,
        tools: &[FunctionTool],
        options: &ChatOptions,
    ) -> LlmStream;
}

/// Which tools the model may call (Python's `ToolChoice`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// The model must call a tool.
    Required,
    /// The model must not call tools.
    None,
    /// The model must call this tool.
    Named(String),
}

/// Options of one chat request.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ChatOptions {
    /// Which tools the model may call; `None` leaves it to the provider's default.
    pub tool_choice: Option<ToolChoice>,
    /// Whether the model may call several tools at once; `None` leaves it to the provider.
    pub parallel_tool_calls: Option<bool>,
    /// Retries and timeouts; `None` leaves them to the client (its own setting, else
    /// [`ApiConnectOptions::default`]).
    pub conn_options: Option<ApiConnectOptions>,
}

impl ChatOptions {
    /// Sets the tool choice.
    pub fn with_tool_choice(mut self, tool_choice: ToolChoice) -> Self {
        self.tool_choice = Some(tool_choice);
        self
    }

    /// Sets the connection options.
    pub fn with_conn_options(mut self, conn_options: ApiConnectOptions) -> Self {
        self.conn_options = Some(conn_options);
        self
    }
}

/// Token usage of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionUsage {
    /// Tokens in the prompt.
    pub prompt_tokens: u64,
    /// Prompt tokens served from the provider's cache.
    pub prompt_cached_tokens: u64,
    /// Tokens generated.
    pub completion_tokens: u64,
    /// Prompt plus completion.
    pub total_tokens: u64,
}

impl CompletionUsage {
    /// Usage with the given counts; the total saturates at `u64::MAX` (the counts come from
    /// a server, which may send anything).
    pub fn new(prompt_tokens: u64, prompt_cached_tokens: u64, completion_tokens: u64) -> Self {
        Self {
            prompt_tokens,
            prompt_cached_tokens,
            completion_tokens,
            total_tokens: prompt_tokens.saturating_add(completion_tokens),
        }
    }
}

/// One piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChatChunk {
    /// Assistant text, to append to what came before.
    Text(String),
    /// A complete tool call, with the provider's call id.
    ToolCall(FunctionCall),
    /// Token usage of the request (usually last).
    Usage(CompletionUsage),
}

/// A failed LLM request: an [`ApiError`](crate::ApiError), the error of every remote model.
///
/// Match on [`kind`](crate::ApiError::kind) ([`ApiErrorKind`](crate::ApiErrorKind)) for what
/// went wrong; [`retryable`](crate::ApiError::retryable) and
/// [`retry_after`](crate::ApiError::retry_after) drive [`with_retries`](super::with_retries).
pub type LlmError = crate::ApiError;

/// The streamed answer to a chat request: a `Stream` of [`ChatChunk`]s.
pub struct LlmStream {
    inner: BoxStream<'static, Result<ChatChunk, LlmError>>,
}

impl LlmStream {
    /// Wraps a stream of chunks.
    pub fn new(stream: impl Stream<Item = Result<ChatChunk, LlmError>> + Send + 'static) -> Self {
        Self { inner: Box::pin(stream) }
    }

    /// A stream that fails at once with `error`.
    pub fn failed(error: LlmError) -> Self {
        Self::new(futures::stream::once(async move { Err(error) }))
    }
}

impl fmt::Debug for LlmStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmStream").finish_non_exhaustive()
    }
}

impl Stream for LlmStream {
    type Item = Result<ChatChunk, LlmError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
