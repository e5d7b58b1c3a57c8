use agents_core::prelude::*;

#[function_tools]
async fn get_weather(city: String) -> String {
    format!("sunny in {city}")
}

fn main() {}
