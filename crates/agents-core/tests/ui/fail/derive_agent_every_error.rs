use agents_core::prelude::*;

#[derive(Agent)]
#[agent(instructions = "Be helpful.", voice = "alloy", id = assistant)]
#[agent(crate = "agents_core", instructions = "Be brief.")]
struct Assistant;

fn main() {
    let _ = Assistant.into_agent();
}
