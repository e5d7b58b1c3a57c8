//! An agent whose tools come from an MCP (Model Context Protocol) server, and change while it
//! runs (Python's `AgentSession(mcp_servers=[...])`).
//!
//! **What it shows.** `McpServer::http(url)` or `McpServer::stdio(command, args)` given to the
//! session with `mcp_servers([...])`: the session connects to the server when it starts,
//! offers the server's tools to the model next to the agent's own (`note`), sends the
//! model's calls to the server, and closes the connection at the end. When the server
//! announces that its tools changed (`notifications/tools/list_changed`), the next request
//! to the model offers the new list: the agent's code does nothing for it.
//!
//! **What it needs.** `MCP_SERVER`: the URL of a streamable HTTP MCP server
//! (`http://127.0.0.1:8000/mcp`), or the command line of a stdio one (`npx -y
//! @modelcontextprotocol/server-everything`); `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` (in
//! the environment or a `.env` file) for LiveKit Inference, plus `LIVEKIT_URL` for `dev`.
//!
//! **Run it.**
//!
//! ```text
//! MCP_SERVER="npx -y @modelcontextprotocol/server-everything" \
//!     cargo run --example mcp_tools -- console --text
//! MCP_SERVER=http://127.0.0.1:8000/mcp cargo run --example mcp_tools -- console --text
//! ```
//!
//! Without `MCP_SERVER`, or with a server that cannot be reached or started, the console
//! fails at once with an error that says so (`error: the job's entrypoint failed: set
//! MCP_SERVER to …`, `… could not connect to the MCP server …`, `… could not start the MCP
//! server …`).

use std::process::ExitCode;

use agents_core::prelude::*;
use agents_mcp::{McpServer, McpSessionBuilderExt};
// Model strings ("openai/gpt-4.1-mini") become LiveKit Inference clients through this crate.
use agents_inference as _;

/// The MCP server that `MCP_SERVER` names: a URL, or a command and its arguments.
fn mcp_server() -> Result<McpServer, String> {
    let spec = std::env::var("MCP_SERVER").unwrap_or_default();
    if spec.starts_with("http://") || spec.starts_with("https://") {
        return Ok(McpServer::http(spec));
    }
    let mut words = spec.split_whitespace();
    let command = words.next().ok_or(
        "set MCP_SERVER to an MCP server's URL (`http://127.0.0.1:8000/mcp`) or command line \
         (`npx -y @modelcontextprotocol/server-everything`)",
    )?;
    Ok(McpServer::stdio(command, words))
}

#[derive(Agent)]
#[agent(instructions = "You are a helpful assistant. Use the tools you are given; they may \
    change during the conversation.")]
struct Assistant;

#[function_tools]
impl Assistant {
    /// Write a note in the agent's log.
    #[function_tool]
    async fn note(
        &self,
        /// What to note.
        text: String,
    ) -> &'static str {
        tracing::info!("note: {text}");
        "Noted."
    }
}

async fn entrypoint(ctx: JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let session = AgentSession::builder()
        .stt("deepgram/nova-3")
        .llm("openai/gpt-4.1-mini")
        .tts("cartesia/sonic-3:9626c31c-bec5-4cca-baa8-f8ba9e84c8bc")
        .mcp_servers([mcp_server()?])
        .build();
    session.start(Assistant.into_agent()?).room(ctx.room()).await?;
    ctx.connect().await?;
    Ok(())
}

fn main() -> ExitCode {
    cli::run_app(AgentServer::new().rtc_session(entrypoint))
}
