use agents_core::prelude::*;

struct Weather;

#[function_tools]
impl Weather {
    /// Get the weather in a city.
    #[function_tool]
    async fn weather(&self, city: String) -> String {
        format!("sunny in {city}")
    }

    /// Get the forecast for a city.
    #[function_tool(name = "weather")]
    async fn forecast(&self, city: String) -> String {
        format!("sunny tomorrow in {city}")
    }
}

fn main() {}
