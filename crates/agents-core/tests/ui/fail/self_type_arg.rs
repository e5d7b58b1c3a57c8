use agents_core::prelude::*;

#[derive(Clone, Deserialize, JsonSchema)]
struct Settings {
    volume: u8,
}

#[function_tools]
impl Settings {
    /// Replace the settings.
    #[function_tool]
    async fn replace(&self, settings: Self) -> u8 {
        settings.volume
    }
}

fn main() {}
