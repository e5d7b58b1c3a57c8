//! How users define agents: a type with instructions, tools and hooks, built into an
//! [`Agent`].

use std::sync::Arc;

use super::{Agent, AgentHooks, NoHooks};
use crate::llm::{FunctionTool, ToolSetError};

/// A type that defines an agent: what `#[derive(Agent)]` implements, or what you implement by
/// hand for full control. [`into_agent`](Self::into_agent) builds the running [`Agent`].
pub trait AgentDefinition: Send + Sync + Sized + 'static {
    /// The agent's id; defaults to the type's name in snake case (Python's default).
    fn id(&self) -> String {
        default_agent_id::<Self>()
    }

    /// The agent's instructions.
    fn instructions(&self) -> String;

    /// The agent's tools; defaults to none.
    fn tools(self: &Arc<Self>) -> Vec<FunctionTool> {
        Vec::new()
    }

    /// The agent's hooks; defaults to none.
    fn hooks(self: &Arc<Self>) -> Arc<dyn AgentHooks> {
        Arc::new(NoHooks)
    }

    /// Builds the agent. Fails when two tools share a name.
    fn into_agent(self) -> Result<Agent, ToolSetError> {
        let this = Arc::new(self);
        Agent::from_parts(this.id(), this.instructions(), this.tools(), this.hooks())
    }
}

/// The snake-case name of `T` without its path or generics: `AddFunctionAgent` gives
/// `add_function_agent`.
pub fn default_agent_id<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    let name = base.rsplit("::").next().unwrap_or(base);
    let mut id = String::with_capacity(name.len() + 4);
    for (index, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if index > 0 {
                id.push('_');
            }
            id.push(c.to_ascii_lowercase());
        } else {
            id.push(c);
        }
    }
    id
}
