//! What hooks and nodes receive: the session and the agent they run for.

use super::Agent;
use crate::voice::AgentSession;

/// What a hook or node receives: the session and the agent it runs for.
#[derive(Debug, Clone)]
pub struct AgentContext {
    pub(crate) session: AgentSession,
    pub(crate) agent: Agent,
}

impl AgentContext {
    /// The session running the agent (Python's `self.session`).
    pub fn session(&self) -> &AgentSession {
        &self.session
    }

    /// The agent.
    pub fn agent(&self) -> &Agent {
        &self.agent
    }
}
