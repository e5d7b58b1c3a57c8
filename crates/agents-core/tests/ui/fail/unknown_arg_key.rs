use agents_core::prelude::*;

/// Get the weather in a city.
#[function_tool]
async fn get_weather(#[arg(desc = "The city.")] city: String) -> String {
    format!("sunny in {city}")
}

fn main() {}
