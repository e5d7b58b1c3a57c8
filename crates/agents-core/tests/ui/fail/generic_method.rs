use agents_core::prelude::*;

struct Echo;

#[function_tools]
impl Echo {
    /// Echo a value.
    #[function_tool]
    async fn echo<T: std::fmt::Display>(&self, value: T) -> String {
        value.to_string()
    }
}

fn main() {}
