#![doc = include_str!("../README.md")]

mod env;
mod error;
mod http;
pub mod inference;
pub mod openai;
mod retry_after;
pub mod sse;

pub use error::ConfigError;
