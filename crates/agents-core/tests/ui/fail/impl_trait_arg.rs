use agents_core::prelude::*;

/// Say something.
#[function_tool]
async fn say(text: impl Into<String>) -> String {
    text.into()
}

fn main() {}
