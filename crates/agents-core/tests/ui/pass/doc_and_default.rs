//! A doc comment describes an argument while `#[arg(default = ...)]` makes it optional; a
//! string literal default converts into a `String`.

use agents_core::prelude::*;

/// Get the weather in a city.
#[function_tool]
async fn get_weather(
    /// The city.
    city: String,
    /// `metric` or `imperial`.
    #[arg(default = "metric")]
    units: String,
    #[arg(description = "How many days ahead.", default = 1)] days: u8,
) -> String {
    format!("{city} {units} {days}")
}

fn main() {
    let tool = get_weather_tool();
    let parameters = tool.parameters();
    assert_eq!(parameters["required"], agents_core::serde_json::json!(["city"]));
    assert_eq!(parameters["properties"]["units"]["description"], "`metric` or `imperial`.");
    assert_eq!(parameters["properties"]["days"]["description"], "How many days ahead.");

    let ctx = RunContext::new(FunctionCall::new("call_1", "get_weather", r#"{"city":"Oslo"}"#));
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let output = runtime.block_on(tool.invoke(ctx, r#"{"city":"Oslo"}"#));
    assert_eq!(output.map(|output| output.output).ok().as_deref(), Some("Oslo metric 1"));
}
