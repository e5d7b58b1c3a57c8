use agents_core::prelude::*;

struct Forecast {
    high: i32,
}

/// Tomorrow's forecast.
#[function_tool]
async fn forecast() -> Result<Forecast, String> {
    Ok(Forecast { high: 21 })
}

fn main() {}
