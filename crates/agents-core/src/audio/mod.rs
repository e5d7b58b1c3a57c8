//! Audio: frames of interleaved 16-bit PCM.

mod frame;

pub use frame::{AudioError, AudioFrame};
