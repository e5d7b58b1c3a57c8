//! Dynamic tool updates: the Rust translation of LiveKit's Python example `update_tools.py`.
//!
//! The agent starts with a static `print_to_console` tool defined with `#[function_tool]`; a
//! `random_number` tool is wrapped at run time with `function_tool(...)` and added with
//! `agent.update_tools(agent.tools() + [...])` before the session starts. Ask the agent to
//! "print to the console" or to "give me a random number" to use both tools.
//!
//! Runs in the text console against LiveKit Inference (set `LIVEKIT_API_KEY` and
//! `LIVEKIT_API_SECRET`, in the environment or a `.env` file):
//!
//! ```text
//! cargo run --example update_tools -- console --text
//! ```
//!
//! The voice pipeline (Silero VAD, speech-to-text, text-to-speech) of the Python example joins
//! when this crate family has it; `download-files` already installs what the Silero VAD loads
//! (ONNX Runtime, into the per-user cache):
//!
//! ```text
//! cargo run --example update_tools -- download-files
//! ```

use std::process::ExitCode;

use agents_core::prelude::*;
use agents_inference::inference;

/// The agent of the Python example, with its one static tool.
#[derive(Agent)]
#[agent(instructions = "You are a helpful assistant communicating through voice. Don't use any \
    unpronouncable characters.\nNote: If asked to print to the console, use the \
    `print_to_console` function.")]
struct AddFunctionAgent;

#[function_tools]
impl AddFunctionAgent {
    /// Print to the console.
    #[function_tool]
    async fn print_to_console(&self, _context: RunContext) -> &'static str {
        println!("Console Print Success!");
        "I've printed to the console."
    }
}

#[async_trait]
impl AgentHooks for AddFunctionAgent {
    async fn on_enter(&self, ctx: AgentContext) {
        ctx.session().generate_reply(ReplyOptions::default());
    }
}

async fn random_number() -> i64 {
    let number = rand::random_range(0..=100);
    tracing::info!("random_number called: {number}");
    number
}

async fn entrypoint(ctx: JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let session = AgentSession::builder()
        .llm(inference::Llm::new("openai/gpt-4.1-mini")?)
        .preemptive_generation(true)
        .build();
    let agent = AddFunctionAgent.into_agent()?;

    agent
        .update_tools(
            agent.tools() + [function_tool(random_number, "random_number", "Get a random number")?],
        )
        .await?;

    session.start(agent).room(ctx.room()).await?;
    ctx.connect().await?;
    Ok(())
}

fn main() -> ExitCode {
    // `update_tools download-files` installs ONNX Runtime for the Silero VAD of the voice
    // pipeline.
    let server = AgentServer::new()
        .runtime_libraries(agents_plugins_silero::RUNTIME_LIBRARIES)
        .rtc_session(entrypoint);
    cli::run_app(server)
}
