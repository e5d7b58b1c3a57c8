//! A console agent for the command-line tests (`tests/cli.rs`): the seed's shape on an
//! OpenAI-compatible server taken from the environment (`OPENAI_BASE_URL`, `OPENAI_API_KEY`),
//! run by `cli::run_app`.

use std::process::ExitCode;
use std::sync::Arc;

use agents_core::prelude::*;
use agents_inference::openai;

/// Greets the user and can print to the console.
struct Assistant;

#[function_tools]
impl Assistant {
    /// Print to the console.
    #[function_tool]
    async fn print_to_console(&self) -> &'static str {
        "I've printed to the console."
    }
}

#[async_trait]
impl AgentHooks for Assistant {
    async fn on_enter(&self, ctx: AgentContext) {
        ctx.session().generate_reply(ReplyOptions::default());
    }
}

async fn entrypoint(ctx: JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // `CONSOLE_AGENT_PRINT`: user code printing to stdout, without a newline
    // (`tests/worker_hosts.rs`: it must not disturb a job host's channel to the worker).
    if let Ok(text) = std::env::var("CONSOLE_AGENT_PRINT") {
        use std::io::Write as _;
        print!("{text}");
        std::io::stdout().flush()?;
    }
    let session = AgentSession::builder().llm(openai::Llm::new("gpt-4.1-mini")?).build();
    let this = Arc::new(Assistant);
    let agent = Agent::from_parts("assistant", "Be brief.", this.function_tools(), this)?;
    session.start(agent).room(ctx.room()).await?;
    ctx.connect().await?;
    Ok(())
}

fn main() -> ExitCode {
    // `CONSOLE_AGENT_SETUP_FAILS`: a setup function that always fails (`tests/worker_hosts.rs`).
    let setup = |_: &mut JobProcess| -> Result<(), std::io::Error> {
        match std::env::var_os("CONSOLE_AGENT_SETUP_FAILS") {
            Some(_) => Err(std::io::Error::other("the setup function failed on purpose")),
            None => Ok(()),
        }
    };
    cli::run_app(AgentServer::new().setup_fnc(setup).rtc_session(entrypoint))
}
