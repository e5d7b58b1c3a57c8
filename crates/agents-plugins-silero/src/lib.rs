#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod engine;
mod error;
mod model;
mod options;
mod runtime;
mod segmenter;
mod stream;
mod vad;

pub use error::{LoadError, OptionsError};
pub use model::{BUNDLED_MODEL, BUNDLED_MODEL_SHA256};
pub use options::VadOptions;
pub use runtime::{ORT_DYLIB_PATH, RUNTIME_LIBRARIES};
pub use stream::VadStream;
pub use vad::Vad;
