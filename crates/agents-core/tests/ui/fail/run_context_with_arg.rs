use agents_core::prelude::*;

/// Who is calling.
#[function_tool]
async fn whoami(#[arg(description = "The context.")] ctx: RunContext) -> String {
    ctx.function_call().call_id.clone()
}

fn main() {}
