//! Fuzzes the assembly of streamed chat completion chunks: text, tool-call fragments (ids,
//! indexes and names missing, repeated, of the wrong type), usage of any number, error
//! objects and `error` events, `[DONE]` and finish reasons, in any order. Half the inputs are
//! events of arbitrary text; the other half are built from the bytes as chunk JSON, to reach
//! deep into the tool-call logic.
//!
//! Whatever arrives: nothing panics, each call id is yielded at most once, no call without a
//! name is yielded, and no more calls than the cap.

use std::collections::HashSet;

use agents_core::llm::ChatChunk;
use agents_inference::__fuzz::assemble;
use serde_json::{Map, Value, json};

/// Reads choices out of the input bytes (zeros once they run out).
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((first, rest)) => {
                self.0 = rest;
                *first
            }
            None => 0,
        }
    }

    fn pick<T: Clone>(&mut self, options: &[T]) -> T {
        options[usize::from(self.byte()) % options.len()].clone()
    }

    /// Sets `key` in `object` to one of `options`, or leaves it out (`None`).
    fn field(&mut self, object: &mut Map<String, Value>, key: &str, options: &[Option<Value>]) {
        if let Some(value) = self.pick(options) {
            object.insert(key.to_owned(), value);
        }
    }
}

fn number(bytes: &mut Bytes<'_>) -> Option<Value> {
    bytes.pick(&[
        Some(json!(0)),
        Some(json!(7)),
        Some(json!(u64::MAX)),
        Some(json!(-1)),
        Some(json!(1.5)),
        Some(json!(1e300)),
        Some(json!("12")),
        Some(Value::Null),
        None,
    ])
}

fn fragment(bytes: &mut Bytes<'_>) -> Value {
    let mut fragment = Map::new();
    bytes.field(
        &mut fragment,
        "index",
        &[
            Some(json!(0)),
            Some(json!(1)),
            Some(json!(2)),
            Some(json!(u64::MAX)),
            Some(json!(-1)),
            Some(Value::Null),
            None,
        ],
    );
    bytes.field(
        &mut fragment,
        "id",
        &[
            Some(json!("a")),
            Some(json!("b")),
            Some(json!("call_0")),
            Some(json!("call_1")),
            Some(json!("")),
            Some(json!(5)),
            Some(Value::Null),
            None,
        ],
    );
    let mut function = Map::new();
    bytes.field(
        &mut function,
        "name",
        &[
            Some(json!("f")),
            Some(json!("g")),
            Some(json!("")),
            Some(json!([])),
            Some(Value::Null),
            None,
        ],
    );
    bytes.field(
        &mut function,
        "arguments",
        &[
            Some(json!("{")),
            Some(json!("}")),
            Some(json!("{}")),
            Some(json!("\"x\":1")),
            Some(json!("")),
            Some(json!({})),
            Some(Value::Null),
            None,
        ],
    );
    if !bytes.byte().is_multiple_of(8) {
        fragment.insert("function".to_owned(), Value::Object(function));
    }
    Value::Object(fragment)
}

fn choice(bytes: &mut Bytes<'_>, delta: Value) -> Value {
    let mut choice = Map::new();
    bytes.field(&mut choice, "index", &[Some(json!(0)), Some(json!(1)), None]);
    choice.insert("delta".to_owned(), delta);
    bytes.field(
        &mut choice,
        "finish_reason",
        &[None, None, None, Some(Value::Null), Some(json!("stop")), Some(json!("tool_calls"))],
    );
    json!({"choices": [choice]})
}

/// One event built from the bytes: its name and data.
fn event(bytes: &mut Bytes<'_>) -> (Option<String>, String) {
    let data = match bytes.byte() % 10 {
        0 => return (None, "[DONE]".to_owned()),
        1 => {
            let error = bytes.pick(&[
                json!({"message": "overloaded", "type": "server_error"}),
                json!({"code": 500}),
                json!("plain"),
                json!(3),
                Value::Null,
            ]);
            return (Some("error".to_owned()), error.to_string());
        }
        2 => {
            let mut usage = Map::new();
            for key in ["prompt_tokens", "completion_tokens"] {
                if let Some(n) = number(bytes) {
                    usage.insert(key.to_owned(), n);
                }
            }
            if let Some(n) = number(bytes) {
                usage.insert("prompt_tokens_details".to_owned(), json!({"cached_tokens": n}));
            }
            json!({"choices": [], "usage": usage})
        }
        3 => {
            let content = bytes.pick(&[json!("Hi"), json!(""), json!(null), json!(4)]);
            choice(bytes, json!({"content": content}))
        }
        4 => {
            json!({"error": bytes.pick(&[json!({"message": "quota"}), json!("text"), Value::Null])})
        }
        5 => choice(bytes, json!({})),
        _ => {
            let count = usize::from(bytes.byte() % 3) + 1;
            let fragments: Vec<Value> = (0..count).map(|_| fragment(bytes)).collect();
            choice(bytes, json!({"tool_calls": fragments}))
        }
    };
    (None, data.to_string())
}

fn check(chunks: &[ChatChunk]) {
    let mut ids = HashSet::new();
    for chunk in chunks {
        if let ChatChunk::ToolCall(call) = chunk {
            assert!(ids.insert(call.call_id.clone()), "call id {} yielded twice", call.call_id);
            assert!(!call.name.is_empty(), "a call without a name was yielded");
        }
    }
    assert!(ids.len() <= 128);
}

/// One run over `input`: panics when a property does not hold.
pub fn run(input: &[u8]) {
    let [mode, rest @ ..] = input else { return };
    let events: Vec<(Option<String>, String)> = if mode % 2 == 0 {
        // Arbitrary text: events separated by NUL, `error` events marked by a leading 0x01.
        rest.split(|&b| b == 0)
            .map(|raw| match raw.split_first() {
                Some((1, data)) => {
                    (Some("error".to_owned()), String::from_utf8_lossy(data).into_owned())
                }
                _ => (None, String::from_utf8_lossy(raw).into_owned()),
            })
            .collect()
    } else {
        let mut bytes = Bytes(rest);
        let mut events = Vec::new();
        while !bytes.0.is_empty() {
            events.push(event(&mut bytes));
        }
        events
    };
    let (chunks, _error) =
        assemble(events.iter().map(|(name, data)| (name.as_deref(), data.as_str())));
    check(&chunks);
}
