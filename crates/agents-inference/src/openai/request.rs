//! The JSON body of a streamed Chat Completions request.
//!
//! ```json
//! {"model": "…", "messages": […], "tools": […], "tool_choice": "auto",
//!  "parallel_tool_calls": true, "stream": true, "stream_options": {"include_usage": true}, …}
//! ```
//!
//! `tools` is omitted when there are none, and so are `tool_choice` and `parallel_tool_calls`
//! (the API rejects them without tools). The extra body options come last; they cannot replace
//! a key the request sets itself.

use agents_core::llm::{ChatContext, ChatOptions, FunctionTool, ToolChoice};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use super::chat_tool;
use super::messages::{WireMessage, chat_messages};

/// What a request body is built from, besides the chat context.
pub(crate) struct RequestParts<'a> {
    /// The model name, sent verbatim.
    pub(crate) model: &'a str,
    /// Whether tools are sent in their strict form.
    pub(crate) strict_tools: bool,
    /// Extra top-level body keys (`temperature`, `max_completion_tokens`, …).
    pub(crate) extra_body: &'a Map<String, Value>,
}

/// A request body: `model`, then `messages` (borrowed from the chat context and serialized
/// directly), then the other keys in order.
#[derive(Debug)]
pub(crate) struct RequestBody<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    rest: Map<String, Value>,
}

impl Serialize for RequestBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.rest.len() + 2))?;
        map.serialize_entry("model", self.model)?;
        map.serialize_entry("messages", &self.messages)?;
        for (key, value) in &self.rest {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The request body for `chat_ctx`, `tools` and `options`.
pub(crate) fn request_body<'a>(
    parts: &RequestParts<'a>,
    chat_ctx: &'a ChatContext,
    tools: &[FunctionTool],
    options: &ChatOptions,
) -> RequestBody<'a> {
    let mut rest = Map::new();
    if !tools.is_empty() {
        let entries = tools.iter().map(|tool| chat_tool(tool, parts.strict_tools)).collect();
        rest.insert("tools".to_owned(), Value::Array(entries));
        if let Some(choice) = options.tool_choice.as_ref().and_then(tool_choice) {
            rest.insert("tool_choice".to_owned(), choice);
        }
        if let Some(parallel) = options.parallel_tool_calls {
            rest.insert("parallel_tool_calls".to_owned(), Value::Bool(parallel));
        }
    }
    rest.insert("stream".to_owned(), Value::Bool(true));
    rest.insert("stream_options".to_owned(), json!({ "include_usage": true }));
    for (key, value) in parts.extra_body {
        let tool_key = matches!(key.as_str(), "tool_choice" | "parallel_tool_calls");
        let own_key = matches!(key.as_str(), "model" | "messages");
        if own_key || rest.contains_key(key) || (tool_key && tools.is_empty()) {
            continue;
        }
        rest.insert(key.clone(), value.clone());
    }
    RequestBody { model: parts.model, messages: chat_messages(chat_ctx), rest }
}

/// The `tool_choice` value of `choice`.
fn tool_choice(choice: &ToolChoice) -> Option<Value> {
    match choice {
        ToolChoice::Auto => Some(json!("auto")),
        ToolChoice::Required => Some(json!("required")),
        ToolChoice::None => Some(json!("none")),
        ToolChoice::Named(name) => {
            Some(json!({ "type": "function", "function": { "name": name } }))
        }
        // A choice added to agents-core later: leave it to the provider's default.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use agents_core::llm::{ChatRole, function_tool};

    use super::*;

    async fn ping() -> String {
        "pong".to_owned()
    }

    fn parts(extra_body: &Map<String, Value>) -> RequestParts<'_> {
        RequestParts { model: "gpt-test", strict_tools: true, extra_body }
    }

    fn as_value(body: &RequestBody<'_>) -> Value {
        serde_json::to_value(body).unwrap()
    }

    fn ctx() -> ChatContext {
        let mut ctx = ChatContext::new();
        ctx.add_message(ChatRole::User, "hi");
        ctx
    }

    #[test]
    fn without_tools_there_is_no_tool_key() {
        let mut extra = Map::new();
        extra.insert("tool_choice".to_owned(), json!("required"));
        extra.insert("temperature".to_owned(), json!(0.2));
        let options = ChatOptions::default().with_tool_choice(ToolChoice::Required);
        let ctx = ctx();
        let body = as_value(&request_body(&parts(&extra), &ctx, &[], &options));
        let body = body.as_object().unwrap();
        let keys: Vec<&str> = body.keys().map(String::as_str).collect();
        assert_eq!(keys, ["model", "messages", "stream", "stream_options", "temperature"]);
        assert_eq!(body["stream_options"], json!({"include_usage": true}));
    }

    #[test]
    fn tools_choice_and_extras() {
        let tool = function_tool(ping, "ping", "Ping.").unwrap();
        let mut extra = Map::new();
        extra.insert("model".to_owned(), json!("other"));
        extra.insert("stream".to_owned(), json!(false));
        extra.insert("parallel_tool_calls".to_owned(), json!(false));
        let mut options = ChatOptions::default().with_tool_choice(ToolChoice::Named("ping".into()));
        options.parallel_tool_calls = None;
        let ctx = ctx();
        let body = as_value(&request_body(&parts(&extra), &ctx, &[tool], &options));
        assert_eq!(body["model"], "gpt-test");
        assert_eq!(body["stream"], true);
        assert_eq!(body["tools"][0]["function"]["strict"], true);
        assert_eq!(body["tool_choice"], json!({"type": "function", "function": {"name": "ping"}}));
        assert_eq!(body["parallel_tool_calls"], false);
    }

    #[test]
    fn tool_choices() {
        assert_eq!(tool_choice(&ToolChoice::Auto), Some(json!("auto")));
        assert_eq!(tool_choice(&ToolChoice::Required), Some(json!("required")));
        assert_eq!(tool_choice(&ToolChoice::None), Some(json!("none")));
    }
}
