use agents_core::prelude::*;

#[function_tool]
async fn get_weather(city: String) -> String {
    format!("sunny in {city}")
}

fn main() {
    let _ = get_weather_tool();
}
