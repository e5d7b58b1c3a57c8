//! `weather_tools`, run as a user runs it (`console --text`) against a fake LiveKit Inference
//! on 127.0.0.1: the schemas the model is offered, a tool error and structured output as the
//! model reads them.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use agents_test_support::{FakeOpenAi, FakeResponse, RecordedRequest};
use common::{assert_in_order, example, last_message, last_user_text, tool};
use serde_json::json;

/// A model that calls the tool each line asks for, and reads the tool's output back.
fn weather_model(request: &RecordedRequest) -> FakeResponse {
    let last = last_message(request);
    if last["role"] == "tool" {
        return FakeResponse::text(format!("Tool said: {}", last["content"].as_str().unwrap()));
    }
    let user = last_user_text(request);
    let (name, arguments) = if user.contains("Lisbon") {
        (
            "current_weather",
            json!({"place": {"city": "Lisbon", "country": null}, "units": "fahrenheit"}),
        )
    } else if user.contains("Atlantis") {
        ("current_weather", json!({"place": {"city": "Atlantis", "country": null}, "units": null}))
    } else if user.contains("forecast") {
        (
            "forecast",
            json!({"place": {"city": "Oslo", "country": "Norway"}, "days": 2, "units": null}),
        )
    } else {
        return FakeResponse::text("Hello!");
    };
    FakeResponse::tool_call("call_1", name, &arguments.to_string())
}

/// Three turns: a tool output, a tool error, and structured data.
const INPUT: &str = "weather in Lisbon in fahrenheit?\n\
                     and in Atlantis?\n\
                     the forecast for Oslo, Norway, for two days?\n";

#[tokio::test]
async fn the_model_is_offered_the_generated_schemas() {
    let llm = FakeOpenAi::with_handler(weather_model).await.unwrap();
    let output = common::run_with_input(
        example("weather_tools", &["console", "--text"], &llm.base_url()),
        "weather in Lisbon in fahrenheit?\n",
    )
    .await;
    assert!(output.status.success(), "{}", common::show(&output));
    let request = &llm.requests()[0];
    assert_eq!(request.tool_names(), ["current_weather", "forecast"]);
    let place = |purpose: &str| {
        json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, in English."},
                "country": {
                    "type": ["string", "null"],
                    "description": "The country, if the user said it."
                }
            },
            "required": ["city", "country"],
            "description": format!("Where the user wants the {purpose}."),
            "additionalProperties": false
        })
    };
    let units = |description: &str| {
        json!({
            "type": ["string", "null"],
            "enum": ["celsius", "fahrenheit", null],
            "description": description
        })
    };
    // Strict mode: every property required, optional ones nullable, no other properties.
    assert_eq!(
        *tool(request, "current_weather"),
        json!({
            "type": "function",
            "function": {
                "name": "current_weather",
                "strict": true,
                "description": "Get the current weather in a place.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "place": place("weather"),
                        "units": units("The units of the temperature; celsius if the user did not say.")
                    },
                    "required": ["place", "units"],
                    "additionalProperties": false
                }
            }
        })
    );
    assert_eq!(
        tool(request, "forecast")["function"]["parameters"],
        json!({
            "type": "object",
            "properties": {
                "place": place("forecast"),
                "days": {
                    "type": ["integer", "null"],
                    "description": "How many days; 3 if the user did not say.",
                    "minimum": 1,
                    "maximum": 7
                },
                "units": units("The units of the temperatures; celsius if the user did not say.")
            },
            "required": ["place", "days", "units"],
            "additionalProperties": false
        })
    );
}

#[tokio::test]
async fn tool_errors_and_structured_data_reach_the_model() {
    let llm = FakeOpenAi::with_handler(weather_model).await.unwrap();
    let output = common::run_with_input(
        example("weather_tools", &["console", "--text"], &llm.base_url()),
        INPUT,
    )
    .await;
    let forecast = r#"[{"day":1,"summary":"light snow","high":-2,"low":-7,"units":"celsius"},{"day":2,"summary":"light snow","high":-1,"low":-8,"units":"celsius"}]"#;
    let atlantis = "No weather data for Atlantis: only Lisbon, Oslo, Paris and Tokyo are covered.";
    assert_in_order(
        &output,
        &[
            "➜ current_weather",
            "✓ sunny, 75 degrees fahrenheit in Lisbon",
            "➜ current_weather",
            &format!("✗ {atlantis}"),
            "➜ forecast",
            &format!("✓ {forecast}"),
        ],
    );
    // What the model read after each call: the tool's output, its error, its JSON.
    let tool_outputs: Vec<String> = llm
        .requests()
        .iter()
        .filter(|request| last_message(request)["role"] == "tool")
        .map(|request| last_message(request)["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(tool_outputs, ["sunny, 75 degrees fahrenheit in Lisbon", atlantis, forecast]);
}
