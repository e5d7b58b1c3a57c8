//! Agents: what runs in a session (Python's `Agent`).
//!
//! * [`Agent`]: the running agent — instructions and a live, hot-swappable tool set.
//! * [`AgentDefinition`]: a type that defines an agent (what `#[derive(Agent)]` implements).
//! * [`AgentHooks`]: its lifecycle hooks and pipeline nodes; [`AgentContext`] is what they
//!   receive.
//!
//! The same items are re-exported from [`voice`](crate::voice), where the session uses them,
//! and the common ones from the [`prelude`](crate::prelude).

mod context;
mod definition;
mod handle;
mod hooks;

pub use context::AgentContext;
pub use definition::{AgentDefinition, default_agent_id};
pub use handle::Agent;
pub use hooks::{AgentHooks, ModelSettings, NoHooks, StopResponse, default_llm_node};
