//! The common path, in one import: `use agents_core::prelude::*;`.
//!
//! Brings in the agent and tool types, the [`function_tool()`](crate::llm::function_tool)
//! builder, the `#[function_tool]` / `#[function_tools]` macros, and the `Deserialize`,
//! `Serialize` and `JsonSchema` traits and derives for argument types.

pub use crate::agent::Agent;
pub use crate::agent::{AgentContext, AgentDefinition, AgentHooks};
pub use crate::async_trait;
pub use crate::cli;
pub use crate::llm::{
    FunctionCall, FunctionTool, IntoToolOutput, IntoToolSet, Json, RunContext, ToolError,
    ToolOutput, ToolSet, function_tool,
};
pub use crate::room::Room;
pub use crate::voice::{AgentSession, ReplyOptions, RunResult, SpeechHandle};
pub use crate::worker::{AgentServer, JobContext, JobProcess};
#[cfg(feature = "macros")]
pub use agents_macros::{Agent, function_tool, function_tools};
pub use schemars::JsonSchema;
pub use serde::{Deserialize, Serialize};
