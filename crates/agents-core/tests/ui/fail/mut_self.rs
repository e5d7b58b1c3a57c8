use agents_core::prelude::*;

struct Counter {
    count: u32,
}

#[function_tools]
impl Counter {
    /// Count one more.
    #[function_tool]
    async fn increment(&mut self) -> u32 {
        self.count += 1;
        self.count
    }
}

fn main() {}
