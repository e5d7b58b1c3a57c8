use agents_core::prelude::*;

struct Oops;

/// Flip a coin.
#[function_tool]
async fn flip() -> Result<bool, Oops> {
    Err(Oops)
}

fn main() {}
