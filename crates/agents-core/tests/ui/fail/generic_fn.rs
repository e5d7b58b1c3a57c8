use agents_core::prelude::*;

/// Echo a value.
#[function_tool]
async fn echo<T: std::fmt::Display>(value: T) -> String {
    value.to_string()
}

fn main() {}
