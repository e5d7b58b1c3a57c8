use agents_core::prelude::*;

#[derive(Agent)]
#[agent(instructions = "Be helpful.")]
struct Assistant<T> {
    inner: T,
}

fn main() {}
