//! The OpenAI Chat Completions wire format of function tools.
//!
//! A tool is sent as `{"type": "function", "function": {"name", "description", "parameters"}}`.
//! In strict mode (what LiveKit Inference and the OpenAI plugin use by default) the entry also
//! carries `"strict": true` and the parameters are the tool's strict rendering (see
//! [`agents_core::llm::schema`]). A tool that has no strict rendering — a raw schema, or
//! argument types strict mode cannot express — is sent non-strict even when strict is asked
//! for; the tool logged a warning about it when it was built.

use agents_core::llm::{FunctionTool, ToolSet};
use serde_json::{Map, Value};

/// The Chat Completions `tools` entry of one tool.
///
/// ```
/// use agents_core::prelude::*;
/// use agents_inference::openai;
///
/// // Deriving through agents-core's re-exports: no serde or schemars dependency needed.
/// #[derive(Deserialize, JsonSchema)]
/// #[serde(crate = "agents_core::serde")]
/// #[schemars(crate = "agents_core::schemars")]
/// struct Args {
///     /// City and country.
///     location: String,
///     days: Option<u8>,
/// }
/// async fn weather(args: Args) -> String { args.location }
///
/// let tool = function_tool(weather, "weather", "Look up the weather.")?;
/// let lenient = openai::chat_tool(&tool, false);
/// assert_eq!(lenient["function"]["parameters"]["required"], serde_json::json!(["location"]));
/// assert!(lenient["function"].get("strict").is_none());
///
/// let strict = openai::chat_tool(&tool, true);
/// assert_eq!(strict["function"]["parameters"]["required"], serde_json::json!(["location", "days"]));
/// # Ok::<(), agents_core::llm::ToolDefinitionError>(())
/// ```
pub fn chat_tool(tool: &FunctionTool, strict: bool) -> Value {
    let mut function = Map::new();
    function.insert("name".to_owned(), Value::String(tool.name().to_owned()));
    let parameters = match tool.strict_parameters() {
        Some(strict_parameters) if strict => {
            function.insert("strict".to_owned(), Value::Bool(true));
            strict_parameters
        }
        _ => tool.parameters(),
    };
    function.insert("description".to_owned(), Value::String(tool.description().to_owned()));
    function.insert("parameters".to_owned(), parameters.clone());
    let mut entry = Map::new();
    entry.insert("type".to_owned(), Value::String("function".to_owned()));
    entry.insert("function".to_owned(), Value::Object(function));
    Value::Object(entry)
}

/// The Chat Completions `tools` array of a tool set, in the set's order.
pub fn chat_tools(tools: &ToolSet, strict: bool) -> Vec<Value> {
    tools.iter().map(|tool| chat_tool(tool, strict)).collect()
}
