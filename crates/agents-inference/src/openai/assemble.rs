//! From `chat.completion.chunk` events to [`ChatChunk`]s.
//!
//! * `choices[0].delta.content` → [`ChatChunk::Text`] (empty deltas are skipped).
//! * `choices[0].delta.tool_calls` fragments are accumulated per `index`: a fragment with an
//!   `id` or a `function.name` starts a call, later `function.arguments` fragments append to it.
//!   Complete calls are emitted, in index order, when the choice's `finish_reason` arrives or at
//!   `[DONE]`.
//! * **Call ids are unique within a reply**: the first call that names an id is that call. A
//!   later call started under an id already seen (at another index, or at the same index after
//!   another call) is a repeat of it: its fragments are ignored and a warning is logged, so the
//!   call runs once and the history carries its id once. Calls sent without an id get a made-up
//!   `call_N` that no other call of the reply uses.
//! * The choice's `finish_reason` ends it: deltas that come after it (text or tool calls) are
//!   ignored. Only a usage chunk or `[DONE]` is still awaited (see [`ChunkAssembler::is_complete`]).
//! * `usage` → [`ChatChunk::Usage`]; a usage whose counts are not non-negative integers is
//!   ignored with a warning (it is bookkeeping: it must not cost the reply).
//! * An `error` object in the stream, or an event named `error`, is a
//!   [`Provider`](agents_core::ApiErrorKind::Provider) error with the server's message; a
//!   chunk that is not JSON, or that breaks the protocol, is a
//!   [`BadResponse`](agents_core::ApiErrorKind::BadResponse).
//! * A call without a function name is not emitted; the calls beside it are, and then a
//!   [`BadResponse`](agents_core::ApiErrorKind::BadResponse) names the bad one.
//! * A reply may hold at most [`MAX_TOOL_CALLS`] calls of at most [`MAX_TOOL_CALL_BYTES`] in
//!   all; more is a [`BadResponse`](agents_core::ApiErrorKind::BadResponse).
//! * A stream that ends with neither `[DONE]` nor a `finish_reason` was cut: a
//!   [`Connection`](agents_core::ApiErrorKind::Connection) error.

use std::collections::{BTreeMap, HashSet};

use agents_core::llm::{ChatChunk, CompletionUsage, FunctionCall, LlmError};
use serde_json::Value;

/// The most tool calls one reply may hold.
pub(crate) const MAX_TOOL_CALLS: usize = 128;

/// The most bytes of tool calls (ids, names and arguments) one reply may hold.
pub(crate) const MAX_TOOL_CALL_BYTES: usize = 4 * 1024 * 1024;

/// A tool call being received.
#[derive(Debug, Default)]
struct PartialCall {
    index: u64,
    id: String,
    name: String,
    arguments: String,
}

/// What arrives at one tool-call index.
#[derive(Debug)]
enum Slot {
    /// A call being received.
    Call(PartialCall),
    /// A repeat of the call with this id, whose fragments are ignored.
    Repeat(String),
}

/// What the data of an event (or the end of the stream) gave: chunks to yield, then possibly
/// an error that ends the stream.
#[derive(Debug, Default)]
pub(crate) struct Emitted {
    /// The chunks, in order.
    pub(crate) chunks: Vec<ChatChunk>,
    /// The error that ends the stream, after the chunks.
    pub(crate) error: Option<LlmError>,
}

impl Emitted {
    fn fail(mut self, error: LlmError) -> Self {
        self.error = Some(error);
        self
    }
}

/// Turns the data of the stream's events into chunks.
#[derive(Debug, Default)]
pub(crate) struct ChunkAssembler {
    /// Calls being received, by index.
    slots: BTreeMap<u64, Slot>,
    /// Calls replaced at their index by a new call (a provider reusing an index), in order.
    replaced: Vec<PartialCall>,
    /// The ids of every call of the reply (made-up ones included).
    ids: HashSet<String>,
    /// How many calls the reply has started.
    started: usize,
    /// The bytes of the calls held.
    call_bytes: usize,
    /// How many calls were emitted.
    emitted_calls: usize,
    /// A `finish_reason` has arrived.
    finished: bool,
    /// A usage chunk has arrived.
    usage_seen: bool,
    /// `[DONE]` has arrived, or an error: anything after it is ignored.
    done: bool,
}

