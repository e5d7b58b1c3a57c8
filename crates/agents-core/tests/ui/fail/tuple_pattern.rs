use agents_core::prelude::*;

/// Add two numbers.
#[function_tool]
async fn add((a, b): (i32, i32)) -> i32 {
    a + b
}

fn main() {}
