use agents_core::prelude::*;

/// The weather.
#[function_tool]
struct Weather;

fn main() {}