impl ChunkAssembler {
    /// Handles one event: its name (`event:` line) and its data.
    pub(crate) fn on_event(&mut self, event: Option<&str>, data: &str) -> Emitted {
        if self.done {
            return Emitted::default();
        }
        let mut out = Emitted::default();
        let result = if event == Some("error") {
            Err(provider_error_event(data))
        } else {
            self.on_data(data, &mut out.chunks)
        };
        match result {
            Ok(()) => out,
            Err(error) => {
                self.done = true;
                out.fail(error)
            }
        }
    }

    /// Handles the data of one event.
    fn on_data(&mut self, data: &str, out: &mut Vec<ChatChunk>) -> Result<(), LlmError> {
        if data.trim() == "[DONE]" {
            self.done = true;
            return self.flush_calls(out);
        }
        let chunk: Value = serde_json::from_str(data).map_err(|error| {
            bad_response(format!("a stream chunk is not valid JSON: {}", excerpt(data)))
                .with_source(error)
        })?;
        if let Some(error) = chunk.get("error").filter(|error| !error.is_null()) {
            return Err(provider_error(error));
        }
        if let Some(choice) = first_choice(&chunk)? {
            if self.finished {
                if has_delta(choice) {
                    tracing::warn!("ignoring a delta the LLM sent after its `finish_reason`");
                }
            } else {
                self.on_choice(choice, out)?;
            }
        }
        if let Some(usage) = chunk.get("usage").filter(|usage| !usage.is_null()) {
            self.usage_seen = true;
            match parse_usage(usage) {
                Ok(usage) => out.push(ChatChunk::Usage(usage)),
                Err(reason) => tracing::warn!("ignoring the LLM's token usage: {reason}"),
            }
        }
        Ok(())
    }

    /// Whether the reply is complete: `[DONE]` (or an error) has arrived, or the choice's
    /// `finish_reason` and a usage chunk have. Nothing that may come after matters.
    pub(crate) fn is_complete(&self) -> bool {
        self.done || (self.finished && self.usage_seen)
    }

    /// Whether `[DONE]` (or an error) has arrived.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Whether the choice's `finish_reason` has arrived: only usage may still come.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// Handles the end of the stream.
    pub(crate) fn on_end(&mut self) -> Emitted {
        let mut out = Emitted::default();
        if self.done {
            return out;
        }
        self.done = true;
        if !self.finished {
            return out.fail(LlmError::connection(
                "the response ended early: neither `[DONE]` nor a `finish_reason` \
                          arrived"
                    .to_owned(),
            ));
        }
        match self.flush_calls(&mut out.chunks) {
            Ok(()) => out,
            Err(error) => out.fail(error),
        }
    }

    fn on_choice(&mut self, choice: &Value, out: &mut Vec<ChatChunk>) -> Result<(), LlmError> {
        if let Some(delta) = choice.get("delta").filter(|delta| !delta.is_null()) {
            match delta.get("content") {
                Some(Value::String(text)) if !text.is_empty() => {
                    out.push(ChatChunk::Text(text.clone()));
                }
                Some(Value::String(_) | Value::Null) | None => {}
                Some(other) => return Err(bad_response(format!("`content` is {}", brief(other)))),
            }
            match delta.get("tool_calls") {
                Some(Value::Array(fragments)) => {
                    for (position, fragment) in fragments.iter().enumerate() {
                        self.on_fragment(position, fragment)?;
                    }
                }
                Some(Value::Null) | None => {}
                Some(other) => {
                    return Err(bad_response(format!("`tool_calls` is {}", brief(other))));
                }
            }
        }
        if choice.get("finish_reason").is_some_and(|reason| !reason.is_null()) {
            self.finished = true;
            self.flush_calls(out)?;
        }
        Ok(())
    }

    fn on_fragment(&mut self, position: usize, fragment: &Value) -> Result<(), LlmError> {
        // Some OpenAI-compatible servers leave out `index`; then the position counts.
        let index = fragment.get("index").and_then(Value::as_u64).unwrap_or(position as u64);
        let id = str_field(fragment, &["id"])?.filter(|id| !id.is_empty());
        let name = str_field(fragment, &["function", "name"])?.filter(|name| !name.is_empty());
        let arguments = str_field(fragment, &["function", "arguments"])?;
        if let Some(id) = id {
            self.start_id(index, id)?;
        } else if name.is_some() && !self.slots.contains_key(&index) {
            self.start_call(index, String::new())?;
        }
        let added = name.map_or(0, str::len) + arguments.map_or(0, str::len);
        self.charge(added)?;
        match self.slots.get_mut(&index) {
            Some(Slot::Call(call)) => {
                if let Some(name) = name {
                    name.clone_into(&mut call.name);
                }
                if let Some(arguments) = arguments {
                    call.arguments.push_str(arguments);
                }
            }
            Some(Slot::Repeat(_)) => {}
            None if arguments.is_some_and(|arguments| !arguments.is_empty()) => {
                return Err(bad_response(format!(
                    "arguments arrived for tool call {index}, which has no id or name"
                )));
            }
            None => {}
        }
        Ok(())
    }

