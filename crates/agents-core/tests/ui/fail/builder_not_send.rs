use agents_core::prelude::*;
use std::rc::Rc;

async fn tick() {}

async fn count() -> usize {
    let counter = Rc::new(1);
    tick().await;
    Rc::strong_count(&counter)
}

fn main() {
    let _ = function_tool(count, "count", "Count.");
}
