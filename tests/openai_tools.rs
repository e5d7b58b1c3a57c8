//! Tools rendered in the OpenAI Chat Completions form, as LiveKit's Python framework sends them.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use agents_core::llm::FunctionTool;
use agents_core::prelude::*;
use agents_inference::openai;
use serde_json::{Value, json};

struct Weather;

#[function_tools]
impl Weather {
    /// Look up the current weather for a location.
    #[function_tool]
    async fn lookup_weather(
        &self,
        _context: RunContext,
        /// City and country, e.g. "Paris, France".
        location: String,
        /// How many days of forecast to return.
        #[arg(default = 1)]
        days: i64,
    ) -> String {
        format!("{location}: sunny for {days} days")
    }
}

fn lookup_weather() -> FunctionTool {
    Arc::new(Weather).function_tools().remove(0)
}

#[test]
fn strict_entry_matches_the_python_framework() {
    // What livekit-agents 1.8.9 sends for the same signature, strict (the default of
    // LiveKit Inference and the OpenAI plugin); Python's description keeps a trailing newline
    // from its docstring parser, ours has none.
    let python = json!({
        "type": "function",
        "function": {
            "name": "lookup_weather",
            "strict": true,
            "description": "Look up the current weather for a location.",
            "parameters": {
                "properties": {
                    "location": {
                        "description": "City and country, e.g. \"Paris, France\".",
                        "type": "string"
                    },
                    "days": {
                        "description": "How many days of forecast to return.",
                        "type": ["integer", "null"]
                    }
                },
                "required": ["location", "days"],
                "type": "object",
                "additionalProperties": false
            }
        }
    });
    assert_eq!(openai::chat_tool(&lookup_weather(), true), python);
}

#[test]
fn non_strict_entry_keeps_the_canonical_schema() {
    let entry = openai::chat_tool(&lookup_weather(), false);
    let function = &entry["function"];
    assert!(function.get("strict").is_none());
    assert_eq!(function["parameters"]["required"], json!(["location"]));
    assert_eq!(function["parameters"]["properties"]["days"]["default"], 1);
    let keys: Vec<&str> =
        function.as_object().map(|f| f.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(keys, ["name", "description", "parameters"]);
}

#[test]
fn tools_without_a_strict_rendering_are_sent_non_strict() {
    #[derive(Deserialize, JsonSchema)]
    struct Tags {
        /// Free-form labels.
        labels: std::collections::HashMap<String, String>,
    }
    async fn tag(args: Tags) -> usize {
        args.labels.len()
    }
    let map_tool = function_tool(tag, "tag", "Tag things.").expect("valid");
    let reason = map_tool.strict_incompatibility().expect("maps are not strict-compatible");
    assert_eq!(reason.to_string(), "`/properties/labels` is a map with arbitrary keys");
    let entry = openai::chat_tool(&map_tool, true);
    assert!(entry["function"].get("strict").is_none());
    assert_eq!(&entry["function"]["parameters"], map_tool.parameters());

    let raw = FunctionTool::raw(
        "raw",
        "Raw.",
        json!({"type": "object"}),
        |_: RunContext, _: Value| async { "ok" },
    )
    .expect("valid");
    assert_eq!(
        openai::chat_tool(&raw, true),
        json!({"type": "function", "function": {"name": "raw", "description": "Raw.", "parameters": {"type": "object"}}})
    );
}

#[test]
fn a_tool_set_renders_in_order() {
    let set = ToolSet::new([
        lookup_weather(),
        function_tool(|| async { 4 }, "random_number", "Get a random number").expect("valid"),
    ])
    .expect("unique");
    let names: Vec<Value> = openai::chat_tools(&set, true)
        .iter()
        .map(|entry| entry["function"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("lookup_weather"), json!("random_number")]);
}
