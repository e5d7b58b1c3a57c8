//! Helpers shared by the tests that run the clients against `FakeOpenAi`.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use agents_core::llm::{
    ApiConnectOptions, ChatChunk, ChatContext, ChatRole, FunctionCall, LlmError, LlmStream,
};
use agents_inference::openai;
use agents_test_support::FakeOpenAi;
use futures::StreamExt;

/// Fast retries: 2 retries, 10 ms apart, 500 ms timeout.
pub fn fast() -> ApiConnectOptions {
    ApiConnectOptions::new(2, Duration::from_millis(10), Duration::from_millis(500))
}

/// An OpenAI client of `fake` with the key `sk-test` and [`fast`] connection options.
pub fn llm(fake: &FakeOpenAi) -> openai::Llm {
    llm_with(fake, fast())
}

/// An OpenAI client of `fake` with the key `sk-test` and `conn` options.
pub fn llm_with(fake: &FakeOpenAi, conn: ApiConnectOptions) -> openai::Llm {
    openai::Llm::builder("gpt-test")
        .base_url(fake.base_url())
        .api_key("sk-test")
        .conn_options(conn)
        .build()
        .expect("the client builds")
}

/// A conversation with one user message.
pub fn hello() -> ChatContext {
    let mut ctx = ChatContext::new();
    ctx.add_message(ChatRole::System, "You are terse.");
    ctx.add_message(ChatRole::User, "Hello?");
    ctx
}

/// Everything a stream yields: its chunks, and the error it ended with (if any). Panics if
/// anything follows an error.
pub async fn drain(mut stream: LlmStream) -> (Vec<ChatChunk>, Option<LlmError>) {
    let mut chunks = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => chunks.push(chunk),
            Err(error) => {
                assert!(stream.next().await.is_none(), "the stream goes on after {error}");
                return (chunks, Some(error));
            }
        }
    }
    (chunks, None)
}

/// The text chunks, concatenated.
pub fn text(chunks: &[ChatChunk]) -> String {
    chunks
        .iter()
        .filter_map(|chunk| match chunk {
            ChatChunk::Text(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// The tool calls, as `(call_id, name, arguments)`.
pub fn calls(chunks: &[ChatChunk]) -> Vec<(String, String, String)> {
    chunks
        .iter()
        .filter_map(|chunk| match chunk {
            ChatChunk::ToolCall(FunctionCall { call_id, name, arguments, .. }) => {
                Some((call_id.clone(), name.clone(), arguments.clone()))
            }
            _ => None,
        })
        .collect()
}
