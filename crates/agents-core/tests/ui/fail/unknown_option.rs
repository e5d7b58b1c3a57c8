use agents_core::prelude::*;

#[function_tool(nmae = "weather", description = "Get the weather in a city.")]
async fn get_weather(city: String) -> String {
    format!("sunny in {city}")
}

fn main() {
    let _ = get_weather_tool();
}
