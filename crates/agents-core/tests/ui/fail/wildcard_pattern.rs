use agents_core::prelude::*;

struct Weather;

#[function_tools]
impl Weather {
    /// Get the weather.
    #[function_tool]
    async fn get_weather(&self, _: String) -> &'static str {
        "sunny"
    }
}

fn main() {}
