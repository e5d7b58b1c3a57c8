//! The text console against any OpenAI-compatible server given by URL: Ollama, llama.cpp's
//! `llama-server`, vLLM, LM Studio, or OpenAI itself.
//!
//! **What it shows.** `openai::Llm::builder(model).base_url(url)`, the OpenAI-compatible
//! client, as the session's LLM; an agent with one tool the local model can call
//! (`convert_temperature`). No LiveKit account and no speech models: the session has an LLM
//! only, and you talk to it by text.
//!
//! **What it needs.** A server speaking the Chat Completions API (`POST
//! {url}/chat/completions`, streamed), configured by environment variables (or a `.env`
//! file):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `OPENAI_BASE_URL` | the server's API root | `http://localhost:11434/v1` (Ollama) |
//! | `LLM_MODEL` | the model name the server knows | `llama3.2` |
//! | `OPENAI_API_KEY` | a bearer token, if the server wants one (`vllm serve --api-key`) | none |
//!
//! Tool calls need a model and server that support them (Ollama with `llama3.2` or
//! `qwen2.5`, `llama-server --jinja`, `vllm serve` with `--enable-auto-tool-choice` and the
//! model's `--tool-call-parser`).
//!
//! **Run it.**
//!
//! ```text
//! ollama pull llama3.2                                    # with `ollama serve` running
//! cargo run --example local_llm -- console --text
//! OPENAI_BASE_URL=http://localhost:8080/v1 LLM_MODEL=qwen2.5 \
//!     cargo run --example local_llm -- console --text     # llama-server
//! OPENAI_BASE_URL=http://localhost:8000/v1 LLM_MODEL=meta-llama/Llama-3.1-8B-Instruct \
//!     cargo run --example local_llm -- console --text     # vllm serve
//! ```
//!
//! A URL where no server answers fails each turn after three retries, 2 s apart (each logged
//! as `LLM request failed (connection failed: cannot reach http://…/chat/completions: …)`);
//! the console goes on to the end of its input, then exits with status 1. A URL without
//! `http://` or `https://` fails at once, with status 1:
//!
//! ```text
//! error: the session reported 1 error(s), the last from the LLM: connection failed: cannot reach http://127.0.0.1:9/v1/chat/completions: …
//! error: the job's entrypoint failed: invalid base URL `localhost:11434/v1`: the scheme is `localhost`, not `http` or `https`
//! ```

use std::process::ExitCode;

use agents_core::prelude::*;
use agents_inference::openai;

/// Ollama's OpenAI-compatible API on this machine.
const DEFAULT_BASE_URL: &str = "http://localhost:11434/v1";
/// A small model with tool calling, in Ollama's naming.
const DEFAULT_MODEL: &str = "llama3.2";

#[derive(Agent)]
#[agent(instructions = "You are a helpful assistant running on a local model. Answer briefly. \
    Use your tool to convert temperatures.")]
struct LocalAssistant;

#[function_tools]
impl LocalAssistant {
    /// Convert a temperature from degrees Celsius to degrees Fahrenheit.
    #[function_tool]
    async fn convert_temperature(
        &self,
        /// The temperature in degrees Celsius.
        celsius: f64,
    ) -> String {
        format!("{celsius} °C is {:.1} °F", celsius * 9.0 / 5.0 + 32.0)
    }
}

/// The LLM the environment describes.
fn local_llm() -> Result<openai::Llm, agents_inference::ConfigError> {
    let var = |name| std::env::var(name).ok().filter(|value: &String| !value.is_empty());
    let mut llm = openai::Llm::builder(var("LLM_MODEL").unwrap_or_else(|| DEFAULT_MODEL.into()))
        .base_url(var("OPENAI_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.into()));
    if let Some(key) = var("OPENAI_API_KEY") {
        llm = llm.api_key(key);
    }
    llm.build()
}

async fn entrypoint(ctx: JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let session = AgentSession::builder().llm(local_llm()?).build();
    session.start(LocalAssistant.into_agent()?).room(ctx.room()).await?;
    ctx.connect().await?;
    Ok(())
}

fn main() -> ExitCode {
    cli::run_app(AgentServer::new().rtc_session(entrypoint))
}
