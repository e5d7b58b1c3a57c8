use agents_core::prelude::*;

struct Weather;

#[function_tools]
impl Weather {
    /// Get the weather in a city.
    #[function_tool]
    async fn get_weather(self, city: String) -> String {
        format!("sunny in {city}")
    }
}

fn main() {}