    /// A fragment at `index` carries `id`.
    fn start_id(&mut self, index: u64, id: &str) -> Result<(), LlmError> {
        let continues = match self.slots.get(&index) {
            Some(Slot::Call(call)) => call.id == id,
            Some(Slot::Repeat(repeated)) => repeated == id,
            None => false,
        };
        if continues {
            return Ok(());
        }
        let repeat = self.ids.contains(id);
        match self.slots.remove(&index) {
            // A call started by its name gets its id.
            Some(Slot::Call(mut call)) if call.id.is_empty() && !repeat => {
                self.ids.insert(id.to_owned());
                self.charge(id.len())?;
                id.clone_into(&mut call.id);
                self.slots.insert(index, Slot::Call(call));
                return Ok(());
            }
            // ... unless that id is taken: then the whole call is a repeat.
            Some(Slot::Call(call)) if call.id.is_empty() => {}
            // Another call at a used index: the provider reuses indexes.
            Some(Slot::Call(previous)) => self.replaced.push(previous),
            Some(Slot::Repeat(_)) | None => {}
        }
        if repeat {
            tracing::warn!(
                call_id = id,
                index,
                "the LLM sent tool call `{id}` twice in one reply: the repeat is ignored"
            );
            self.slots.insert(index, Slot::Repeat(id.to_owned()));
            return Ok(());
        }
        self.ids.insert(id.to_owned());
        self.charge(id.len())?;
        self.start_call(index, id.to_owned())
    }

    /// Starts a call at `index`.
    fn start_call(&mut self, index: u64, id: String) -> Result<(), LlmError> {
        self.started += 1;
        if self.started > MAX_TOOL_CALLS {
            return Err(bad_response(format!(
                "the reply has more than {MAX_TOOL_CALLS} tool calls"
            )));
        }
        let call = PartialCall { index, id, ..PartialCall::default() };
        self.slots.insert(index, Slot::Call(call));
        Ok(())
    }

    /// Counts `bytes` more of tool calls held.
    fn charge(&mut self, bytes: usize) -> Result<(), LlmError> {
        self.call_bytes = self.call_bytes.saturating_add(bytes);
        if self.call_bytes > MAX_TOOL_CALL_BYTES {
            return Err(bad_response(format!(
                "the reply's tool calls are larger than {} MiB",
                MAX_TOOL_CALL_BYTES / (1024 * 1024)
            )));
        }
        Ok(())
    }

    /// Emits the complete calls received so far, in order. Calls without a name are not
    /// emitted: after the others, they are reported as an error.
    fn flush_calls(&mut self, out: &mut Vec<ChatChunk>) -> Result<(), LlmError> {
        let slots = std::mem::take(&mut self.slots).into_values().filter_map(|slot| match slot {
            Slot::Call(call) => Some(call),
            Slot::Repeat(_) => None,
        });
        let calls: Vec<PartialCall> =
            std::mem::take(&mut self.replaced).into_iter().chain(slots).collect();
        let mut nameless = Vec::new();
        for call in calls {
            if call.name.is_empty() {
                nameless.push(if call.id.is_empty() {
                    format!("at index {}", call.index)
                } else {
                    format!("`{}`", call.id)
                });
                continue;
            }
            let call_id = if call.id.is_empty() { self.made_up_id() } else { call.id };
            self.emitted_calls += 1;
            out.push(ChatChunk::ToolCall(FunctionCall::new(call_id, call.name, call.arguments)));
        }
        if nameless.is_empty() {
            return Ok(());
        }
        Err(bad_response(format!(
            "tool call {} has no function name, so it was not run{}",
            nameless.join(", "),
            match self.emitted_calls {
                0 => String::new(),
                1 => "; the other call of the reply was run".to_owned(),
                n => format!("; the {n} other calls of the reply were run"),
            }
        )))
    }

