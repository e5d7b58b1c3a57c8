//! The LLM side of an agent: function tools, the chat context, and the model abstraction.
//!
//! * [`FunctionTool`]: one tool — name, description, parameters schema, handler.
//! * [`function_tool`]: wraps a free async fn or closure as a tool; `#[function_tool]` does the
//!   same for methods and functions at compile time.
//! * [`ToolSet`]: a validated set of tools with unique names, what an LLM request is offered.
//! * [`ToolOutput`], [`IntoToolOutput`], [`Json`]: what a tool returns to the model.
//! * [`ToolError`]: what goes wrong, in words the model can act on.
//! * [`schema`]: the canonical parameters schema and its OpenAI strict rendering.
//! * [`ChatContext`] and its items: the conversation.
//! * [`Llm`], [`LlmStream`], [`ChatChunk`], [`LlmError`]: a model and its streamed answer;
//!   [`with_retries`] gives clients Python's retry semantics.

mod arguments;
mod chat;
mod context;
mod error;
pub(crate) mod handler;
mod model;
mod output;
mod retry;
pub mod schema;
mod tool;
pub(crate) mod tool_set;

pub use crate::types::ApiConnectOptions;
pub(crate) use chat::new_id;
pub use chat::{AgentHandoff, ChatContext, ChatItem, ChatMessage, ChatRole, FunctionCallOutput};
pub use context::{FunctionCall, RunContext};
pub use error::{ToolDefinitionError, ToolError, ToolSetError};
#[doc(hidden)]
pub use handler::{NoArguments, shape};
pub use handler::{ToolHandler, function_tool};
pub use model::{ChatChunk, ChatOptions, CompletionUsage, Llm, LlmError, LlmStream, ToolChoice};
pub use output::{IntoToolOutput, Json, ToolOutput};
pub use retry::with_retries;
pub use tool::{FunctionTool, ToolFlags, ToolKind, validate_tool_name};
pub use tool_set::{IntoToolSet, ToolSet};
