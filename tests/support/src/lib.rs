//! Test doubles for LiveKit Agents for Rust.
//!
//! [`FakeOpenAi`] is a fake OpenAI Chat Completions server on `127.0.0.1` (a random port):
//! point any OpenAI-compatible client at its [`base_url`](FakeOpenAi::base_url), script its
//! answers with [`FakeResponse`]s, and check the [`RecordedRequest`]s it received.
//!
//! ```
//! use agents_test_support::{FakeOpenAi, FakeResponse, StreamPart};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let fake = FakeOpenAi::with_responses([
//!     // Plain helpers:
//!     FakeResponse::text("Hello!"),
//!     FakeResponse::tool_call("call_1", "lookup_weather", r#"{"location":"Paris"}"#),
//!     FakeResponse::tool_calls([("call_2", "a", "{}"), ("call_3", "b", r#"{"x":1}"#)]),
//!     // Failures:
//!     FakeResponse::status(429),
//!     FakeResponse::status(500),
//!     FakeResponse::malformed(),
//!     FakeResponse::text_deltas(["Hel", "lo", " there"]).cut_after(2),
//!     FakeResponse::text("late").delayed(Duration::from_secs(2)),
//!     // Anything else, part by part:
//!     FakeResponse::stream([
//!         StreamPart::text("Let me check. "),
//!         StreamPart::tool_call_fragments("call_4", "lookup", [r#"{"q":"#, r#""x"}"#]),
//!         StreamPart::finish("tool_calls"),
//!         StreamPart::usage(120, 14),
//!         StreamPart::Done,
//!     ])
//!     .paced(Duration::from_millis(5)),
//! ])
//! .await?;
//! # assert_eq!(fake.remaining(), 9);
//! # Ok(())
//! # }
//! ```
//!
//! Requests are answered by the queue first, then by a handler (see
//! [`FakeOpenAi::with_handler`]); a chat completion nobody scripted gets a `400` whose message
//! says so.

mod gateway;
mod http;
#[cfg(feature = "livekit")]
pub mod livekit;
#[cfg(feature = "livekit")]
mod netns;
mod response;
mod server;

pub use gateway::{
    FakeGateway, RecordedConnection, SttFault, SttPlan, TtsFault, TtsPlan, Utterance,
};
#[cfg(feature = "livekit")]
pub use livekit::TestServer;
#[cfg(feature = "livekit")]
pub use netns::{NetNs, NetNsError};
pub use response::{FakeResponse, StreamPart};
pub use server::{FakeOpenAi, RecordedRequest};
