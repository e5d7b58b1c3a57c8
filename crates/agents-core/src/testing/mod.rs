//! In-process fakes for testing agents without a network (Python's `fake_llm`, `fake_stt`,
//! `fake_tts` and `fake_vad`), behind the `testing` feature. They are the published test
//! fakes: an application's own agent tests use them from crates.io like any other API (they
//! follow the crate's versioning policy), with no workspace or test-support crate needed.
//!
//! They implement the same traits as the real models, so a session under test runs exactly
//! the code it runs in production — only the model at the end of the wire is scripted:
//!
//! * [`FakeLlm`] answers each request with a scripted [`FakeLlmResponse`] (text, tool calls,
//!   time to first token, duration, a failure), picked by the conversation's last input (the
//!   last user message or tool output, as Python's `FakeLLM` does) or taken in order, and
//!   records every request it received;
//! * [`FakeStt`] hears scripted transcripts, one per utterance; [`FakeStt::streaming`] finds the
//!   utterances itself by loudness, like a provider that streams;
//! * [`FakeTts`] speaks a tone for each text, with word timings, and records the texts;
//! * [`FakeVad`] detects speech by loudness;
//! * [`FakeAudioOutput`] plays the agent's voice on a clock (real time or faster) and keeps it;
//! * [`tone`] and [`silence`] make audio for them.
//!
//! Add the feature in your dev-dependencies:
//!
//! ```toml
//! [dev-dependencies]
//! voice-agents-core = { version = "0.1", features = ["testing"] }
//! ```
//!
//! An agent test, in a `#[tokio::test]`:
//!
//! ```
//! use agents_core::prelude::*;
//! use agents_core::llm::ChatRole;
//! use agents_core::testing::{FakeLlm, FakeLlmResponse};
//!
//! #[derive(Agent)]
//! #[agent(instructions = "You are a weather assistant.")]
//! struct Weather;
//!
//! #[function_tools]
//! impl Weather {
//!     /// Look up the weather in a city.
//!     #[function_tool]
//!     async fn lookup_weather(&self, /** The city. */ city: String) -> String {
//!         format!("It is sunny in {city}.")
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let llm = FakeLlm::new()
//!     .on_input(
//!         "What's the weather in Paris?",
//!         FakeLlmResponse::tool_call("lookup_weather", serde_json::json!({"city": "Paris"})),
//!     )
//!     .on_input("It is sunny in Paris.", FakeLlmResponse::text("Sunny in Paris today."));
//! let session = AgentSession::builder().llm(llm.clone()).build();
//! session.start(Weather.into_agent()?).await?;
//!
//! let result = session.run("What's the weather in Paris?").await?;
//! let mut expect = result.expect();
//! expect.next_event().is_function_call("lookup_weather");
//! expect.next_event().is_function_call_output().with_output("It is sunny in Paris.");
//! expect.next_event().is_message(ChatRole::Assistant).containing("Sunny");
//! expect.no_more_events();
//! assert_eq!(llm.requests().len(), 2);
//! session.close().await;
//! # Ok(())
//! # }
//! ```

mod audio;
mod events;
mod llm;
mod output;
mod stt;
mod tts;
mod vad;

pub use audio::{silence, tone};
pub use llm::{FakeLlm, FakeLlmRequest, FakeLlmResponse};
pub use output::FakeAudioOutput;
pub use stt::FakeStt;
pub use tts::FakeTts;
pub use vad::FakeVad;

/// Locks `mutex`, also after a panic elsewhere poisoned it (the fakes' state stays usable).
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