    /// A call id no call of the reply uses (some local servers send no ids; the history needs
    /// one to pair the output).
    fn made_up_id(&mut self) -> String {
        let mut n = self.emitted_calls;
        loop {
            let id = format!("call_{n}");
            if self.ids.insert(id.clone()) {
                return id;
            }
            n += 1;
        }
    }
}

/// Whether a choice carries text or tool calls.
fn has_delta(choice: &Value) -> bool {
    choice.get("delta").is_some_and(|delta| {
        let content =
            delta.get("content").is_some_and(|c| c.as_str().is_some_and(|c| !c.is_empty()));
        let calls = delta.get("tool_calls").is_some_and(|c| !c.is_null());
        content || calls
    })
}

/// The first choice of a chunk (`n` is never set, so there is one), if any.
fn first_choice(chunk: &Value) -> Result<Option<&Value>, LlmError> {
    match chunk.get("choices") {
        Some(Value::Array(choices)) => Ok(choices
            .iter()
            .find(|choice| choice.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)),
        Some(Value::Null) | None => Ok(None),
        Some(other) => Err(bad_response(format!("`choices` is {}", brief(other)))),
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
        other => Err(bad_response(format!("tool call `{}` is {}", path.join("."), brief(other)))),
    }
}

/// The usage counts; an error says which count is not a non-negative integer.
fn parse_usage(usage: &Value) -> Result<CompletionUsage, String> {
    let count = |path: &[&str]| -> Result<u64, String> {
        let mut current = usage;
        for key in path {
            match current.get(key) {
                Some(Value::Null) | None => return Ok(0),
                Some(next) => current = next,
            }
        }
        current.as_u64().ok_or_else(|| format!("`{}` is {}", path.join("."), brief(current)))
    };
    Ok(CompletionUsage::new(
        count(&["prompt_tokens"])?,
        count(&["prompt_tokens_details", "cached_tokens"])?,
        count(&["completion_tokens"])?,
    ))
}

/// The error an `error` object in a chunk reports.
fn provider_error(error: &Value) -> LlmError {
    let message = match error {
        Value::String(text) => text.clone(),
        _ => {
            let message = error.get("message").and_then(Value::as_str);
            let kind = ["type", "code"]
                .iter()
                .find_map(|key| error.get(key).and_then(Value::as_str).filter(|k| !k.is_empty()));
            match (message, kind) {
                (Some(message), Some(kind)) => format!("{message} ({kind})"),
                (Some(message), None) => message.to_owned(),
                (None, _) => error.to_string(),
            }
        }
    };
    LlmError::provider(excerpt(&message))
}

/// The error an event named `error` reports: its data's `error` object, or its `message`, or
/// the data itself.
fn provider_error_event(data: &str) -> LlmError {
    match serde_json::from_str::<Value>(data) {
        Ok(value) => match value.get("error").filter(|error| !error.is_null()) {
            Some(error) => provider_error(error),
            None => provider_error(&value),
        },
        Err(_) if data.trim().is_empty() => {
            LlmError::provider("an `error` event without a message")
        }
        Err(_) => LlmError::provider(excerpt(data.trim())),
    }
}

fn bad_response(message: String) -> LlmError {
    LlmError::bad_response(message)
}

