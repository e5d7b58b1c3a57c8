use agents_core::prelude::*;

/// Get the weather in a city.
#[function_tool]
async fn get_weather(#[arg(default = "Paris", default = "Oslo")] city: String) -> String {
    format!("sunny in {city}")
}

fn main() {}
