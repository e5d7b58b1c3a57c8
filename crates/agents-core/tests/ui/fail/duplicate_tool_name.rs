use agents_core::prelude::*;

struct Weather;

#[function_tools]
impl Weather {
    /// Get the weather in a city.
    #[function_tool(name = "weather")]
    async fn get_weather(&self, city: String) -> String {
        format!("sunny in {city}")
    }

    /// Get the forecast for a city.
    #[function_tool(name = "weather")]
    async fn get_forecast(&self, city: String) -> String {
        format!("sunny tomorrow in {city}")
    }
}

fn main() {
    let _ = std::sync::Arc::new(Weather).function_tools();
}
