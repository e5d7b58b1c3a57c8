//! From `chat.completion.chunk` events to [`ChatChunk`]s.
//!
//! * `choices[0].delta.content` → [`ChatChunk::Text`] (empty deltas are skipped).
//! * `choices[0].delta.tool_calls` fragments are accumulated per `index`: a fragment with an
//!   `id` or a `function.name` starts a call, later `function.arguments` fragments append to it.
//!   Complete calls are emitted, in index order, when the choice's `finish_reason` arrives or at
//!   `[DONE]`.
//! * `usage` → [`ChatChunk::Usage`].
//! * An `error` object in the stream, or a chunk that is not JSON, is a
//!   [`BadResponse`](LlmError::BadResponse).
//! * A stream that ends with neither `[DONE]` nor a `finish_reason` was cut: a
//!   [`Connection`](LlmError::Connection) error.

use std::collections::BTreeMap;

use agents_core::llm::{ChatChunk, CompletionUsage, FunctionCall, LlmError};
use serde_json::Value;

/// A tool call being received.
#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Turns the data of the stream's events into chunks.
#[derive(Debug, Default)]
pub(crate) struct ChunkAssembler {
    /// Calls being received, by index.
    calls: BTreeMap<u64, PartialCall>,
    /// Calls replaced at their index by a new call (a provider reusing an index), in order.
    replaced: Vec<PartialCall>,
    /// A `finish_reason` has arrived.
    finished: bool,
    /// `[DONE]` has arrived; anything after it is ignored.
    done: bool,
}

