#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;
mod connection;
mod content;
mod error;
mod ext;
mod http;
mod schema;
mod server;
mod toolset;

#[cfg(feature = "test-server")]
#[doc(hidden)]
pub mod test_server;

pub use error::McpError;
pub use ext::{McpAgentExt, McpSessionBuilderExt};
pub use server::{Backoff, McpServer};
pub use toolset::McpToolset;
