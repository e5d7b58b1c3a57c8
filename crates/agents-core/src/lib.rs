#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Lets generated code name this crate `::agents_core` from inside it, too.
extern crate self as agents_core;

pub mod agent;
mod api_error;
pub mod audio;
pub mod cli;
pub mod llm;
pub mod prelude;
pub mod room;
#[cfg(feature = "rtc")]
#[cfg_attr(docsrs, doc(cfg(feature = "rtc")))]
pub mod room_io;
pub mod stt;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
pub mod tokenize;
pub mod tts;
pub mod types;
pub mod vad;
pub mod voice;
pub mod worker;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use agent::Agent;
#[cfg(feature = "macros")]
pub use agents_macros::{Agent, function_tool, function_tools};
pub use api_error::{ApiError, ApiErrorKind};

pub use async_trait::async_trait;

/// The native libraries loaded at run time (ONNX Runtime, livekit-ffi): their pinned
/// versions, where they are looked for, and their installation by `<agent> download-files`
/// (the `agents-runtime-libs` crate).
pub use agents_runtime_libs as runtime_libs;

/// The `schemars` crate, for deriving `JsonSchema` without depending on it yourself
/// (`#[schemars(crate = "agents_core::schemars")]`).
pub use schemars;
/// The `serde` crate, for deriving `Deserialize` without depending on it yourself
/// (`#[serde(crate = "agents_core::serde")]`).
pub use serde;
/// The `serde_json` crate.
pub use serde_json;
