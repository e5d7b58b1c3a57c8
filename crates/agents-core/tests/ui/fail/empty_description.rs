use agents_core::prelude::*;

/// Get the weather in a city.
#[function_tool(description = "  ")]
async fn get_weather(city: String) -> String {
    format!("sunny in {city}")
}

fn main() {
    let _ = get_weather_tool();
}
