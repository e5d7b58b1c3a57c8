//! The smallest voice agent: the Rust version of LiveKit's Python example `basic_agent.py`.
//!
//! **What it shows.** An agent type with instructions, one tool (`lookup_weather`) and a
//! greeting in `on_enter`; a session that hears with LiveKit Inference speech-to-text
//! (`deepgram/nova-3`), thinks with `openai/gpt-4.1-mini` and speaks with Cartesia
//! `sonic-3`, all three given by model strings; the Silero VAD, loaded once per process by
//! the server's setup function; and `cli::run_app`, which gives the program its commands
//! (`console`, `dev`, `start`, `connect`, `download-files`).
//!
//! **What it needs.** `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` (in the environment or a
//! `.env` file) for LiveKit Inference, plus `LIVEKIT_URL` for `dev`, `start` and `connect`;
//! ONNX Runtime for the Silero VAD: `download-files` installs it into the per-user cache (or
//! set `ORT_DYLIB_PATH`, or `pip install onnxruntime`).
//!
//! **Run it.**
//!
//! ```text
//! cargo run --example basic_agent -- download-files
//! cargo run --example basic_agent -- console --text       # type to the agent
//! cargo run --example basic_agent -- console --input-file in.wav --output-file out.wav
//! cargo run --example basic_agent -- dev                  # a worker of your LiveKit server
//! ```
//!
//! Ask it "what's the weather in Paris?" to hear the tool's answer.

use std::process::ExitCode;
use std::sync::Arc;

use agents_core::prelude::*;
use agents_core::vad::Vad;
// Model strings ("deepgram/nova-3") become LiveKit Inference clients through this crate.
use agents_inference as _;

#[derive(Agent)]
#[agent(instructions = "You are Kelly, a friendly assistant who talks with the user by voice. \
    Keep your answers short and conversational, and never use emojis, markdown or other \
    characters that cannot be spoken.")]
struct Kelly;

#[function_tools]
impl Kelly {
    /// Look up the current weather when the user asks about it. Estimate the place the user
    /// means rather than asking for coordinates.
    #[function_tool]
    async fn lookup_weather(
        &self,
        /// The city or region the user asked about.
        location: String,
    ) -> String {
        tracing::info!("looking up the weather in {location}");
        format!("Sunny with a temperature of 21 degrees Celsius in {location}.")
    }
}

#[async_trait]
impl AgentHooks for Kelly {
    async fn on_enter(&self, ctx: AgentContext) {
        ctx.session().generate_reply(ReplyOptions::default());
    }
}

/// Loads the VAD once per process, before any job (Python's `prewarm`).
fn prewarm(proc: &mut JobProcess) -> Result<(), agents_plugins_silero::LoadError> {
    let vad: Arc<dyn Vad> = Arc::new(agents_plugins_silero::Vad::load()?);
    proc.userdata.insert("vad", vad);
    Ok(())
}

async fn entrypoint(ctx: JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let vad = ctx.proc().userdata.try_get::<Arc<dyn Vad>>("vad")?.clone();
    let session = AgentSession::builder()
        .stt("deepgram/nova-3")
        .llm("openai/gpt-4.1-mini")
        .tts("cartesia/sonic-3:9626c31c-bec5-4cca-baa8-f8ba9e84c8bc")
        .vad(vad)
        .build();
    session.start(Kelly.into_agent()?).room(ctx.room()).await?;
    ctx.connect().await?;
    Ok(())
}

fn main() -> ExitCode {
    let server = AgentServer::new()
        .runtime_libraries(agents_plugins_silero::RUNTIME_LIBRARIES)
        .setup_fnc(prewarm)
        .rtc_session(entrypoint);
    cli::run_app(server)
}
