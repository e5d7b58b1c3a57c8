//! Dynamic tool updates: the Rust translation of LiveKit's Python example `update_tools.py`.
//!
//! The agent starts with a static `print_to_console` tool defined with `#[function_tool]`; a
//! `random_number` tool is wrapped at run time with `function_tool(...)` and added with
//! `agent.update_tools(agent.tools() + [...])`, as the Python example does before the session
//! starts.
//!
//! The session (LLM, console, voice) is not part of this crate family yet, so for now the
//! example shows what the model would be given — the tool definitions in OpenAI's strict form —
//! and then makes the calls a model would make, printing each tool's output:
//!
//! ```text
//! cargo run --example update_tools
//! ```

use std::sync::Arc;

use agents_core::prelude::*;
use agents_inference::openai;

const INSTRUCTIONS: &str = "You are a helpful assistant communicating through voice. Don't use \
    any unpronouncable characters.\nNote: If asked to print to the console, use the \
    `print_to_console` function.";

/// The agent of the Python example, with its one static tool.
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

async fn random_number() -> i64 {
    let number = rand::random_range(0..=100);
    eprintln!("random_number called: {number}");
    number
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = Agent::new(INSTRUCTIONS).with_tools(Arc::new(AddFunctionAgent).function_tools())?;

    agent
        .update_tools(
            agent.tools() + [function_tool(random_number, "random_number", "Get a random number")?],
        )
        .await?;

    let tools = agent.tools();
    println!("instructions: {}", agent.instructions());
    println!("tools offered to the model:");
    for definition in openai::chat_tools(&tools, true) {
        println!("{}", serde_json::to_string_pretty(&definition)?);
    }

    for (call_id, name) in [("call_1", "print_to_console"), ("call_2", "random_number")] {
        let call = FunctionCall::new(call_id, name, "{}");
        println!("➜ {name}");
        match tools.invoke(RunContext::new(call)).await {
            Ok(output) => println!("✓ {}", output.output),
            Err(error) => println!("✗ {}", error.llm_message()),
        }
    }
    Ok(())
}
