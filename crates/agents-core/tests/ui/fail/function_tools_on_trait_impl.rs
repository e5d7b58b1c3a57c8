use agents_core::prelude::*;

trait Forecaster {
    async fn get_weather(&self, city: String) -> String;
}

struct Weather;

#[function_tools]
impl Forecaster for Weather {
    /// Get the weather in a city.
    #[function_tool]
    async fn get_weather(&self, city: String) -> String {
        format!("sunny in {city}")
    }
}

fn main() {}
