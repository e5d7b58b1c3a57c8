use agents_core::prelude::*;

async fn add(a: i32, b: i32) -> i32 {
    a + b
}

fn main() {
    let _ = function_tool(add, "add", "Add two numbers.");
}
