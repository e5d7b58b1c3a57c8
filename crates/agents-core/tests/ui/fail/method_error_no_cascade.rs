use std::sync::Arc;

use agents_core::prelude::*;

struct Weather;

#[function_tools]
impl Weather {
    /// Get the weather in a city.
    #[function_tool]
    async fn get_weather(&mut self, city: String) -> String {
        format!("sunny in {city}")
    }
}

#[function_tool]
async fn no_description() {}

fn main() {
    // The errors above are the only ones: `function_tools()` and `no_description_tool()`
    // still exist.
    let _ = Arc::new(Weather).function_tools();
    let _ = no_description_tool();
}
