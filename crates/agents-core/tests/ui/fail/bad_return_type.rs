use agents_core::prelude::*;

struct Forecast {
    high: i32,
}

struct Weather;

#[function_tools]
impl Weather {
    /// Tomorrow's forecast.
    #[function_tool]
    async fn forecast(&self) -> Forecast {
        Forecast { high: 21 }
    }
}

fn main() {}
