use agents_core::prelude::*;

struct Cat;

#[function_tools]
impl Cat {
    /// How many lives are left.
    #[function_tool(name = "9lives")]
    async fn lives(&self) -> u8 {
        9
    }
}

fn main() {}
