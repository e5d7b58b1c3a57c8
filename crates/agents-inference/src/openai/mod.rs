//! OpenAI-compatible Chat Completions: the streaming client [`Llm`] and the wire format of
//! function tools ([`chat_tool`]).
//!
//! The same protocol serves OpenAI's API, local servers (Ollama, llama.cpp, vLLM) and LiveKit
//! Inference ([`crate::inference::Llm`] is this client with LiveKit's credentials).
//!
//! What a request looks like on the wire:
//!
//! * `POST {base_url}/chat/completions` with `Authorization: Bearer <key>` (when there is a
//!   key) and a `User-Agent` of `LiveKit Agents Rust/<version>`;
//! * the body has `model`, `messages`, `tools` (strict by default; omitted when there are
//!   none), `tool_choice` and `parallel_tool_calls` (only with tools, when the request's
//!   [`ChatOptions`](agents_core::llm::ChatOptions) set them), `stream: true`,
//!   `stream_options: {"include_usage": true}` and the builder's extra body options;
//! * `messages`: system, developer, user and assistant messages as `{"role", "content"}`; the
//!   function calls after an assistant message joined to it as `tool_calls`; outputs as
//!   `{"role": "tool", "tool_call_id", "content"}`; agent handoffs left out.
//!
//! The answer is an event stream of `chat.completion.chunk`s ending with `data: [DONE]`: text
//! deltas become [`ChatChunk::Text`](agents_core::llm::ChatChunk::Text), tool calls are
//! assembled from their fragments and yielded whole, and the usage chunk becomes
//! [`ChatChunk::Usage`](agents_core::llm::ChatChunk::Usage).
//!
//! What a server may not do to a reply:
//!
//! * **repeat a call**: call ids are unique within a reply. The first call under an id is the
//!   call; a later one under the same id (at another index, or after the finish reason) is
//!   ignored with a warning, so it runs once and the next request's history carries it once.
//! * **hold the step open**: the choice's `finish_reason` ends it. Only the usage chunk is
//!   still awaited (it is asked for, and OpenAI sends it after the finish chunk), for 500 ms
//!   at most; without it or `[DONE]`, the reply ends there, without an error.
//! * **grow memory without bound**: an event-stream line or event is at most 1 MiB, the tool
//!   calls of a reply at most 128 and 4 MiB; beyond, the reply fails with a `BadResponse`,
//!   which is not retried.
//! * **trickle forever**: [`ApiConnectOptions::reply_timeout`](agents_core::llm::ApiConnectOptions)
//!   (two minutes by default) bounds a whole reply, retries included.
//! * **lose the valid calls over a bad one**: a call without a function name is not run; the
//!   others are yielded, then a `BadResponse` names it.
//! * **panic it with numbers**: usage counts that are not non-negative integers are ignored;
//!   totals saturate.
//!
//! A tool is sent as `{"type": "function", "function": {"name", "description", "parameters"}}`.
//! In strict mode the entry also carries `"strict": true` and the parameters are the tool's
//! strict rendering (see [`agents_core::llm::schema`]); a tool that has no strict rendering (a
//! raw schema, or argument types strict mode cannot express) is sent non-strict.
//!
//! Errors are [`LlmError`](agents_core::llm::LlmError)s (the shared
//! [`ApiError`](agents_core::ApiError)); their [`kind`](agents_core::ApiError::kind) says what
//! failed, and the underlying HTTP or JSON error is kept as the error's `source`. A failed
//! connection or a response that breaks off (or ends with neither `[DONE]` nor a
//! `finish_reason`) is `Connection`; an HTTP error status is `Status` with the start of the
//! body, or `RateLimited` for a 429 or 503 whose `Retry-After` (seconds or an HTTP date;
//! OpenAI's `retry-after-ms` first) says how long to wait, so retries wait that long or fail
//! at once; an `event: error` or an `error` object in the stream is `Provider` with the
//! server's message; a chunk that is not JSON, a body that is not an event stream, or anything
//! else that breaks the protocol is `BadResponse`; no answer within the timeout is `Timeout`,
//! and a reply past its deadline `ReplyTimeout`. URLs in errors and logs have their user name,
//! password and query values replaced by `***`.

pub(crate) mod assemble;
mod client;
mod messages;
mod request;
mod tools;
mod transport;

pub use client::{API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, Llm, LlmBuilder};
pub use tools::{chat_tool, chat_tools};
pub(crate) use transport::TokenSource;
