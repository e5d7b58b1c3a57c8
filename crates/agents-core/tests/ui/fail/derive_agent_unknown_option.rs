use agents_core::prelude::*;

#[derive(Agent)]
#[agent(instructions = "Be helpful.", voice = "alloy")]
struct Assistant;

fn main() {}
