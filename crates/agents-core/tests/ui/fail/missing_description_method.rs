use agents_core::prelude::*;
use std::sync::Arc;

struct Weather;

#[function_tools]
impl Weather {
    // A plain comment is not a description.
    #[function_tool(name = "weather")]
    async fn get_weather(&self, city: String) -> String {
        format!("sunny in {city}")
    }
}

fn main() {
    let _ = Arc::new(Weather).function_tools();
}
