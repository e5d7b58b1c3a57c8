//! Function tools and the LLM-facing types around them.
//!
//! * [`FunctionTool`]: one tool — name, description, parameters schema, handler.
//! * [`function_tool`]: wraps a free async fn or closure as a tool; `#[function_tool]` does the
//!   same for methods and functions at compile time.
//! * [`ToolSet`]: a validated set of tools with unique names, what an LLM request is offered.
//! * [`ToolOutput`], [`IntoToolOutput`], [`Json`]: what a tool returns to the model.
//! * [`ToolError`]: what goes wrong, in words the model can act on.
//! * [`schema`]: the canonical parameters schema and its OpenAI strict rendering.

mod arguments;
mod context;
mod error;
pub(crate) mod handler;
mod output;
pub mod schema;
mod tool;
pub(crate) mod tool_set;

pub use context::{FunctionCall, RunContext};
pub use error::{ToolDefinitionError, ToolError, ToolSetError};
#[doc(hidden)]
pub use handler::{NoArguments, shape};
pub use handler::{ToolHandler, function_tool};
pub use output::{IntoToolOutput, Json, ToolOutput};
pub use tool::{FunctionTool, ToolFlags, ToolKind, validate_tool_name};
pub use tool_set::{IntoToolSet, ToolSet};
