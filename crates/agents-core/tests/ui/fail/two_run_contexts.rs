use agents_core::prelude::*;

/// Who is calling.
#[function_tool]
async fn whoami(ctx: RunContext, again: RunContext) -> String {
    format!("{} {}", ctx.function_call().call_id, again.function_call().call_id)
}

fn main() {}
