#![doc = include_str!("../README.md")]

mod env;
mod error;
mod http;
pub mod inference;
pub mod openai;
pub mod sse;

pub use error::ConfigError;
