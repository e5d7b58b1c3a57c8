use agents_core::prelude::*;

/// Get the weather in a city.
#[function_tool(name = "get weather")]
async fn get_weather(city: String) -> String {
    format!("sunny in {city}")
}

fn main() {}
