use agents_core::prelude::*;

/// Get the weather in a city.
#[function_tool]
async fn get_weather(
    /// The city.
    city: String,
    /// `metric` or `imperial`.
    #[arg(default = 1)]
    units: String,
) -> String {
    format!("{city} {units}")
}

fn main() {}
