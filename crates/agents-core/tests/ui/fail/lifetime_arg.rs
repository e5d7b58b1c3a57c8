use agents_core::prelude::*;
use std::borrow::Cow;

struct Greeter<'a> {
    greeting: &'a str,
}

#[function_tools]
impl<'a> Greeter<'a> {
    /// Greet someone.
    #[function_tool]
    async fn greet(&self, name: Cow<'a, str>) -> String {
        format!("{} {name}", self.greeting)
    }
}

fn main() {}
