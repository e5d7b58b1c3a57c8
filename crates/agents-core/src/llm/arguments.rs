//! Turning the model's argument text into a JSON object a tool can deserialize.
//!
//! Models are not perfect JSON writers, so this is lenient where the Python framework is and
//! where it helps: an empty string means `{}`, `null` means `{}`, JSON that was encoded twice
//! (a string holding the object) is unwrapped, and — for strict-mode schemas — a `null` given
//! for an optional argument that cannot itself be `null` means "use the default" and is
//! dropped before deserialization.

use serde_json::{Map, Value};

use super::schema::accepts_null;

/// How many times a JSON string holding JSON is unwrapped.
const MAX_UNWRAP: usize = 4;

/// Parses the model's argument text into a JSON object for a tool with `schema`.
///
/// Returns a message for the model when the text is not a JSON object.
pub(crate) fn parse_arguments(text: &str, schema: &Value) -> Result<Value, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let mut value: Value = serde_json::from_str(text)
        .map_err(|error| format!("the arguments are not valid JSON ({error})"))?;
    for _ in 0..MAX_UNWRAP {
        let Value::String(inner) = &value else { break };
        let inner = inner.trim();
        if inner.is_empty() {
            value = Value::Object(Map::new());
            break;
        }
        value = serde_json::from_str(inner).map_err(|error| {
            format!("the arguments are a JSON string that does not hold JSON ({error})")
        })?;
    }
    match value {
        Value::Null => Ok(Value::Object(Map::new())),
        Value::Object(_) => {
            if contains_null(&value) {
                drop_null_defaults(&mut value, schema);
            }
            Ok(value)
        }
        other => Err(format!("expected a JSON object of arguments, got {}", kind(&other))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn contains_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(contains_null),
        Value::Object(map) => map.values().any(contains_null),
        _ => false,
    }
}

/// Removes `null` values of optional properties whose schema does not accept `null`, so that
/// deserialization falls back to their defaults. Recurses through nested objects and arrays.
fn drop_null_defaults(value: &mut Value, schema: &Value) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Object(properties)) = schema.get("properties") {
                let required = schema.get("required").and_then(Value::as_array);
                let is_required =
                    |name: &str| required.is_some_and(|names| names.iter().any(|n| n == name));
                object.retain(|name, item| {
                    !(item.is_null()
                        && !is_required(name)
                        && properties.get(name).is_some_and(|property| !accepts_null(property)))
                });
                for (name, item) in object.iter_mut() {
                    if let Some(property) = properties.get(name) {
                        drop_null_defaults(item, property);
                    }
                }
            } else {
                for variant in variants(schema) {
                    if variant.get("properties").is_some() {
                        drop_null_defaults(value, variant);
                        break;
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    drop_null_defaults(item, item_schema);
                }
            } else if let Some(variant) = variants(schema).find(|v| v.get("items").is_some()) {
                drop_null_defaults(value, variant);
            }
        }
        _ => {}
    }
}

fn variants(schema: &Value) -> impl Iterator<Item = &Value> {
    ["anyOf", "oneOf", "allOf"]
        .into_iter()
        .filter_map(|key| schema.get(key).and_then(Value::as_array))
        .flatten()
}
