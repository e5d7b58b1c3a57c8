use agents_core::prelude::*;

#[derive(Agent)]
#[agent(instruction = "Be helpful.")]
struct Assistant;

fn main() {
    // The typo is the only error: the agent still has `into_agent()`.
    let _ = Assistant.into_agent();
}
