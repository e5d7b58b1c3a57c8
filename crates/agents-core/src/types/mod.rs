//! Types shared by the model abstractions ([`llm`](crate::llm), [`stt`](crate::stt),
//! [`tts`](crate::tts)), in one place so that none of them imports another (Python's
//! `livekit.agents.types`).
//!
//! Each is also re-exported where users look for it: [`ApiConnectOptions`] from `llm`,
//! [`TimedString`] from `tts` and `stt`, [`ApiError`] from the crate root.

mod connect_options;
mod timed_string;

pub use crate::api_error::{ApiError, ApiErrorKind};
pub use connect_options::ApiConnectOptions;
pub use timed_string::TimedString;
