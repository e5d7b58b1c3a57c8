//! MCP (Model Context Protocol) servers as live toolsets for LiveKit Agents for Rust
//! (Python's `livekit.agents.mcp`), built on `rmcp`, the official Rust MCP SDK.
//!
//! ```no_run
//! use agents_core::prelude::*;
//! use agents_mcp::{McpServer, McpSessionBuilderExt};
//!
//! # async fn example(llm: impl agents_core::llm::Llm) -> Result<(), Box<dyn std::error::Error>> {
//! let session = AgentSession::builder()
//!     .llm(llm)
//!     .mcp_servers([McpServer::http("http://127.0.0.1:8000/mcp")])
//!     .build();
//! session.start(Agent::new("You are a helpful assistant.")).await?;
//! # Ok(()) }
//! ```
//!
//! * [`McpServer`]: a server over stdio (a child process) or streamable HTTP, with its
//!   headers, timeout, `allowed_tools` and tool name prefix.
//! * [`McpToolset`]: its tools as an `agents_core` toolset, following the server's
//!   `notifications/tools/list_changed` and reconnecting a server that exits.
//! * [`McpSessionBuilderExt::mcp_servers`] and [`McpAgentExt::with_mcp_servers`]: Python's
//!   `mcp_servers=[...]`.
//!
//! Each tool's parameters are the server's input schema (its `$ref`s inlined; sent strict
//! when strict mode can express it, else non-strict with a warning); calls go through
//! `tools/call` with the server's timeout; protocol errors, `isError` results, a timeout and a
//! server that stopped are tool errors the model reads; progress notifications are the
//! session's `FunctionToolProgress` events.

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
