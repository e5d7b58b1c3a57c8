use agents_core::prelude::*;

struct City(String);

/// Get the weather in a city.
#[function_tool]
async fn get_weather(city: City) -> String {
    format!("sunny in {}", city.0)
}

fn main() {}
