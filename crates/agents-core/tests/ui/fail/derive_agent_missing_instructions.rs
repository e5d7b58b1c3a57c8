use agents_core::prelude::*;

#[derive(Agent)]
struct Assistant;

fn main() {}
