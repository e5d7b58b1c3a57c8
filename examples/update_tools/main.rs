//! Dynamic tool updates: the Rust translation of LiveKit's Python example `update_tools.py`.
//!
//! **What it shows.** The agent starts with a static `print_to_console` tool defined with
//! `#[function_tool]`; a `random_number` tool is wrapped at run time with `function_tool(...)`
//! and added with `agent.update_tools(agent.tools() + [...])` before the session starts. As in
//! the Python example, the Silero VAD is loaded once per process by the server's setup
//! function (Python's `prewarm`) and taken from the process's userdata by each job; the
//! session hears through LiveKit Inference speech-to-text (`deepgram/nova-3-general`), thinks
//! with `openai/gpt-4.1-mini` and speaks with Cartesia `sonic-3`, with preemptive generation.
//!
//! **What it needs.** `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` (in the environment or a
//! `.env` file) for LiveKit Inference, plus `LIVEKIT_URL` for `dev`, `start` and `connect`;
//! ONNX Runtime for the Silero VAD: `download-files` installs it into the per-user cache (or
//! set `ORT_DYLIB_PATH`, or `pip install onnxruntime`). The text console opens no
//! speech-to-text or text-to-speech connection: the session uses them only for audio.
//!
//! **Run it.**
//!
//! ```text
//! cargo run --example update_tools -- download-files
//! cargo run --example update_tools -- console --text            # typed turns
//! cargo run --example update_tools -- console --input-file in.wav --output-file out.wav
//! cargo run -p examples --features audio-devices --example update_tools -- console
//! cargo run --example update_tools -- dev                       # a worker of your LiveKit server
//! ```
//!
//! Ask the agent to "print to the console" or to "give me a random number" to use both tools.

use std::process::ExitCode;
use std::sync::Arc;

use agents_core::prelude::*;
use agents_core::vad::Vad;
use agents_core::worker::JobProcess;
use agents_inference::inference;

/// The agent of the Python example, with its one static tool.
#[derive(Agent)]
#[agent(instructions = "You are a helpful assistant communicating through voice. Don't use any \
    unpronouncable characters.\nNote: If asked to print to the console, use the \
    `print_to_console` function.")]
struct AddFunctionAgent;

#[function_tools]
impl AddFunctionAgent {
    // The Python tool has no docstring; a Rust tool must say what it does, so its schema
    // carries the one line below.
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
    tracing::info!(target: "function-calling", "random_number called: {number}");
    number
}

/// Python's `prewarm`: the VAD is loaded once per process, before any job.
fn prewarm(proc: &mut JobProcess) -> Result<(), agents_plugins_silero::LoadError> {
    let vad: Arc<dyn Vad> = Arc::new(agents_plugins_silero::Vad::load()?);
    proc.userdata.insert("vad", vad);
    Ok(())
}

async fn entrypoint(ctx: JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    ctx.set_log_context_fields([("room", ctx.room().name())]);
    let vad = ctx.proc().userdata.try_get::<Arc<dyn Vad>>("vad")?.clone();
    let session = AgentSession::builder()
        .stt(Arc::new(inference::Stt::new("deepgram/nova-3-general")?))
        .llm(inference::Llm::new("openai/gpt-4.1-mini")?)
        .tts(Arc::new(
            inference::Tts::new("cartesia/sonic-3")?.voice("9626c31c-bec5-4cca-baa8-f8ba9e84c8bc"),
        ))
        .vad(vad)
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
    // `update_tools download-files` installs ONNX Runtime for the Silero VAD.
    let server = AgentServer::new()
        .runtime_libraries(agents_plugins_silero::RUNTIME_LIBRARIES)
        .setup_fnc(prewarm)
        .rtc_session(entrypoint);
    cli::run_app(server)
}
