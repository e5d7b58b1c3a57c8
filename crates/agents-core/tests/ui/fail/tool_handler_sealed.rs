// `ToolHandler` is sealed: only functions and closures of the four shapes implement it.
use agents_core::llm::ToolHandler;

struct MyHandler;

impl ToolHandler<()> for MyHandler {}

fn main() {}
