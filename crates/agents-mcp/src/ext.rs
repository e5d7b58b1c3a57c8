//! `mcp_servers(...)` on the session builder and on agents, as Python's
//! `AgentSession(mcp_servers=[...])` and `Agent(mcp_servers=[...])`.

use std::sync::Arc;

use agents_core::Agent;
use agents_core::llm::{ToolSetError, Toolset};
use agents_core::voice::AgentSessionBuilder;

use crate::server::McpServer;

fn toolsets(servers: impl IntoIterator<Item = McpServer>) -> Vec<Arc<dyn Toolset>> {
    servers.into_iter().map(McpServer::into_shared).collect()
}

/// `AgentSession::builder().mcp_servers([...])`: the servers' tools offered to every agent of
/// the session, connected by `start` and closed by `close`.
pub trait McpSessionBuilderExt: Sized {
    /// Adds the MCP servers' tools to the session (Python's `mcp_servers=[...]`).
    fn mcp_servers(self, servers: impl IntoIterator<Item = McpServer>) -> Self;
}

impl McpSessionBuilderExt for AgentSessionBuilder {
    fn mcp_servers(self, servers: impl IntoIterator<Item = McpServer>) -> Self {
        self.toolsets(toolsets(servers))
    }
}

/// `Agent::new(...).with_mcp_servers([...])`: the servers' tools offered by this agent,
/// connected when it becomes active and closed when it hands off.
pub trait McpAgentExt: Sized {
    /// Adds the MCP servers' tools to the agent's toolsets (Python's
    /// `Agent(mcp_servers=[...])`). Fails when two servers' tools share a name once listed.
    fn with_mcp_servers(
        self,
        servers: impl IntoIterator<Item = McpServer>,
    ) -> Result<Self, ToolSetError>;
}

impl McpAgentExt for Agent {
    fn with_mcp_servers(
        self,
        servers: impl IntoIterator<Item = McpServer>,
    ) -> Result<Self, ToolSetError> {
        let mut all = self.toolsets();
        all.extend(toolsets(servers));
        self.with_toolsets(all)
    }
}