impl ChunkAssembler {
    /// Handles the data of one event.
    pub(crate) fn on_data(&mut self, data: &str) -> Result<Vec<ChatChunk>, LlmError> {
        if self.done {
            return Ok(Vec::new());
        }
        if data.trim() == "[DONE]" {
            self.done = true;
            return self.flush_calls();
        }
        let chunk: Value = serde_json::from_str(data).map_err(|error| {
            bad_response(format!("a stream chunk is not valid JSON ({error}): {}", excerpt(data)))
        })?;
        if let Some(error) = chunk.get("error").filter(|error| !error.is_null()) {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| error.to_string(), str::to_owned);
            return Err(bad_response(format!("the provider reported an error: {message}")));
        }
        let mut out = Vec::new();
        if let Some(choice) = first_choice(&chunk)? {
            self.on_choice(choice, &mut out)?;
        }
        if let Some(usage) = chunk.get("usage").filter(|usage| !usage.is_null()) {
            out.push(ChatChunk::Usage(parse_usage(usage)?));
        }
        Ok(out)
    }

    /// Whether `[DONE]` has arrived.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Handles the end of the stream.
    pub(crate) fn on_end(&mut self) -> Result<Vec<ChatChunk>, LlmError> {
        if !self.done && !self.finished {
            return Err(LlmError::Connection {
                message: "the response ended early: neither `[DONE]` nor a `finish_reason` \
                          arrived"
                    .to_owned(),
            });
        }
        self.done = true;
        self.flush_calls()
    }

    fn on_choice(&mut self, choice: &Value, out: &mut Vec<ChatChunk>) -> Result<(), LlmError> {
        if let Some(delta) = choice.get("delta").filter(|delta| !delta.is_null()) {
            match delta.get("content") {
                Some(Value::String(text)) if !text.is_empty() => {
                    out.push(ChatChunk::Text(text.clone()));
                }
                Some(Value::String(_) | Value::Null) | None => {}
                Some(other) => return Err(bad_response(format!("`content` is {other}"))),
            }
            match delta.get("tool_calls") {
                Some(Value::Array(fragments)) => {
                    for (position, fragment) in fragments.iter().enumerate() {
                        self.on_fragment(position, fragment)?;
                    }
                }
                Some(Value::Null) | None => {}
                Some(other) => return Err(bad_response(format!("`tool_calls` is {other}"))),
            }
        }
        if choice.get("finish_reason").is_some_and(|reason| !reason.is_null()) {
            self.finished = true;
            out.extend(self.flush_calls()?);
        }
        Ok(())
    }

    fn on_fragment(&mut self, position: usize, fragment: &Value) -> Result<(), LlmError> {
        // Some OpenAI-compatible servers leave out `index`; then the position counts.
        let index = fragment.get("index").and_then(Value::as_u64).unwrap_or(position as u64);
        let id = str_field(fragment, &["id"])?;
        let name = str_field(fragment, &["function", "name"])?;
        let arguments = str_field(fragment, &["function", "arguments"])?;
        let starts = id.is_some_and(|id| !id.is_empty()) || name.is_some_and(|n| !n.is_empty());
        if starts {
            let existing = self.calls.get(&index);
            let another_call = existing.is_some_and(|call| {
                id.is_some_and(|id| !id.is_empty() && !call.id.is_empty() && call.id != id)
            });
            if another_call && let Some(previous) = self.calls.remove(&index) {
                self.replaced.push(previous);
            }
            let call = self.calls.entry(index).or_default();
            if let Some(id) = id.filter(|id| !id.is_empty()) {
                id.clone_into(&mut call.id);
            }
            if let Some(name) = name.filter(|name| !name.is_empty()) {
                name.clone_into(&mut call.name);
            }
        }
        if let Some(arguments) = arguments.filter(|arguments| !arguments.is_empty()) {
            match self.calls.get_mut(&index) {
                Some(call) => call.arguments.push_str(arguments),
                None => {
                    return Err(bad_response(format!(
                        "arguments arrived for tool call {index}, which has no id or name"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The complete calls received so far, in order; errors on a call without a name.
    fn flush_calls(&mut self) -> Result<Vec<ChatChunk>, LlmError> {
        let calls = std::mem::take(&mut self.replaced)
            .into_iter()
            .chain(std::mem::take(&mut self.calls).into_values());
        let mut out = Vec::new();
        for (position, call) in calls.enumerate() {
            if call.name.is_empty() {
                return Err(bad_response(format!("tool call `{}` has no function name", call.id)));
            }
            let call_id = if call.id.is_empty() {
                // Some local servers send no ids; the history needs one to pair the output.
                format!("call_{position}")
            } else {
                call.id
            };
            out.push(ChatChunk::ToolCall(FunctionCall::new(call_id, call.name, call.arguments)));
        }
        Ok(out)
    }
}

/// The first choice of a chunk (`n` is never set, so there is one), if any.
fn first_choice(chunk: &Value) -> Result<Option<&Value>, LlmError> {
    match chunk.get("choices") {
        Some(Value::Array(choices)) => Ok(choices
            .iter()
            .find(|choice| choice.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)),
        Some(Value::Null) | None => Ok(None),
        Some(other) => Err(bad_response(format!("`choices` is {other}"))),
    }
}

/// The string at `path` in `value`: `None` when absent or null, an error when not a string.
fn str_field<'v>(value: &'v Value, path: &[&str]) -> Result<Option<&'v str>, LlmError> {
    let mut current = value;
    for key in path {
        match current.get(key) {
            Some(Value::Null) | None => return Ok(None),
            Some(next) => current = next,
        }
    }
    match current {
        Value::String(text) => Ok(Some(text)),
        other => Err(bad_response(format!("tool call `{}` is {other}", path.join(".")))),
    }
}

fn parse_usage(usage: &Value) -> Result<CompletionUsage, LlmError> {
    let count = |path: &[&str]| -> Result<u64, LlmError> {
        let mut current = usage;
        for key in path {
            match current.get(key) {
                Some(Value::Null) | None => return Ok(0),
                Some(next) => current = next,
            }
        }
        current
            .as_u64()
            .ok_or_else(|| bad_response(format!("usage `{}` is {current}", path.join("."))))
    };
    Ok(CompletionUsage::new(
        count(&["prompt_tokens"])?,
        count(&["prompt_tokens_details", "cached_tokens"])?,
        count(&["completion_tokens"])?,
    ))
}

fn bad_response(message: String) -> LlmError {
    LlmError::BadResponse { message }
}

/// The start of `text`, for error messages.
fn excerpt(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use serde_json::json;

    use super::*;

    fn feed(events: &[Value]) -> Result<Vec<ChatChunk>, LlmError> {
        let mut assembler = ChunkAssembler::default();
        let mut out = Vec::new();
        for event in events {
            out.extend(assembler.on_data(&event.to_string())?);
        }
        out.extend(assembler.on_end()?);
        Ok(out)
    }

    fn delta(delta: Value) -> Value {
        json!({"choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
    }

    fn finish(reason: &str) -> Value {
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
    }

    fn calls(chunks: &[ChatChunk]) -> Vec<(String, String, String)> {
        chunks
            .iter()
            .filter_map(|chunk| match chunk {
                ChatChunk::ToolCall(call) => {
                    Some((call.call_id.clone(), call.name.clone(), call.arguments.clone()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn text_deltas_skip_empty_ones() {
        let chunks = feed(&[
            delta(json!({"role": "assistant", "content": ""})),
            delta(json!({"content": "Hel"})),
            delta(json!({"content": null})),
            delta(json!({"content": "lo"})),
            finish("stop"),
        ])
        .unwrap();
        assert_eq!(chunks, [ChatChunk::Text("Hel".into()), ChatChunk::Text("lo".into())]);
    }

    #[test]
    fn interleaved_fragments_are_assembled_per_index_and_emitted_in_index_order() {
        let chunks = feed(&[
            delta(json!({"tool_calls": [{"index": 1, "id": "b", "type": "function", "function": {"name": "two", "arguments": ""}}]})),
            delta(json!({"tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "one", "arguments": "{\"x\""}}]})),
            delta(json!({"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]})),
            delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]})),
            finish("tool_calls"),
        ])
        .unwrap();
        assert_eq!(
            calls(&chunks),
            [
                ("a".into(), "one".into(), "{\"x\":1}".into()),
                ("b".into(), "two".into(), "{}".into())
            ]
        );
    }

    #[test]
    fn calls_are_emitted_at_done_without_a_finish_reason() {
        let mut assembler = ChunkAssembler::default();
        let event = delta(
            json!({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}]}),
        );
        assert!(assembler.on_data(&event.to_string()).unwrap().is_empty());
        assert_eq!(calls(&assembler.on_data("[DONE]").unwrap()).len(), 1);
        assert!(assembler.on_data("not json, after [DONE]").unwrap().is_empty());
        assert!(assembler.on_end().unwrap().is_empty());
    }

    #[test]
    fn a_new_id_at_a_used_index_is_a_new_call() {
        let chunks = feed(&[
            delta(json!({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}]})),
            delta(json!({"tool_calls": [{"index": 0, "id": "b", "function": {"name": "g", "arguments": "{}"}}]})),
            finish("tool_calls"),
        ])
        .unwrap();
        let names: Vec<String> = calls(&chunks).into_iter().map(|(_, name, _)| name).collect();
        assert_eq!(names, ["f", "g"]);
    }

    #[test]
    fn missing_ids_are_made_up() {
        let chunks = feed(&[
            delta(json!({"tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]})),
            finish("tool_calls"),
        ])
        .unwrap();
        assert_eq!(calls(&chunks)[0].0, "call_0");
    }

    #[test]
    fn usage() {
        let chunks = feed(&[
            finish("stop"),
            json!({"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13, "prompt_tokens_details": {"cached_tokens": 4}}}),
        ])
        .unwrap();
        assert_eq!(chunks, [ChatChunk::Usage(CompletionUsage::new(10, 4, 3))]);
    }

    #[test]
    fn protocol_violations_are_bad_responses() {
        let bad = |events: &[Value]| match feed(events) {
            Err(LlmError::BadResponse { message }) => message,
            other => panic!("expected a bad response, got {other:?}"),
        };
        assert!(bad(&[json!({"error": {"message": "overloaded"}})]).contains("overloaded"));
        assert!(bad(&[json!({"choices": 3})]).contains("choices"));
        assert!(
            bad(&[delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}))])
                .contains("no id or name")
        );
        assert!(
            bad(&[delta(json!({"tool_calls": [{"index": 0, "id": "a"}]})), finish("stop")])
                .contains("no function name")
        );
        let mut assembler = ChunkAssembler::default();
        let error = assembler.on_data("{\"choices\": [").unwrap_err();
        assert!(matches!(error, LlmError::BadResponse { .. }), "{error:?}");
    }

    #[test]
    fn an_end_without_done_or_finish_reason_is_a_cut_connection() {
        let mut assembler = ChunkAssembler::default();
        assembler.on_data(&delta(json!({"content": "Hi"})).to_string()).unwrap();
        let error = assembler.on_end().unwrap_err();
        assert!(
            matches!(&error, LlmError::Connection { message } if message.contains("ended early"))
        );
        assert!(error.retryable());
        // A finish reason without `[DONE]` is a complete answer.
        assert!(feed(&[delta(json!({"content": "Hi"})), finish("length")]).is_ok());
    }
}
