#![doc = include_str!("../README.md")]

#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;
mod env;
mod error;
mod http;
pub mod inference;
pub mod openai;
mod retry_after;
pub mod sse;

pub use error::ConfigError;