/// A JSON value for error messages, cut short.
fn brief(value: &Value) -> String {
    excerpt(&value.to_string())
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
    use agents_core::ApiErrorKind;

    /// Every chunk the events and the end give, and the error they end with.
    fn run(events: &[Value]) -> (Vec<ChatChunk>, Option<LlmError>) {
        let mut assembler = ChunkAssembler::default();
        let mut chunks = Vec::new();
        for event in events {
            let out = assembler.on_event(None, &event.to_string());
            chunks.extend(out.chunks);
            if out.error.is_some() {
                return (chunks, out.error);
            }
        }
        let out = assembler.on_end();
        chunks.extend(out.chunks);
        (chunks, out.error)
    }

    fn feed(events: &[Value]) -> Result<Vec<ChatChunk>, LlmError> {
        match run(events) {
            (chunks, None) => Ok(chunks),
            (_, Some(error)) => Err(error),
        }
    }

    fn delta(delta: Value) -> Value {
        json!({"choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
    }

    fn finish(reason: &str) -> Value {
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
    }

    fn start(index: u64, id: &str, name: &str, arguments: &str) -> Value {
        delta(
            json!({"tool_calls": [{"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": arguments}}]}),
        )
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

    fn call(id: &str, name: &str, arguments: &str) -> (String, String, String) {
        (id.to_owned(), name.to_owned(), arguments.to_owned())
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
            start(1, "b", "two", ""),
            start(0, "a", "one", "{\"x\""),
            delta(json!({"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]})),
            delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]})),
            finish("tool_calls"),
        ])
        .unwrap();
        assert_eq!(calls(&chunks), [call("a", "one", "{\"x\":1}"), call("b", "two", "{}")]);
    }

    #[test]
    fn calls_are_emitted_at_done_without_a_finish_reason() {
        let mut assembler = ChunkAssembler::default();
        let event = start(0, "a", "f", "{}");
        assert!(assembler.on_event(None, &event.to_string()).chunks.is_empty());
        assert_eq!(calls(&assembler.on_event(None, "[DONE]").chunks).len(), 1);
        assert!(assembler.is_complete());
        let after = assembler.on_event(None, "not json, after [DONE]");
        assert!(after.chunks.is_empty() && after.error.is_none());
        let end = assembler.on_end();
        assert!(end.chunks.is_empty() && end.error.is_none());
    }

    #[test]
    fn a_new_id_at_a_used_index_is_a_new_call() {
        let chunks =
            feed(&[start(0, "a", "f", "{}"), start(0, "b", "g", "{}"), finish("tool_calls")])
                .unwrap();
        let names: Vec<String> = calls(&chunks).into_iter().map(|(_, name, _)| name).collect();
        assert_eq!(names, ["f", "g"]);
    }

    #[test]
    fn the_same_id_at_two_indexes_is_one_call() {
        let chunks = feed(&[
            start(0, "a", "f", "{\"n\":"),
            start(1, "a", "f", "{\"n\":"),
            delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]})),
            delta(json!({"tool_calls": [{"index": 1, "function": {"arguments": "2}"}}]})),
            start(2, "b", "g", "{}"),
            finish("tool_calls"),
        ])
        .unwrap();
        assert_eq!(calls(&chunks), [call("a", "f", "{\"n\":1}"), call("b", "g", "{}")]);
    }

    #[test]
    fn an_id_back_at_its_index_after_another_call_is_a_repeat() {
        let chunks = feed(&[
            start(0, "a", "f", "{}"),
            start(0, "b", "g", "{}"),
            start(0, "a", "f", "{}"),
            finish("tool_calls"),
        ])
        .unwrap();
        assert_eq!(calls(&chunks), [call("a", "f", "{}"), call("b", "g", "{}")]);
    }

    #[test]
    fn a_call_named_first_and_given_a_taken_id_later_is_a_repeat() {
        let chunks = feed(&[
            start(0, "a", "f", "{}"),
            delta(json!({"tool_calls": [{"index": 1, "function": {"name": "f"}}]})),
            delta(
                json!({"tool_calls": [{"index": 1, "id": "a", "function": {"arguments": "{}"}}]}),
            ),
            finish("tool_calls"),
        ])
        .unwrap();
        assert_eq!(calls(&chunks), [call("a", "f", "{}")]);
    }

    #[test]
    fn nothing_after_the_finish_reason_counts_but_usage() {
        let (chunks, error) = run(&[
            start(0, "a", "f", "{}"),
            finish("tool_calls"),
            start(0, "a", "f", "{}"),
            start(1, "b", "g", "{}"),
            delta(json!({"content": "late"})),
            json!({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}),
        ]);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(calls(&chunks), [call("a", "f", "{}")]);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1], ChatChunk::Usage(CompletionUsage::new(1, 0, 2)));
    }

    #[test]
    fn the_reply_is_complete_at_finish_and_usage() {
        let mut assembler = ChunkAssembler::default();
        assembler.on_event(None, &finish("stop").to_string());
        assert!(assembler.is_finished() && !assembler.is_complete());
        assembler
            .on_event(None, &json!({"choices": [], "usage": {"prompt_tokens": 1}}).to_string());
        assert!(assembler.is_complete());
    }

    #[test]
    fn missing_ids_are_made_up_and_never_clash() {
        let chunks = feed(&[
            delta(
                json!({"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": "{}"}}]}),
            ),
            start(1, "call_0", "g", "{}"),
            finish("tool_calls"),
        ])
        .unwrap();
        let ids: Vec<String> = calls(&chunks).into_iter().map(|(id, _, _)| id).collect();
        assert_eq!(ids, ["call_1", "call_0"]);
    }

    #[test]
    fn a_nameless_call_is_reported_after_the_valid_ones() {
        let (chunks, error) = run(&[
            start(0, "a", "f", "{}"),
            delta(
                json!({"tool_calls": [{"index": 1, "id": "b", "function": {"name": "", "arguments": "{}"}}]}),
            ),
            start(2, "c", "g", "{}"),
            finish("tool_calls"),
        ]);
        assert_eq!(calls(&chunks), [call("a", "f", "{}"), call("c", "g", "{}")]);
        let Some(ApiErrorKind::BadResponse { message }) = error.as_ref().map(LlmError::kind) else {
            panic!("{error:?}")
        };
        assert!(message.contains("`b` has no function name"), "{message}");
        assert!(message.contains("the 2 other calls"), "{message}");
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
    fn outlandish_usage_neither_overflows_nor_costs_the_reply() {
        let chunks = feed(&[
            delta(json!({"content": "Hi"})),
            finish("stop"),
            json!({"choices": [], "usage": {"prompt_tokens": u64::MAX, "completion_tokens": u64::MAX}}),
        ])
        .unwrap();
        let total = CompletionUsage::new(u64::MAX, 0, u64::MAX).total_tokens;
        assert_eq!(total, u64::MAX);
        assert_eq!(chunks[1], ChatChunk::Usage(CompletionUsage::new(u64::MAX, 0, u64::MAX)));
        for bad in [json!(-1), json!(1.5), json!(1e30), json!("12")] {
            let chunks = feed(&[
                delta(json!({"content": "Hi"})),
                finish("stop"),
                json!({"choices": [], "usage": {"prompt_tokens": bad}}),
            ])
            .unwrap();
            assert_eq!(chunks, [ChatChunk::Text("Hi".into())], "usage {bad}");
        }
    }

    #[test]
    fn error_objects_and_error_events_are_provider_errors() {
        let provider = |error: Option<LlmError>| match error.map(|error| error.kind().clone()) {
            Some(ApiErrorKind::Provider { message }) => message,
            other => panic!("expected a provider error, got {other:?}"),
        };
        let (_, error) =
            run(&[json!({"error": {"message": "overloaded", "type": "server_error"}})]);
        assert_eq!(provider(error), "overloaded (server_error)");
        let mut assembler = ChunkAssembler::default();
        let out = assembler.on_event(Some("error"), r#"{"message": "quota exceeded"}"#);
        assert_eq!(provider(out.error), "quota exceeded");
        let mut assembler = ChunkAssembler::default();
        let out = assembler.on_event(Some("error"), "upstream went away");
        assert_eq!(provider(out.error), "upstream went away");
        assert!(assembler.on_event(None, "[DONE]").chunks.is_empty());
    }

    #[test]
    fn protocol_violations_are_bad_responses() {
        let bad = |events: &[Value]| match feed(events).map_err(|error| error.kind().clone()) {
            Err(ApiErrorKind::BadResponse { message }) => message,
            other => panic!("expected a bad response, got {other:?}"),
        };
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
        let error = assembler.on_event(None, "{\"choices\": [").error.unwrap();
        assert!(matches!(error.kind(), ApiErrorKind::BadResponse { .. }), "{error:?}");
    }

    #[test]
    fn tool_calls_are_capped_in_number_and_size() {
        let many: Vec<Value> =
            (0..=MAX_TOOL_CALLS as u64).map(|i| start(i, &format!("c{i}"), "f", "{}")).collect();
        assert!(feed(&many).unwrap_err().to_string().contains("more than 128 tool calls"));
        let piece = "x".repeat(1024 * 1024);
        let mut events = vec![start(0, "a", "f", "")];
        events.extend((0..5).map(|_| {
            delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        }));
        let error = feed(&events).unwrap_err();
        assert!(!error.retryable());
        assert!(error.to_string().contains("larger than 4 MiB"), "{error}");
    }

    #[test]
    fn an_end_without_done_or_finish_reason_is_a_cut_connection() {
        let mut assembler = ChunkAssembler::default();
        assembler.on_event(None, &delta(json!({"content": "Hi"})).to_string());
        let error = assembler.on_end().error.unwrap();
        assert!(
            matches!(error.kind(), ApiErrorKind::Connection { message } if message.contains("ended early"))
        );
        assert!(error.retryable());
        // A finish reason without `[DONE]` is a complete answer.
        assert!(feed(&[delta(json!({"content": "Hi"})), finish("length")]).is_ok());
    }
}
