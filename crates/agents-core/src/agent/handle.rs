//! The agent: instructions and a live, hot-swappable tool set.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arc_swap::ArcSwap;

use super::{AgentHooks, NoHooks};
use crate::llm::{ChatContext, FunctionTool, IntoToolSet, ToolSet, ToolSetError};

/// An agent: its instructions and the tools the LLM may call (Python's `Agent`).
///
/// An `Agent` is a cheap handle (an `Arc` inside): clones share the same state, so the session
/// running the agent and the code holding it see every update.
///
/// The tool set is *live*: [`update_tools`](Self::update_tools) swaps it atomically, also while
/// a session runs the agent. What each LLM request sees is a [`ToolSet`] snapshot taken with
/// [`tools`](Self::tools) when the request is made; the calls that request returns run against
/// that same snapshot, and the next request — the next step of the same turn's tool loop
/// included — takes a new one. So a tool can add another tool and the model can call it in its
/// very next step.
///
/// ```
/// use agents_core::prelude::*;
///
/// async fn random_number() -> i64 { 7 }
///
/// # futures::executor::block_on(async {
/// let agent = Agent::new("You are a helpful assistant.");
/// agent
///     .update_tools(
///         agent.tools() + [function_tool(random_number, "random_number", "Get a random number")?],
///     )
///     .await?;
/// assert!(agent.tools().contains("random_number"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Agent {
    inner: Arc<AgentInner>,
}

struct AgentInner {
    id: String,
    instructions: ArcSwap<String>,
    tools: ArcSwap<crate::llm::tool_set::ToolSetInner>,
    hooks: Arc<dyn AgentHooks>,
    chat_ctx: Mutex<ChatContext>,
}

impl Agent {
    /// An agent with `instructions`, no tools and no hooks (Python's
    /// `Agent(instructions=...)`); its id is `default_agent`.
    pub fn new(instructions: impl Into<String>) -> Self {
        Self::with_parts(
            "default_agent".to_owned(),
            instructions.into(),
            ToolSet::empty(),
            Arc::new(NoHooks),
        )
    }

    /// An agent from all its parts: what [`AgentDefinition::into_agent`] and
    /// `#[derive(Agent)]` build.
    ///
    /// [`AgentDefinition::into_agent`]: super::AgentDefinition::into_agent
    pub fn from_parts(
        id: impl Into<String>,
        instructions: impl Into<String>,
        tools: Vec<FunctionTool>,
        hooks: Arc<dyn AgentHooks>,
    ) -> Result<Self, ToolSetError> {
        Ok(Self::with_parts(id.into(), instructions.into(), ToolSet::new(tools)?, hooks))
    }

    fn with_parts(
        id: String,
        instructions: String,
        tools: ToolSet,
        hooks: Arc<dyn AgentHooks>,
    ) -> Self {
        Self {
            inner: Arc::new(AgentInner {
                id,
                instructions: ArcSwap::from_pointee(instructions),
                tools: ArcSwap::new(tools.inner),
                hooks,
                chat_ctx: Mutex::new(ChatContext::new()),
            }),
        }
    }

    /// This agent starting from `chat_ctx` (Python's `Agent(chat_ctx=...)`), e.g. the
    /// conversation so far when handing off.
    pub fn with_chat_ctx(self, chat_ctx: ChatContext) -> Self {
        *self.chat_ctx_mut() = chat_ctx;
        self
    }

    /// The agent's id (Python's `agent.id`): `default_agent`, or the snake-case name of a
    /// derived agent type.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// A copy of the agent's own conversation (what its LLM requests are built from).
    pub fn chat_ctx(&self) -> ChatContext {
        self.chat_ctx_mut().clone()
    }

    pub(crate) fn chat_ctx_mut(&self) -> MutexGuard<'_, ChatContext> {
        self.inner.chat_ctx.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn hooks(&self) -> &Arc<dyn AgentHooks> {
        &self.inner.hooks
    }

    /// Whether `self` and `other` are the same agent (clones of one handle).
    pub fn same_agent(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// This agent with `tools` as its tool set (Python's `Agent(tools=[...])`).
    pub fn with_tools(self, tools: impl IntoToolSet) -> Result<Self, ToolSetError> {
        self.inner.tools.store(tools.into_tool_set()?.inner);
        Ok(self)
    }

    /// The current instructions.
    pub fn instructions(&self) -> Arc<String> {
        self.inner.instructions.load_full()
    }

    /// A snapshot of the current tool set (Python's `agent.tools`).
    ///
    /// The snapshot never changes; later updates make new sets.
    pub fn tools(&self) -> ToolSet {
        ToolSet { inner: self.inner.tools.load_full() }
    }

    /// Replaces the tool set (Python's `await agent.update_tools(tools)`).
    ///
    /// The new set is validated first and rejected whole on error (two tools with one name),
    /// leaving the current set in place. Otherwise it replaces the current set atomically:
    /// LLM requests already made keep the snapshot they were offered, and their tool calls run
    /// against it; every later request sees the new set.
    ///
    /// Unlike Python, calls already made to tools that are now removed stay in the chat history
    /// with their outputs: they are what happened in the conversation, and the model is only
    /// offered — and can only call — the tools of the current set.
    pub async fn update_tools(&self, tools: impl IntoToolSet) -> Result<(), ToolSetError> {
        self.inner.tools.store(tools.into_tool_set()?.inner);
        Ok(())
    }

    /// Replaces the instructions (Python's `await agent.update_instructions(...)`); the next
    /// LLM request uses them.
    pub async fn update_instructions(&self, instructions: impl Into<String>) {
        self.inner.instructions.store(Arc::new(instructions.into()));
    }
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.id())
            .field("instructions", &self.instructions())
            .field("tools", &self.tools())
            .finish()
    }
}
