//! The options of a session and of one reply.

use std::time::Duration;

use crate::llm::{ApiConnectOptions, ToolChoice};

/// Options of one reply (Python's `generate_reply` keyword arguments).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ReplyOptions {
    /// A user message to add before replying.
    pub user_input: Option<String>,
    /// Extra instructions for this reply only (not kept in the history).
    pub instructions: Option<String>,
    /// The tool choice of the reply's first LLM step.
    pub tool_choice: Option<ToolChoice>,
    /// Whether the user may interrupt it; defaults to the session's setting.
    pub allow_interruptions: Option<bool>,
    /// When the user stopped speaking, for a spoken turn (end-to-end latency).
    pub(crate) end_of_speech: Option<tokio::time::Instant>,
}

impl ReplyOptions {
    /// A reply to `user_input`.
    pub fn user_input(user_input: impl Into<String>) -> Self {
        Self { user_input: Some(user_input.into()), ..Self::default() }
    }

    /// A reply following `instructions`.
    pub fn instructions(instructions: impl Into<String>) -> Self {
        Self { instructions: Some(instructions.into()), ..Self::default() }
    }

    /// Sets the tool choice of the first step.
    pub fn with_tool_choice(mut self, tool_choice: ToolChoice) -> Self {
        self.tool_choice = Some(tool_choice);
        self
    }

    /// Sets the extra instructions.
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }
}

/// Options of one `say` (Python's `say` keyword arguments).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SayOptions {
    /// Whether the user may interrupt it; defaults to the session's setting.
    pub allow_interruptions: Option<bool>,
    /// Whether what was said (what was heard of it, if interrupted) is added to the history
    /// and the agent's conversation (true, as in Python).
    pub add_to_chat_ctx: bool,
}

impl Default for SayOptions {
    fn default() -> Self {
        Self { allow_interruptions: None, add_to_chat_ctx: true }
    }
}

impl SayOptions {
    /// Sets whether what was said is added to the history.
    pub fn with_add_to_chat_ctx(mut self, add_to_chat_ctx: bool) -> Self {
        self.add_to_chat_ctx = add_to_chat_ctx;
        self
    }

    /// Sets whether the user may interrupt it.
    pub fn with_allow_interruptions(mut self, allow_interruptions: bool) -> Self {
        self.allow_interruptions = Some(allow_interruptions);
        self
    }
}

/// Options of a session (Python's `AgentSession(...)` keyword arguments that exist so far).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Follow-up LLM steps with tools allowed after the first (Python's `max_tool_steps`):
    /// with `N`, tools run in up to `N + 1` rounds, then one final reply is generated with
    /// tool calls disallowed.
    pub max_tool_steps: u32,
    /// Whether the user may interrupt the agent.
    pub allow_interruptions: bool,
    /// Whether to start the LLM before the end of the user's turn (used by the voice pipeline).
    pub preemptive_generation: bool,
    /// Retries and timeouts of the LLM requests; `None` leaves them to the LLM client.
    pub conn_options: Option<ApiConnectOptions>,
    /// How long after the end of the user's speech the turn ends, once a final transcript is
    /// there (Python's `min_endpointing_delay`, 0.5 s).
    pub min_endpointing_delay: Duration,
    /// The longest wait after the end of speech for a final transcript before the turn ends
    /// with what was heard (Python's `max_endpointing_delay`, 3 s).
    pub max_endpointing_delay: Duration,
    /// How long the user must speak over the agent to interrupt it (Python's
    /// `min_interruption_duration`, 0.5 s).
    pub min_interruption_duration: Duration,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            max_tool_steps: 3,
            allow_interruptions: true,
            preemptive_generation: true,
            conn_options: None,
            min_endpointing_delay: Duration::from_millis(500),
            max_endpointing_delay: Duration::from_secs(3),
            min_interruption_duration: Duration::from_millis(500),
        }
    }
}
